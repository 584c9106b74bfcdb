"""Synthetic runs for TUI tests: real run folders written with the real EventWriter.

Four runs (finished, cancelled, failed, running with its lock held) whose event times are
fixed, the running one in the future (2096) so its ETA and duration never depend on the wall
clock. `runs_workspace` (tests/tui/conftest.py) builds them in a temporary working folder.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from bnner_tui.core.config import TrainConfig
from bnner_tui.core.runs import RunLock

FUTURE = 4_000_000_000.0  # 2096: "now" is always before these events
PAST = 1_700_000_000.0
PER_TYPE = {
    "LOC": {"precision": 0.61, "recall": 0.55, "f1": 0.578, "support": 38},
    "ORG": {"precision": 0.42, "recall": 0.35, "f1": 0.382, "support": 23},
    "PER": {"precision": 0.74, "recall": 0.69, "f1": 0.714, "support": 35},
}


def _write(run: Path, events: list[dict]) -> None:
    lines = [json.dumps({"v": 1, "seq": i, **e}, separators=(",", ":")) for i, e in enumerate(events)]
    (run / "events.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")


def _history(t0: float, *, steps: int, total: int, end: dict | None) -> list[dict]:
    events: list[dict] = [
        {
            "time": t0,
            "type": "started",
            "model": "offline small BERT: chosen explicitly (model = offline)",
            "model_kind": "offline",
            "model_name": "offline small BERT",
            "device": "cpu",
            "precision": "fp32",
            "dataset": "ascii set",
            "dataset_sizes": {"train": 40, "validation": 10},
            "nproc": 1,
            "total_steps": total,
        }
    ]
    for s in range(1, steps + 1):
        events.append(
            {
                "time": t0 + 2.0 * s,
                "type": "step",
                "step": s,
                "epoch": s / 10,
                "loss": round(2.0 / (1 + 0.2 * s), 4),
                "learning_rate": 1e-3 * (1 - s / total),
                "samples_per_second": 48.0,
                "tokens_per_second": 820.0,
                "gpu_memory_mb": None,
                "total_steps": total,
            }
        )
        if s % 10 == 0:
            f1 = round(0.2 + 0.012 * s, 3)
            events.append(
                {
                    "time": t0 + 2.0 * s + 0.5,
                    "type": "eval",
                    "step": s,
                    "epoch": s / 10,
                    "split": "validation",
                    "loss": round(1.5 / (1 + 0.05 * s), 4),
                    "overall": {"precision": f1, "recall": f1, "f1": f1, "accuracy": 0.9},
                    "per_type": PER_TYPE,
                    "piece_level": None,
                }
            )
    if end is not None:
        events.append({"time": t0 + 2.0 * steps + 1.0, **end})
    return events


def _run(root: Path, name: str, events: list[dict], **config: object) -> Path:
    run = root / name
    (run / "checkpoints").mkdir(parents=True)
    TrainConfig(  # type: ignore[arg-type]
        preset="cpu-demo", model="offline", data="ascii", run_name=name, output_root="runs", **config
    ).to_toml(run / "config.toml")
    (run / "train.log").write_text("loading ascii\nbuilding the offline small BERT\ntraining\n", encoding="utf-8")
    _write(run, events)
    return run


CONLL = """\
Rahim\tB-PER
Uddin\tI-PER
works\tO
at\tO
Dhaka\tB-ORG
University\tI-ORG
in\tO
Bangladesh\tB-LOC
.\tO

Sheikh\tB-PER
Mujib\tI-PER
visited\tO
Chittagong\tB-LOC
port\tO
.\tO
"""


def make_runs_workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "ascii").mkdir()
    for split in ("train", "validation"):
        (tmp_path / "ascii" / f"{split}.conll").write_text(CONLL, encoding="utf-8")
    root = tmp_path / "runs"
    _run(
        root,
        "alpha-finished",
        _history(
            PAST,
            steps=40,
            total=40,
            end={"type": "finished", "step": 40, "best_f1": 0.68, "best_step": 40, "duration_s": 95.0},
        ),
    )
    _run(
        root,
        "beta-cancelled",
        _history(PAST + 1000, steps=20, total=40, end={"type": "cancelled", "step": 20, "checkpoint": "c"}),
        learning_rate=5e-4,  # the Runs table shows the settings that differ: lr and batch size
    )
    _run(
        root,
        "gamma-failed",
        _history(
            PAST + 2000,
            steps=4,
            total=40,
            end={"type": "failed", "reason": "Out of GPU memory at batch size 64: try --batch-size 32."},
        ),
        batch_size=64,
    )
    running = _run(root, "delta-running", _history(FUTURE, steps=25, total=60, end=None))
    lock = RunLock(running).acquire()  # its training process is alive
    yield tmp_path
    lock.release()
