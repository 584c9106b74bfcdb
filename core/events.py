"""The run event stream: `events.jsonl`, the one contract between a training process and any UI.

Why a file and not a socket: a run outlives the app that started it (a closed terminal, a
lost session), so anything (the CLI, the TUI, `tail -f`, a notebook) can attach later, read
from the beginning, and follow. See docs/events.md for every event type and its fields.

Why typed events: every reader (the runs table, the monitor, the CLI, the card) used to pick
fields out of dicts its own way, accepting shapes the writer never emits and crashing on a
value of the wrong type. Here each type is one frozen dataclass whose annotations are the
contract; `parse_event` checks a decoded line against them and returns None for a line that
does not fit (wrong type of a field, a non-finite number, an unknown `type`), so a bad line is
skipped and counted, never raised.

Properties the readers rely on:
- append-only, one JSON object per line, each line flushed (and fsynced for terminal events)
  as it is written;
- every event has `v` (schema version), `seq` (0, 1, 2, ... within the file), `time` (unix
  seconds) and `type`;
- a half-written last line (the writer was killed mid-write, or is writing right now) is
  never an error: readers stop before it and pick it up once it is complete.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import time
import types
import typing
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Union

SCHEMA_VERSION = 1

EVENT_TYPES = ("started", "step", "eval", "checkpoint", "log", "finished", "failed", "cancelled", "resumed")
TERMINAL_TYPES = ("finished", "failed", "cancelled")


# ---- the typed events ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Scores:
    """Entity scores as `eval` reports them: `overall` has accuracy, a per-type row has support."""

    precision: float | None = None
    recall: float | None = None
    f1: float | None = None
    accuracy: float | None = None
    support: int | None = None


@dataclass(frozen=True)
class Event:
    """Fields every event has. `time` and `seq` may be absent only in hand-written streams."""

    type: ClassVar[str] = ""
    v: int | None = None
    seq: int | None = None
    time: float | None = None

    @property
    def terminal(self) -> bool:
        return self.type in TERMINAL_TYPES


@dataclass(frozen=True)
class Started(Event):
    type: ClassVar[str] = "started"
    config: dict[str, Any] = field(default_factory=dict)
    model: str | None = None  # what is trained and why, one sentence
    model_kind: str | None = None
    model_name: str | None = None
    parameters: int | None = None
    device: str | None = None
    precision: str | None = None
    dataset: str | None = None
    dataset_sizes: dict[str, int] = field(default_factory=dict)
    unlabelled_splits: list[str] = field(default_factory=list)
    not_scored: str | None = None  # why nothing will be scored (no labelled evaluation split)
    label_names: list[str] = field(default_factory=list)
    total_steps: int | None = None
    nproc: int | None = None
    tracking: str | None = None
    wandb_dir: str | None = None


@dataclass(frozen=True)
class Step(Event):
    type: ClassVar[str] = "step"
    step: int = 0
    epoch: float | None = None
    loss: float | None = None
    learning_rate: float | None = None
    grad_norm: float | None = None
    samples_per_second: float | None = None
    tokens_per_second: float | None = None
    gpu_memory_mb: float | None = None
    total_steps: int | None = None


@dataclass(frozen=True)
class Eval(Event):
    type: ClassVar[str] = "eval"
    step: int = 0
    epoch: float | None = None
    split: str | None = None
    loss: float | None = None
    overall: Scores = field(default_factory=Scores)
    per_type: dict[str, Scores] = field(default_factory=dict)
    piece_level: Scores | None = None


@dataclass(frozen=True)
class Checkpoint(Event):
    type: ClassVar[str] = "checkpoint"
    step: int = 0
    path: str | None = None


@dataclass(frozen=True)
class Log(Event):
    type: ClassVar[str] = "log"
    level: str = "info"
    message: str = ""


@dataclass(frozen=True)
class Resumed(Event):
    type: ClassVar[str] = "resumed"
    from_step: int = 0
    checkpoint: str | None = None


@dataclass(frozen=True)
class Finished(Event):
    type: ClassVar[str] = "finished"
    step: int | None = None
    best_f1: float | None = None
    best_step: int | None = None
    model_dir: str | None = None
    metrics_path: str | None = None
    duration_s: float | None = None
    wandb_dir: str | None = None


@dataclass(frozen=True)
class Failed(Event):
    type: ClassVar[str] = "failed"
    reason: str = "the training process failed (see train.log)"
    traceback_in: str | None = None


@dataclass(frozen=True)
class Cancelled(Event):
    type: ClassVar[str] = "cancelled"
    step: int | None = None
    checkpoint: str | None = None


EVENT_CLASSES: dict[str, type[Event]] = {
    cls.type: cls for cls in (Started, Step, Eval, Checkpoint, Log, Resumed, Finished, Failed, Cancelled)
}
# Fields a line must carry for its type to mean anything (the rest have defaults).
_REQUIRED: dict[str, tuple[str, ...]] = {"step": ("step",), "eval": ("step",), "resumed": ("from_step",)}


class _Bad(Exception):
    """A field whose value does not fit its annotation."""


_HINTS: dict[type, dict[str, Any]] = {}


def _hints(cls: type) -> dict[str, Any]:
    if cls not in _HINTS:
        _HINTS[cls] = typing.get_type_hints(cls)
    return _HINTS[cls]


def _fit(tp: Any, value: Any) -> Any:
    """`value` checked against the annotation `tp` (and built into Scores where one is expected)."""
    origin = typing.get_origin(tp)
    if origin in (Union, types.UnionType):
        args = typing.get_args(tp)
        if value is None and type(None) in args:
            return None
        (inner,) = [a for a in args if a is not type(None)]
        return _fit(inner, value)
    if tp is Any:
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise _Bad
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise _Bad
        return float(value)
    if tp is str:
        if not isinstance(value, str):
            raise _Bad
        return value
    if origin is dict:
        key_tp, val_tp = typing.get_args(tp)
        if not isinstance(value, dict):
            raise _Bad
        return {_fit(key_tp, k): _fit(val_tp, v) for k, v in value.items()}
    if origin is list:
        (item_tp,) = typing.get_args(tp)
        if not isinstance(value, list):
            raise _Bad
        return [_fit(item_tp, v) for v in value]
    if dataclasses.is_dataclass(tp) and isinstance(tp, type):
        if not isinstance(value, dict):
            raise _Bad
        hints = _hints(tp)
        return tp(**{f.name: _fit(hints[f.name], value[f.name]) for f in dataclasses.fields(tp) if f.name in value})
    raise _Bad  # pragma: no cover - an annotation this reader does not know


def parse_event(obj: Any) -> Event | None:
    """The typed event for one decoded line, or None when it does not fit the contract.

    Unknown fields are ignored (later schema versions may add some); a known field of the
    wrong type, a non-finite number, a missing required field or an unknown type makes the
    whole line unusable: half-believing it would put nonsense into a table.
    """
    if not isinstance(obj, dict):
        return None
    kind = obj.get("type")
    if not isinstance(kind, str):
        return None
    cls = EVENT_CLASSES.get(kind)
    if cls is None:
        return None
    if any(name not in obj for name in _REQUIRED.get(kind, ())):
        return None
    hints = _hints(cls)
    values: dict[str, Any] = {}
    try:
        for f in dataclasses.fields(cls):
            if f.name in obj:
                values[f.name] = _fit(hints[f.name], obj[f.name])
    except (_Bad, TypeError, ValueError):
        return None
    return cls(**values)


def parse_line(raw: bytes) -> Event | None:
    """One line of events.jsonl (without caring about its newline) as an event, or None."""
    try:
        return parse_event(json.loads(raw))
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None


# ---- writing --------------------------------------------------------------------------------------


def _clean(value: Any) -> Any:
    """JSON has no NaN/inf; a diverged loss must still produce a valid line."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    return value


