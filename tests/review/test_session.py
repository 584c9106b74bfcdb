"""Decisions: applied by core's rules, undone, and on disk before they count, even across a kill -9."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from bnner_tui.core.review.session import ReviewSession, read_decisions
from bnner_tui.core.review.spans import kinds_of, repair, set_span, suggest_labels


def test_spans_stay_valid_iob2() -> None:
    assert repair(["O", "I-PER", "I-PER", "I-LOC"]) == ["O", "B-PER", "I-PER", "B-LOC"]
    given = ["B-ORG", "I-ORG", "O", "B-LOC"]
    assert set_span(given, 0, 2, "LOC") == ["B-LOC", "I-LOC", "O", "B-LOC"]
    assert set_span(given, 1, 2, "PER") == ["B-ORG", "B-PER", "O", "B-LOC"]
    assert set_span(given, 0, 4, None) == ["O"] * 4
    # a suggestion covers the whole entity the flagged word belongs to
    assert suggest_labels(given, ["B-PER", "I-PER", "O", "B-LOC"], [1]) == ["B-PER", "I-PER", "O", "B-LOC"]
    assert kinds_of(["O", "B-PER", "B-ORG", "B-LOC"], ["B-LOC", "O", "B-PER", "I-LOC"]) == [
        "boundary",
        "missed",
        "spurious",
        "type",
    ]


def test_accept_set_correct_skip_undo(demo_review: Path) -> None:
    s = ReviewSession(demo_review)
    a, b, c = s.suspects[0], s.suspects[1], s.suspects[2]
    s.accept(a.sentence)
    s.set_span(b.sentence, 0, 1, "PER")
    s.correct(c.sentence)
    s.skip(s.suspects[3].sentence)
    assert a.current == a.suggested and a.status == "accepted"
    assert b.current[0] == "B-PER" and b.status == "set"
    assert c.current == c.given and c.status == "correct"
    counts = s.counts()
    assert (counts.reviewed, counts.skipped) == (3, 1)
    assert counts.changed == sum(1 for x in (a, b) if x.current != x.given)
    s.undo()  # the skip
    s.undo()  # the correct
    assert s.suspects[3].status == "open" and c.status == "open"
    again = ReviewSession(demo_review)  # the same state from the log alone
    assert [(x.sentence, x.status, x.current) for x in again.suspects] == [
        (x.sentence, x.status, x.current) for x in s.suspects
    ]
    actions = [r["action"] for r in read_decisions(demo_review / "decisions.jsonl")]
    assert actions == ["accept", "set", "correct", "skip", "undo", "undo"]


def test_torn_last_line_is_ignored_and_not_glued(demo_review: Path) -> None:
    s = ReviewSession(demo_review)
    s.accept(s.suspects[0].sentence)
    with open(demo_review / "decisions.jsonl", "a", encoding="utf-8") as fh:
        fh.write('{"seq": 2, "at": "x", "action": "acc')  # the process died mid-write
    s2 = ReviewSession(demo_review)
    assert s2.suspects[0].status == "accepted"
    s2.correct(s2.suspects[1].sentence)
    assert ReviewSession(demo_review).suspects[1].status == "correct"


WORKER = """
import sys
from bnner_tui.core.review.session import ReviewSession
s = ReviewSession(sys.argv[1])
i = 0
while True:
    sus = s.suspects[i % len(s.suspects)]
    rec = s.accept(sus.sentence) if i % 2 == 0 else s.set_span(sus.sentence, 0, 1, "LOC")
    print(rec["seq"], flush=True)
    i += 1
"""


def test_decisions_survive_a_kill(demo_review: Path) -> None:
    """A reviewer process killed with SIGKILL mid-review: every decision it reported is on disk."""
    proc = subprocess.Popen(
        [sys.executable, "-c", WORKER, str(demo_review)], stdout=subprocess.PIPE, text=True, env=dict(os.environ)
    )
    reported: list[int] = []
    deadline = time.monotonic() + 120
    assert proc.stdout is not None
    while len(reported) < 25 and time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        reported.append(int(line))
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert len(reported) >= 25, "the worker did not get going"
    on_disk = [r["seq"] for r in read_decisions(demo_review / "decisions.jsonl")]
    assert set(reported) <= set(on_disk)
    assert on_disk == sorted(on_disk) == list(range(1, len(on_disk) + 1))
    s = ReviewSession(demo_review)  # replays cleanly, and new decisions continue the sequence
    rec = s.correct(s.suspects[0].sentence)
    assert rec["seq"] == len(on_disk) + 1
    lines = (demo_review / "decisions.jsonl").read_text(encoding="utf-8").splitlines()
    assert json.loads(lines[-1])["action"] == "correct"
