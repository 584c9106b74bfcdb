"""CoNLL-style text files: layouts users actually have, and every malformed-input error with file and line."""

from __future__ import annotations

import pytest

from bnner_tui.core.data import load_source
from bnner_tui.core.errors import DataFormatError

from .conftest import tags_of

BASIC = "ঢাকা\tB-LOC\nশহর\tO\n\nশেখ\tB-PER\nহাসিনা\tI-PER\n"


def test_tab_separated(write):
    src = load_source(str(write("a.conll", BASIC)))
    ds = src.dataset["train"]
    assert ds["tokens"] == [["ঢাকা", "শহর"], ["শেখ", "হাসিনা"]]
    assert tags_of(src) == [["B-LOC", "O"], ["B-PER", "I-PER"]]
    assert src.label_names == ["O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC"]
    assert ds.features["ner_tags"].feature.names == src.label_names
    assert src.warnings == [] and src.unlabelled_splits == set()


def test_space_separated_docstart_three_columns_crlf_bom(write):
    text = "-DOCSTART- -X- -X- O\r\n\r\nঢাকা NNP x B-LOC\r\nশহর NN x O\r\n\r\n\r\nশেখ NNP x B-PER\r\n"
    path = write("b.txt", b"\xef\xbb\xbf" + text.encode("utf-8"))
    src = load_source(str(path))
    assert src.dataset["train"]["tokens"] == [["ঢাকা", "শহর"], ["শেখ"]]
    assert tags_of(src) == [["B-LOC", "O"], ["B-PER"]]
    assert src.warnings == []


def test_no_trailing_newline_and_many_blank_lines(write):
    src = load_source(str(write("c.conll", "\n\n\nক\tO\n\n\n\nখ\tB-ORG")))
    assert src.dataset["train"]["tokens"] == [["ক"], ["খ"]]


def test_language_prefix_removed(write):
    src = load_source(str(write("train", "bn:ঢাকা\tB-LOC\nbn:,\tI-LOC\nbn:ভারত\tI-LOC\n\n")))
    assert src.dataset["train"]["tokens"] == [["ঢাকা", ",", "ভারত"]]
    assert any("'bn:'" in w for w in src.warnings)


def test_tokens_are_normalised(write):
    # য় precomposed (U+09DF) and decomposed (য + nukta) must come out identical.
    src = load_source(str(write("n.conll", "\u09df\tO\n\n\u09af\u09bc\tO\n")))
    a, b = src.dataset["train"]["tokens"]
    assert a == b


def test_tokens_only_file_is_unlabelled(write, tmp_path):
    write("d/train.conll", BASIC)
    write("d/test.conll", "উরুগুয়ে\nদল\n\nঢাকা\n")
    src = load_source(str(tmp_path / "d"))
    assert src.unlabelled_splits == {"test"}
    assert not src.is_labelled("test") and src.is_labelled("train")
    assert src.dataset["test"]["ner_tags"] == [[-1, -1], [-1]]
    assert "unlabelled" in src.dataset["test"].info.description
    assert any("no tags" in w for w in src.warnings)


@pytest.mark.parametrize(
    ("content", "line", "problem"),
    [
        ("ক\tO\nখ\tB-PER\tx\nগ\n", 2, "wrong column count: 3 column(s), but line 1 has 2 columns"),
        ("ক\tO\n\nখ\tB-PER\nগ\n", 4, "no tag (line 1 has a token and a tag)"),
        ("ক\nখ\tO\n", 2, "but line 1 has a token only"),
        ("ক\tO\nখ\tB-PERSON-\nগ\t[bold]X\n", 3, "unknown tag '[bold]X'"),
        ("ক\tO\n\tB-PER\n", 2, "empty token"),
        ("ক\tO\n\nখ\tB-PER\nগ\tE-PER\n\nঘ\tB-LOC\nঙ\tO\n", 6, "mixed tag schemes"),
        ("ক\tS-PER\n\nখ\tU-LOC\n", 3, "mixed tag schemes"),
        ("ক\tO\n\u200c\tO\n", 2, "empty token after normalisation"),
    ],
)
def test_errors_name_file_and_line(write, content, line, problem):
    path = write("bad.conll", content)
    with pytest.raises(DataFormatError) as info:
        load_source(str(path))
    err = info.value
    assert err.path == str(path) and err.line == line
    assert problem in str(err)
    assert str(err).startswith(f"{path}, line {line}: ")


def test_invalid_utf8_names_the_line(write):
    path = write("u.conll", "ক\tO\n\n".encode() + b"\xff\xfe\tO\n")
    with pytest.raises(DataFormatError) as info:
        load_source(str(path))
    assert info.value.line == 3 and "invalid UTF-8" in str(info.value)


def test_parse_speed_is_plain_python(write):
    """10,000 sentences parse and convert in well under a second (a behaviour bound, generous on purpose)."""
    import time

    import datasets  # noqa: F401 - import cost is not parsing cost

    text = "\n\n".join("সিডনি\tB-LOC\nক্রিকেট\tI-LOC\nগ্রাউন্ড\tI-LOC\n,\tO\nসিডনি\tB-LOC" for _ in range(10000))
    path = write("big.conll", text)
    t0 = time.perf_counter()
    src = load_source(str(path))
    elapsed = time.perf_counter() - t0
    assert len(src.dataset["train"]) == 10000
    assert elapsed < 3.0, elapsed
