"""Sentences as read from a file, before tag conversion and normalisation, with their problems attached.

A reader (CoNLL, JSON lines, a table, a span format) yields `RawSentence`s. Each carries the
file line of every token where the format has lines (else the record number), so any later
problem (an unknown tag, a token that normalises to nothing) still names its line, and the
problems found while reading it: a sentence with an error is dropped whole or stops the load,
never half-read.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from bnner_tui.core.data.problems import Problem

# Tokens kept in memory for one sentence. Beyond this the sentence is only counted and
# reported (a CoNLL file that lost its blank lines reads as one sentence of millions of tokens).
MAX_SENTENCE_TOKENS = 5_000


@dataclass
class RawSentence:
    tokens: list[str]
    tags: list[str] | None
    lines: list[int] | None = None  # file line of each token
    record: int | None = None  # item number (1-based) when the format has no lines
    problems: list[Problem] = field(default_factory=list)
    n_tokens: int | None = None  # the real length when tokens were cut at MAX_SENTENCE_TOKENS

    @property
    def length(self) -> int:
        return self.n_tokens if self.n_tokens is not None else len(self.tokens)

    @property
    def line(self) -> int | None:
        return self.lines[0] if self.lines else None

    def line_of(self, token: int) -> int | None:
        if self.lines:
            return self.lines[min(token, len(self.lines) - 1)]
        return None

    def problem(self, path: str, token: int, kind: str, detail: str, severity: str = "error") -> Problem:
        return Problem(kind, path, self.line_of(token), detail, severity, self.record)

    @property
    def bad(self) -> bool:
        return any(p.severity == "error" for p in self.problems)


class SplitReader:
    """The sentences of one split; iterating again reads the source again (so a file can be streamed twice).

    ``labelled`` is known after the first iteration (a tokens-only CoNLL file is unlabelled);
    ``notes`` are facts about the whole file (a language prefix removed, int tags read in WikiANN order).
    """

    path: str
    labelled: bool | None = None
    notes: list[str]
    tag_names: list[str] | None = None

    def __iter__(self) -> Iterator[RawSentence]:
        raise NotImplementedError


class ListReader(SplitReader):
    """Sentences already in memory (JSON documents, tables, span formats, a re-split file)."""

    def __init__(self, path: str, sentences: Iterable[RawSentence], *, labelled: bool, notes: list[str] | None = None):
        self.path = path
        self.sentences = list(sentences)
        self.labelled = labelled
        self.notes = list(notes or [])

    def __iter__(self) -> Iterator[RawSentence]:
        return iter(self.sentences)

    def __len__(self) -> int:
        return len(self.sentences)
