"""Annotation-tool formats both ways: spaCy/Prodigy, doccano, Label Studio, DocBin, and [text, tags] pairs.

Spans are put on our own words (core.textnorm.split_words); a span off word boundaries is
reported, never moved. Round trips ours -> tool format -> ours are identical (hypothesis).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bnner_tui.core.data import check_source, load_source
from bnner_tui.core.data.convert import convert
from bnner_tui.core.data.problems import DataProblemsError
from bnner_tui.core.data.spacy_io import have_spacy

from .conftest import tags_of

FIXTURES = Path(__file__).resolve().parent / "fixtures"
needs_spacy = pytest.mark.skipif(not have_spacy(), reason="spaCy is not installed (the bnner-tui[spacy] extra)")
HASINA = [["শেখ", "হাসিনা", "ঢাকায়", "গেছেন", "।"], ["B-PER", "I-PER", "B-LOC", "O", "O"]]


def test_spacy_prodigy_jsonl_and_a_span_off_word_boundaries():
    path = FIXTURES / "spacy.jsonl"
    with pytest.raises(DataProblemsError) as info:
        load_source(str(path))
    assert info.value.line == 3 and "'বাংলা' (ORG) does not fall on word boundaries" in str(info.value)
    src = load_source(str(path), on_error="skip")
    assert [src.dataset["train"]["tokens"][0], tags_of(src)[0]] == HASINA
    assert tags_of(src)[1] == ["B-PER", "O", "O", "O", "O"] and src.skipped == 1


def test_doccano_both_label_shapes():
    src = load_source(str(FIXTURES / "doccano.jsonl"))
    assert [src.dataset["train"]["tokens"][0], tags_of(src)[0]] == HASINA
    assert tags_of(src)[1] == ["B-ORG", "I-ORG"]


def test_label_studio_export_skips_cancelled_annotations():
    src = load_source(str(FIXTURES / "labelstudio.json"))
    assert [src.dataset["train"]["tokens"][0], tags_of(src)[0]] == HASINA
    assert tags_of(src)[1] == ["B-LOC", "O"]


def test_pairs_without_spacy_report_unaligned(monkeypatch):
    monkeypatch.setattr("bnner_tui.core.data.spacy_io.have_spacy", lambda: False)
    report = check_source(str(FIXTURES / "pairs.jsonl"))
    lines = sorted(p.line for p in report.problems.errors if p.kind == "unaligned tags")
    assert lines == [2, 3, 4, 6]
    detail = next(p.detail for p in report.problems.errors if p.line == 6)
    assert "2 tags but 3 words" in detail and "bnner-tui[spacy]" in detail


@needs_spacy
def test_pairs_aligned_with_spacy_and_mapped_to_wikiann_types():
    report = check_source(str(FIXTURES / "pairs.jsonl"))
    assert [(p.line, p.kind) for p in report.problems.errors] == [(6, "unaligned tags")]
    src = load_source(
        str(FIXTURES / "pairs.jsonl"),
        on_error="skip",
        label_map=["PERSON=PER", "GPE=LOC"],
        drop=["DATE", "LAW"],
    )
    assert src.dataset["train"]["tokens"] == [
        ["ঢাকা", "শহর", "।"],
        ["মো", ".", "রহিম", "এসেছেন"],
        ["রহিম", "করিম"],
        ["ঢাকা-চট্টগ্রাম", "মহাসড়ক", "।"],
        ["ঢাকা", "শহর"],
        ["২০২০", "সালে", "আইন"],
    ]
    assert tags_of(src) == [
        ["B-LOC", "O", "O"],
        ["B-PER", "I-PER", "I-PER", "O"],
        ["B-PER", "B-PER"],
        ["B-LOC", "O", "O"],
        ["B-LOC", "O"],
        ["O", "O", "O"],
    ]
    assert src.label_names == ["O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC"]


def test_docbin_without_spacy_is_one_sentence(tmp_path, monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_spacy(name, *args, **kw):
        if name == "spacy" or name.startswith("spacy."):
            raise ImportError(name)
        return real_import(name, *args, **kw)

    monkeypatch.setattr(builtins, "__import__", no_spacy)
    (tmp_path / "x.spacy").write_bytes(b"\x78\x9c")
    from bnner_tui.core.errors import BnnerError

    with pytest.raises(BnnerError) as info:
        load_source(str(tmp_path / "x.spacy"))
    assert str(info.value) == (
        "x.spacy (a spaCy DocBin file) needs spaCy, which is not installed; install the spaCy extra: "
        "pip install 'bnner-tui[spacy]'"
    )


# ---- round trips --------------------------------------------------------------------------------

_WORDS = st.sampled_from(
    ["ঢাকা", "শেখ", "হাসিনা", "রবীন্দ্রনাথ", "কলকাতায়", "২০২০", "।", ",", "ডি.সি", "ঢাকা-চট্টগ্রাম", "Dhaka", "মো", "“", "”"]
)
_TYPES = st.sampled_from(["PER", "LOC", "ORG", "DATE"])


@st.composite
def sentences(draw: st.DrawFn) -> tuple[list[str], list[str]]:
    words = draw(st.lists(_WORDS, min_size=1, max_size=12))
    tags: list[str] = []
    for _ in words:
        choice = draw(st.integers(0, 2))
        if choice == 0 or not tags:
            tags.append("O" if choice == 0 else f"B-{draw(_TYPES)}")
        elif choice == 1:
            tags.append(f"B-{draw(_TYPES)}")
        else:
            prev = tags[-1]
            tags.append(f"I-{prev[2:]}" if prev != "O" else "O")
    return words, tags


def _write_conll(path: Path, data: list[tuple[list[str], list[str]]]) -> None:
    path.write_text("\n\n".join("\n".join(f"{w}\t{t}" for w, t in zip(*s, strict=True)) for s in data) + "\n", "utf-8")


FORMATS = ["spacy", "doccano", "labelstudio", "conll", "jsonl", "parquet"] + (["docbin"] if have_spacy() else [])


@pytest.mark.parametrize("fmt", FORMATS)
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.lists(sentences(), min_size=1, max_size=6))
def test_round_trip_is_identical(tmp_path_factory, fmt, data):
    tmp = tmp_path_factory.mktemp(fmt)
    _write_conll(tmp / "in.conll", data)
    ours = load_source(str(tmp / "in.conll"))
    (out,) = convert(ours, tmp / "out", fmt=fmt)
    back = load_source(str(out))
    assert back.dataset["train"]["tokens"] == ours.dataset["train"]["tokens"]
    assert tags_of(back) == tags_of(ours)


def test_written_tool_files_look_like_the_tools_own(tmp_path):
    _write_conll(tmp_path / "in.conll", [tuple(HASINA)])  # type: ignore[list-item]
    ours = load_source(str(tmp_path / "in.conll"))
    (sp,) = convert(ours, tmp_path / "s", fmt="spacy")
    rec = json.loads(sp.read_text("utf-8"))
    assert rec["spans"][0] == {"start": 0, "end": 10, "label": "PER", "token_start": 0, "token_end": 1}
    (dc,) = convert(ours, tmp_path / "d", fmt="doccano")
    assert json.loads(dc.read_text("utf-8"))["label"] == [[0, 10, "PER"], [11, 17, "LOC"]]
    (ls,) = convert(ours, tmp_path / "l", fmt="labelstudio")
    value = json.loads(ls.read_text("utf-8"))[0]["annotations"][0]["result"][1]["value"]
    assert value == {"start": 11, "end": 17, "text": "ঢাকায়", "labels": ["LOC"]}
