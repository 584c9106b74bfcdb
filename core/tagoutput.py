"""The one JSON-lines schema for tagging output, written by `bnner-tui tag` and the Tag screen alike.

Before this module the CLI and the TUI each built their own records (rounded vs unrounded
scores, words vs none, input fields passed through vs dropped), so the same text exported two
ways gave two files. Both now call `record()`, and `read_jsonl()` reads either back.

One line per tagged text:

```json
{"text": "...", "entities": [{"text": "ঢাকা", "label": "LOC", "start": 0, "end": 4, "score": 0.9876}],
 "words": [{"text": "ঢাকা", "start": 0, "end": 4, "label": "B-LOC", "score": 0.9876}]}
```

- `text` and any other fields of a JSON-lines input line are passed through unchanged;
- `entities[].start/end` are character offsets into `text` (`text[start:end] == entity text`);
- `words[].label` is the IOB2 label of each word after decoding (what the entities come from);
- scores are rounded to 4 decimals (more digits are noise, and the files diff cleanly).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Protocol

SCORE_DIGITS = 4


class _Span(Protocol):
    @property
    def text(self) -> str: ...
    @property
    def label(self) -> str: ...
    @property
    def start(self) -> int: ...
    @property
    def end(self) -> int: ...
    @property
    def score(self) -> float: ...


class _Result(Protocol):
    @property
    def text(self) -> str: ...
    @property
    def entities(self) -> Iterable[_Span]: ...
    @property
    def words(self) -> Iterable[_Span]: ...


def _span(s: _Span) -> dict[str, Any]:
    score = round(float(s.score), SCORE_DIGITS)
    return {"text": s.text, "label": s.label, "start": s.start, "end": s.end, "score": score}


def record(result: _Result, fields: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The output record of one tagged text; `fields` (a JSON-lines input line) are passed through."""
    out: dict[str, Any] = dict(fields) if fields else {"text": result.text}
    out["entities"] = [_span(e) for e in result.entities]
    out["words"] = [_span(w) for w in result.words]
    return out


def dumps(result: _Result, fields: Mapping[str, Any] | None = None) -> str:
    """One JSON line (no newline), non-ASCII kept as is so Bengali stays readable."""
    return json.dumps(record(result, fields), ensure_ascii=False)


def read_jsonl(path: str | Path) -> list[dict[str, Any]]:
    """Reads a tagging output file back (blank lines skipped)."""
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]
