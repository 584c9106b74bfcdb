"""Writers for the annotation tools' formats (the readers are `records` and `discover`).

Each sentence becomes the text ``" ".join(words)`` with character spans for its entities,
so our splitter gives back exactly the same words (`spans`), and a round trip
ours -> tool format -> ours is identical (tests/data/test_roundtrip.py, with hypothesis).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bnner_tui.core.data.spans import tags_to_spans


def _text_and_offsets(words: list[str]) -> tuple[str, list[tuple[int, int]]]:
    offsets, pos = [], 0
    for w in words:
        offsets.append((pos, pos + len(w)))
        pos += len(w) + 1
    return " ".join(words), offsets


def tool_record(fmt: str, words: list[str], tags: list[str] | None) -> Any:
    """One sentence as a spacy / doccano / labelstudio record."""
    text, offsets = _text_and_offsets(words)
    spans = tags_to_spans(offsets, tags) if tags is not None else []
    if fmt == "spacy":
        index = {s: i for i, (s, _) in enumerate(offsets)}
        ends = {e: i for i, (_, e) in enumerate(offsets)}
        return {
            "text": text,
            "tokens": [
                {"text": w, "start": s, "end": e, "id": i, "ws": i < len(words) - 1}
                for i, (w, (s, e)) in enumerate(zip(words, offsets, strict=True))
            ],
            "spans": [
                {
                    "start": sp.start,
                    "end": sp.end,
                    "label": sp.label,
                    "token_start": index[sp.start],
                    "token_end": ends[sp.end],
                }
                for sp in spans
            ],
        }
    if fmt == "doccano":
        return {"text": text, "label": [[sp.start, sp.end, sp.label] for sp in spans]}
    if fmt == "labelstudio":
        return {
            "data": {"text": text},
            "annotations": [
                {
                    "result": [
                        {
                            "id": f"e{k}",
                            "from_name": "label",
                            "to_name": "text",
                            "type": "labels",
                            "value": {
                                "start": sp.start,
                                "end": sp.end,
                                "text": text[sp.start : sp.end],
                                "labels": [sp.label],
                            },
                        }
                        for k, sp in enumerate(spans)
                    ]
                }
            ],
        }
    raise ValueError(fmt)


def write_tool_format(target: Path, fmt: str, tokens: list[list[str]], tags: list[list[str]] | None) -> None:
    """Write every sentence in ``fmt`` to ``target`` (a temporary file the caller moves into place)."""
    if fmt == "docbin":
        from bnner_tui.core.data.spacy_io import write_docbin

        write_docbin(target, [(t, tags[i] if tags is not None else None) for i, t in enumerate(tokens)])
        return
    records = (tool_record(fmt, t, tags[i] if tags is not None else None) for i, t in enumerate(tokens))
    with open(target, "w", encoding="utf-8") as fh:
        if fmt == "labelstudio":
            json.dump(list(records), fh, ensure_ascii=False, indent=1)
            fh.write("\n")
        else:
            for rec in records:
                fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
