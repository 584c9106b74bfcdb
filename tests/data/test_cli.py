"""`bnner-tui data ...` through typer's CliRunner on the real app: tables with the right numbers, clean errors."""

from __future__ import annotations

import re

import pytest
from typer.testing import CliRunner

from bnner_tui.tui.cli import app

runner = CliRunner()


def _row(output: str, name: str) -> list[str]:
    """The cells of the table row whose first cell is `name`."""
    for line in output.splitlines():
        cells = [c.strip() for c in re.split(r"[│┃]", line) if c.strip()]
        if cells and cells[0] == name:
            return cells
    raise AssertionError(f"no row {name!r} in:\n{output}")


def test_stats_demo_default_source():
    result = runner.invoke(app, ["data", "stats"])
    assert result.exit_code == 0, result.output
    assert "demo set" in result.output
    from bnner_tui.core.data import load_source
    from bnner_tui.core.data.stats import compute_stats

    st = {s.split: s for s in compute_stats(load_source("demo")).splits}
    for split in ("train", "validation", "test"):
        s = st[split]
        assert _row(result.output, split) == [
            split,
            str(s.sentences),
            str(s.tokens),
            *(str(s.entities[t]) for t in ("PER", "ORG", "LOC")),
            str(s.total_entities),
        ]


@pytest.mark.shared
def test_stats_wikiann_folder_with_tokenizer(wikiann_dir, mbert_dir):
    result = runner.invoke(app, ["data", "stats", str(wikiann_dir), "--tokenizer", str(mbert_dir)])
    assert result.exit_code == 0, result.output
    # train/dev entity counts = B- tag counts in the files (SOURCE.md of the shared data).
    assert _row(result.output, "train")[:7] == ["train", "10000", "42880", "3568", "3444", "3885", "10897"]
    assert _row(result.output, "validation")[:7] == ["validation", "1000", "4361", "364", "325", "418", "1107"]
    assert _row(result.output, "test")[:3] == ["test", "1000", "4377"]
    assert "no labels" in result.output
    assert "p95" in result.output and "> 128" in result.output
    assert "Traceback" not in result.output


def test_stats_conll_file(write):
    path = write("my.conll", "শেখ\tB-PER\nহাসিনা\tE-PER\nঢাকায়\tS-LOC\n\nব্র্যাক\tS-ORG\n")
    result = runner.invoke(app, ["data", "stats", str(path)])
    assert result.exit_code == 0, result.output
    assert "BIOES" in result.output
    assert _row(result.output, "train") == ["train", "2", "4", "1", "1", "1", "3"]


def test_bad_file_one_line_exit_2(write):
    path = write("bad.conll", "ক\tO\nখ\tB-PER\nগ\n")
    result = runner.invoke(app, ["data", "stats", str(path)])
    assert result.exit_code == 2
    text = result.output.strip()
    assert text == f"error: {path}, line 3: no tag (line 1 has a token and a tag)"
    assert "Traceback" not in result.output


def test_show_with_pieces(write):
    path = write("s.conll", "ঢাকা\tB-LOC\nবাংলাদেশের\tO\n")
    tok_dir = write("tok/.keep", "").parent
    from tokenizers import Tokenizer, models, pre_tokenizers, processors

    vocab = {"[UNK]": 0, "[CLS]": 1, "[SEP]": 2, "ঢাকা": 3, "বাংলা": 4, "##দেশের": 5}
    tok = Tokenizer(models.WordPiece(vocab=vocab, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", special_tokens=[("[CLS]", 1), ("[SEP]", 2)]
    )
    tok.save(str(tok_dir / "tokenizer.json"))
    result = runner.invoke(app, ["data", "show", str(path), "--index", "0", "--tokenizer", str(tok_dir)])
    assert result.exit_code == 0, result.output
    assert _row(result.output, "0") == ["0", "ঢাকা", "B-LOC"]
    assert _row(result.output, "##দেশের") == ["##দেশের", "1 বাংলাদেশের", "-100"]
    assert _row(result.output, "বাংলা") == ["বাংলা", "1 বাংলাদেশের", "O"]
    result = runner.invoke(app, ["data", "show", str(path), "-t", str(tok_dir), "--strategy", "all"])
    assert _row(result.output, "##দেশের") == ["##দেশের", "1 বাংলাদেশের", "O"]


def test_show_bad_index_and_split():
    result = runner.invoke(app, ["data", "show", "demo", "--split", "validation", "--index", "999"])
    assert result.exit_code == 2 and "--index must be below 60" in result.output
    result = runner.invoke(app, ["data", "show", "demo", "--split", "dev"])
    assert result.exit_code == 2 and "no split 'dev'" in result.output


def test_convert_then_stats(tmp_path):
    out = tmp_path / "demo-jsonl"
    result = runner.invoke(app, ["data", "convert", "demo", str(out), "--format", "jsonl"])
    assert result.exit_code == 0, result.output
    assert (out / "train.jsonl").exists()
    again = runner.invoke(app, ["data", "convert", "demo", str(out), "--format", "jsonl"])
    assert again.exit_code == 2 and "already exists" in again.output and "--force" in again.output
    stats = runner.invoke(app, ["data", "stats", str(out)])
    assert _row(stats.output, "train")[:2] == ["train", "480"]


def test_hub_offline_one_line():
    result = runner.invoke(app, ["data", "stats", "hub:bnner-tui-tests/never-cached"])
    assert result.exit_code == 2
    assert result.output.startswith("error: offline mode is on") and "demo" in result.output


def test_scheme_option_and_repair_warning(write):
    path = write("iob1.conll", "শেখ\tI-PER\nহাসিনা\tI-PER\nরহিম\tB-PER\n\nঢাকা\tI-LOC\n")
    auto = runner.invoke(app, ["data", "stats", str(path)])
    assert auto.exit_code == 0 and "IOB1" in auto.output and "warning" not in auto.output
    forced = runner.invoke(app, ["data", "stats", str(path), "--scheme", "bio"])
    assert forced.exit_code == 0
    assert "IOB2" in forced.output
    assert f"warning: {path}, line 1: 2 I- tag(s) without a preceding B-" in forced.output
    assert f"{path} lines 1, 5" in forced.output
    bad = runner.invoke(app, ["data", "stats", str(path), "--scheme", "xml"])
    assert bad.exit_code == 2 and bad.output.startswith("error: unknown tag scheme 'xml'")
