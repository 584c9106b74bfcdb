"""`data check` and the loader on messy real-world shapes: every problem at once, with file and line.

The fixtures in tests/data/fixtures/ are hand-written for these tests (never copies of a corpus);
each test states the counts it expects.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bnner_tui.core.data import LoadOptions, check_source, load_source
from bnner_tui.core.data.problems import DataProblemsError
from bnner_tui.core.errors import BnnerError, DataFormatError
from bnner_tui.tui.cli import app

from .conftest import tags_of

FIXTURES = Path(__file__).resolve().parent / "fixtures"
MESSY = FIXTURES / "messy.conll"
runner = CliRunner()

# messy.conll has one problem of every CoNLL kind; kind -> line.
MESSY_ERRORS = {
    "empty token": 6,
    "whitespace token": 9,
    "tag glued to word": 12,
    "unknown tag": 18,
    "empty tag": 23,
}
MESSY_WARNINGS = {
    "empty columns": 13,
    "spaces around token": 16,
    "repaired I- tag": 15,
    "suspicious tag": 20,  # B-O (line 20) and PER/Per (line 21)
}


def test_messy_file_every_problem_once():
    report = check_source(str(MESSY))
    errors = {p.kind: p.line for p in report.problems.errors}
    assert errors == MESSY_ERRORS
    warnings: dict[str, int | None] = {}
    for p in report.problems.warnings:
        warnings.setdefault(p.kind, p.line)
    assert {k: warnings.get(k) for k in MESSY_WARNINGS} == MESSY_WARNINGS
    details = {p.kind: p.detail for p in report.problems.items}
    assert details["whitespace token"] == "token is only a no-break space"
    assert "'ফেব্রুয়ারির' + 'TIM'" in details["tag glued to word"]
    assert "'[bold]X'" in details["unknown tag"]
    suspicious = [p.detail for p in report.problems.warnings if p.kind == "suspicious tag"]
    assert any("B-O" in d and "line 20" in d for d in suspicious)
    assert any("PER and Per differ only by case" in d and "--map Per=PER" in d for d in suspicious)
    assert "line 15" in details["repaired I- tag"]
    assert report.result.splits["train"].read == 8 and report.bad_sentences == 5
    assert not report.loads and report.errors == 5


def test_messy_file_stops_at_first_naming_the_rest():
    with pytest.raises(DataProblemsError) as info:
        load_source(str(MESSY))
    err = info.value
    assert isinstance(err, DataFormatError) and err.line == 6
    assert str(err) == (
        f"{MESSY}, line 6: empty token (the line starts with a tab) (4 more problems: "
        f"`bnner-tui data check {MESSY}` lists them all; --on-error skip loads the rest)"
    )


def test_messy_file_skip_drops_whole_sentences_and_says_so():
    src = load_source(str(MESSY), on_error="skip")
    assert src.dataset["train"]["tokens"] == [["ঢাকা", "শহর"], ["শেখ", "হাসিনা"], ["খ", "গ"]]
    assert tags_of(src) == [["B-LOC", "O"], ["B-PER", "I-PER"], ["O", "B-Per"]]
    assert src.skipped == 5
    report = next(w for w in src.warnings if "skipped" in w)
    assert "skipped 5 of 8 sentence(s)" in report and "lines 6, 9, 12, 18, 23" in report
    for kind in MESSY_ERRORS:
        assert f"{kind}: 1" in report
    mapped = load_source(str(MESSY), on_error="skip", label_map=["Per=PER"])
    assert tags_of(mapped)[2] == ["O", "B-PER"] and mapped.label_names[:3] == ["O", "B-PER", "I-PER"]


def test_check_cli_groups_counts_caps_and_exit_status(tmp_path):
    result = runner.invoke(app, ["data", "check", str(MESSY)])
    assert result.exit_code == 1, result.output
    out = result.output
    for kind, line in MESSY_ERRORS.items():
        assert f"{kind}: 1" in out and f"{MESSY}:{line}:" in out
    assert "it does not load as it is" in out
    skip = runner.invoke(app, ["data", "check", str(MESSY), "--on-error", "skip"])
    assert skip.exit_code == 0 and "the other sentences load" in skip.output
    # 12 bad lines of one kind: 5 on screen, all with --all and in jsonl.
    many = tmp_path / "many.conll"
    many.write_text("".join(f"ক{i}\t[x]\n\n" for i in range(12)), encoding="utf-8")
    capped = runner.invoke(app, ["data", "check", str(many)])
    assert "unknown tag: 12" in capped.output and "... 7 more (--all or --format jsonl lists them)" in capped.output
    full = runner.invoke(app, ["data", "check", str(many), "--all"])
    assert full.output.count("unknown tag '[x]'") == 12
    js = runner.invoke(app, ["data", "check", str(many), "--format", "jsonl"])
    rows = [json.loads(line) for line in js.output.splitlines()]
    assert len(rows) == 12 and rows[0]["line"] == 1 and rows[0]["kind"] == "unknown tag" and js.exit_code == 1
    good = runner.invoke(app, ["data", "check", "demo"])
    assert good.exit_code == 0 and "no problems" in good.output


def test_stats_stops_and_skip_reports(tmp_path):
    bad = runner.invoke(app, ["data", "stats", str(MESSY)])
    assert bad.exit_code == 2 and "4 more problems" in bad.output and "data check" in bad.output
    ok = runner.invoke(app, ["data", "stats", str(MESSY), "--on-error", "skip"])
    assert ok.exit_code == 0, ok.output
    assert "skipped 5 of 8 sentence(s)" in ok.output
    row = next(line for line in ok.output.splitlines() if line.startswith("│ train"))
    assert row.split("│")[2].strip() == "3"


def test_bare_types_mixed_with_prefixed_are_io_tags(write):
    # TIM is bare (IO): it opens a span, continues one of its own type; prefixed tags keep IOB2 meaning.
    path = write("tim.conll", "২০০৭\tTIM\nসালে\tTIM\nঢাকা\tB-LOC\n\nরহিম\tB-PER\nসকালে\tTIM\n\nশেখ\tTIM\n")
    src = load_source(str(path))
    assert tags_of(src) == [["B-TIM", "I-TIM", "B-LOC"], ["B-PER", "B-TIM"], ["B-TIM"]]
    assert src.scheme == "IOB2" and not any("repaired" in w for w in src.warnings)
    only_bare = load_source(str(write("io.conll", "ক\tPER\nখ\tPER\nগ\tO\nঘ\tLOC\n")), scheme="io")
    assert tags_of(only_bare) == [["B-PER", "I-PER", "O", "B-LOC"]]
    assert load_source(str(write("io2.conll", "ক\tPER\nখ\tPER\n"))).scheme == "IO"


def test_map_and_drop_at_load_time(write):
    path = write("p.conll", "রহিম\tB-PERSON\nঢাকা\tB-GPE\n২০২০\tB-DATE\n")
    src = load_source(str(path), label_map=["PERSON=PER", "GPE=LOC"], drop=["DATE"])
    assert tags_of(src) == [["B-PER", "B-LOC", "O"]]
    assert src.label_names == ["O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC"]
    with pytest.raises(BnnerError, match="is not TYPE=TYPE"):
        load_source(str(path), label_map=["PERSON"])
    out = runner.invoke(app, ["data", "stats", str(path), "--map", "PERSON=PER", "--map", "GPE=LOC", "--drop", "DATE"])
    assert out.exit_code == 0 and "PER" in out.output and "GPE" not in out.output


def test_rare_type_and_label_in_one_split(write, tmp_path):
    rows = "".join("রহিম\tB-PER\n\n" for _ in range(120)) + "ঢাকা\tB-LCO\n\n"
    write("r/train.conll", rows)
    write("r/dev.conll", "করিম\tB-PER\n\nঢাকা\tB-LOC\n")
    report = check_source(str(tmp_path / "r"))
    details = [p.detail for p in report.problems.warnings]
    assert any("type LCO has only 1 tag(s) while PER has 121" in d and "line 241" in d for d in details)
    assert any("type LOC appears only in the validation split" in d for d in details)
    assert report.loads


def test_long_sentence_warning_and_pathological_sentence(write, monkeypatch):
    path = write("long.conll", "".join(f"ক{i}\tO\n" for i in range(200)))
    report = check_source(str(path), max_length=128)
    assert any(p.kind == "longer than max length" and "1 sentence(s)" in p.detail for p in report.problems.warnings)
    monkeypatch.setattr("bnner_tui.core.data.conll.MAX_SENTENCE_TOKENS", 50)
    report = check_source(str(path))
    (err,) = report.problems.errors
    assert err.kind == "sentence too long" and err.line == 1 and "200 tokens" in err.detail


@pytest.mark.parametrize(
    ("name", "content", "problem"),
    [
        ("empty.conll", b"", "the file is empty"),
        ("blank.conll", b"\n\n  \n", "no sentences found"),
        ("docstart.conll", b"-DOCSTART- O\n\n", "no sentences found"),
        ("u16.conll", "ক\tO\n".encode("utf-16-le"), "looks like UTF-16-LE without a byte-order mark"),
    ],
)
def test_files_that_cannot_load(write, name, content, problem):
    path = write(name, content)
    with pytest.raises(DataFormatError, match=problem):
        load_source(str(path))
    result = runner.invoke(app, ["data", "stats", str(path)])
    assert result.exit_code == 2 and problem in result.output


@pytest.mark.parametrize(
    ("encode", "label"),
    [
        (lambda t: t.replace("\n", "\r").encode(), "CR only"),
        (lambda t: t.replace("\n", "\r\n").encode("utf-8-sig"), "UTF-8 BOM, CRLF"),
        (lambda t: t.encode("utf-16"), "UTF-16 with BOM"),
        (lambda t: t.encode("utf-32"), "UTF-32 with BOM"),
        (lambda t: t.encode("utf-16-be").join([b"\xfe\xff", b""]), "UTF-16-BE with BOM"),
    ],
)
def test_encodings_and_line_ends(write, encode, label):
    text = "ঢাকা\tB-LOC\nশহর\tO\n\nশেখ\tB-PER\nহাসিনা\tI-PER\n"
    src = load_source(str(write("e.conll", encode(text))))
    assert src.dataset["train"]["tokens"] == [["ঢাকা", "শহর"], ["শেখ", "হাসিনা"]], label
    assert tags_of(src) == [["B-LOC", "O"], ["B-PER", "I-PER"]]


def test_split_files_found_by_name_parts(write, tmp_path):
    write("c/bn_train_v2.txt", "ক\tB-PER\n")
    write("c/bn-valid.conll", "খ\tO\n")
    write("c/mytest.iob", "গ\tO\n")
    write("c/notes.txt", "x\n")
    write("c/train.conll.~1~", "old\n")
    assert load_source(str(tmp_path / "c")).splits == ["train", "validation", "test"]


def test_resplit_with_seed_is_reproducible(write):
    path = write("one.conll", "".join(f"ক{i}\tO\n\n" for i in range(50)))
    a = load_source(str(path), split="80/10/10", seed=3)
    b = load_source(str(path), split="80/10/10", seed=3)
    c = load_source(str(path), split="80/10/10", seed=4)
    assert {k: len(v) for k, v in a.dataset.items()} == {"train": 40, "validation": 5, "test": 5}
    assert a.dataset["test"]["tokens"] == b.dataset["test"]["tokens"] != c.dataset["test"]["tokens"]
    assert a.options.describe() == "split 80/10/10 seed 3"
    with pytest.raises(BnnerError, match="add up to 100"):
        LoadOptions.make(split="80/10")


def test_json_lines_recognised_by_content(write):
    lines = ['{"tokens": ["ক", "খ"], "ner_tags": ["B-PER", "O"]}', '{"tokens": ["গ"], "ner_tags": ["O"]}']
    path = write("data.txt", "\n".join(lines) + "\n")
    assert tags_of(load_source(str(path))) == [["B-PER", "O"], ["O"]]
    doc = write("data.dat", json.dumps([{"tokens": ["ক"], "ner_tags": ["B-LOC"]}]))
    assert tags_of(load_source(str(doc))) == [["B-LOC"]]


def test_streamed_stats_equal_loaded_stats(write, tmp_path):
    """`data stats` streams; its numbers are those of the loaded dataset (same rules, `checks`)."""
    from tokenizers import Tokenizer, models, pre_tokenizers, processors

    from bnner_tui.core.data.stats import compute_stats, stats_from_stream

    vocab = {"[UNK]": 0, "[CLS]": 1, "[SEP]": 2, "ক": 3, "খ": 4}
    tok = Tokenizer(models.WordPiece(vocab, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", special_tokens=[("[CLS]", 1), ("[SEP]", 2)]
    )
    write("s/train.conll", "".join(f"ক{i}\tB-PER\nখ\tI-PER\nগ\tTIM\n\n" for i in range(30)) + "\tO\n")
    write("s/test.conll", "ক\tO\nখ\tB-LOC\n")
    spec = str(tmp_path / "s")
    loaded = compute_stats(load_source(spec, on_error="skip"), tokenizer=tok, max_length=3)
    streamed = stats_from_stream(
        check_source(spec, options=LoadOptions(on_error="skip"), tokenizer=tok, max_length=3).result,
        loaded.name,
        max_length=3,
    )
    assert streamed == loaded
    assert [s.sentences for s in streamed.splits] == [30, 1]


def test_markup_in_a_tag_is_text_not_a_traceback(write):
    path = write("t.conll", "ঢাকা\tB-LOC\nশহর\t[/]\n")
    result = runner.invoke(app, ["data", "stats", str(path)])
    assert result.exit_code == 2
    assert result.output.startswith(f"error: {path}, line 2: unknown tag '[/]'")
    deep = write("deep.jsonl", "[" * 5000 + "]" * 5000 + "\n")
    result = runner.invoke(app, ["data", "stats", str(deep)])
    assert result.exit_code == 2 and "line 1: JSON nested too deeply" in result.output
