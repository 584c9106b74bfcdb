"""What is known about one run, folded from its events, plus whether its process is alive.

Why one fold: the runs table, `bnner-tui runs`/`follow`, the Train monitor, the Runs screen and
the model card all show the same facts (progress, ETA, curves, per-entity scores, status,
duration). Each used to parse `events.jsonl` its own way and they disagreed. `RunState.apply`
is the one pure fold (no files, no clock); `RunFollower` is the one place that tails the file
and decides liveness, so "is it alive or killed?" is answered once.

Status rules (see docs/events.md):
- no event yet: `created`, or `killed` when a process was started (train.log exists) and is gone;
- newest event terminal: that type, unless a process took the lock after it (a resume that has
  not written `resumed` yet): `running`;
- newest event not terminal: `running` while the lock is held, `killed` once it is free;
- a line that does not fit the contract is skipped (counted in `skipped`): it changes nothing.

Standard library only: the CLI and the TUI fold runs at start-up.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from bnner_tui.core.events import (
    TERMINAL_TYPES,
    Cancelled,
    Checkpoint,
    Eval,
    Event,
    EventTail,
    Failed,
    Finished,
    Log,
    Resumed,
    Scores,
    Started,
    Step,
    read_typed,
)
from bnner_tui.core.rundir import RunDir, as_run
from bnner_tui.core.runlock import lock_is_held

# Parts of a display that an event touched; a UI redraws only those.
PROGRESS = "progress"
CURVES = "curves"
EVAL = "eval"
STATUS = "status"
INFO = "info"

RESUMABLE = ("cancelled", "failed", "killed")
KILLED_REASON = "The training process stopped without a final event (killed?): Resume continues it."
KILLED_EARLY_REASON = "The training process stopped before its first event (see train.log)."


@dataclass(frozen=True)
class Liveness:
    """What the run folder says about its process, probed at one moment (`probe_liveness`)."""

    alive: bool
    lock_time: float | None = None  # when the lock's holder wrote its pid (a process start)
    process_started: bool = False  # a launcher started a process once (train.log exists)


@dataclass
class Segment:
    """One training process's share of a run: from its `started`/`resumed` to its last event."""

    start: float | None = None
    end: float | None = None
    duration_s: float | None = None  # the process's own wall time, when it finished and said so

    def seconds(self, now: float | None = None) -> float:
        if self.duration_s is not None:
            return self.duration_s
        if self.start is None or self.end is None:
            return 0.0
        end = max(self.end, now) if now is not None else self.end
        return max(0.0, end - self.start)


