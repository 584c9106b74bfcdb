"""Run folders: their layout, the lock that says a process is training in one, status and listing.

Why a lock file with `fcntl.flock` rather than a pid file alone: the kernel drops a flock when
its holder dies, however it dies (SIGKILL, OOM killer, power cut of the session), so "is this
run alive?" never depends on a pid that may have been reused. The pid inside is only there to
know whom to signal for a cancel.

Status comes from `core.runstate` (the one rule): the run's events folded into a `RunState`,
and whether the lock is held. A run whose newest event is not terminal and whose lock is free
was killed.

Standard library only (plus `core.config`/`core.events`): the CLI and TUI list runs at start-up.
"""

from __future__ import annotations

import errno
import fcntl
import json
import math
import os
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bnner_tui.core.config import TrainConfig
from bnner_tui.core.errors import BnnerError
from bnner_tui.core.events import Event, read_typed
from bnner_tui.core.runstate import RunFollower, RunState

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

    def events(self) -> list[Event]:
        """Every event that fits the contract (typed; bad lines skipped)."""
        return read_typed(self.events_path).events

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
    """Makes `<output_root>/<run_name>/` and saves the resolved config in it (lock let go after).

    A generated name (run_name unset) gets a numeric suffix rather than colliding; an explicit
    name that already holds a run is refused (or, with `resume`, reused with its saved config
    left untouched: the resumed run must train exactly what the first one did).
    """
    if resume:
        config.validate()
        if not config.run_name:
            raise RunNotFoundError("Resuming needs the name of the run to resume.")
        run = RunDir(Path(config.output_root) / config.run_name)
        if not run.exists():
            raise RunNotFoundError(f"Cannot resume {run.path}: it is not a run folder (no config.toml).")
        return run
    run, lock = create_run_locked(config)
    lock.release()
    return run


def create_run_locked(config: TrainConfig) -> tuple[RunDir, RunLock]:
    """`create_run`, returning with the run's lock still held (what `launch` hands to the child).

    Why the lock first: "is the folder free?", the mkdir and the config.toml write used to be
    separate steps, so two launches into one name could both pass the check and one would train
    the other's config. Now the lock is taken before anything is written and the check is made
    under it: of two concurrent creations exactly one wins, and the other is refused with a
    sentence, never replacing the winner's config.toml.
    """
    config.validate()
    root = Path(config.output_root)
    name = config.resolved_run_name()
    candidates = _candidate_paths(root, name, generated=config.run_name is None)
    for path in candidates:
        try:
            path.mkdir(parents=True, exist_ok=True)
        except FileExistsError:
            if config.run_name is None:
                continue
            raise RunExistsError(f"Run folder {path} exists and is not a folder: choose another --run-name.") from None
        except OSError as err:
            raise BnnerError(f"Cannot create the run folder {path}: {err.strerror or err}.") from None
        lock = RunLock(path)
        try:
            lock.acquire()
        except RunLockedError:
            if config.run_name is None:
                continue
            raise RunExistsError(
                f"Run folder {path} is being used by another launch right now: choose another --run-name."
            ) from None
        try:
            if any(entry.name != "run.lock" for entry in path.iterdir()):
                if config.run_name is None:
                    lock.release()
                    continue
                raise RunExistsError(
                    f"Run folder {path} already exists and is not empty: choose another --run-name,"
                    f" or continue it with --resume {name}."
                )
            final = config.with_overrides(run_name=path.name)
            run = RunDir(path)
            try:
                (path / "checkpoints").mkdir(exist_ok=True)
                final.to_toml(run.config_path)
            except OSError as err:
                raise BnnerError(f"Cannot create the run folder {path}: {err.strerror or err}.") from None
        except BaseException:
            lock.release()
            raise
        return run, lock
    raise RunExistsError(f"Could not find a free run folder name for {name} under {root}.")  # pragma: no cover


def _candidate_paths(root: Path, name: str, *, generated: bool) -> Iterator[Path]:
    yield root / name
    if generated:
        for n in range(2, 10_000):
            yield root / f"{name}-{n}"


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
        while True:
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
            if _same_file(fd, self.run.lock_path):
                break
            os.close(fd)  # the holder removed the file as it let go: lock the new one instead
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
        """Removes run.lock (while still holding it, so no one locks a file about to vanish), then lets go."""
        if self.fd is not None:
            try:
                if _same_file(self.fd, self.run.lock_path):
                    os.unlink(self.run.lock_path)
            except OSError:
                pass
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


