"""Run folders: their layout, the lock that says a process is training in one, status and listing.

Why a lock file with `fcntl.flock` rather than a pid file alone: the kernel drops a flock when
its holder dies, however it dies (SIGKILL, OOM killer, power cut of the session), so "is this
run alive?" never depends on a pid that may have been reused. The pid inside is only there to
know whom to signal for a cancel.

Status comes from two facts: the newest event in `events.jsonl`, and whether the lock is held.
A run whose newest event is not terminal and whose lock is free was killed.

Standard library only (plus `core.config`/`core.events`): the CLI and TUI list runs at start-up.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bnner_tui.core.config import TrainConfig
from bnner_tui.core.errors import BnnerError
from bnner_tui.core.events import TERMINAL_TYPES, read_events

RUN_STATUSES = ("created", "running", "finished", "failed", "cancelled", "killed")

# The launcher hands its locked file descriptor to the training process through these.
LOCK_FD_ENV = "BNNER_RUN_LOCK_FD"

_CHECKPOINT_RE = re.compile(r"^checkpoint-(\d+)$")


class RunExistsError(BnnerError):
    """A new run would write into a folder that already holds another run."""


class RunLockedError(BnnerError):
    """A process is already training in this run folder."""


class RunNotFoundError(BnnerError):
    """The named run folder does not exist (or is not a run)."""


@dataclass(frozen=True)
class RunDir:
    """The paths of one run folder (nothing is read or created by constructing it)."""

    path: Path

    def __init__(self, path: str | Path) -> None:
        object.__setattr__(self, "path", Path(path))

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def config_path(self) -> Path:
        return self.path / "config.toml"

    @property
    def events_path(self) -> Path:
        return self.path / "events.jsonl"

    @property
    def log_path(self) -> Path:
        return self.path / "train.log"

    @property
    def checkpoints_dir(self) -> Path:
        return self.path / "checkpoints"

    @property
    def lock_path(self) -> Path:
        return self.path / "run.lock"

    @property
    def model_dir(self) -> Path:
        return self.path / "model"

    @property
    def metrics_path(self) -> Path:
        return self.path / "metrics.json"

    @property
    def wandb_dir(self) -> Path:
        """Where `tracking = "wandb-offline"` keeps its local W&B files (for `wandb sync`)."""
        return self.path / "wandb"

    def exists(self) -> bool:
        return self.config_path.is_file()

    def load_config(self) -> TrainConfig:
        if not self.config_path.is_file():
            raise RunNotFoundError(f"{self.path} is not a run folder: it has no config.toml.")
        return TrainConfig.from_toml(self.config_path)

    def events(self) -> list[dict[str, Any]]:
        return read_events(self.events_path)[0]

    def metrics(self) -> dict[str, Any] | None:
        try:
            data = json.loads(self.metrics_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None

    def __fspath__(self) -> str:
        return str(self.path)

    def __str__(self) -> str:
        return str(self.path)


def as_run(run: RunDir | str | Path) -> RunDir:
    return run if isinstance(run, RunDir) else RunDir(run)


def find_run(name_or_path: str | Path, root: str | Path = "runs") -> RunDir:
    """A run by folder path, or by name under `root`; one sentence when neither is a run."""
    candidates = [Path(name_or_path)]
    if not Path(name_or_path).is_absolute():
        candidates.append(Path(root) / name_or_path)
    for c in candidates:
        if (c / "config.toml").is_file():
            return RunDir(c)
    raise RunNotFoundError(
        f"No run {str(name_or_path)!r}: neither {candidates[0]} nor {candidates[-1]} holds a config.toml"
        " (list runs with: bnner-tui runs)."
    )


# ---- creating ----------------------------------------------------------------------------------


def create_run(config: TrainConfig, *, resume: bool = False) -> RunDir:
    """Makes `<output_root>/<run_name>/` and saves the resolved config in it.

    A generated name (run_name unset) gets a numeric suffix rather than colliding; an explicit
    name that already holds a run is refused (or, with `resume`, reused with its saved config
    left untouched: the resumed run must train exactly what the first one did).
    """
    config.validate()
    root = Path(config.output_root)
    if resume:
        if not config.run_name:
            raise RunNotFoundError("Resuming needs the name of the run to resume.")
        run = RunDir(root / config.run_name)
        if not run.exists():
            raise RunNotFoundError(f"Cannot resume {run.path}: it is not a run folder (no config.toml).")
        return run
    name = config.resolved_run_name()
    path = root / name
    if config.run_name is None:
        n = 2
        while path.exists() and any(path.iterdir()):
            path = root / f"{name}-{n}"
            n += 1
    elif path.exists() and (not path.is_dir() or any(path.iterdir())):
        raise RunExistsError(
            f"Run folder {path} already exists and is not empty: choose another --run-name,"
            f" or continue it with --resume {name}."
        )
    final = config.with_overrides(run_name=path.name)
    try:
        path.mkdir(parents=True, exist_ok=True)
        (path / "checkpoints").mkdir(exist_ok=True)
    except OSError as err:
        raise BnnerError(f"Cannot create the run folder {path}: {err.strerror or err}.") from None
    run = RunDir(path)
    final.to_toml(run.config_path)
    return run


# ---- the lock ----------------------------------------------------------------------------------


class RunLock:
    """An exclusive `flock` on `run.lock`, held for the life of the training process.

    The file holds the pid to signal for a cancel (line 1) and its process group (line 2).
    """

    def __init__(self, run: RunDir | str | Path) -> None:
        self.run = as_run(run)
        self.fd: int | None = None
        self.adopted = False

    @property
    def held(self) -> bool:
        return self.fd is not None or self.adopted

    def acquire(self) -> RunLock:
        """Takes the lock or raises `RunLockedError` naming the pid that holds it; never waits."""
        if self.held:
            return self
        self.run.path.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.run.lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as err:
            os.close(fd)
            if err.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                pid = read_lock_pid(self.run)
                who = f" (pid {pid})" if pid else ""
                raise RunLockedError(
                    f"Run {self.run.path} is in use by another training process{who}: wait for it, or cancel it"
                    f" with: bnner-tui cancel {self.run.name}."
                ) from None
            raise
        self.fd = fd
        self.write_pid(os.getpid(), os.getpgid(0))
        return self

    def write_pid(self, pid: int, pgid: int | None = None) -> None:
        if self.fd is None:
            return
        data = f"{pid}\n{pgid if pgid is not None else pid}\n".encode()
        os.ftruncate(self.fd, 0)
        os.pwrite(self.fd, data, 0)

    def release(self) -> None:
        if self.fd is not None:
            try:
                fcntl.flock(self.fd, fcntl.LOCK_UN)
            finally:
                os.close(self.fd)
                self.fd = None
        self.adopted = False

    def detach(self) -> None:
        """Closes this process's descriptor without unlocking: a child that inherited it keeps the lock."""
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None

    def __enter__(self) -> RunLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


