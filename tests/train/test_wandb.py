"""W&B: report_to is explicit, offline runs hold the logged metrics, secrets never reach run files."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from bnner_tui.core.config import TrainConfig
from bnner_tui.core.errors import ConfigError
from bnner_tui.core.events import read_events
from bnner_tui.core.train.tracking import find_offline_run, redact, setup_tracking
from bnner_tui.core.train.worker import run_worker

FAKE_HF = "hf_FAKEtokenDoNotLeak0123456789abcdef"
FAKE_WANDB = "0123456789abcdef0123456789abcdefFAKEKEY0"


def _cfg(**kw: object) -> SimpleNamespace:
    return SimpleNamespace(**{"tracking": "none", "wandb_project": "p", "wandb_entity": None, "wandb_tags": [], **kw})


def test_none_means_report_to_nothing(tmp_path: Path) -> None:
    setup = setup_tracking(_cfg(), tmp_path)
    assert setup.report_to == [] and setup.wandb_dir is None


def test_online_without_login_fails_with_one_sentence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    netrc = tmp_path / "netrc"
    netrc.write_text("machine example.com login a password b\n")
    monkeypatch.setenv("NETRC", str(netrc))
    with pytest.raises(ConfigError, match="not logged in"):
        setup_tracking(_cfg(tracking="wandb"), tmp_path)
    monkeypatch.setenv("WANDB_API_KEY", FAKE_WANDB)
    setup = setup_tracking(_cfg(tracking="wandb", wandb_tags=["a", "b"], wandb_entity="me"), tmp_path, "r1")
    assert setup.report_to == ["wandb"]
    assert setup.env["WANDB_TAGS"] == "a,b" and setup.env["WANDB_ENTITY"] == "me" and setup.env["WANDB_NAME"] == "r1"
    assert FAKE_WANDB not in json.dumps(setup.env)


def test_redact_drops_secret_keys_and_values(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_TOKEN", FAKE_HF)
    out = redact({"hub_token": "x", "nested": {"api_key": "y", "note": f"use {FAKE_HF}"}, "lr": 1e-3})
    assert out == {"nested": {"note": "use <redacted>"}, "lr": 1e-3}


@pytest.mark.slow
def test_wandb_offline_run_holds_metrics_and_no_secret(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_TOKEN", FAKE_HF)
    monkeypatch.setenv("WANDB_API_KEY", FAKE_WANDB)
    run = tmp_path / "run"
    run.mkdir()
    TrainConfig.from_preset(
        "cpu-demo",
        offline_hidden_size=32,
        offline_layers=1,
        offline_heads=2,
        offline_vocab_size=400,
        max_steps=4,
        logging_steps=2,
        eval_every=4,
        save_every=4,
        tracking="wandb-offline",
        wandb_tags=["test"],
        run_name="wb",
    ).to_toml(run / "config.toml")
    assert run_worker(run) == 0
    events = read_events(run / "events.jsonl")[0]
    assert events[0]["wandb_dir"] == str(run / "wandb")
    offline = find_offline_run(run / "wandb")
    assert offline is not None and offline.name.startswith("offline-run-")
    assert events[-1]["type"] == "finished" and events[-1]["wandb_dir"] == str(offline)
    assert json.loads((run / "metrics.json").read_text())["wandb_dir"] == str(offline)
    data = b"".join(p.read_bytes() for p in offline.glob("*.wandb"))
    for metric in (b"train/loss", b"train/learning_rate", b"eval/f1", b"eval/loss"):
        assert metric in data, metric
    for path in run.rglob("*"):
        if path.is_file():
            blob = path.read_bytes()
            assert FAKE_HF.encode() not in blob, path
            assert FAKE_WANDB.encode() not in blob, path