@dataclass
class RunState:
    """The folded view of one run's event stream. `curves=False` keeps only the summary facts."""

    curves: bool = True
    event_status: str | None = None  # the newest event's type, or None before any event
    liveness: Liveness | None = None  # None: unknown (a pure fold); set by RunFollower
    step: int = 0
    last_step: int | None = None
    total_steps: int | None = None
    epoch: float | None = None
    model: str | None = None  # what is trained and why
    model_name: str | None = None
    model_kind: str | None = None
    device: str | None = None
    precision: str | None = None
    nproc: int | None = None
    tracking: str | None = None
    dataset: str | None = None
    label_names: list[str] = field(default_factory=list)
    dataset_sizes: dict[str, int] = field(default_factory=dict)
    unlabelled_splits: list[str] = field(default_factory=list)
    wandb_dir: str | None = None
    samples_per_second: float | None = None
    tokens_per_second: float | None = None
    gpu_memory_mb: float | None = None
    reason: str | None = None
    best_f1: float | None = None
    best_step: int | None = None
    started: Started | None = None
    finished: Finished | None = None
    terminal: Event | None = None  # the newest event when it is terminal
    last_eval: Eval | None = None
    last_checkpoint: str | None = None
    resumes: int = 0
    segments: list[Segment] = field(default_factory=list)
    started_at: float | None = None
    first_time: float | None = None
    last_event_time: float | None = None
    events_seen: int = 0
    skipped: int = 0  # lines that did not fit the contract
    # Curves: step-indexed series, appended in event order (only with `curves`).
    loss_steps: list[int] = field(default_factory=list)
    loss: list[float] = field(default_factory=list)
    lr_steps: list[int] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)
    eval_steps: list[int] = field(default_factory=list)
    eval_f1: list[float] = field(default_factory=list)
    eval_loss: list[float] = field(default_factory=list)
    # Parallel to eval_steps (nan where an eval did not report one): the Runs screen overlays them.
    eval_precision: list[float] = field(default_factory=list)
    eval_recall: list[float] = field(default_factory=list)
    type_f1: dict[str, list[tuple[int, float]]] = field(default_factory=dict)
    type_precision: dict[str, list[tuple[int, float]]] = field(default_factory=dict)
    type_recall: dict[str, list[tuple[int, float]]] = field(default_factory=dict)
    per_type: dict[str, Scores] = field(default_factory=dict)
    overall: Scores | None = None
    eval_split: str | None = None
    messages: list[str] = field(default_factory=list)
    # ETA baseline: the first `step` event of the current process (so start-up time of a resumed
    # process, or the pause between a cancel and a resume, never counts as training speed).
    _rate_t0: float | None = None
    _rate_step0: int | None = None

    # -- folding -------------------------------------------------------------------------------
    def apply(self, event: Event) -> set[str]:
        """Fold one event; returns which display parts changed."""
        self.events_seen += 1
        t = event.time
        if t is not None:
            if self.first_time is None:
                self.first_time = t
            self.last_event_time = t
        if isinstance(event, (Started, Resumed)) or not self.segments:
            self.segments.append(Segment(start=t, end=t))
        elif t is not None:
            seg = self.segments[-1]
            seg.start = t if seg.start is None else seg.start
            seg.end = t
        self.event_status = event.type
        self.terminal = event if event.terminal else None
        handler = getattr(self, f"_on_{event.type}", None)
        changed: set[str] = handler(event) if handler is not None else set()
        return changed  # a UI compares `status` itself: liveness can change it without an event

    def apply_all(self, events: list[Event]) -> set[str]:
        """Fold a burst in order; one set of changed parts for all of it (one redraw)."""
        changed: set[str] = set()
        for event in events:
            changed |= self.apply(event)
        return changed

    def _set_step(self, step: int | None) -> None:
        if step is not None:
            self.step = step
            self.last_step = step

    def _on_started(self, e: Started) -> set[str]:
        self.started = e
        self.reason = None
        if self.started_at is None:
            self.started_at = e.time
        self.model = e.model or self.model
        self.model_name = e.model_name or self.model_name
        self.model_kind = e.model_kind or self.model_kind
        self.device = e.device or self.device
        self.precision = e.precision or self.precision
        self.nproc = e.nproc or self.nproc
        self.tracking = e.tracking or self.tracking
        self.dataset = e.dataset or self.dataset
        self.wandb_dir = e.wandb_dir or self.wandb_dir
        if e.label_names:
            self.label_names = list(e.label_names)
        if e.dataset_sizes:
            self.dataset_sizes = dict(e.dataset_sizes)
        self.unlabelled_splits = list(e.unlabelled_splits)
        if e.total_steps:
            self.total_steps = e.total_steps
        self._rate_t0 = self._rate_step0 = None
        return {STATUS, INFO, PROGRESS}

    def _on_resumed(self, e: Resumed) -> set[str]:
        self.resumes += 1
        self.reason = None
        self._set_step(e.from_step)
        self._rate_t0 = self._rate_step0 = None
        if self.curves:
            self.messages.append(f"resumed from step {e.from_step}")
        return {STATUS, PROGRESS}

    def _on_step(self, e: Step) -> set[str]:
        self._set_step(e.step)
        if e.total_steps:
            self.total_steps = e.total_steps
        if e.epoch is not None:
            self.epoch = e.epoch
        for name in ("samples_per_second", "tokens_per_second", "gpu_memory_mb"):
            value = getattr(e, name)
            if value is not None:
                setattr(self, name, value)
        if self.curves:
            if e.loss is not None:
                self.loss_steps.append(e.step)
                self.loss.append(e.loss)
            if e.learning_rate is not None:
                self.lr_steps.append(e.step)
                self.lr.append(e.learning_rate)
        if self._rate_t0 is None:
            self._rate_t0, self._rate_step0 = e.time, e.step
        return {PROGRESS, CURVES}

    def _on_eval(self, e: Eval) -> set[str]:
        self._set_step(e.step)
        self.last_eval = e
        self.eval_split = e.split or self.eval_split
        self.overall = e.overall
        f1 = e.overall.f1
        if f1 is not None and (self.best_f1 is None or f1 > self.best_f1):
            self.best_f1, self.best_step = f1, e.step
        self.per_type = dict(sorted(e.per_type.items()))
        if self.curves:
            if f1 is not None:
                self.eval_steps.append(e.step)
                self.eval_f1.append(f1)
                self.eval_loss.append(e.loss if e.loss is not None else float("nan"))
                self.eval_precision.append(_or_nan(e.overall.precision))
                self.eval_recall.append(_or_nan(e.overall.recall))
            for name, score in self.per_type.items():
                if score.f1 is not None:
                    self.type_f1.setdefault(name, []).append((e.step, score.f1))
                if score.precision is not None:
                    self.type_precision.setdefault(name, []).append((e.step, score.precision))
                if score.recall is not None:
                    self.type_recall.setdefault(name, []).append((e.step, score.recall))
        return {EVAL, CURVES, PROGRESS}

    def _on_checkpoint(self, e: Checkpoint) -> set[str]:
        self._set_step(e.step)
        self.last_checkpoint = e.path or self.last_checkpoint
        if self.curves:
            self.messages.append(f"checkpoint at step {e.step}")
        return set()

    def _on_log(self, e: Log) -> set[str]:
        if self.curves and e.message:
            self.messages.append(e.message)
        return set()

    def _on_finished(self, e: Finished) -> set[str]:
        self.finished = e
        self._set_step(e.step)
        if e.best_f1 is not None:
            self.best_f1, self.best_step = e.best_f1, e.best_step
        self.wandb_dir = e.wandb_dir or self.wandb_dir
        if e.duration_s is not None:
            self.segments[-1].duration_s = e.duration_s
        return {STATUS, PROGRESS}

    def _on_failed(self, e: Failed) -> set[str]:
        self.reason = e.reason
        return {STATUS, PROGRESS}

    def _on_cancelled(self, e: Cancelled) -> set[str]:
        self._set_step(e.step)
        self.last_checkpoint = e.checkpoint or self.last_checkpoint
        return {STATUS, PROGRESS}

    # -- derived values ------------------------------------------------------------------------
    @property
    def status(self) -> str:
        """One of created, running, finished, failed, cancelled, killed (module docstring)."""
        live = self.liveness
        kind = self.event_status
        if kind is None:
            if live is not None and live.alive:
                return "running"
            return "killed" if live is not None and live.process_started else "created"
        if kind in TERMINAL_TYPES:
            if live is not None and live.alive and self._lock_taken_after_newest_event(live):
                return "running"  # a resume started and has not written `resumed` yet
            return kind
        if live is not None and not live.alive:
            return "killed"
        return "running"

    def _lock_taken_after_newest_event(self, live: Liveness) -> bool:
        return live.lock_time is not None and self.last_event_time is not None and live.lock_time > self.last_event_time

    @property
    def status_reason(self) -> str | None:
        """Why a run stopped: the `failed` reason, or a sentence for a killed one."""
        status = self.status
        if status == "failed":
            return self.reason
        if status == "killed":
            return KILLED_REASON if self.event_status is not None else KILLED_EARLY_REASON
        return None

    @property
    def resumable(self) -> bool:
        """Stopped without finishing, after saving at least one checkpoint."""
        return self.status in RESUMABLE and (self.last_checkpoint is not None or self.resumes > 0)

    @property
    def fraction(self) -> float | None:
        if not self.total_steps:
            return None
        return min(1.0, self.step / self.total_steps)

    @property
    def closed_seconds(self) -> float:
        """Training time of every process before the current (newest) one."""
        return sum(seg.seconds() for seg in self.segments[:-1])

    def duration_s(self, now: float | None = None) -> float | None:
        """Training time over all processes of the run (the pauses between them not counted).

        `now` extends a running process's segment to the present."""
        if not self.segments:
            return None
        running_now = now if self.status == "running" else None
        return self.closed_seconds + self.segments[-1].seconds(running_now)

    def eta_seconds(self, now: float | None = None) -> float | None:
        """Remaining time from the current process's own step rate (its first step event on).

        Event timestamps, not the time a UI read them: re-attaching to a run that has been going
        for an hour gives a sensible ETA at once; `now` subtracts the time since the last event.
        """
        if self.status != "running" or not self.total_steps:
            return None
        if self._rate_t0 is None or self._rate_step0 is None or self.last_event_time is None:
            return None
        done = self.step - self._rate_step0
        elapsed = self.last_event_time - self._rate_t0
        if done <= 0 or elapsed <= 0:
            return None
        remaining = max(0, self.total_steps - self.step) * elapsed / done
        if now is not None:
            remaining = max(0.0, remaining - max(0.0, now - self.last_event_time))
        return remaining

    def copy(self) -> RunState:
        return copy.deepcopy(self)


