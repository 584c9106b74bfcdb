"""The event stream contract (docs/events.md) as readers rely on it."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from bnner_tui.core.events import (
    Eval,
    EventTail,
    EventWriter,
    Finished,
    Scores,
    Started,
    Step,
    follow,
    parse_event,
    read_events,
    read_typed,
)


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
    assert isinstance(seen[0], Started)
    assert [e.step for e in seen if isinstance(e, Step)] == list(range(1, 21))
    assert isinstance(seen[-1], Finished)


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
    types = [e.type for e in follow(path, interval=0.02)]
    timer.join()
    assert types == ["started", "cancelled", "resumed", "finished"]


def test_tail_of_missing_file_is_empty_not_an_error(tmp_path: Path) -> None:
    tail = EventTail(tmp_path / "not-yet.jsonl")
    assert tail.poll() == [] and tail.offset == 0


# ---- the typed contract ------------------------------------------------------------------------


def test_the_writers_real_shapes_parse_into_typed_events(tmp_path: Path) -> None:
    """The examples of docs/events.md, as the worker writes them."""
    path = tmp_path / "e.jsonl"
    with EventWriter(path) as w:
        w.emit(
            "started",
            config={"model": "offline"},
            model="offline small BERT: chosen explicitly",
            model_kind="offline",
            model_name="offline small BERT",
            parameters=45447,
            device="cpu",
            precision="fp32",
            dataset="demo set",
            dataset_sizes={"train": 480, "validation": 60},
            unlabelled_splits=[],
            label_names=["O", "B-PER"],
            nproc=1,
            tracking="none",
            wandb_dir=None,
            total_steps=30,
        )
        w.emit(
            "step",
            step=1,
            epoch=0.03,
            loss=1.9,
            learning_rate=0.0,
            grad_norm=1.7,
            samples_per_second=21.2,
            tokens_per_second=360.0,
            gpu_memory_mb=None,
            total_steps=30,
        )
        w.emit(
            "eval",
            step=10,
            epoch=0.3,
            split="validation",
            loss=1.74,
            overall={"precision": 0.03, "recall": 0.01, "f1": 0.015, "accuracy": 0.6},
            per_type={"LOC": {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 38}},
            piece_level=None,
        )
        w.emit(
            "finished",
            step=30,
            best_f1=0.015,
            best_step=10,
            model_dir="m",
            metrics_path="x",
            duration_s=13.9,
            wandb_dir=None,
        )
    result = read_typed(path)
    assert result.skipped == 0
    started, step, ev, fin = result.events
    assert isinstance(started, Started) and started.model_name == "offline small BERT"
    assert started.dataset_sizes == {"train": 480, "validation": 60} and started.total_steps == 30
    assert isinstance(step, Step) and step.step == 1 and step.gpu_memory_mb is None
    assert isinstance(ev, Eval) and ev.overall.f1 == 0.015 and ev.per_type["LOC"] == Scores(0.0, 0.0, 0.0, None, 38)
    assert isinstance(fin, Finished) and fin.terminal and fin.duration_s == 13.9


@pytest.mark.parametrize(
    "line",
    [
        '{"type":"step","step":"abc"}',
        '{"type":"step","step":1e400}',  # json gives inf: not an int
        '{"type":"step","step":1,"loss":1e400}',  # a non-finite float is never written
        '{"type":"eval","step":3,"overall":"bad"}',
        '{"type":"eval","step":3,"per_type":{"PER":{"f1":"x"}}}',
        '{"type":5}',
        '{"type":"stepp","step":1}',
        '{"type":"step"}',  # a step without its step
        '{"type":"started","model":{"name":"m","reason":"why"}}',  # never written: model is a sentence
        '{"type":"started","dataset_sizes":{"train":"many"}}',
        '{"type":"finished","step":true}',
        "[1, 2]",
        '"started"',
    ],
)
def test_a_line_of_wrong_field_types_is_skipped_and_counted(tmp_path: Path, line: str) -> None:
    path = tmp_path / "e.jsonl"
    with EventWriter(path) as w:
        w.emit("started", total_steps=10)
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(line + "\n")
    with EventWriter(path) as w:
        w.emit("step", step=2)
    result = read_typed(path)
    assert [e.type for e in result.events] == ["started", "step"]
    assert result.skipped == 1
    tail = EventTail(path)
    tail.poll()
    assert tail.skipped == 1
    assert parse_event(json.loads(line)) is None


def test_unknown_fields_are_ignored_and_missing_optional_fields_default() -> None:
    ev = parse_event({"type": "step", "step": 4, "future_field": {"x": 1}})
    assert isinstance(ev, Step) and ev.step == 4 and ev.loss is None and ev.time is None
