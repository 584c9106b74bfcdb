"""The run event stream: `events.jsonl`, the one contract between a training process and any UI.

Why a file and not a socket: a run outlives the app that started it (a closed terminal, a
lost session), so anything (the CLI, the TUI, `tail -f`, a notebook) can attach later, read
from the beginning, and follow. See docs/events.md for every event type and its fields.

Properties the readers rely on:
- append-only, one JSON object per line, each line flushed (and fsynced for terminal events)
  as it is written;
- every event has `v` (schema version), `seq` (0, 1, 2, ... within the file), `time` (unix
  seconds) and `type`;
- a half-written last line (the writer was killed mid-write, or is writing right now) is
  never an error: readers stop before it and pick it up once it is complete.
"""

from __future__ import annotations

import json
import math
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SCHEMA_VERSION = 1

EVENT_TYPES = ("started", "step", "eval", "checkpoint", "log", "finished", "failed", "cancelled", "resumed")
TERMINAL_TYPES = ("finished", "failed", "cancelled")


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
        for event in read_events(self.path)[0]:
            last = max(last, int(event.get("seq", -1)))
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


def read_events(path: str | Path, offset: int = 0) -> tuple[list[dict[str, Any]], int]:
    """Complete events from byte `offset` on, and the offset to continue from.

    A trailing line without its newline is left for the next call; a complete line that is
    not valid JSON (a crash mid-write followed by a resume) is skipped, not fatal.
    """
    p = Path(path)
    try:
        with open(p, "rb") as fh:
            fh.seek(offset)
            data = fh.read()
    except FileNotFoundError:
        return [], offset
    events: list[dict[str, Any]] = []
    end = data.rfind(b"\n")
    if end < 0:
        return [], offset
    for raw in data[: end + 1].splitlines():
        if not raw.strip():
            continue
        try:
            event = json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError):
            continue
        if isinstance(event, dict) and "type" in event:
            events.append(event)
    return events, offset + end + 1


@dataclass
class EventTail:
    """Follows a growing events.jsonl by polling; cheap enough to call many times a second."""

    path: Path
    offset: int = 0
    _events: list[dict[str, Any]] = field(default_factory=list)

    def poll(self) -> list[dict[str, Any]]:
        events, self.offset = read_events(self.path, self.offset)
        return events


def follow(path: str | Path, *, interval: float = 0.25, stop_on_terminal: bool = True) -> Iterator[dict[str, Any]]:
    """Yields events as they are appended, from the start of the file.

    With `stop_on_terminal`, it stops once the newest event is terminal: a cancelled run that
    was later resumed has events after its `cancelled`, so following it goes on.
    """
    tail = EventTail(Path(path))
    while True:
        events = tail.poll()
        yield from events
        if stop_on_terminal and events and events[-1]["type"] in TERMINAL_TYPES:
            return
        if not events:
            time.sleep(interval)