def _or_nan(value: float | None) -> float:
    return float("nan") if value is None else value


def fold(events: list[Event], *, curves: bool = True) -> RunState:
    """A whole history folded (no liveness: use `RunFollower` for a live answer)."""
    state = RunState(curves=curves)
    state.apply_all(events)
    return state


# ---- liveness and following ------------------------------------------------------------------


def probe_liveness(run: RunDir | str | Path) -> Liveness:
    """Whether a process holds the run's lock now, when it took it, and whether one was ever started."""
    rd = as_run(run)
    alive = lock_is_held(rd)
    lock_time = None
    if alive:
        try:
            lock_time = rd.lock_path.stat().st_mtime
        except OSError:
            lock_time = None
    return Liveness(alive=alive, lock_time=lock_time, process_started=rd.log_path.exists())


class RunFollower:
    """Tails one run's events.jsonl and keeps its `RunState` and liveness current.

    `poll()` probes liveness first, then reads: a process that wrote its final event and exited
    in between is seen with that event (finished), never as killed. `offset` starts mid-file
    (the CLI's `train --resume` shows only the new process); `state` is then folded from the
    part before it too, so progress and totals are right from the first frame.
    """

    def __init__(self, run: RunDir | str | Path, *, offset: int = 0, curves: bool = True) -> None:
        self.run = as_run(run)
        self.state = RunState(curves=curves)
        self.changed: set[str] = set()  # display parts the last poll's events touched
        self._tail = EventTail(self.run.events_path, offset=0)
        if offset:
            before = read_typed(self.run.events_path, 0, end=offset)
            self.state.apply_all(before.events)
            self._tail.offset = before.offset
            self._tail.skipped = before.skipped
            self.state.skipped = before.skipped
        self.changed = set()

    @property
    def offset(self) -> int:
        return self._tail.offset

    def poll(self) -> list[Event]:
        """New events since the last poll (already folded into `state`)."""
        self.state.liveness = probe_liveness(self.run)
        events = self._tail.poll()
        self.state.skipped = self._tail.skipped
        self.changed = self.state.apply_all(events)
        return events

    @property
    def done(self) -> bool:
        """Nothing more will happen without someone resuming it."""
        return self.state.liveness is not None and self.state.status not in ("running", "created")


def follow(
    run: RunDir | str | Path, *, offset: int = 0, interval: float = 0.2, curves: bool = True
) -> Iterator[tuple[list[Event], RunState]]:
    """Blocks following a run: yields each poll's new events with the state after them, and
    stops once the run is finished, failed, cancelled or killed (the last yield shows it)."""
    follower = RunFollower(run, offset=offset, curves=curves)
    while True:
        events = follower.poll()
        yield events, follower.state
        if follower.done:
            return
        if not events:
            time.sleep(interval)


__all__ = [
    "CURVES",
    "EVAL",
    "INFO",
    "PROGRESS",
    "STATUS",
    "Liveness",
    "RunFollower",
    "RunState",
    "Segment",
    "fold",
    "follow",
    "probe_liveness",
]
