"""The CLI's `tag --format jsonl` and the Tag screen's export write the same records (core.tagoutput)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from bnner_tui.core.tagoutput import read_jsonl
from bnner_tui.tui.cli import app
from bnner_tui.tui.screens.tag import export_results

TEXTS = ["রবীন্দ্রনাথ ঠাকুর ঢাকা শহর। x", "Visited Dhaka, then London.", "বাংলাদেশের x"]


def test_cli_jsonl_equals_tui_export(forced_model_dir: Path, forced_tagger, tmp_path: Path) -> None:
    src = tmp_path / "in.txt"
    src.write_text("\n".join(TEXTS) + "\n", encoding="utf-8")
    cli = CliRunner().invoke(app, ["tag", "-m", str(forced_model_dir), "-f", str(src), "--format", "jsonl"])
    assert cli.exit_code == 0, cli.output
    cli_records = [json.loads(line) for line in cli.stdout.splitlines() if line.strip()]

    out = tmp_path / "tui.jsonl"
    export_results(out, [forced_tagger.tag(t) for t in TEXTS])
    tui_records = read_jsonl(out)

    assert cli_records == tui_records
    assert any(r["entities"] for r in tui_records)
    for r in tui_records:
        assert set(r) == {"text", "entities", "words"}
        for e in r["entities"]:
            assert r["text"][e["start"] : e["end"]] == e["text"]
            assert e["score"] == round(e["score"], 4)
