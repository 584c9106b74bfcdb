"""`data check`: every problem of a source at once, grouped by kind, and whether it loads.

The report is plain data (`CheckReport`); `summary_lines` renders it for a terminal (capped
per kind unless ``all``), `jsonl_lines` as one JSON object per problem (complete).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from bnner_tui.core.data.options import LoadOptions
from bnner_tui.core.data.problems import Problems
from bnner_tui.core.data.stream import StreamResult, stream_scan

SHOW_PER_KIND = 5


@dataclass
class CheckReport:
    spec: str
    name: str
    scheme: str
    problems: Problems
    result: StreamResult
    options: LoadOptions

    @property
    def errors(self) -> int:
        return self.problems.count("error")

    @property
    def warnings(self) -> int:
        return self.problems.count("warning")

    @property
    def bad_sentences(self) -> int:
        return sum(len(c.bad) for c in self.result.splits.values())

    @property
    def loads(self) -> bool:
        """Whether `load_source` with these options succeeds: no errors, or skipping leaves sentences."""
        kept = sum(c.kept for c in self.result.splits.values())
        if self.errors == 0:
            return kept > 0
        return self.options.on_error == "skip" and kept > 0

    def summary_lines(self, *, show_all: bool = False, per_kind: int = SHOW_PER_KIND) -> Iterator[tuple[str, str]]:
        """(style, text) lines: a header per kind with its count, then its problems as ``file:line: detail``."""
        for severity in ("error", "warning"):
            for kind, n, items in self.problems.groups(severity):
                yield severity, f"{kind}: {n:,}"
                shown = items if show_all else items[:per_kind]
                for p in shown:
                    yield "item", f"  {p.loc}: {p.detail}"
                hidden = n - len(shown)
                if hidden > 0:
                    more = "not kept in memory" if show_all else "--all or --format jsonl lists them"
                    yield "more", f"  ... {hidden:,} more ({more})"

    def jsonl_lines(self) -> Iterator[str]:
        for p in self.problems.items:
            yield json.dumps(p.to_dict(), ensure_ascii=False)

    def verdict(self) -> str:
        """One sentence: loads or not, and what to do."""
        counts = {k: (c.read, c.kept) for k, c in self.result.splits.items()}
        read = sum(r for r, _ in counts.values())
        if self.errors == 0:
            if read == 0:
                return f"{self.name}: no sentences; it does not load"
            return f"{self.name}: {read:,} sentences, no problems ({self.warnings} warning(s)); it loads"
        bad = self.bad_sentences
        if self.options.on_error == "skip":
            return f"{self.name}: {self.errors:,} problem(s) in {bad:,} of {read:,} sentences; " + (
                "with --on-error skip the other sentences load" if self.loads else "nothing is left to load"
            )
        return (
            f"{self.name}: {self.errors:,} problem(s) in {bad:,} of {read:,} sentences; it does not load as it is "
            "(fix them, or load the rest with --on-error skip)"
        )


def check(spec: str, *, options: LoadOptions, tokenizer: Any = None, max_length: int = 128) -> CheckReport:
    """Read the whole source (twice, streaming) and collect every problem; never raises for bad data."""
    from bnner_tui.core.data import readers_for

    ds, readers = readers_for(spec)
    result = stream_scan(readers, options, tokenizer=tokenizer, max_length=max_length)
    return CheckReport(ds.text, ds.display, result.checker.scheme_name, result.checker.problems, result, options)
