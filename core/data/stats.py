"""Dataset numbers a person checks before training: sizes, entities per type, subword lengths.

Piece lengths count what the model sees: the tokenizer's pieces for the words of a sentence
plus its special tokens ([CLS]/[SEP] for BERT), with truncation off, so "over max length"
is the number of sentences that training at that max length would cut.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from bnner_tui.core.data.source import LoadedSource


@dataclass
class PieceStats:
    """Subword lengths of one split under one tokenizer (special tokens included)."""

    p50: float
    p95: float
    max: int
    over_max_length: int
    max_length: int


@dataclass
class SplitStats:
    split: str
    sentences: int
    tokens: int
    labelled: bool
    entities: dict[str, int] = field(default_factory=dict)  # type -> count of entities (B- tags)
    tags: dict[str, int] = field(default_factory=dict)  # label name -> count
    pieces: PieceStats | None = None

    @property
    def total_entities(self) -> int:
        return sum(self.entities.values())


@dataclass
class DataStats:
    name: str
    label_names: list[str]
    types: list[str]
    splits: list[SplitStats]


def _piece_lengths(tokenizer: Any, sentences: list[list[str]]) -> list[int]:
    from tokenizers import Tokenizer

    tok = tokenizer
    if tok.truncation is not None or tok.padding is not None:
        tok = Tokenizer.from_str(tokenizer.to_str())  # a private copy: never change the caller's settings
        tok.no_truncation()
        tok.no_padding()
    if not sentences:
        return []
    encodings = tok.encode_batch(sentences, is_pretokenized=True, add_special_tokens=True)
    return [len(e.ids) for e in encodings]


def piece_stats(lengths: Sequence[int], max_length: int) -> PieceStats:
    """Percentiles (numpy's linear interpolation), max and count over `max_length`: the one rule
    that `bnner-tui data stats` and the Data screen's histogram both show."""
    import numpy as np

    arr = np.asarray(list(lengths) or [0])
    return PieceStats(
        p50=float(np.percentile(arr, 50)),
        p95=float(np.percentile(arr, 95)),
        max=int(arr.max()),
        over_max_length=int((arr > max_length).sum()),
        max_length=max_length,
    )


def compute_stats(source: LoadedSource, *, tokenizer: Any = None, max_length: int = 128) -> DataStats:
    """Counts per split; piece-length percentiles when a `tokenizers.Tokenizer` is given."""

    names = source.label_names
    types = [n[2:] for n in names if n.startswith("B-")]
    out = []
    for split, ds in source.dataset.items():
        tokens = list(ds["tokens"])  # datasets >= 4 returns a lazy Column
        labelled = source.is_labelled(split)
        st = SplitStats(split=split, sentences=len(tokens), tokens=sum(len(t) for t in tokens), labelled=labelled)
        if labelled:
            counts: Counter[int] = Counter()
            for row in ds["ner_tags"]:
                counts.update(row)
            st.tags = {names[i]: counts.get(i, 0) for i in range(len(names))}
            st.entities = {t: st.tags.get(f"B-{t}", 0) for t in types}
        if tokenizer is not None:
            st.pieces = piece_stats(_piece_lengths(tokenizer, tokens), max_length)
        out.append(st)
    return DataStats(name=source.name, label_names=names, types=types, splits=out)


def stats_from_stream(result: Any, name: str, *, max_length: int = 128) -> DataStats:
    """The same numbers as `compute_stats`, from a streamed read (`stream.stream_scan`) of a source."""
    from bnner_tui.core.labels import label_names_for

    names = label_names_for(result.types)
    types = [n[2:] for n in names if n.startswith("B-")]
    out = []
    for split, c in result.splits.items():
        st = SplitStats(split=split, sentences=c.kept, tokens=c.tokens, labelled=c.labelled)
        if c.labelled:
            st.tags = {n: c.tags.get(n, 0) for n in names}
            st.entities = {t: c.entities.get(t, 0) for t in types}
        if len(c.pieces) or result.checker.piece_count is not None:
            st.pieces = piece_stats(c.pieces, max_length)
        out.append(st)
    return DataStats(name=name, label_names=names, types=types, splits=out)
