"""The training process for real: launch, SIGKILL + resume, SIGINT cancel + resume, lock refusal, 2 processes.

Each test trains a tiny offline BERT (hidden 32, one layer) on the bundled demo set with a small
`max_steps`, through the real worker (`python -m bnner_tui.core.train.worker`) started by
`core.train.launch` exactly as the CLI and TUI start it.
"""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from bnner_tui.core.config import TrainConfig
from bnner_tui.core.events import read_events
from bnner_tui.core.runs import (
    RunDir,
    RunExistsError,
    RunLock,
    RunLockedError,
    latest_checkpoint,
    list_runs,
    lock_is_held,
    run_status,
)
from bnner_tui.core.train.launch import NotRunningError, cancel, launch, resume_run

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(importlib.util.find_spec("bnner_tui.core.train.worker") is None, reason="worker not landed"),
]

TINY = {
    "preset": "cpu-demo",
    "model": "offline",
    "data": "demo",
    "offline_hidden_size": 32,
    "offline_layers": 1,
    "offline_heads": 2,
    "offline_vocab_size": 500,
    "logging_steps": 2,
    "seed": 7,
}


def _config(tmp_path: Path, name: str, **kw: Any) -> TrainConfig:
    return TrainConfig.from_dict({**TINY, "output_root": str(tmp_path / "runs"), "run_name": name, **kw})


def _events(run: RunDir) -> list[dict[str, Any]]:
    return read_events(run.events_path)[0]


