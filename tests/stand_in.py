"""A small stand-in for the training process, for UI and CLI tests that need a live run.

It does what the worker does to a run folder, without training: takes the run lock, writes
events with the real EventWriter, and on SIGINT (what Cancel and Ctrl-C send) saves a
"checkpoint" and writes `cancelled`, then exits 0. A real process, so liveness, the lock and
the cancel signal are all real; only the training is left out (tests/train/test_process.py
trains for real).
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

SCRIPT = textwrap.dedent(
    """
    import signal, sys, time
    from pathlib import Path
    from bnner_tui.core.events import EventWriter
    from bnner_tui.core.runs import acquire_lock

    run, mode = Path(sys.argv[1]), sys.argv[2]
    stop = []
    signal.signal(signal.SIGINT, lambda *a: stop.append(1))
    lock = acquire_lock(run)
    w = EventWriter(run / "events.jsonl")
    if mode == "resume-finish":
        w.emit("resumed", from_step=2, checkpoint=str(run / "checkpoints" / "checkpoint-2"))
        for s in (3, 4):
            w.emit("step", step=s, loss=1.0 / s, total_steps=4)
        w.emit("finished", step=4, best_f1=None, model_dir=str(run / "model"), metrics_path=str(run / "metrics.json"),
               duration_s=0.5)
        sys.exit(0)
    w.emit("started", total_steps=100, model="stand-in: a process that writes events like the worker",
           dataset="stand-in data", dataset_sizes={"train": 10}, device="cpu", nproc=1)
    w.emit("step", step=1, loss=2.0, total_steps=100)
    print("ready", flush=True)
    while not stop:
        time.sleep(0.02)
    ckpt = run / "checkpoints" / "checkpoint-2"
    ckpt.mkdir(parents=True, exist_ok=True)
    (ckpt / "trainer_state.json").write_text("{}")
    w.emit("checkpoint", step=2, path=str(ckpt))
    w.emit("cancelled", step=2, checkpoint=str(ckpt))
    """
)


def make_run(root: Path, name: str, **config: object) -> Path:
    """A run folder as `launch` leaves it before the process starts (config.toml, train.log)."""
    from bnner_tui.core.config import TrainConfig

    run = root / name
    run.mkdir(parents=True)
    TrainConfig(run_name=name, output_root=str(root), **config).to_toml(run / "config.toml")  # type: ignore[arg-type]
    (run / "train.log").write_text("stand-in\n", encoding="utf-8")
    return run


def start(run: Path, mode: str = "cancel-on-sigint") -> subprocess.Popen[str]:
    """Starts the stand-in as `launch` starts the worker: the run lock is taken here first and
    handed to the child, so the run is never seen without a live holder. With the default mode,
    returns once it has written step 1."""
    import os

    from bnner_tui.core.runs import LOCK_FD_ENV, RunLock

    lock = RunLock(run).acquire()
    assert lock.fd is not None
    os.set_inheritable(lock.fd, True)
    proc = subprocess.Popen(
        [sys.executable, "-c", SCRIPT, str(run), mode],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, LOCK_FD_ENV: str(lock.fd)},
        pass_fds=(lock.fd,),
    )
    lock.write_pid(proc.pid, os.getpgid(proc.pid))
    lock.detach()
    if mode == "cancel-on-sigint":
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    return proc
