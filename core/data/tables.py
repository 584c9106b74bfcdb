"""Token tables: a tokens column and a tags column (JSON records, parquet, ``save_to_disk`` folders, hub datasets).

Tags may be strings or ints; ints are read through the column's ClassLabel names, and ints in
0..6 without names in WikiANN's order (with a note). A split whose tags are all missing (None,
or -1 everywhere: the datasets "no label" convention) is unlabelled.
"""

from __future__ import annotations

from typing import Any

from bnner_tui.core.data.problems import Problem
from bnner_tui.core.data.raw import ListReader, RawSentence
from bnner_tui.core.data.records import TAG_COLUMNS, TOKEN_COLUMNS, _pick
from bnner_tui.core.data.textio import whitespace_name
from bnner_tui.core.errors import DataFormatError
from bnner_tui.core.labels import WIKIANN_LABELS

NO_LABEL = -1
_INT_NOTE = "tags are integers without label names; read in WikiANN's order " + ", ".join(WIKIANN_LABELS)


def _no_tags(row: Any) -> bool:
    return row is None or (isinstance(row, (list, tuple)) and all(x is None or x == NO_LABEL for x in row))


def sentence_from_row(
    tokens: Any,
    tags: Any,
    *,
    path: str,
    line: int | None,
    record: int | None,
    tag_names: list[str] | None,
    notes: list[str],
) -> RawSentence:
    """One row of a table -> a RawSentence with its problems (bad types, counts, ids)."""
    sent = RawSentence([], None, None, record=None if line is not None else record)
    if line is not None:
        sent.lines = [line]

    def problem(kind: str, detail: str) -> RawSentence:
        sent.problems.append(Problem(kind, path, line, detail, "error", sent.record))
        return sent

    if not isinstance(tokens, (list, tuple)) or not all(isinstance(t, str) for t in tokens):
        return problem("bad record", "tokens must be a list of strings")
    sent.tokens = [t.strip() for t in tokens]
    if line is not None:
        sent.lines = [line] * max(1, len(tokens))
    for t, tok in enumerate(tokens):
        if not tok:
            problem("empty token", f"token {t + 1} is empty")
        elif not tok.strip():
            problem("whitespace token", f"token {t + 1} is only {whitespace_name(tok)}")
    if _no_tags(tags):
        return sent
    if not isinstance(tags, (list, tuple)):
        return problem("bad record", "tags must be a list")
    if len(tags) != len(tokens):
        sent.tags = ["O"] * len(tokens)
        return problem("tag count", f"{len(tokens)} tokens but {len(tags)} tags")
    out = []
    for tag in tags:
        if isinstance(tag, str):
            out.append(tag.strip())
        elif isinstance(tag, int) and not isinstance(tag, bool):
            names = tag_names
            if names is None:
                names = WIKIANN_LABELS
                if _INT_NOTE not in notes:
                    notes.append(_INT_NOTE)
            if not 0 <= tag < len(names):
                problem("unknown tag", f"unknown tag id {tag} (the label set has {len(names)} names)")
                out.append("O")
            else:
                out.append(names[tag])
        else:
            problem("unknown tag", f"unknown tag {tag!r}")
            out.append("O")
    sent.tags = out
    return sent


def token_record(
    rec: dict, path: str, line: int | None, record: int | None, tag_names: list[str] | None, notes: list[str]
) -> tuple[RawSentence, bool]:
    """A ``{tokens, ner_tags}`` record -> (sentence, whether it has tags)."""
    tok_key = _pick(rec, TOKEN_COLUMNS)
    tag_key = _pick(rec, TAG_COLUMNS)
    tags = rec.get(tag_key) if tag_key else None
    sent = sentence_from_row(
        rec.get(tok_key) if tok_key else None,
        tags,
        path=path,
        line=line,
        record=record,
        tag_names=tag_names,
        notes=notes,
    )
    return sent, not _no_tags(tags)


def find_columns(features: Any, path: str) -> tuple[str, str | None]:
    """The tokens column and the tags column of a table: by common name, else by type."""
    from datasets import ClassLabel

    names = list(features)
    tok = next((c for c in TOKEN_COLUMNS if c in names), None)
    tag = next((c for c in TAG_COLUMNS if c in names), None)
    if tok is None or tag is None:
        for col in names:
            inner = getattr(features[col], "feature", None)
            if inner is None:
                continue
            if tag is None and isinstance(inner, ClassLabel):
                tag = col
            elif tok is None and getattr(inner, "dtype", None) == "string":
                tok = col
    if tok is None:
        raise DataFormatError(
            path, None, f"no tokens column (expected one of {', '.join(TOKEN_COLUMNS)}; found {', '.join(names)})"
        )
    return tok, tag


def reader_from_hf(dataset: Any, path: str) -> ListReader:
    """A `datasets.Dataset` with a tokens column and a tags column -> its sentences (columns by name or type)."""
    from datasets import ClassLabel

    tok_col, tag_col = find_columns(dataset.features, path)
    names = None
    if tag_col is not None:
        inner = getattr(dataset.features[tag_col], "feature", None)
        if isinstance(inner, ClassLabel):
            names = list(inner.names)
    tokens = list(dataset[tok_col])
    tags = list(dataset[tag_col]) if tag_col is not None else [None] * len(tokens)
    notes: list[str] = []
    sentences = [
        sentence_from_row(tok, tag, path=path, line=None, record=i + 1, tag_names=names, notes=notes)
        for i, (tok, tag) in enumerate(zip(tokens, tags, strict=True))
    ]
    labelled = any(s.tags is not None for s in sentences)
    if not labelled:
        for s in sentences:
            s.tags = None
    else:
        for s in sentences:
            if s.tags is None:
                s.tags = ["O"] * len(s.tokens)
                s.problems.append(
                    Problem(
                        "missing tags",
                        path,
                        None,
                        "tags missing for this sentence while others have them",
                        "error",
                        s.record,
                    )
                )
    return ListReader(path, sentences, labelled=labelled, notes=[f"{path}: {n}" for n in notes])
