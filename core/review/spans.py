"""Label edits at the entity level, always valid IOB2: what a suggestion is, and what "set a span" does.

Why spans and not single words: a word-level correction that turns the middle of `B-ORG I-ORG`
into `I-LOC` would leave IOB2 that no scorer reads the way the annotator meant. Every edit here
ends with `repair`, the IOB2 reading of a stray `I-X` (it opens an entity), so a corrected
sentence is always well-formed.
"""

from __future__ import annotations

from collections.abc import Sequence


def type_of(label: str) -> str | None:
    return None if label == "O" or "-" not in label else label.split("-", 1)[1]


def repair(labels: Sequence[str]) -> list[str]:
    """IOB2 by construction: an `I-X` that does not continue an `X` entity becomes `B-X`."""
    out = list(labels)
    for i, lab in enumerate(out):
        if lab.startswith("I-"):
            prev = out[i - 1] if i > 0 else "O"
            if type_of(prev) != lab[2:]:
                out[i] = "B-" + lab[2:]
    return out


def span_at(labels: Sequence[str], i: int) -> tuple[int, int]:
    """[start, end) of the entity containing word i (just i itself when it is O)."""
    if type_of(labels[i]) is None:
        return i, i + 1
    start = i
    while start > 0 and labels[start].startswith("I-") and type_of(labels[start - 1]) == type_of(labels[i]):
        start -= 1
    end = i + 1
    while end < len(labels) and labels[end].startswith("I-") and type_of(labels[end]) == type_of(labels[i]):
        end += 1
    return start, end


def set_span(labels: Sequence[str], start: int, end: int, kind: str | None) -> list[str]:
    """Words [start, end) become one `kind` entity (B- then I-), or all O when kind is None/'O'."""
    if not 0 <= start < end <= len(labels):
        raise ValueError(f"span {start}..{end} is outside the sentence of {len(labels)} words")
    out = list(labels)
    for i in range(start, end):
        out[i] = "O" if kind in (None, "O") else (f"B-{kind}" if i == start else f"I-{kind}")
    return repair(out)


def suggest_labels(given: Sequence[str], predicted: Sequence[str], flagged: Sequence[int]) -> list[str]:
    """The model's labels over the flagged words and the entity spans they touch (given or predicted); else given."""
    region: set[int] = set()
    for w in flagged:
        for labels in (given, predicted):
            s, e = span_at(labels, w)
            region.update(range(s, e))
    out = [predicted[i] if i in region else given[i] for i in range(len(given))]
    return repair(out)


def kinds_of(given: Sequence[str], suggested: Sequence[str]) -> list[str]:
    """What kind of change a suggestion is, per differing word: type, missed, spurious or boundary (sorted, unique)."""
    kinds: set[str] = set()
    for g, s in zip(given, suggested, strict=True):
        if g == s:
            continue
        tg, ts = type_of(g), type_of(s)
        if tg is None:
            kinds.add("missed")
        elif ts is None:
            kinds.add("spurious")
        elif tg != ts:
            kinds.add("type")
        else:
            kinds.add("boundary")
    return sorted(kinds)


def types_in(*label_lists: Sequence[str]) -> list[str]:
    """Entity types appearing in any of the label lists (for the type filter)."""
    found = {t for labels in label_lists for t in (type_of(x) for x in labels) if t}
    return sorted(found)
