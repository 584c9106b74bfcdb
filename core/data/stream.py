"""A whole source read twice, sentence by sentence, keeping counts only: `data check` and `data stats`.

Memory is bounded by one sentence (and a sentence is cut at `raw.MAX_SENTENCE_TOKENS` and
reported), plus one int per sentence for piece lengths when a tokenizer is given, and the
set of bad sentence numbers. The rules are the loader's own (`checks.Checker`).
"""

from __future__ import annotations

from array import array
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from bnner_tui.core.data.checks import Checker
from bnner_tui.core.data.options import LoadOptions
from bnner_tui.core.data.problems import Problem
from bnner_tui.core.data.raw import SplitReader
from bnner_tui.core.data.source import ordered
from bnner_tui.core.errors import DataFormatError

_BATCH = 512


@dataclass
class SplitCounts:
    """What pass 2 counted for one split (good sentences only)."""

    path: str
    labelled: bool
    read: int = 0
    kept: int = 0
    tokens: int = 0
    longest: int = 0
    tags: Counter[str] = field(default_factory=Counter)  # IOB2 tag -> count
    entities: Counter[str] = field(default_factory=Counter)  # type -> entities
    pieces: array = field(default_factory=lambda: array("i"))
    bad: set[int] = field(default_factory=set)


@dataclass
class StreamResult:
    checker: Checker
    splits: dict[str, SplitCounts]
    notes: list[str]

    @property
    def types(self) -> list[str]:
        seen: dict[str, None] = {}
        for c in self.splits.values():
            for t in c.entities:
                seen.setdefault(t, None)
        return list(seen)


def _piece_counter(tokenizer: Any) -> Any:
    from tokenizers import Tokenizer

    tok = tokenizer
    if tok.truncation is not None or tok.padding is not None:
        tok = Tokenizer.from_str(tokenizer.to_str())  # a private copy: never change the caller's settings
        tok.no_truncation()
        tok.no_padding()

    def count(batch: list[list[str]]) -> list[int]:
        return [len(e.ids) for e in tok.encode_batch(batch, is_pretokenized=True, add_special_tokens=True)]

    return count


def stream_scan(
    readers: dict[str, SplitReader], options: LoadOptions, *, tokenizer: Any = None, max_length: int | None = None
) -> StreamResult:
    """Both checker passes over ``readers`` (each iterated twice), counting what a stats table shows."""
    checker = Checker(options, max_length=max_length if tokenizer is None else None)
    counts: dict[str, SplitCounts] = {}
    notes: list[str] = []
    readers = ordered(readers)
    broken: set[str] = set()
    for split, reader in readers.items():
        c = counts[split] = SplitCounts(reader.path, False)
        try:
            for i, sent in enumerate(reader):
                checker.observe(split, reader.path, i, sent, bool(reader.labelled))
                c.read += 1
                if sent.bad:
                    c.bad.add(i)
        except DataFormatError as err:
            checker.problems.add(Problem("unreadable file", err.path, err.line, err.problem, "error", None, split))
            broken.add(split)
            continue
        c.labelled = bool(reader.labelled)
        notes.extend(reader.notes)
        if hasattr(reader, "file_warnings"):
            checker.problems.extend(reader.file_warnings())
        if c.read == 0:
            checker.problems.add(Problem("no sentences", reader.path, None, "no sentences found", "error", None, split))
    checker.decide()
    count_pieces = _piece_counter(tokenizer) if tokenizer is not None else None
    for split, reader in readers.items():
        if split in broken:
            continue
        c = counts[split]
        batch: list[tuple[list[str], int | None]] = []

        def flush(c: SplitCounts = c, batch: list[tuple[list[str], int | None]] = batch) -> None:
            if not batch or count_pieces is None:
                return
            lengths = count_pieces([b[0] for b in batch])
            c.pieces.extend(lengths)
            if max_length is not None:
                for (_, line), n in zip(batch, lengths, strict=True):
                    if n > max_length:
                        checker.long.add(c.path, line, keep=200)
            batch.clear()

        for i, sent in enumerate(reader):
            parsed = checker.observe(split, reader.path, i, sent, c.labelled, record=False)
            res = checker.convert(split, reader.path, sent, parsed, bad=i in c.bad)
            if res is None:
                c.bad.add(i)
                continue
            tokens, tags = res
            c.kept += 1
            c.tokens += len(tokens)
            c.longest = max(c.longest, len(tokens))
            if tags is not None:
                c.tags.update(tags)
                c.entities.update(t[2:] for t in tags if t.startswith("B-"))
            if count_pieces is not None:
                batch.append((tokens, sent.line))
                if len(batch) >= _BATCH:
                    flush()
        flush()
    if tokenizer is not None:
        checker.max_length = max_length
        checker.piece_count = lambda _: 0  # only names the unit in the warning
    checker.finish()
    return StreamResult(checker, counts, notes)
