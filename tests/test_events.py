"""The event stream contract (docs/events.md) as readers rely on it."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from bnner_tui.core.events import EventTail, EventWriter, follow, read_events


def test_events_round_trip_with_schema_fields(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    with EventWriter(path) as w:
        w.emit("started", config={"lr": 2e-5}, device="cpu")
        w.emit("step", step=1, loss=0.5)
    events, offset = read_events(path)
    assert [e["type"] for e in events] == ["started", "step"]
    assert [e["seq"] for e in events] == [0, 1]
    assert all(e["v"] == 1 and isinstance(e["time"], float) for e in events)
    assert offset == path.stat().st_size


def test_unknown_event_type_is_refused(tmp_path: Path) -> None:
    with EventWriter(tmp_path / "e.jsonl") as w, pytest.raises(ValueError, match="unknown event type"):
        w.emit("stepp", step=1)


def test_non_finite_floats_become_null_and_lines_stay_json(tmp_path: Path) -> None:
    path = tmp_path / "e.jsonl"
    with EventWriter(path) as w:
        w.emit("step", step=1, loss=float("nan"), grad_norm=float("inf"), hist=[1.0, float("-inf")])
    line = path.read_text(encoding="utf-8").strip()
    event = json.loads(line)  # strict JSON: NaN would not parse with a standard reader
    assert event["loss"] is None and event["grad_norm"] is None and event["hist"] == [1.0, None]


def test_half_written_last_line_is_left_for_later(tmp_path: Path) -> None:
    path = tmp_path / "e.jsonl"
    with EventWriter(path) as w:
        w.emit("step", step=1)
    complete = path.read_bytes()
    with open(path, "ab") as fh:
        fh.write(b'{"v":1,"seq":1,"type":"st')
    events, offset = read_events(path)
    assert [e["step"] for e in events] == [1]
    assert offset == len(complete)
    with open(path, "ab") as fh:
        fh.write(b'ep","step":2}\n')
    more, _ = read_events(path, offset)
    assert [e["step"] for e in more] == [2]


def test_reopened_writer_continues_seq_and_isolates_a_killed_writers_fragment(tmp_path: Path) -> None:
    """A SIGKILL mid-write leaves a fragment; the resumed writer must not glue its first event onto it."""
    path = tmp_path / "e.jsonl"
    with EventWriter(path) as w:
        w.emit("started")
        w.emit("step", step=1)
    with open(path, "ab") as fh:
        fh.write(b'{"v":1,"seq":2,"type":"step","st')  # killed here
    with EventWriter(path) as w:
        first = w.emit("resumed", from_step=1)
    events, _ = read_events(path)
    assert [e["type"] for e in events] == ["started", "step", "resumed"]
    assert first["seq"] == 2


def test_tail_follows_a_file_growing_in_another_process(tmp_path: Path) -> None:
    path = tmp_path / "e.jsonl"
    script = textwrap.dedent(
        f"""
        import time
        from bnner_tui.core.events import EventWriter
        with EventWriter({str(path)!r}) as w:
            w.emit("started")
            for i in range(1, 21):
                w.emit("step", step=i)
                time.sleep(0.01)
            w.emit("finished", step=20)
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", script])
    seen = list(follow(path, interval=0.02))
    proc.wait(timeout=30)
    assert seen[0]["type"] == "started"
    assert [e["step"] for e in seen if e["type"] == "step"] == list(range(1, 21))
    assert seen[-1]["type"] == "finished"


def test_follow_goes_on_past_a_cancel_that_was_resumed(tmp_path: Path) -> None:
    path = tmp_path / "e.jsonl"
    with EventWriter(path) as w:
        w.emit("started")
        w.emit("cancelled", step=3)
        w.emit("resumed", from_step=3)
    done = threading.Event()

    def finish_later() -> None:
        with EventWriter(path) as w2:
            w2.emit("finished", step=6)
        done.set()

    timer = threading.Timer(0.2, finish_later)
    timer.start()
    types = [e["type"] for e in follow(path, interval=0.02)]
    timer.join()
    assert types == ["started", "cancelled", "resumed", "finished"]


def test_tail_of_missing_file_is_empty_not_an_error(tmp_path: Path) -> None:
    tail = EventTail(tmp_path / "not-yet.jsonl")
    assert tail.poll() == [] and tail.offset == 0