def acquire_lock(run: RunDir | str | Path) -> RunLock:
    """The training process's way to hold its run's lock.

    When `launch()` started this process it already locked the file and passed the descriptor
    down (`BNNER_RUN_LOCK_FD`): that lock is adopted, so there is no moment in which the run looks
    free. Under torchrun, where the launcher process (torchrun's agent, our parent) holds the lock,
    the worker adopts it too. Started by hand, the process takes the lock itself.
    """
    rd = as_run(run)
    lock = RunLock(rd)
    fd_text = os.environ.get(LOCK_FD_ENV)
    if fd_text and fd_text.isdigit():
        fd = int(fd_text)
        try:
            same = os.path.samestat(os.fstat(fd), os.stat(rd.lock_path))
        except OSError:
            same = False
        if same:
            lock.fd = fd
            os.set_inheritable(fd, False)
            lock.write_pid(os.getpid(), os.getpgid(0))
            del os.environ[LOCK_FD_ENV]
            return lock
        holder = read_lock_pid(rd)
        if holder is not None and holder == os.getppid() and lock_is_held(rd):
            lock.adopted = True
            return lock
    return lock.acquire()


def lock_is_held(run: RunDir | str | Path) -> bool:
    """Whether some process holds the run's lock (tested with a non-blocking flock, then let go)."""
    rd = as_run(run)
    try:
        fd = os.open(rd.lock_path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except OSError:
        return True
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False
    finally:
        os.close(fd)


def read_lock_pid(run: RunDir | str | Path) -> int | None:
    return _read_lock_ids(as_run(run))[0]


def read_lock_pgid(run: RunDir | str | Path) -> int | None:
    return _read_lock_ids(as_run(run))[1]


def _read_lock_ids(rd: RunDir) -> tuple[int | None, int | None]:
    try:
        lines = rd.lock_path.read_text(encoding="ascii", errors="replace").split()
    except OSError:
        return None, None
    ids = [int(x) for x in lines[:2] if x.isdigit()]
    pid = ids[0] if ids else None
    pgid = ids[1] if len(ids) > 1 else pid
    return pid, pgid


# ---- status and listing ------------------------------------------------------------------------


def run_status(run: RunDir | str | Path, events: list[dict[str, Any]] | None = None) -> str:
    """One of RUN_STATUSES; see the module docstring for how it is decided."""
    rd = as_run(run)
    if lock_is_held(rd):
        return "running"
    if events is None:
        events = rd.events()
    if not events:
        return "created"
    last = events[-1]["type"]
    if last in TERMINAL_TYPES:
        return str(last)
    return "killed"


def latest_checkpoint(run: RunDir | str | Path) -> Path | None:
    """The newest complete `checkpoints/checkpoint-N` (Trainer writes trainer_state.json last).

    A folder a SIGKILL interrupted mid-save has no trainer_state.json and is passed over.
    """
    rd = as_run(run)
    best: tuple[int, Path] | None = None
    try:
        entries = list(rd.checkpoints_dir.iterdir())
    except OSError:
        return None
    for entry in entries:
        m = _CHECKPOINT_RE.match(entry.name)
        if not m or not (entry / "trainer_state.json").is_file():
            continue
        step = int(m.group(1))
        if best is None or step > best[0]:
            best = (step, entry)
    return best[1] if best else None


@dataclass
class RunSummary:
    """What a runs table shows about one run; cheap to compute (no heavy imports)."""

    name: str
    path: Path
    status: str
    best_f1: float | None
    duration_s: float | None
    model: str
    data: str
    started_at: float | None
    last_step: int | None
    total_steps: int | None
    preset: str | None = None
    reason: str | None = None  # why it failed, for failed runs

    def as_dict(self) -> dict[str, Any]:
        d = dict(self.__dict__)
        d["path"] = str(self.path)
        return d


def summarize_run(run: RunDir | str | Path) -> RunSummary:
    rd = as_run(run)
    events = rd.events()
    status = run_status(rd, events)
    model, data, preset = "?", "?", None
    try:
        cfg = rd.load_config()
        model, data, preset = cfg.model, cfg.data, cfg.preset
    except BnnerError:
        pass
    started_at: float | None = None
    last_step: int | None = None
    total_steps: int | None = None
    best_f1: float | None = None
    duration: float | None = None
    reason: str | None = None
    for ev in events:
        kind = ev.get("type")
        if kind == "started":
            if started_at is None:
                started_at = _num(ev.get("time"))
            total_steps = _int(ev.get("total_steps")) or total_steps
            used = ev.get("model_name") or (ev.get("model") if isinstance(ev.get("model"), dict) else None)
            if isinstance(used, dict):
                used = used.get("name")
            if isinstance(used, str) and used:
                model = used
        elif kind == "step":
            last_step = _int(ev.get("step"), last_step)
            total_steps = _int(ev.get("total_steps")) or total_steps
        elif kind == "eval":
            last_step = _int(ev.get("step"), last_step)
            f1 = _num((ev.get("overall") or {}).get("f1")) if isinstance(ev.get("overall"), dict) else None
            if f1 is not None and (best_f1 is None or f1 > best_f1):
                best_f1 = f1
        elif kind in ("checkpoint", "cancelled"):
            last_step = _int(ev.get("step"), last_step)
        elif kind == "finished":
            last_step = _int(ev.get("step"), last_step)
            f1 = _num(ev.get("best_f1"))
            if f1 is not None:
                best_f1 = f1
            duration = _num(ev.get("duration_s"))
        elif kind == "failed":
            reason = ev.get("reason") if isinstance(ev.get("reason"), str) else reason
    metrics = rd.metrics()
    if metrics and isinstance(metrics.get("best"), dict):
        f1 = _num(metrics["best"].get("f1"))
        if f1 is not None:
            best_f1 = f1
    resumes = sum(1 for ev in events if ev.get("type") == "resumed")
    if events and (duration is None or resumes):
        duration = _active_seconds(events, running=status == "running")
    if started_at is None and events:
        started_at = _num(events[0].get("time"))
    return RunSummary(
        name=rd.name,
        path=rd.path,
        status=status,
        best_f1=best_f1,
        duration_s=duration,
        model=model,
        data=data,
        started_at=started_at,
        last_step=last_step,
        total_steps=total_steps,
        preset=preset,
        reason=reason,
    )


def list_runs(root: str | Path = "runs") -> list[RunSummary]:
    """Every run folder directly under `root` (one with a config.toml), newest first."""
    base = Path(root)
    try:
        entries = [e for e in base.iterdir() if (e / "config.toml").is_file()]
    except OSError:
        return []
    summaries = [summarize_run(e) for e in entries]

    def key(s: RunSummary) -> float:
        if s.started_at is not None:
            return s.started_at
        try:
            return s.path.stat().st_mtime
        except OSError:
            return 0.0

    summaries.sort(key=key, reverse=True)
    return summaries


def _active_seconds(events: list[dict[str, Any]], *, running: bool) -> float | None:
    """Training time over all processes of a run: each process's span from its first event to its
    last; the gap between a kill (or cancel) and the resume is not counted."""
    total = 0.0
    seg_start: float | None = None
    seg_end: float | None = None
    for ev in events:
        t = _num(ev.get("time"))
        if t is None:
            continue
        if ev.get("type") == "resumed" or seg_start is None:
            if seg_start is not None and seg_end is not None:
                total += max(0.0, seg_end - seg_start)
            seg_start = t
        seg_end = t
    if seg_start is None or seg_end is None:
        return None
    if running:
        seg_end = max(seg_end, time.time())
    return total + max(0.0, seg_end - seg_start)


def _num(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def _int(value: Any, default: int | None = None) -> int | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return default
    return int(value)
