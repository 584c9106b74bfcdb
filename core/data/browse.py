"""The rules of browsing a split: search text, entity types per sample, piece lengths, warnings.

The Data screen shows these; they live here so `bnner-tui data stats` and the screen compute
the same numbers the same way (the histogram's percentiles are `core.data.stats.piece_stats`),
and so a test needs no app to check them.
"""

from __future__ import annotations

import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

HIST_EDGES = (16, 32, 64, 128, 256, 512)


@dataclass
class SplitRows:
    """One split as plain lists, with what search and filters need precomputed."""

    tokens: list[list[str]]
    tags: list[list[int]]
    search_text: list[str]
    types: list[frozenset[str]]
    entities: list[int]

    def __len__(self) -> int:
        return len(self.tokens)


@dataclass
class PieceInfo:
    """Per sample, under one tokenizer: piece count (specials included, untruncated) and [UNK] presence."""

    lengths: list[int]
    has_unk: list[bool]


def entity_types_of(tags: Sequence[int], label_names: Sequence[str]) -> tuple[frozenset[str], int]:
    types: set[str] = set()
    count = 0
    for t in tags:
        if 0 <= t < len(label_names):
            name = label_names[t]
            if name.startswith("B-"):
                count += 1
                types.add(name[2:])
            elif name.startswith("I-"):
                types.add(name[2:])
    return frozenset(types), count


def entity_counts(tags: Iterable[Sequence[int]], label_names: Sequence[str]) -> dict[str, int]:
    """Entities per type in a split, every type of the label set (zero included): one per B- tag.

    The rule `bnner-tui data stats` counts by; the Data screen's panel shows these numbers.
    """
    counts: Counter[int] = Counter()
    for row in tags:
        counts.update(row)
    return {name[2:]: counts.get(i, 0) for i, name in enumerate(label_names) if name.startswith("B-")}


def split_rows(tokens: list[list[str]], tags: list[list[int]], label_names: Sequence[str]) -> SplitRows:
    search, types, entities = [], [], []
    for toks, tg in zip(tokens, tags, strict=False):
        search.append(" ".join(toks).casefold())
        ts, n = entity_types_of(tg, label_names)
        types.append(ts)
        entities.append(n)
    return SplitRows(tokens, tags, search, types, entities)


def normalize_query(query: str) -> str:
    """The user's search goes through the same normalisation as the data (nukta, ZWJ, NFC)."""
    from bnner_tui.core.textnorm import normalize_token

    return " ".join(normalize_token(w) for w in query.split()).casefold()


def code_points(word: str, sep: str = "\n") -> str:
    """Each code point as `U+09A1  BENGALI LETTER DDA`, one per line by default, so nukta and
    ZWJ/ZWNJ become visible whatever the terminal draws."""
    return sep.join(f"U+{ord(ch):04X}  {unicodedata.name(ch, '<unnamed>')}" for ch in word)


def histogram(lengths: Sequence[int], max_length: int, width: int = 24, bins: int = 6) -> str:
    """Piece-length histogram as text bars, then p50/p95/max and how many exceed max length.

    Long-sentence data (WikiANN with mBERT reaches hundreds) gets the fixed power-of-two edges,
    so two datasets compare; short data gets even buckets so the bars say something.
    """
    if not lengths:
        return ""
    top_len = max(lengths)
    if top_len > 64:
        edges = [e for e in HIST_EDGES if e < top_len] + [top_len]
    else:
        step = max(1, -(-top_len // bins))
        edges = [*range(step, top_len, step), top_len]
    counts = [0] * len(edges)
    for n in lengths:
        for i, e in enumerate(edges):
            if n <= e:
                counts[i] += 1
                break
    top = max(counts) or 1
    rows = []
    lo = 0
    for e, c in zip(edges, counts, strict=True):
        bar = "█" * max(1 if c else 0, round(width * c / top))
        rows.append(f"{lo + 1:>4}-{e:<4} {bar} {c}")
        lo = e
    from bnner_tui.core.data.stats import piece_stats

    p = piece_stats(lengths, max_length)
    rows.append(f"p50 {p.p50:g}  p95 {p.p95:g}  max {p.max}  > {max_length}: {p.over_max_length}")
    return "\n".join(rows)


def piece_info(tokenizer: Any, tokens: list[list[str]]) -> PieceInfo:
    """Untruncated piece counts (specials included) and [UNK] presence for every sample, via core's batch path."""
    from bnner_tui.core.align import align_batch

    unk_id = _unk_id(tokenizer)
    lengths: list[int] = []
    has_unk: list[bool] = []
    step = 2000
    for start in range(0, len(tokens), step):
        out = align_batch(
            {"tokens": tokens[start : start + step]}, tokenizer=tokenizer, label_names=["O"], max_length=1 << 30
        )
        for ids in out["input_ids"]:
            lengths.append(len(ids))
            has_unk.append(unk_id is not None and unk_id in ids)
    return PieceInfo(lengths, has_unk)


def _unk_id(tokenizer: Any) -> int | None:
    unk = getattr(tokenizer.model, "unk_token", None)
    return tokenizer.token_to_id(unk) if unk else None


def sample_warnings(words: Sequence[str], al: Any, max_length: int) -> list[str]:
    """UNK words, decode mismatches and truncation for one sample, one line each."""
    out = []
    unk = list(al.unk_words)
    if unk:
        shown = ", ".join(words[i] for i in unk[:5])
        out.append(f"? {len(unk)} word(s) became [UNK]: {shown}")
    mismatch = list(al.mismatch_words)
    if mismatch:
        shown = ", ".join(words[i] for i in mismatch[:5])
        out.append(f"≠ {len(mismatch)} word(s) do not decode back to themselves: {shown}")
    if al.truncated:
        # The words the cut took, not `dropped_words` (words that have no piece even untruncated).
        cut = list(al.words_cut_by_truncation)
        kept = {w for w in al.word_ids if w is not None}
        whole = [i for i in cut if i not in kept]
        line = (
            f"✂ {al.n_pieces_untruncated} pieces > max length {max_length}: "
            f"{len(whole)} word(s) after the cut get no piece and no label"
        )
        if len(cut) > len(whole):
            n = len(cut) - len(whole)
            line += f"; {n} {'loses its' if n == 1 else 'lose their'} last pieces"
        out.append(line)
    return out