class EventWriter:
    """Appends events to a run's events.jsonl. Only one process writes (rank 0)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._seq = self._next_seq()
        self._fh = open(self.path, "a", encoding="utf-8")
        self._end_partial_line()

    def _next_seq(self) -> int:
        """A resumed run continues the numbering of the existing file."""
        if not self.path.exists():
            return 0
        last = -1
        for event in read_typed(self.path).events:
            if event.seq is not None:
                last = max(last, event.seq)
        return last + 1

    def _end_partial_line(self) -> None:
        """A writer killed mid-line leaves no newline; without one, our first event would be glued to it and lost."""
        if self.path.stat().st_size == 0:
            return
        with open(self.path, "rb") as fh:
            fh.seek(-1, os.SEEK_END)
            if fh.read(1) != b"\n":
                self._fh.write("\n")
                self._fh.flush()

    def emit(self, type: str, **fields: Any) -> dict[str, Any]:
        if type not in EVENT_TYPES:
            raise ValueError(f"unknown event type {type!r}")
        event = {"v": SCHEMA_VERSION, "seq": self._seq, "time": time.time(), "type": type, **_clean(fields)}
        self._fh.write(json.dumps(event, ensure_ascii=False, separators=(",", ":")) + "\n")
        self._fh.flush()
        if type in TERMINAL_TYPES or type == "checkpoint":
            os.fsync(self._fh.fileno())
        self._seq += 1
        return event

    def close(self) -> None:
        if not self._fh.closed:
            self._fh.close()

    def __enter__(self) -> EventWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# ---- reading --------------------------------------------------------------------------------------


@dataclass
class ReadResult:
    """Typed events from a byte offset on, where to continue, and how many lines were skipped."""

    events: list[Event]
    offset: int
    skipped: int = 0
    raw: list[dict[str, Any]] = field(default_factory=list)  # the same events as written (JSON objects)


def read_typed(path: str | Path, offset: int = 0, *, end: int | None = None) -> ReadResult:
    """Complete events from byte `offset` on (up to byte `end`, when given).

    A trailing line without its newline is left for the next call; a complete line that is
    not JSON, or does not fit its event type, is skipped and counted, never fatal.
    """
    try:
        with open(Path(path), "rb") as fh:
            fh.seek(offset)
            data = fh.read() if end is None else fh.read(max(0, end - offset))
    except (FileNotFoundError, NotADirectoryError):
        return ReadResult([], offset)
    last = data.rfind(b"\n")
    if last < 0:
        return ReadResult([], offset)
    result = ReadResult([], offset + last + 1)
    for line in data[: last + 1].splitlines():
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except (ValueError, UnicodeDecodeError, RecursionError):
            obj = None
        event = parse_event(obj)
        if event is None:
            result.skipped += 1
            continue
        result.events.append(event)
        result.raw.append(obj)
    return result


def read_events(path: str | Path, offset: int = 0) -> tuple[list[dict[str, Any]], int]:
    """The events that fit the contract as the JSON objects written, and the offset to continue from.

    For scripts and tests that want the lines as written (`jq`-like); UIs read `read_typed`.
    """
    result = read_typed(path, offset)
    return result.raw, result.offset


@dataclass
class EventTail:
    """Follows a growing events.jsonl by polling; cheap enough to call many times a second."""

    path: Path
    offset: int = 0
    skipped: int = 0

    def poll(self) -> list[Event]:
        result = read_typed(self.path, self.offset)
        self.offset = result.offset
        self.skipped += result.skipped
        return result.events


def follow(path: str | Path, *, interval: float = 0.25, stop_on_terminal: bool = True) -> Iterator[Event]:
    """Yields events as they are appended, from the start of the file (no liveness: see
    `core.runstate.follow` for following a run, which also notices a killed process).

    With `stop_on_terminal`, it stops once the newest event is terminal: a cancelled run that
    was later resumed has events after its `cancelled`, so following it goes on.
    """
    tail = EventTail(Path(path))
    while True:
        events = tail.poll()
        yield from events
        if stop_on_terminal and events and events[-1].terminal:
            return
        if not events:
            time.sleep(interval)
