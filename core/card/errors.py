"""How card code says what is wrong: `CardError` (one sentence) and `Problem` (a line of README.md)."""

from __future__ import annotations

from dataclasses import dataclass

from bnner_tui.core.errors import BnnerError


class CardError(BnnerError):
    """A run or card that cannot be turned into a model card (missing files, unreadable metadata)."""


@dataclass(frozen=True)
class Problem:
    """One validation finding; `line` is the 1-based line in the README file it concerns."""

    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"
