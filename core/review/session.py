"""Reviewing suspects: every decision appended to decisions.jsonl as it is made, and replayed to get the state.

Why an append-only log with an fsync per line: the annotator's work is the one thing here that
cannot be recomputed. A decision is on disk before the screen shows it as made, so a crash, a
killed terminal or a power cut loses nothing; a torn last line (the process died mid-write)
is ignored on reading. Undo is itself a decision (it names the one it undoes), so the log
is a full audit trail and the changelog can say when each label changed.

Decisions: `accept` (take the suggestion), `set` (words [start, end) become one entity of a
type, or O), `correct` (the given labels are right), `skip` (look later), `undo`.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bnner_tui.core.errors import BnnerError
from bnner_tui.core.review.find import ReviewFiles, read_params, read_suspects
from bnner_tui.core.review.spans import set_span, type_of, types_in

ACTIONS = ("accept", "set", "correct", "skip", "undo")
KINDS = ("type", "missed", "spurious", "boundary")


def _now() -> str:
    t = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + f".{int(t % 1 * 1000):03d}Z"


def append_line(path: Path, record: dict[str, Any]) -> None:
    """One JSON line, written and fsynced before returning (the file and, when new, its folder)."""
    path = Path(path)
    new = not path.exists()
    data = (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8")
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o666)
    try:
        # A torn line from a crash would glue onto this one: start on a fresh line if needed.
        if not new and os.fstat(fd).st_size > 0:
            with open(path, "rb") as fh:
                fh.seek(-1, os.SEEK_END)
                if fh.read(1) != b"\n":
                    data = b"\n" + data
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    if new:
        dfd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)


def read_decisions(path: Path) -> list[dict[str, Any]]:
    """The log's records in order; an unreadable line (a torn write) is skipped."""
    if not Path(path).exists():
        return []
    out = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except ValueError:
            continue
        if isinstance(rec, dict) and rec.get("action") in ACTIONS:
            out.append(rec)
    return out


@dataclass
class Suspect:
    """One ranked suspect and where the review of it stands."""

    rank: int
    sentence: int
    score: float
    words: list[str]
    given: list[str]
    suggested: list[str]
    flagged: list[int]
    kinds: list[str]
    current: list[str] = field(default_factory=list)
    status: str = "open"  # open | accepted | set | correct | skipped
    decided_at: str | None = None

    @property
    def types(self) -> list[str]:
        return types_in(self.given, self.suggested)

    @property
    def changed(self) -> bool:
        return self.current != self.given


@dataclass
class Counts:
    total: int
    reviewed: int
    changed: int
    skipped: int
    open: int


