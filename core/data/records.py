"""JSON and JSON-lines files: token tables and the annotation tools' span formats, recognised by their fields.

One record (a JSON line, or an item of a JSON list) is one sentence. The first record decides
the shape of the file:

- token table: ``tokens`` (or ``words``) with ``ner_tags``/``tags``/``labels``/``ner`` (strings,
  or ints read through label names);
- spaCy / Prodigy: ``text`` with ``spans`` of ``{start, end, label}`` (``tokens`` ignored: the
  text is split with our splitter, see `spans`);
- doccano: ``text`` with ``label``/``labels`` as ``[start, end, type]`` lists, or ``entities``
  as such lists or ``{start_offset, end_offset, label}`` objects;
- Label Studio (a JSON export): ``data.text`` and ``annotations[].result[].value`` with
  ``start``/``end``/``labels`` (the first annotation not cancelled);
- ``[text, tags]`` pairs, tags for some tokenizer's tokens (aligned in `spans.pair_to_sentence`).

Problems are attached to each record's sentence with its line (JSON lines) or record number.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bnner_tui.core.data.problems import Problem
from bnner_tui.core.data.raw import ListReader, RawSentence
from bnner_tui.core.data.spans import Span, pair_to_sentence, spans_to_sentence
from bnner_tui.core.data.textio import iter_lines, read_text
from bnner_tui.core.errors import DataFormatError

TOKEN_COLUMNS = ("tokens", "words")
TAG_COLUMNS = ("ner_tags", "tags", "labels", "ner", "ner_labels")
SHAPES = ("tokens", "spacy", "doccano", "labelstudio", "pairs")


def _pick(record: dict, names: tuple[str, ...]) -> str | None:
    return next((n for n in names if n in record), None)


def shape_of(rec: Any) -> str | None:
    """Which of SHAPES a record has, or None."""
    if isinstance(rec, list) and len(rec) == 2 and isinstance(rec[0], str) and isinstance(rec[1], list):
        return "pairs"
    if not isinstance(rec, dict):
        return None
    if isinstance(rec.get("text"), str) and "spans" in rec:
        return "spacy"  # Prodigy's "tokens" are objects, not a token table
    if _pick(rec, TOKEN_COLUMNS):
        return "tokens"
    if isinstance(rec.get("data"), dict) and ("annotations" in rec or "completions" in rec or "text" in rec["data"]):
        return "labelstudio"
    if isinstance(rec.get("text"), str):
        if "spans" in rec:
            return "spacy"
        if any(k in rec for k in ("label", "labels", "entities")):
            return "doccano"
        return "spacy"  # a text without annotations: no entities
    return None


def _json_records(path: Path, kind: str) -> Iterator[tuple[int | None, int | None, Any, str | None]]:
    """(line, record number, value, parse problem) per record."""
    if kind == "jsonl":
        n = 0
        for lineno, line in iter_lines(path):
            if not line.strip():
                continue
            n += 1
            try:
                yield lineno, None, json.loads(line), None
            except json.JSONDecodeError as err:
                yield lineno, None, None, f"not valid JSON ({err.msg})"
            except RecursionError:
                yield lineno, None, None, "JSON nested too deeply"
        return
    try:
        data = json.loads(read_text(path))
    except json.JSONDecodeError as err:
        raise DataFormatError(path, err.lineno, f"not valid JSON ({err.msg})") from None
    except RecursionError:
        raise DataFormatError(path, None, "JSON nested too deeply") from None
    if isinstance(data, dict) and isinstance(data.get("data"), list):
        data = data["data"]
    key = _pick(data, TOKEN_COLUMNS) if isinstance(data, dict) else None
    if key and isinstance(data[key], list) and data[key] and all(isinstance(x, list) for x in data[key]):
        # columns: {"tokens": [[...], ...], "ner_tags": [[...], ...]}
        tok_key, tag_key = _pick(data, TOKEN_COLUMNS), _pick(data, TAG_COLUMNS)
        toks = data[tok_key] if isinstance(data[tok_key], list) else []
        tags = data.get(tag_key) if tag_key else None
        for i, sent in enumerate(toks):
            rec = {"tokens": sent}
            if isinstance(tags, list) and i < len(tags):
                rec["ner_tags"] = tags[i]
            yield None, i + 1, rec, None
        return
    if isinstance(data, dict):
        data = [data]
    if not isinstance(data, list):
        raise DataFormatError(path, None, "expected a list of records or a {tokens: [...], tags: [...]} table")
    for i, rec in enumerate(data):
        yield None, i + 1, rec, None


def read_records(path: Path, kind: str, *, tag_names: list[str] | None = None) -> ListReader:
    """A JSON (``kind='json'``) or JSON-lines (``'jsonl'``) file -> its sentences, problems attached."""
    from bnner_tui.core.data.tables import token_record

    sentences: list[RawSentence] = []
    shape: str | None = None
    labelled = False
    notes: list[str] = []
    pairs: list[tuple[int | None, int | None, str, list[str]]] = []
    spath = str(path)
    for line, record, rec, bad in _json_records(path, kind):
        where = RawSentence([], None, [line] if line is not None else None, record=None if line is not None else record)
        if bad is not None:
            where.problems.append(Problem("bad JSON", spath, line, bad, "error", where.record))
            sentences.append(where)
            continue
        this = shape_of(rec)
        if shape is None and this is not None:
            shape = this
        if this is None or this != shape:
            expected = (
                f"a {shape} record like the first one" if shape else "a record with tokens and tags, or text and spans"
            )
            where.problems.append(Problem("bad record", spath, line, f"not {expected}", "error", where.record))
            sentences.append(where)
            continue
        if shape == "tokens":
            sent, has_tags = token_record(rec, spath, line, record, tag_names, notes)
            labelled = labelled or has_tags
        elif shape == "pairs":
            pairs.append((line, record, rec[0], rec[1]))
            labelled = True
            continue
        else:
            sent = _span_record(rec, shape, spath, line, record)
            labelled = True
        sentences.append(sent)
    if shape == "pairs":
        sentences.extend(_pairs(pairs, spath))
        notes.append(
            f"{path.name}: [text, tags] pairs, tags put on our words "
            "(bnner-tui data check lists any that do not align)"
        )
    if shape in ("spacy", "doccano", "labelstudio"):
        notes.append(f"{path.name}: {shape} spans put on our words")
    if not labelled:
        for s in sentences:
            s.tags = None
    reader = ListReader(spath, sentences, labelled=labelled, notes=notes)
    reader.shape = shape  # type: ignore[attr-defined]
    return reader


def _pairs(pairs: list[tuple[int | None, int | None, str, list[str]]], path: str) -> list[RawSentence]:
    """Pairs are converted to IOB2 with one scheme detected over all of them (BILOU in spaCy's exports)."""
    from bnner_tui.core.data.schemes import SchemeEvidence
    from bnner_tui.core.labels import parse_tag

    ev = SchemeEvidence()
    for i, (_, _, _, tags) in enumerate(pairs):
        try:
            ev.add([parse_tag(str(t)) for t in tags], (i,))
        except ValueError:
            continue
    scheme = ev.decide()
    return [
        pair_to_sentence(text, [str(t) for t in tags], scheme=scheme, path=path, line=line, record=rec)
        for line, rec, text, tags in pairs
    ]


def _as_spans(items: Any) -> list[Span] | str:
    """[[s, e, label], ...] or [{start|start_offset, end|end_offset, label}, ...] -> spans, or a problem."""
    out = []
    for it in items or []:
        if isinstance(it, (list, tuple)) and len(it) == 3:
            s, e, lab = it
        elif isinstance(it, dict):
            s = it.get("start", it.get("start_offset"))
            e = it.get("end", it.get("end_offset"))
            lab = it.get("label")
            if isinstance(it.get("labels"), list):
                if len(it["labels"]) != 1:
                    names = ", ".join(map(str, it["labels"]))
                    return f"span {s}-{e} has {len(it['labels'])} labels ({names}); one is needed"
                lab = it["labels"][0]
        else:
            return f"span {it!r} is not [start, end, label] or {{start, end, label}}"
        if not isinstance(s, int) or not isinstance(e, int) or not isinstance(lab, str) or not lab.strip():
            return f"span {it!r} needs integer start/end and a label"
        out.append(Span(s, e, lab.strip()))
    return out


def _span_record(rec: dict, shape: str, path: str, line: int | None, record: int | None) -> RawSentence:
    if shape == "labelstudio":
        text = rec["data"].get("text")
        anns = [a for a in rec.get("annotations", rec.get("completions", [])) or [] if not a.get("was_cancelled")]
        items = [r.get("value", {}) for r in (anns[0].get("result", []) if anns else []) if isinstance(r, dict)]
        items = [v for v in items if "start" in v and "end" in v]
    elif shape == "spacy":
        text, items = rec.get("text"), rec.get("spans", [])
    else:
        text = rec.get("text")
        items = rec.get("label", rec.get("labels", rec.get("entities", [])))
    if not isinstance(text, str):
        sent = RawSentence([], [], [line] if line is not None else None, record=None if line is not None else record)
        sent.problems.append(Problem("bad record", path, line, "the text field is not a string", "error", sent.record))
        return sent
    spans = _as_spans(items)
    if isinstance(spans, str):
        sent = spans_to_sentence(text, [], path=path, line=line, record=record)
        sent.problems.append(Problem("bad span", path, line, spans, "error", sent.record))
        return sent
    return spans_to_sentence(text, spans, path=path, line=line, record=record)
