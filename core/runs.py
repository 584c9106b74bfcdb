"""Runs: creating a run folder under its lock, a run's status, and the runs table's summaries.

The layout of one folder is `core.rundir`, the lock `core.runlock`; their names are offered here
too, so `core.runs` stays the one place to import run handling from.

Status comes from `core.runstate` (the one rule): the run's events folded into a `RunState`,
and whether the lock is held. A run whose newest event is not terminal and whose lock is free
was killed.

Standard library only (plus `core.config`/`core.events`): the CLI and TUI list runs at start-up.
"""

from __future__ import annotations

import math
import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bnner_tui.core.config import TrainConfig
from bnner_tui.core.errors import BnnerError
from bnner_tui.core.rundir import RunDir, RunExistsError, RunLockedError, RunNotFoundError, as_run, find_run
from bnner_tui.core.runlock import LOCK_FD_ENV, RunLock, acquire_lock, lock_is_held, read_lock_pid
from bnner_tui.core.runstate import RunFollower, RunState

__all__ = [
    "LOCK_FD_ENV",
    "RUN_STATUSES",
    "RunDir",
    "RunExistsError",
    "RunLock",
    "RunLockedError",
    "RunNotFoundError",
    "RunSummary",
    "acquire_lock",
    "as_run",
    "create_run",
    "create_run_locked",
    "find_run",
    "latest_checkpoint",
    "list_runs",
    "lock_is_held",
    "read_lock_pid",
    "run_state",
    "run_status",
    "summarize_run",
]

RUN_STATUSES = ("created", "running", "finished", "failed", "cancelled", "killed")

_CHECKPOINT_RE = re.compile(r"^checkpoint-(\d+)$")


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