def _same_file(fd: int, path: Path) -> bool:
    try:
        return os.path.samestat(os.fstat(fd), os.stat(path))
    except OSError:
        return False


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


def run_state(run: RunDir | str | Path, *, curves: bool = False) -> RunState:
    """The run's whole history folded, with liveness probed now (see `core.runstate`)."""
    follower = RunFollower(run, curves=curves)
    follower.poll()
    return follower.state


def run_status(run: RunDir | str | Path) -> str:
    """One of RUN_STATUSES, decided by `RunState.status` (the one liveness rule)."""
    return run_state(run).status


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
    reason: str | None = None  # why it failed (or was killed)
    resumable: bool = False
    has_model: bool = False
    has_metrics: bool = False
    skipped_lines: int = 0  # lines of events.jsonl that did not fit the contract

    @property
    def model_dir(self) -> Path:
        return self.path / "model"

    def as_dict(self) -> dict[str, Any]:
        d = dict(self.__dict__)
        d["path"] = str(self.path)
        return d


# events.jsonl path -> (inode, follower): listing runs every few seconds (the TUI's runs table)
# then reads and folds only what each file gained since the last look.
_FOLLOWERS: dict[str, tuple[int, RunFollower]] = {}
_FOLLOWERS_LOCK = threading.Lock()


def _state(rd: RunDir) -> RunState:
    """A snapshot of the run's state (a copy: the cached follower goes on folding)."""
    key = str(rd.events_path.resolve())
    try:
        st = rd.events_path.stat()
    except OSError:
        with _FOLLOWERS_LOCK:
            _FOLLOWERS.pop(key, None)
        return run_state(rd)
    with _FOLLOWERS_LOCK:
        cached = _FOLLOWERS.get(key)
        inode, follower = cached if cached is not None else (st.st_ino, None)
        if follower is None or inode != st.st_ino or st.st_size < follower.offset:  # replaced or truncated
            follower = RunFollower(rd, curves=False)
        follower.poll()
        _FOLLOWERS[key] = (st.st_ino, follower)
        return follower.state.copy()


def summarize_run(run: RunDir | str | Path) -> RunSummary:
    rd = as_run(run)
    state = _state(rd)
    status = state.status
    model, data, preset = "?", "?", None
    try:
        cfg = rd.load_config()
        model, data, preset = cfg.model, cfg.data, cfg.preset
    except BnnerError:
        pass
    best_f1 = state.best_f1
    metrics = rd.metrics()
    if metrics and isinstance(metrics.get("best"), dict):
        f1 = _num(metrics["best"].get("f1"))
        if f1 is not None:
            best_f1 = f1
    return RunSummary(
        name=rd.name,
        path=rd.path,
        status=status,
        best_f1=best_f1,
        duration_s=state.duration_s(now=time.time()),
        model=state.model_name or model,
        data=data,
        started_at=state.started_at if state.started_at is not None else state.first_time,
        last_step=state.last_step,
        total_steps=state.total_steps,
        preset=preset,
        reason=state.status_reason,
        resumable=state.resumable,
        has_model=(rd.model_dir / "config.json").is_file(),
        has_metrics=metrics is not None,
        skipped_lines=state.skipped,
    )


def list_runs(
    root: str | Path = "runs",
    *,
    finished: bool | None = None,
    has_model: bool | None = None,
    has_metrics: bool | None = None,
) -> list[RunSummary]:
    """Every run folder directly under `root` (one with a config.toml), newest first.

    The filters are the one answer to "which runs can I tag with / build a card from": `finished`
    (status is finished, or is not), `has_model` (a saved model with its config.json),
    `has_metrics` (a metrics.json). None means either.
    """
    base = Path(root)
    try:
        entries = [e for e in base.iterdir() if (e / "config.toml").is_file()]
    except OSError:
        return []
    summaries = [summarize_run(e) for e in entries]
    if finished is not None:
        summaries = [s for s in summaries if (s.status == "finished") == finished]
    if has_model is not None:
        summaries = [s for s in summaries if s.has_model == has_model]
    if has_metrics is not None:
        summaries = [s for s in summaries if s.has_metrics == has_metrics]

    def key(s: RunSummary) -> float:
        if s.started_at is not None:
            return s.started_at
        try:
            return s.path.stat().st_mtime
        except OSError:
            return 0.0

    summaries.sort(key=key, reverse=True)
    return summaries


def _num(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return float(value)
