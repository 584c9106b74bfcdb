"""The commands end to end through typer's CliRunner: render, validate, publish --dry-run, publish, export."""

from __future__ import annotations

from pathlib import Path

import pytest
from huggingface_hub import ModelCard
from typer.testing import CliRunner

from bnner_tui.tui.cli import app

from .conftest import TOKEN, FakeHub

runner = CliRunner()


def test_card_render_then_validate(run_dir: Path) -> None:
    result = runner.invoke(app, ["card", "render", str(run_dir), "--repo", "alice/bn-ner", "--license", "mit"])
    assert result.exit_code == 0, result.output
    readme = run_dir / "model" / "README.md"
    assert str(readme) in result.stdout
    assert ModelCard.load(readme).data.license == "mit"

    ok = runner.invoke(app, ["card", "validate", str(readme), "--run", str(run_dir)])
    assert ok.exit_code == 0, ok.output
    assert "OK" in ok.stdout

    # Re-render keeps a backup and says where.
    again = runner.invoke(app, ["card", "render", str(run_dir), "--license", "apache-2.0"])
    assert again.exit_code == 0
    assert "README.md.~1~" in again.stderr


def test_card_validate_lists_problems_with_lines_and_exits_1(run_dir: Path, tmp_path: Path) -> None:
    bad = tmp_path / "README.md"
    bad.write_text("---\nlanguage: xx\nlicense: nope\n---\n", encoding="utf-8")
    result = runner.invoke(app, ["card", "validate", str(bad)])
    assert result.exit_code == 1
    assert f"{bad}:2: language 'xx'" in result.stdout
    assert f"{bad}:3: license 'nope'" in result.stdout
    assert "required key 'tags'" in result.stdout
    missing = runner.invoke(app, ["card", "validate", str(tmp_path / "nothing.md")])
    assert missing.exit_code == 2 and "Traceback" not in missing.output


def test_card_render_on_a_non_run_is_one_sentence(tmp_path: Path) -> None:
    result = runner.invoke(app, ["card", "render", str(tmp_path / "missing")])
    assert result.exit_code == 2
    assert "is not a run folder" in result.stderr
    assert "Traceback" not in result.output


def test_publish_dry_run_lists_files_and_sizes(run_dir: Path, fake_hub: FakeHub) -> None:
    result = runner.invoke(app, ["publish", str(run_dir), "--repo", "alice/bn-ner", "--dry-run"])
    assert result.exit_code == 0, result.output
    out = result.stdout
    for name in ("README.md", "model.safetensors", "config.json", "tokenizer.json", "tokenizer_config.json"):
        assert name in out
    assert "KiB" in out and "5 files" in out
    assert "checkpoint" not in out and "optimizer" not in out
    assert fake_hub.requests == []


def test_publish_and_export_end_to_end(run_dir: Path, fake_hub: FakeHub, tmp_path: Path) -> None:
    result = runner.invoke(app, ["publish", str(run_dir), "--repo", "alice/bn-ner", "-m", "from the CLI"])
    assert result.exit_code == 0, result.output
    assert "published 5 files" in result.stdout
    assert TOKEN not in result.output
    assert len(fake_hub.commits) == 1 and fake_hub.commits[0]["header"]["summary"] == "from the CLI"

    out = tmp_path / "hub-repo"
    exp = runner.invoke(app, ["export", str(run_dir), str(out), "--repo", "alice/bn-ner"])
    assert exp.exit_code == 0, exp.output
    assert (out / ".gitattributes").exists() and (out / "model.safetensors").exists()
    assert "git lfs install" in exp.stdout
    again = runner.invoke(app, ["export", str(run_dir), str(out)])
    assert again.exit_code == 2 and "not empty" in again.stderr

    for p in tmp_path.rglob("*"):
        assert not (p.is_file() and TOKEN.encode() in p.read_bytes()), p


def test_publish_errors_are_one_sentence(run_dir: Path, fake_hub: FakeHub, monkeypatch) -> None:
    monkeypatch.setenv("HF_TOKEN", "hf_bad_token_value")
    result = runner.invoke(app, ["publish", str(run_dir), "--repo", "alice/bn-ner"])
    assert result.exit_code == 2
    assert "401" in result.stderr and "hf_bad_token_value" not in result.output
    assert "Traceback" not in result.output
    bad_id = runner.invoke(app, ["publish", str(run_dir), "--repo", "not a repo"])
    assert bad_id.exit_code == 2 and "not a valid repo id" in bad_id.stderr


@pytest.mark.slow
def test_publish_in_a_fresh_process_reads_hf_endpoint_from_the_environment(
    run_dir: Path, fake_hub: FakeHub, hub_env: Path, tmp_path: Path
) -> None:
    """The real entry point, as a user runs it: huggingface_hub reads HF_ENDPOINT at import time."""
    import os
    import subprocess
    import sys

    env = dict(os.environ, HF_ENDPOINT=fake_hub.url, HF_TOKEN=TOKEN, HF_HUB_DISABLE_XET="1", HF_HOME=str(hub_env))
    env.pop("HF_HUB_OFFLINE", None)
    exe = Path(sys.executable).with_name("bnner-tui")
    proc = subprocess.run(
        [str(exe), "publish", str(run_dir), "--repo", "bn-lab/bn-ner", "--private"],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert len(fake_hub.commits) == 1 and fake_hub.commits[0]["repo"] == "bn-lab/bn-ner"
    assert set(fake_hub.commits[0]["files"]) == {
        "README.md", "config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"
    }  # fmt: skip
    assert TOKEN not in proc.stdout + proc.stderr
    for p in tmp_path.rglob("*"):
        assert not (p.is_file() and TOKEN.encode() in p.read_bytes()), p


def test_card_render_with_edited_widget_examples(run_dir: Path) -> None:
    result = runner.invoke(
        app,
        ["card", "render", str(run_dir), "--widget", "খবর=শেখ হাসিনা ঢাকায় ফিরেছেন।", "--widget", "কলকাতা শহর"],
    )
    assert result.exit_code == 0, result.output
    widgets = ModelCard.load(run_dir / "model" / "README.md").data.to_dict()["widget"]
    assert widgets == [
        {"text": "শেখ হাসিনা ঢাকায় ফিরেছেন।", "example_title": "খবর"},
        {"text": "কলকাতা শহর", "example_title": "Example 2"},
    ]
    # An empty example is caught by validation with its line.
    empty = runner.invoke(app, ["card", "render", str(run_dir), "--widget", "title="])
    assert empty.exit_code == 0 and "widget example 1 has an empty text" in empty.stderr
