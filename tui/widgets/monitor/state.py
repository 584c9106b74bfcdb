"""What the monitor knows about a run, folded from its events: no Textual here.

Why a separate, pure object: the monitor collapses bursts of events (toolong-style). Every
poll folds *all* new events into this state in one pass, and the widgets redraw once from
the result. Keeping the folding free of widgets makes it testable without an app and keeps
the redraw cost independent of how many events arrived since the last refresh.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from bnner_tui.core.events import TERMINAL_TYPES

# Parts of the display that an update touched; the widget redraws only those.
PROGRESS = "progress"
CURVES = "curves"
EVAL = "eval"
STATUS = "status"
INFO = "info"


@dataclass
class EntityScore:
    """One row of the per-entity table (word-level, strict IOB2, as the trainer reports it)."""

    precision: float | None
    recall: float | None
    f1: float | None
    support: int | None


def _num(value: Any) -> float | None:
    """Event fields may be null (a diverged loss is written as null): never crash on them."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return float(value)
    return None


@dataclass
class MonitorState:
    """The folded view of one run's event stream."""

    status: str = "waiting"
    step: int = 0
    total_steps: int | None = None
    epoch: float | None = None
    model: str | None = None
    device: str | None = None
    precision: str | None = None
    nproc: int | None = None
    label_names: list[str] = field(default_factory=list)
    dataset_sizes: dict[str, Any] = field(default_factory=dict)
    samples_per_second: float | None = None
    tokens_per_second: float | None = None
    gpu_memory_mb: float | None = None
    reason: str | None = None
    best_f1: float | None = None
    # Curves: step-indexed series, appended in event order.
    loss_steps: list[int] = field(default_factory=list)
    loss: list[float] = field(default_factory=list)
    lr_steps: list[int] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)
    eval_steps: list[int] = field(default_factory=list)
    eval_f1: list[float] = field(default_factory=list)
    eval_loss: list[float] = field(default_factory=list)
    type_f1: dict[str, list[tuple[int, float]]] = field(default_factory=dict)
    per_type: dict[str, EntityScore] = field(default_factory=dict)
    overall: EntityScore | None = None
    eval_split: str | None = None
    # Rate baseline for the ETA: reset on `started`/`resumed` so a pause between a cancel and
    # a resume does not count as training time.
    _rate_t0: float | None = None
    _rate_step0: int | None = None
    last_event_time: float | None = None
    events_seen: int = 0
    messages: list[str] = field(default_factory=list)

    def apply(self, events: list[dict[str, Any]]) -> set[str]:
        """Fold a batch of events in order; returns which display parts changed."""
        changed: set[str] = set()
        for event in events:
            self.events_seen += 1
            kind = event.get("type")
            handler = getattr(self, f"_on_{kind}", None)
            if handler is not None:
                changed |= handler(event)
            t = _num(event.get("time"))
            if t is not None:
                self.last_event_time = t
        return changed

    # -- per-type handlers --------------------------------------------------------------
    def _on_started(self, e: dict[str, Any]) -> set[str]:
        self.status = "running"
        self.reason = None
        model = e.get("model")
        if isinstance(model, dict):  # {"name": ..., "reason": ...} is accepted too
            name, why = model.get("name"), model.get("reason") or model.get("why")
            model = f"{name}: {why}" if name and why else name
        if isinstance(model, str) and model:
            self.model = model
        self.device = e.get("device") or self.device
        self.precision = e.get("precision") or self.precision
        self.nproc = e.get("nproc") or self.nproc
        if isinstance(e.get("label_names"), list):
            self.label_names = [str(x) for x in e["label_names"]]
        sizes = e.get("dataset_sizes") or e.get("sizes")
        if isinstance(sizes, dict):
            self.dataset_sizes = sizes
        total = _num(e.get("total_steps"))
        if total:
            self.total_steps = int(total)
        self._reset_rate(e)
        return {STATUS, INFO, PROGRESS}

    def _on_resumed(self, e: dict[str, Any]) -> set[str]:
        self.status = "running"
        self.reason = None
        from_step = _num(e.get("from_step"))
        if from_step is not None:
            self.step = int(from_step)
        self._reset_rate(e)
        self.messages.append(f"resumed from step {self.step}")
        return {STATUS, PROGRESS}

    def _on_step(self, e: dict[str, Any]) -> set[str]:
        if self.status in ("waiting", *TERMINAL_TYPES, "killed"):
            self.status = "running"
        step = _num(e.get("step"))
        if step is not None:
            self.step = int(step)
        total = _num(e.get("total_steps"))
        if total:
            self.total_steps = int(total)
        epoch = _num(e.get("epoch"))
        if epoch is not None:
            self.epoch = epoch
        for name in ("samples_per_second", "tokens_per_second", "gpu_memory_mb"):
            value = _num(e.get(name))
            if value is not None:
                setattr(self, name, value)
        loss = _num(e.get("loss"))
        if loss is not None and step is not None:
            self.loss_steps.append(int(step))
            self.loss.append(loss)
        lr = _num(e.get("learning_rate"))
        if lr is not None and step is not None:
            self.lr_steps.append(int(step))
            self.lr.append(lr)
        if self._rate_t0 is None:
            self._reset_rate(e)
        return {PROGRESS, CURVES}

    def _on_eval(self, e: dict[str, Any]) -> set[str]:
        step = _num(e.get("step"))
        step_i = int(step) if step is not None else self.step
        self.eval_split = e.get("split") or self.eval_split
        overall: dict[str, Any] = e["overall"] if isinstance(e.get("overall"), dict) else {}
        f1 = _num(overall.get("f1"))
        self.overall = EntityScore(_num(overall.get("precision")), _num(overall.get("recall")), f1, None)
        if f1 is not None:
            self.eval_steps.append(step_i)
            self.eval_f1.append(f1)
            self.best_f1 = f1 if self.best_f1 is None else max(self.best_f1, f1)
            loss = _num(e.get("loss"))
            self.eval_loss.append(loss if loss is not None else float("nan"))
        per_type: dict[str, Any] = e["per_type"] if isinstance(e.get("per_type"), dict) else {}
        self.per_type = {}
        for name, scores in sorted(per_type.items()):
            if not isinstance(scores, dict):
                continue
            support = _num(scores.get("support"))
            score = EntityScore(
                _num(scores.get("precision")),
                _num(scores.get("recall")),
                _num(scores.get("f1")),
                int(support) if support is not None else None,
            )
            self.per_type[str(name)] = score
            if score.f1 is not None:
                self.type_f1.setdefault(str(name), []).append((step_i, score.f1))
        return {EVAL, CURVES, PROGRESS}

    def _on_checkpoint(self, e: dict[str, Any]) -> set[str]:
        step = _num(e.get("step"))
        self.messages.append(f"checkpoint at step {int(step) if step is not None else '?'}")
        return set()

    def _on_log(self, e: dict[str, Any]) -> set[str]:
        message = e.get("message")
        if isinstance(message, str):
            self.messages.append(message)
        return set()

    def _on_finished(self, e: dict[str, Any]) -> set[str]:
        self.status = "finished"
        step = _num(e.get("step"))
        if step is not None:
            self.step = int(step)
        best = _num(e.get("best_f1"))
        if best is not None:
            self.best_f1 = best
        return {STATUS, PROGRESS}

    def _on_failed(self, e: dict[str, Any]) -> set[str]:
        self.status = "failed"
        reason = e.get("reason")
        self.reason = reason if isinstance(reason, str) else "the training process failed (see train.log)"
        return {STATUS, PROGRESS}

    def _on_cancelled(self, e: dict[str, Any]) -> set[str]:
        self.status = "cancelled"
        step = _num(e.get("step"))
        if step is not None:
            self.step = int(step)
        return {STATUS, PROGRESS}

    # -- derived values -------------------------------------------------------------------
    def _reset_rate(self, e: dict[str, Any]) -> None:
        self._rate_t0 = _num(e.get("time"))
        self._rate_step0 = self.step

    @property
    def fraction(self) -> float | None:
        if not self.total_steps:
            return None
        return min(1.0, self.step / self.total_steps)

    def eta_seconds(self, now: float | None = None) -> float | None:
        """Remaining time from the step rate since the run (re)started, not since we attached.

        Using event timestamps (not the time the UI read them) means re-attaching to a run
        that has been going for an hour still gives a sensible ETA at once.
        """
        if self.status != "running" or not self.total_steps or self._rate_t0 is None:
            return None
        if self._rate_step0 is None or self.last_event_time is None:
            return None
        done = self.step - self._rate_step0
        elapsed = self.last_event_time - self._rate_t0
        if done <= 0 or elapsed <= 0:
            return None
        remaining = max(0, self.total_steps - self.step) * elapsed / done
        if now is not None:
            # Time since the last event has already been spent on the remaining steps.
            remaining = max(0.0, remaining - max(0.0, now - self.last_event_time))
        return remaining


def now() -> float:
    return time.time()