def _wait_for(run: RunDir, proc: subprocess.Popen[bytes], predicate: Any, timeout: float = 120.0) -> list[dict]:
    """Polls the run's events until `predicate(events)`; fails with the log tail if the process dies first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        events = _events(run)
        if predicate(events):
            return events
        if proc.poll() is not None:
            events = _events(run)
            if predicate(events):
                return events
            pytest.fail(f"training process exited ({proc.returncode}) early; log:\n{_log(run)}")
        time.sleep(0.05)
    pytest.fail(f"timed out waiting for events; log:\n{_log(run)}")


def _log(run: RunDir) -> str:
    try:
        return "\n".join(run.log_path.read_text(encoding="utf-8", errors="replace").splitlines()[-40:])
    except OSError:
        return "(no train.log)"


def _finish(run: RunDir, proc: subprocess.Popen[bytes], timeout: float = 180.0) -> list[dict]:
    try:
        code = proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        pytest.fail(f"run did not finish in {timeout} s; log:\n{_log(run)}")
    events = _events(run)
    assert code == 0, f"exit code {code}; log:\n{_log(run)}"
    return events


def _types(events: list[dict]) -> list[str]:
    return [e["type"] for e in events]


def _check_metrics_layout(run: RunDir) -> dict:
    metrics = json.loads(run.metrics_path.read_text(encoding="utf-8"))
    assert metrics["level"] == "word" and metrics["scheme"] == "IOB2"
    entry = metrics["splits"]["validation"]
    assert set(entry["overall"]) >= {"precision", "recall", "f1", "accuracy"}
    assert set(entry["per_type"]) == {"PER", "ORG", "LOC"}
    for row in entry["per_type"].values():
        assert set(row) >= {"precision", "recall", "f1", "support"}
    assert "piece_level" in entry and entry["piece_level"] is None  # strategy "first"
    assert set(metrics["best"]) == {"step", "f1"}
    return metrics


def test_tiny_run_produces_a_complete_run_folder(tmp_path: Path) -> None:
    proc = launch(_config(tmp_path, "tiny", max_steps=8, eval_every=4, save_every=4))
    run: RunDir = proc.run_dir
    assert run.path == tmp_path / "runs" / "tiny"
    events = _finish(run, proc)
    for name in ("config.toml", "events.jsonl", "train.log", "checkpoints", "model", "metrics.json"):
        assert (run.path / name).exists(), name
    assert not run.lock_path.exists(), "the lock file is removed when the process ends"
    types = _types(events)
    assert types[0] == "started" and types[-1] == "finished"
    assert {"step", "eval", "checkpoint"} <= set(types)
    assert [e["seq"] for e in events] == list(range(len(events)))
    started = events[0]
    assert started["total_steps"] == 8 and started["nproc"] == 1 and "offline small BERT" in started["model"]
    assert started["label_names"] == ["O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC"]
    assert started["device"] == "cpu" and started["dataset_sizes"]["train"] > 0
    step = next(e for e in events if e["type"] == "step")
    for key in ("loss", "learning_rate", "grad_norm", "samples_per_second", "tokens_per_second", "total_steps"):
        assert key in step
    assert step["gpu_memory_mb"] is None
    assert events[-1]["step"] == 8 and events[-1]["metrics_path"].endswith("metrics.json")
    assert run_status(run) == "finished" and not lock_is_held(run)
    metrics = _check_metrics_layout(run)
    val = metrics["splits"]["validation"]
    assert set(val["overall"]) == {"precision", "recall", "f1", "accuracy"} and isinstance(val["loss"], float)
    assert metrics["best"]["step"] in (4, 8)
    model_cfg = json.loads((run.model_dir / "config.json").read_text(encoding="utf-8"))
    assert set(model_cfg["id2label"].values()) == set(started["label_names"])
    assert not any(v.startswith("LABEL_") for v in model_cfg["id2label"].values())
    assert (run.model_dir / "model.safetensors").is_file() and (run.model_dir / "tokenizer.json").is_file()
    # the saved folder loads with plain transformers, with the label names in order
    from transformers import AutoModelForTokenClassification, AutoTokenizer

    model = AutoModelForTokenClassification.from_pretrained(run.model_dir)
    assert [model.config.id2label[i] for i in range(7)] == started["label_names"]
    assert model.config.label2id["B-LOC"] == 5
    AutoTokenizer.from_pretrained(run.model_dir)
    # weights follow the umask like every other file (safetensors alone writes 0600)
    umask = os.umask(0)
    os.umask(umask)
    weights = [run.model_dir / "model.safetensors", *run.checkpoints_dir.glob("checkpoint-*/model.safetensors")]
    assert len(weights) >= 2
    assert {oct(w.stat().st_mode & 0o777) for w in weights} == {oct(0o666 & ~umask)}
    summary = list_runs(tmp_path / "runs")[0]
    assert (summary.name, summary.status, summary.last_step, summary.total_steps) == ("tiny", "finished", 8, 8)
    # a second launch with the same name is refused before anything starts
    with pytest.raises(RunExistsError):
        launch(_config(tmp_path, "tiny", max_steps=8))


def test_sigkill_mid_run_then_resume_reaches_the_configured_step(tmp_path: Path, tiny_model_dir: Path) -> None:
    # A fixed tokenizer folder makes two runs of one config identical (a WordPiece trained per run
    # need not be), so the resumed run can be compared with an uninterrupted one, loss for loss.
    kw = {"max_steps": 24, "eval_every": 12, "save_every": 6, "tokenizer": str(tiny_model_dir)}
    ref_proc = launch(_config(tmp_path, "ref", **kw))
    reference = _finish(ref_proc.run_dir, ref_proc)

    proc = launch(_config(tmp_path, "kr", **kw))
    run: RunDir = proc.run_dir
    _wait_for(run, proc, lambda evs: "checkpoint" in _types(evs))
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    # the OS released the lock; the run reads as killed, not running
    assert not lock_is_held(run)
    assert run_status(run) == "killed"
    ckpt = latest_checkpoint(run)
    assert ckpt is not None
    # a crash mid-write leaves half a line: readers and the resumed writer must cope
    with open(run.events_path, "a", encoding="utf-8") as fh:
        fh.write('{"v":1,"seq":999,"time":1.0,"type":"step","ste')
    assert run_status(run) == "killed"
    seq_before = max(e["seq"] for e in _events(run))

    proc2 = resume_run(run)
    try:
        # while it runs: a second process is refused, and so is a second resume
        assert lock_is_held(run) and run_status(run) == "running"
        with pytest.raises(RunLockedError, match="in use by another training process"):
            RunLock(run).acquire()
        with pytest.raises(Exception, match="still running"):
            resume_run(run)
    finally:
        events = _finish(run, proc2)
    types = _types(events)
    resumed = [e for e in events if e["type"] == "resumed"]
    assert len(resumed) == 1 and resumed[0]["from_step"] == int(ckpt.name.split("-")[1])
    assert types[-1] == "finished" and events[-1]["step"] == 24
    after = [e for e in events if e["seq"] > seq_before]
    assert after and after[0]["type"] == "resumed", "the resumed process's first event was lost"
    steps_after = [e["step"] for e in after if e["type"] == "step"]
    assert steps_after and min(steps_after) > resumed[0]["from_step"] and max(steps_after) == 24
    assert run_status(run) == "finished"
    metrics = _check_metrics_layout(run)
    # The run's duration is both processes' share (the killed one's span, from its `started` to
    # its last event, plus the resumed one's own time): metrics.json and the runs table agree.
    finished = events[-1]
    first = [e for e in events if e["seq"] <= seq_before]
    killed_span = first[-1]["time"] - first[0]["time"]
    summary = next(s for s in list_runs(tmp_path / "runs") if s.name == "kr")
    assert summary.duration_s == pytest.approx(killed_span + finished["duration_s"])
    # metrics.json is written just before the final model save, so it may be that much shorter
    # (events carry times to the hundredth: 5.86 from events against 5.8593 in metrics.json).
    assert summary.duration_s - 5.0 <= metrics["duration_s"] <= summary.duration_s + 0.01
    # same data order, optimizer, scheduler and RNG: the steps after the resume match the
    # uninterrupted run's (same machine, same threads: equal to float32 rounding)
    ref_loss = {e["step"]: e["loss"] for e in reference if e["type"] == "step"}
    got_loss = {e["step"]: e["loss"] for e in after if e["type"] == "step"}
    assert got_loss and all(got_loss[k] == pytest.approx(ref_loss[k], rel=1e-5) for k in got_loss)
    ref_lr = {e["step"]: e["learning_rate"] for e in reference if e["type"] == "step"}
    assert all(e["learning_rate"] == pytest.approx(ref_lr[e["step"]]) for e in after if e["type"] == "step")


def test_sigint_cancel_saves_a_checkpoint_and_ends_as_cancelled(tmp_path: Path) -> None:
    proc = launch(_config(tmp_path, "cancel", max_steps=20, eval_every=1000, save_every=1000, logging_steps=1))
    run: RunDir = proc.run_dir
    _wait_for(run, proc, lambda evs: any(e["type"] == "step" for e in evs))
    assert cancel(run) == proc.pid
    events = _finish(run, proc, timeout=60)
    last = events[-1]
    assert last["type"] == "cancelled", _types(events)
    assert 1 <= last["step"] < 20
    assert Path(last["checkpoint"]).is_dir() and (Path(last["checkpoint"]) / "trainer_state.json").is_file()
    assert latest_checkpoint(run) == Path(last["checkpoint"])
    assert run_status(run) == "cancelled"
    with pytest.raises(NotRunningError, match="not running"):
        cancel(run)
    # Resuming it is the same code path as after a SIGKILL (tested above, step for step).


def test_two_processes_one_folder_one_event_stream_cancel_and_resume(tmp_path: Path) -> None:
    """torchrun with 2 CPU processes (gloo): rank 0 alone writes; a cancel reaches both ranks through
    torchrun's agent (the pid in run.lock), they stop at the same step, and the run resumes."""
    proc = launch(_config(tmp_path, "ddp", max_steps=12, eval_every=6, save_every=6, logging_steps=1, nproc=2))
    run: RunDir = proc.run_dir
    _wait_for(run, proc, lambda evs: any(e["type"] == "step" for e in evs), timeout=180)
    assert cancel(run) == proc.pid  # torchrun's agent
    proc.wait(timeout=120)  # the agent itself exits non-zero after forwarding a signal; the event tells
    events = _events(run)
    assert events[-1]["type"] == "cancelled", _types(events)
    cancelled_at = events[-1]["step"]
    assert 1 <= cancelled_at < 12 and latest_checkpoint(run) is not None
    assert run_status(run) == "cancelled" and not lock_is_held(run)

    events = _finish(run, resume_run(run), timeout=240)
    types = _types(events)
    assert types.count("started") == 1 and types[-1] == "finished" and types.count("finished") == 1
    assert [e["seq"] for e in events] == list(range(len(events))), "more than one writer"
    assert events[0]["nproc"] == 2
    # one optimizer step counter: rank 1 did not write its own step events
    steps = [e["step"] for e in events if e["type"] == "step"]
    assert steps == sorted(set(steps)) and events[-1]["step"] == 12
    assert [e["from_step"] for e in events if e["type"] == "resumed"] == [cancelled_at]
    assert [p.name for p in (tmp_path / "runs").iterdir()] == ["ddp"]
    _check_metrics_layout(run)
    assert run_status(run) == "finished"
