"""Run folders: creation, the flock lock (with real second processes), status and listing from real event files."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from bnner_tui.core.config import TrainConfig
from bnner_tui.core.events import EventWriter
from bnner_tui.core.runs import (
    LOCK_FD_ENV,
    RunDir,
    RunExistsError,
    RunLock,
    RunLockedError,
    RunNotFoundError,
    acquire_lock,
    create_run,
    find_run,
    latest_checkpoint,
    list_runs,
    lock_is_held,
    read_lock_pid,
    run_status,
    summarize_run,
)

_HOLD_LOCK = textwrap.dedent(
    """
    import sys, time
    from bnner_tui.core.runs import acquire_lock
    lock = acquire_lock(sys.argv[1])
    print("locked", flush=True)
    time.sleep(60)
    """
)


def _holder(run: RunDir) -> subprocess.Popen[str]:
    """A real second process that holds the run's lock until killed."""
    proc = subprocess.Popen([sys.executable, "-c", _HOLD_LOCK, str(run.path)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "locked"
    return proc


def _make(tmp_path: Path, name: str, **kw: object) -> RunDir:
    return create_run(TrainConfig(output_root=str(tmp_path), run_name=name, **kw))  # type: ignore[arg-type]


def test_create_run_layout_and_saved_config(tmp_path: Path) -> None:
    run = _make(tmp_path, "r1", batch_size=8)
    assert run.path == tmp_path / "r1"
    assert run.config_path.is_file() and run.checkpoints_dir.is_dir()
    cfg = run.load_config()
    assert cfg.batch_size == 8 and cfg.run_name == "r1"
    assert run.events_path.name == "events.jsonl" and run.log_path.name == "train.log"
    assert run.lock_path.name == "run.lock" and run.model_dir.name == "model"
    assert run.metrics_path.name == "metrics.json"
    assert run_status(run) == "created"


def test_create_run_refuses_existing_and_generates_unique_names(tmp_path: Path) -> None:
    _make(tmp_path, "r1")
    with pytest.raises(RunExistsError, match=r"already exists and is not empty.*--resume r1"):
        _make(tmp_path, "r1")
    # an empty folder of that name is fine
    (tmp_path / "empty").mkdir()
    _make(tmp_path, "empty")
    # generated names never collide, even within the same second
    cfg = TrainConfig(output_root=str(tmp_path), preset="cpu-demo")
    a, b = create_run(cfg), create_run(cfg)
    assert a.path != b.path and a.name.startswith("cpu-demo-")
    assert b.load_config().run_name == b.name


def test_create_run_resume_keeps_saved_config(tmp_path: Path) -> None:
    run = _make(tmp_path, "r1", batch_size=8)
    again = create_run(TrainConfig(output_root=str(tmp_path), run_name="r1", batch_size=99), resume=True)
    assert again.path == run.path and again.load_config().batch_size == 8
    with pytest.raises(RunNotFoundError):
        create_run(TrainConfig(output_root=str(tmp_path), run_name="nope"), resume=True)


def test_find_run_by_name_or_path(tmp_path: Path) -> None:
    run = _make(tmp_path, "r1")
    assert find_run("r1", root=tmp_path).path == run.path
    assert find_run(run.path).path == run.path
    with pytest.raises(RunNotFoundError, match="bnner-tui runs"):
        find_run("zzz", root=tmp_path)


def test_lock_refused_while_another_process_holds_it(tmp_path: Path) -> None:
    run = _make(tmp_path, "r1")
    proc = _holder(run)
    try:
        assert lock_is_held(run)
        assert read_lock_pid(run) == proc.pid
        assert run_status(run) == "running"
        with pytest.raises(RunLockedError) as info:
            RunLock(run).acquire()
        msg = str(info.value)
        assert f"pid {proc.pid}" in msg and "in use" in msg and "\n" not in msg
    finally:
        proc.kill()
        proc.wait()
    # SIGKILL: the OS released the lock, no cleanup needed.
    assert not lock_is_held(run)
    with RunLock(run) as lock:
        assert lock.held and read_lock_pid(run) == os.getpid()
    assert not lock_is_held(run)


def test_lock_passed_down_by_fd_is_adopted_without_a_gap(tmp_path: Path) -> None:
    """launch() locks first and hands the descriptor to the child: the run never looks free."""
    run = _make(tmp_path, "r1")
    parent_lock = RunLock(run).acquire()
    assert parent_lock.fd is not None
    env = {**os.environ, LOCK_FD_ENV: str(parent_lock.fd)}
    proc = subprocess.Popen(
        [sys.executable, "-c", _HOLD_LOCK, str(run.path)],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
        pass_fds=[parent_lock.fd],
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "locked"
        parent_lock.detach()  # the parent lets go of its descriptor; the child's keeps the lock
        assert lock_is_held(run)
        assert read_lock_pid(run) == proc.pid
        with pytest.raises(RunLockedError):
            RunLock(run).acquire()
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert not lock_is_held(run)


def test_acquire_lock_by_hand_without_launcher(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(LOCK_FD_ENV, raising=False)
    run = _make(tmp_path, "r1")
    lock = acquire_lock(run)
    try:
        assert lock_is_held(run)
    finally:
        lock.release()
    assert not lock_is_held(run)


def _write_events(run: RunDir, *events: tuple[str, dict]) -> None:
    with EventWriter(run.events_path) as w:
        for kind, fields in events:
            w.emit(kind, **fields)


_STARTED = ("started", {"config": {}, "model": "offline small BERT: test", "total_steps": 20, "nproc": 1})


def _eval(step: int, f1: float) -> tuple[str, dict]:
    return (
        "eval",
        {
            "step": step,
            "epoch": 1.0,
            "split": "validation",
            "loss": 0.5,
            "overall": {"precision": f1, "recall": f1, "f1": f1, "accuracy": 0.9},
            "per_type": {},
        },
    )


def test_status_finished_failed_cancelled(tmp_path: Path) -> None:
    fin = _make(tmp_path, "fin")
    _write_events(
        fin,
        _STARTED,
        ("step", {"step": 10, "loss": 1.0, "total_steps": 20}),
        _eval(20, 0.5),
        (
            "finished",
            {"step": 20, "best_f1": 0.5, "model_dir": "model", "metrics_path": "metrics.json", "duration_s": 12.5},
        ),
    )
    failed = _make(tmp_path, "failed")
    _write_events(
        failed, _STARTED, ("failed", {"reason": "Out of GPU memory at batch size 64.", "traceback_in": "train.log"})
    )
    cancelled = _make(tmp_path, "cancelled")
    _write_events(
        cancelled, _STARTED, ("step", {"step": 5, "loss": 1.0}), ("cancelled", {"step": 6, "checkpoint": "x"})
    )
    assert run_status(fin) == "finished"
    assert run_status(failed) == "failed"
    assert run_status(cancelled) == "cancelled"
    s = summarize_run(fin)
    assert (s.status, s.best_f1, s.duration_s, s.last_step, s.total_steps) == ("finished", 0.5, 12.5, 20, 20)
    assert summarize_run(failed).reason == "Out of GPU memory at batch size 64."
    assert summarize_run(cancelled).last_step == 6


def test_killed_run_with_half_written_last_line(tmp_path: Path) -> None:
    run = _make(tmp_path, "killed")
    _write_events(run, _STARTED, ("step", {"step": 10, "loss": 0.9, "total_steps": 20}), _eval(10, 0.25))
    with open(run.events_path, "a", encoding="utf-8") as fh:
        fh.write('{"v":1,"seq":4,"time":1.0,"type":"step","ste')  # SIGKILL mid-write
    # the lock file exists (left by the dead process) but nobody holds the lock
    run.lock_path.write_text("999999\n999999\n")
    assert run_status(run) == "killed"
    s = summarize_run(run)
    assert s.status == "killed" and s.last_step == 10 and s.best_f1 == 0.25 and s.total_steps == 20


def test_cancelled_then_resumed_and_running_is_running(tmp_path: Path) -> None:
    run = _make(tmp_path, "r")
    _write_events(
        run, _STARTED, ("cancelled", {"step": 6, "checkpoint": "c"}), ("resumed", {"from_step": 6, "checkpoint": "c"})
    )
    assert run_status(run) == "killed"  # nothing holds the lock: the resumed process died
    proc = _holder(run)
    try:
        assert run_status(run) == "running"
    finally:
        proc.kill()
        proc.wait()


def test_metrics_json_best_wins_and_list_runs_order(tmp_path: Path) -> None:
    old = _make(tmp_path, "old", data="wikiann")
    _write_events(old, _STARTED, _eval(10, 0.3))
    time.sleep(0.01)
    new = _make(tmp_path, "new")
    _write_events(new, _STARTED, _eval(10, 0.4))
    new.metrics_path.write_text(json.dumps({"level": "word", "best": {"step": 10, "f1": 0.45}}))
    (tmp_path / "not-a-run").mkdir()
    runs = list_runs(tmp_path)
    assert [r.name for r in runs] == ["new", "old"]
    assert runs[0].best_f1 == 0.45 and runs[1].best_f1 == 0.3
    assert runs[1].data == "wikiann" and runs[0].model == "auto"
    assert list_runs(tmp_path / "missing") == []
    assert json.dumps(runs[0].as_dict())


def test_latest_checkpoint_skips_incomplete(tmp_path: Path) -> None:
    run = _make(tmp_path, "r")
    assert latest_checkpoint(run) is None
    for step, complete in ((5, True), (10, True), (15, False)):
        d = run.checkpoints_dir / f"checkpoint-{step}"
        d.mkdir()
        if complete:
            (d / "trainer_state.json").write_text("{}")
    (run.checkpoints_dir / "checkpoint-x").mkdir()
    assert latest_checkpoint(run) == run.checkpoints_dir / "checkpoint-10"


def test_duration_of_a_resumed_run_skips_the_downtime(tmp_path: Path) -> None:
    run = _make(tmp_path, "r")
    lines = [
        {"v": 1, "seq": 0, "time": 1000.0, "type": "started", "total_steps": 10},
        {"v": 1, "seq": 1, "time": 1030.0, "type": "step", "step": 4},
        {"v": 1, "seq": 2, "time": 5000.0, "type": "resumed", "from_step": 4, "checkpoint": "c"},
        {"v": 1, "seq": 3, "time": 5020.0, "type": "finished", "step": 10, "best_f1": 0.7, "duration_s": 25.0},
    ]
    run.events_path.write_text("".join(json.dumps(x) + "\n" for x in lines), encoding="utf-8")
    s = summarize_run(run)
    # 30 s of the first process (its events' span) + the 25 s the finishing process measured.
    assert s.status == "finished" and s.duration_s == 55.0 and s.last_step == 10 and s.best_f1 == 0.7


def test_listing_follows_a_growing_and_a_replaced_event_file(tmp_path: Path) -> None:
    run = _make(tmp_path, "g")
    _write_events(run, _STARTED, ("step", {"step": 2, "loss": 1.0, "total_steps": 20}))
    assert summarize_run(run).last_step == 2
    with open(run.events_path, "a", encoding="utf-8") as fh:
        fh.write('{"v":1,"seq":2,"time":2.0,"type":"step","step":4,"total_steps":20}\n{"v":1,"seq":3,"ti')
    s = summarize_run(run)
    assert (s.last_step, s.status) == (4, "killed")
    with open(run.events_path, "a", encoding="utf-8") as fh:  # the half line completes
        fh.write('me":3.0,"type":"cancelled","step":5,"checkpoint":"c"}\n')
    s = summarize_run(run)
    assert (s.last_step, s.status) == (5, "cancelled")
    # the folder reused for a new stream (file replaced): nothing stale survives
    tmp = run.events_path.with_suffix(".new")
    tmp.write_text('{"v":1,"seq":0,"time":9.0,"type":"started","total_steps":3}\n', encoding="utf-8")
    os.replace(tmp, run.events_path)
    s = summarize_run(run)
    assert (s.last_step, s.total_steps, s.status) == (None, 3, "killed")


# ---- one liveness rule, bad lines, atomic creation --------------------------------------------


def test_a_process_that_died_before_its_started_event_is_killed_not_created(tmp_path: Path) -> None:
    never = _make(tmp_path, "never-launched")
    assert run_status(never) == "created"
    died = _make(tmp_path, "died-early")
    # What launch leaves: the log it opened for the process and the pid it wrote; then the
    # process died during start-up (an import error, say) before writing any event.
    died.log_path.write_text("Traceback ...\nImportError: boom\n", encoding="utf-8")
    died.lock_path.write_text("999999\n999999\n")
    assert run_status(died) == "killed"
    s = summarize_run(died)
    assert s.status == "killed" and "before its first event" in (s.reason or "")


def test_a_bad_typed_line_never_breaks_the_listing_nor_flips_a_finished_run(tmp_path: Path) -> None:
    fin = _make(tmp_path, "fin")
    _write_events(fin, _STARTED, _eval(20, 0.5), ("finished", {"step": 20, "best_f1": 0.5, "duration_s": 3.0}))
    with open(fin.events_path, "a", encoding="utf-8") as fh:
        fh.write('{"v":1,"seq":9,"time":9.0,"type":"step","step":"abc"}\n')
    big = _make(tmp_path, "big")
    _write_events(big, _STARTED)
    with open(big.events_path, "a", encoding="utf-8") as fh:
        fh.write('{"v":1,"seq":1,"time":2.0,"type":"step","step":1e400,"total_steps":20}\n')
        fh.write('{"v":1,"seq":2,"time":3.0,"type":"eval","step":2,"overall":"bad"}\n')
        fh.write('{"type":5}\n')
    runs = {r.name: r for r in list_runs(tmp_path)}
    assert set(runs) == {"fin", "big"}
    assert runs["fin"].status == "finished" and runs["fin"].best_f1 == 0.5 and runs["fin"].skipped_lines == 1
    assert runs["big"].status == "killed" and runs["big"].last_step is None and runs["big"].skipped_lines == 3


def test_list_runs_filters_finished_and_with_a_model(tmp_path: Path) -> None:
    fin = _make(tmp_path, "fin")
    _write_events(fin, _STARTED, ("finished", {"step": 20, "best_f1": 0.5, "duration_s": 3.0}))
    (fin.model_dir).mkdir()
    (fin.model_dir / "config.json").write_text("{}", encoding="utf-8")
    cancelled = _make(tmp_path, "cancelled")
    _write_events(cancelled, _STARTED, ("cancelled", {"step": 6, "checkpoint": "c"}))
    assert [r.name for r in list_runs(tmp_path, finished=True)] == ["fin"]
    assert [r.name for r in list_runs(tmp_path, finished=False)] == ["cancelled"]
    assert [r.name for r in list_runs(tmp_path, has_model=True)] == ["fin"]
    assert list_runs(tmp_path, has_metrics=True) == []


def test_two_concurrent_creations_of_one_name_one_wins_and_its_config_stays(tmp_path: Path) -> None:
    """Behind a barrier, two creations race for one run name: exactly one wins, the other is
    refused, and config.toml holds the winner's config (never replaced, no backup needed)."""
    import threading

    def create(name: str, batch_size: int, barrier: threading.Barrier, results: dict[int, object]) -> None:
        cfg = TrainConfig(output_root=str(tmp_path), run_name=name, batch_size=batch_size)
        barrier.wait()
        try:
            results[batch_size] = create_run(cfg)
        except RunExistsError as err:
            results[batch_size] = err

    for trial in range(25):
        barrier = threading.Barrier(2)
        results: dict[int, object] = {}
        threads = [threading.Thread(target=create, args=(f"race-{trial}", bs, barrier, results)) for bs in (8, 16)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        won = [bs for bs, r in results.items() if isinstance(r, RunDir)]
        refused = [r for r in results.values() if isinstance(r, RunExistsError)]
        assert len(won) == 1 and len(refused) == 1, (trial, results)
        run = RunDir(tmp_path / f"race-{trial}")
        assert run.load_config().batch_size == won[0], trial
        # Nothing but the winner's files (no backup of a replaced config.toml; run.lock goes with the lock).
        assert sorted(p.name for p in run.path.iterdir() if p.name != "run.lock") == ["checkpoints", "config.toml"]