class ReviewSession:
    """The suspects of a review folder with its decision log applied; every change goes to disk first."""

    def __init__(self, review_dir: str | Path) -> None:
        self.files = ReviewFiles(Path(review_dir))
        self.params = read_params(review_dir)
        raw = read_suspects(review_dir)
        self.suspects: list[Suspect] = [
            Suspect(
                rank=int(r["rank"]),
                sentence=int(r["sentence"]),
                score=float(r["score"]),
                words=list(r["words"]),
                given=list(r["given"]),
                suggested=list(r["suggested"]),
                flagged=list(r.get("flagged", [])),
                kinds=list(r.get("kinds", [])),
                current=list(r["given"]),
            )
            for r in raw
        ]
        self._by_sentence = {s.sentence: s for s in self.suspects}
        self.log: list[dict[str, Any]] = read_decisions(self.files.decisions)
        self._replay()

    # -- state ------------------------------------------------------------------------------
    def _effective(self) -> list[dict[str, Any]]:
        """Decisions in order, with undone ones removed (an undo cancels the latest standing decision)."""
        stack: list[dict[str, Any]] = []
        for rec in self.log:
            if rec["action"] == "undo":
                target = rec.get("undoes")
                for j in range(len(stack) - 1, -1, -1):
                    if target is None or stack[j].get("seq") == target:
                        del stack[j]
                        break
            else:
                stack.append(rec)
        return stack

    def _replay(self) -> None:
        for s in self.suspects:
            s.current, s.status, s.decided_at = list(s.given), "open", None
        for rec in self._effective():
            target = self._by_sentence.get(int(rec.get("sentence", -1)))
            if target is not None:
                self._apply(target, rec)

    @staticmethod
    def _apply(s: Suspect, rec: dict[str, Any]) -> None:
        action = rec["action"]
        if action == "accept":
            s.current, s.status = list(s.suggested), "accepted"
        elif action == "set":
            s.current, s.status = list(rec["labels"]), "set"
        elif action == "correct":
            s.current, s.status = list(s.given), "correct"
        elif action == "skip":
            s.status = "skipped"
        s.decided_at = rec.get("at")

    def counts(self) -> Counts:
        reviewed = sum(1 for s in self.suspects if s.status in ("accepted", "set", "correct"))
        skipped = sum(1 for s in self.suspects if s.status == "skipped")
        changed = sum(1 for s in self.suspects if s.changed)
        total = len(self.suspects)
        return Counts(total, reviewed, changed, skipped, total - reviewed - skipped)

    def suspect(self, sentence: int) -> Suspect:
        try:
            return self._by_sentence[sentence]
        except KeyError:
            raise BnnerError(f"Sentence {sentence} is not among this review's suspects.") from None

    def filtered(
        self,
        *,
        kind: str | None = None,
        entity_type: str | None = None,
        max_score: float | None = None,
        status: str | None = None,
    ) -> list[Suspect]:
        """Suspects in rank order that match every given filter."""
        out = []
        for s in self.suspects:
            if kind and kind not in s.kinds:
                continue
            if entity_type and entity_type not in s.types:
                continue
            if max_score is not None and s.score > max_score:
                continue
            if status and s.status != status:
                continue
            out.append(s)
        return out

    # -- decisions --------------------------------------------------------------------------
    def _record(self, sentence: int, action: str, **extra: Any) -> dict[str, Any]:
        s = self.suspect(sentence)
        seq = (max((int(r.get("seq", 0)) for r in self.log), default=0)) + 1
        rec = {"seq": seq, "at": _now(), "action": action, "sentence": s.sentence, **extra}
        append_line(self.files.decisions, rec)  # on disk before the state changes
        self.log.append(rec)
        self._replay()
        return rec

    def accept(self, sentence: int) -> dict[str, Any]:
        return self._record(sentence, "accept", labels=self.suspect(sentence).suggested)

    def correct(self, sentence: int) -> dict[str, Any]:
        return self._record(sentence, "correct")

    def skip(self, sentence: int) -> dict[str, Any]:
        return self._record(sentence, "skip")

    def set_span(self, sentence: int, start: int, end: int, kind: str | None) -> dict[str, Any]:
        """Words [start, end) of the sentence's current labels become one `kind` entity (or O)."""
        s = self.suspect(sentence)
        if kind not in (None, "O") and f"B-{kind}" not in self.params.get("label_names", [f"B-{kind}"]):
            raise BnnerError(f"{kind} is not an entity type of this data ({', '.join(self.params['label_names'])}).")
        labels = set_span(s.current, start, end, kind)
        return self._record(sentence, "set", start=start, end=end, type=kind or "O", labels=labels)

    def undo(self) -> dict[str, Any] | None:
        """Undo the latest standing decision (None when there is nothing to undo)."""
        standing = self._effective()
        if not standing:
            return None
        last = standing[-1]
        return self._record(int(last["sentence"]), "undo", undoes=last.get("seq"))

    def final_labels(self) -> dict[int, list[str]]:
        """Sentence -> its labels after review, for the sentences whose labels changed."""
        return {s.sentence: list(s.current) for s in self.suspects if s.changed}

    def change_times(self) -> dict[int, str | None]:
        return {s.sentence: s.decided_at for s in self.suspects if s.changed}


def summarize(session: ReviewSession) -> str:
    c = session.counts()
    return f"{c.reviewed} of {c.total} reviewed, {c.changed} changed, {c.skipped} skipped"


def word_kind(given: str, suggested: str) -> str | None:
    """The kind of one word's change (None when unchanged)."""
    if given == suggested:
        return None
    tg, ts = type_of(given), type_of(suggested)
    if tg is None:
        return "missed"
    if ts is None:
        return "spurious"
    return "type" if tg != ts else "boundary"


def label_keys(label_names: Sequence[str]) -> list[str]:
    """The entity types of a label set, in its order (what the set-label keys offer)."""
    seen: list[str] = []
    for name in label_names:
        t = type_of(name)
        if t and t not in seen:
            seen.append(t)
    return seen
