"""Problems found in a data source: collected all at once, grouped by kind, each with its file and line.

Readers never stop at the first bad line. They attach each problem to the sentence it is in;
the loader then either stops (the default: one sentence naming the first problem, how many
more there are, and the command that lists them all) or drops every bad sentence whole
(``on_error="skip"``) and says so. Warnings are the same shape: things a person should see
before training that do not stop a load (a repaired I- tag, a type seen once, ...).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

from bnner_tui.core.errors import DataFormatError

ON_ERROR = ("stop", "skip")
# Problems kept in memory per kind; every one is still counted. A file where every line is
# bad must not need gigabytes to say so.
KEEP_PER_KIND = 20_000


@dataclass(frozen=True)
class Problem:
    """One finding. ``line`` is the file line when the format has lines, else ``record`` is the item number."""

    kind: str
    path: str
    line: int | None
    detail: str
    severity: str = "error"  # or "warning"
    record: int | None = None
    split: str | None = None

    @property
    def where(self) -> str:
        """'file, line 3' (the sentence form); `loc` is the compact 'file:3' of listings."""
        if self.line is not None:
            return f"{self.path}, line {self.line}"
        if self.record is not None:
            return f"{self.path}, record {self.record}"
        return self.path

    @property
    def loc(self) -> str:
        if self.line is not None:
            return f"{self.path}:{self.line}"
        if self.record is not None:
            return f"{self.path}#{self.record}"
        return self.path

    def __str__(self) -> str:
        return f"{self.where}: {self.detail}"

    def to_dict(self) -> dict[str, object]:
        return {
            "severity": self.severity,
            "kind": self.kind,
            "file": self.path,
            "line": self.line,
            "record": self.record,
            "split": self.split,
            "detail": self.detail,
        }


@dataclass
class Problems:
    """Every error and warning of one load, counted per kind (kept up to `KEEP_PER_KIND` per kind)."""

    items: list[Problem] = field(default_factory=list)
    counts: Counter[tuple[str, str]] = field(default_factory=Counter)  # (severity, kind) -> count

    def add(self, problem: Problem) -> None:
        key = (problem.severity, problem.kind)
        self.counts[key] += 1
        if self.counts[key] <= KEEP_PER_KIND:
            self.items.append(problem)

    def extend(self, problems: list[Problem]) -> None:
        for p in problems:
            self.add(p)

    def of(self, severity: str) -> list[Problem]:
        return [p for p in self.items if p.severity == severity]

    @property
    def errors(self) -> list[Problem]:
        return self.of("error")

    @property
    def warnings(self) -> list[Problem]:
        return self.of("warning")

    def count(self, severity: str = "error") -> int:
        return sum(n for (sev, _), n in self.counts.items() if sev == severity)

    def groups(self, severity: str) -> Iterator[tuple[str, int, list[Problem]]]:
        """(kind, total count, kept problems) per kind, most frequent first."""
        kinds = sorted(((n, k) for (sev, k), n in self.counts.items() if sev == severity), key=lambda x: (-x[0], x[1]))
        by_kind: dict[str, list[Problem]] = {}
        for p in self.items:
            if p.severity == severity:
                by_kind.setdefault(p.kind, []).append(p)
        for n, kind in kinds:
            yield kind, n, by_kind.get(kind, [])


def lines_text(lines: list[int], limit: int = 8) -> str:
    """[3, 9, 12] -> 'lines 3, 9, 12'; longer lists end with '... (N in all)'."""
    if not lines:
        return ""
    shown = ", ".join(str(n) for n in lines[:limit])
    word = "line" if len(lines) == 1 else "lines"
    return f"{word} {shown}" + (f", ... ({len(lines)} in all)" if len(lines) > limit else "")


class DataProblemsError(DataFormatError):
    """A source that does not load: the first problem, how many more, and the command that lists them.

    A `DataFormatError` whose ``path``/``line``/``problem`` are the first problem's.
    """

    def __init__(self, spec: str, problems: Problems) -> None:
        first = problems.errors[0]
        more = problems.count("error") - 1
        quoted = (
            spec if spec.replace("/", "").replace(".", "").replace("-", "").replace("_", "").isalnum() else f"'{spec}'"
        )
        tail = (
            f" ({more} more problem{'s' if more != 1 else ''}: `bnner-tui data check {quoted}` lists them all; "
            "--on-error skip loads the rest)"
            if more
            else ""
        )
        detail = (
            first.detail if first.line is not None or first.record is None else f"record {first.record}: {first.detail}"
        )
        super().__init__(first.path, first.line, f"{detail}{tail}")
        self.spec = spec
        self.problems = problems
        self.first = first
