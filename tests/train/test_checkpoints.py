"""A torn checkpoint never locks a run out: each file kind cut to half is detected, the resume
takes the newest complete checkpoint and says which one it skipped and why.

One real tiny training run per session (through the real worker) makes the checkpoints; each
test works on a copy of it.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from bnner_tui.core.events import read_events
from bnner_tui.core.train.checkpoints import checkpoint_problem, newest_complete_checkpoint

pytestmark = pytest.mark.slow


@pytest.fixture(scope="session")
def cancelled_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A run cancelled at step 4 with real checkpoints 2 and 4 (max_steps 6)."""
    from transformers import TrainerCallback

    from bnner_tui.core.config import TrainConfig
    from bnner_tui.core.train.callbacks import CancelFlag
    from bnner_tui.core.train.worker import run_worker

    run = tmp_path_factory.mktemp("ckpt") / "run"
    run.mkdir()
    TrainConfig.from_preset(
        "cpu-demo",
        offline_hidden_size=32,
        offline_layers=1,
        offline_heads=2,
        offline_vocab_size=400,
        batch_size=8,
        logging_steps=2,
        max_steps=6,
        eval_every=100,
        save_every=2,
        save_total_limit=3,
        run_name="run",
    ).to_toml(run / "config.toml")
    flag = CancelFlag()

    class CancelAt(TrainerCallback):
        def on_step_end(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
            if state.global_step == 4:
                flag.set("SIGTERM")

    assert run_worker(run, cancel=flag, extra_callbacks=[CancelAt()]) == 0
    names = sorted(p.name for p in (run / "checkpoints").iterdir() if p.name.startswith("checkpoint-"))
    assert names == ["checkpoint-2", "checkpoint-4"], names
    return run


@pytest.fixture
def run_copy(cancelled_run: Path, tmp_path: Path) -> Path:
    return Path(shutil.copytree(cancelled_run, tmp_path / "run"))


def _halve(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def test_complete_checkpoints_pass(run_copy: Path) -> None:
    for name in ("checkpoint-2", "checkpoint-4"):
        assert checkpoint_problem(run_copy / "checkpoints" / name) is None
    chosen, skipped = newest_complete_checkpoint(run_copy / "checkpoints")
    assert chosen == run_copy / "checkpoints" / "checkpoint-4" and skipped == []


@pytest.mark.parametrize(
    "file", ["trainer_state.json", "model.safetensors", "optimizer.pt", "scheduler.pt", "rng_state.pth", "config.json"]
)
def test_each_file_kind_cut_to_half_is_detected(run_copy: Path, file: str) -> None:
    newest = run_copy / "checkpoints" / "checkpoint-4"
    assert (newest / file).is_file(), sorted(p.name for p in newest.iterdir())
    _halve(newest / file)
    problem = checkpoint_problem(newest)
    assert problem is not None and problem.startswith(f"{file} cannot be loaded"), problem
    chosen, skipped = newest_complete_checkpoint(run_copy / "checkpoints")
    assert chosen == run_copy / "checkpoints" / "checkpoint-2"
    assert [(s.path.name, s.reason) for s in skipped] == [("checkpoint-4", problem)]


def test_missing_file_is_detected(run_copy: Path) -> None:
    newest = run_copy / "checkpoints" / "checkpoint-4"
    (newest / "optimizer.pt").unlink()
    assert checkpoint_problem(newest) == "optimizer.pt is missing"


def test_resume_skips_a_torn_trainer_state_and_says_so(run_copy: Path) -> None:
    """The issue's case: trainer_state.json cut to half made every resume fail with JSONDecodeError."""
    from bnner_tui.core.train.worker import run_worker

    _halve(run_copy / "checkpoints" / "checkpoint-4" / "trainer_state.json")
    assert run_worker(run_copy, resume=True) == 0
    events = read_events(run_copy / "events.jsonl")[0]
    resumed = [e for e in events if e["type"] == "resumed"]
    assert len(resumed) == 1 and resumed[0]["from_step"] == 2
    assert resumed[0]["skipped"][0]["checkpoint"].endswith("checkpoint-4")
    warnings = [e["message"] for e in events if e["type"] == "log" and e.get("level") == "warning"]
    skip = [w for w in warnings if w.startswith("Skipped checkpoint-4: trainer_state.json cannot be loaded")]
    assert skip and "resuming from checkpoint-2" in skip[0] and "torn-checkpoint-4" in skip[0]
    assert (run_copy / "checkpoints" / "torn-checkpoint-4").is_dir()  # kept for a post-mortem
    assert events[-1]["type"] == "finished" and events[-1]["step"] == 6
    assert "Skipped checkpoint-4" in (run_copy / "train.log").read_text()


def test_resume_with_no_complete_checkpoint_is_one_sentence(run_copy: Path) -> None:
    from bnner_tui.core.train.worker import run_worker

    for name in ("checkpoint-2", "checkpoint-4"):
        _halve(run_copy / "checkpoints" / name / "scheduler.pt")
    assert run_worker(run_copy, resume=True) == 1
    last = read_events(run_copy / "events.jsonl")[0][-1]
    assert last["type"] == "failed"
    assert "has no complete checkpoint to resume from (checkpoint-4: scheduler.pt cannot be loaded" in last["reason"]


def test_disk_full_while_saving_weights_is_one_sentence(run_copy: Path) -> None:
    """safetensors' own error for ENOSPC: raised for real by writing to /dev/full where that is the
    Linux device; else the same class with the message the issue recorded from a full disk."""
    import stat

    import torch
    from safetensors import SafetensorError
    from safetensors.torch import save_file

    from bnner_tui.core.train.worker import failure_reason

    dev_full = Path("/dev/full")
    err: BaseException
    if dev_full.exists() and stat.S_ISCHR(dev_full.stat().st_mode):
        with pytest.raises(SafetensorError) as info:
            save_file({"w": torch.zeros(1024)}, str(dev_full))
        err = info.value
    else:
        err = SafetensorError("Error while serializing: I/O error: No space left on device (os error 28)")
    assert "os error 28" in str(err)
    reason = failure_reason(err, None, run_copy)
    assert reason.startswith("The disk is full while saving the model; ")
    assert " MB free in " in reason
    assert (
        "the last complete checkpoint is checkpoint-4 (free some space, then: bnner-tui train --resume run)" in reason
    )
