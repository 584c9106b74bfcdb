"""Character spans and tokenizer-aligned tags -> tags on the project's own words (`core.textnorm.split_words`).

Annotation tools store entities as character offsets into a text (spaCy/Prodigy, doccano,
Label Studio). We split the text with the one splitter the tagger uses too, so a model sees
the same words at training and at tagging time, and put each span on the words it covers.
A span whose edges do not fall on word edges is reported with its line and text, never
moved silently (whitespace at a span's edges is trimmed: tools often include it).

``[text, tags]`` pairs carry tags for some other tokenizer's tokens. When our splitter gives
as many words as there are tags, the tags are used as they are; otherwise, when the spaCy
extra is installed, the tags are put on spaCy's Bengali tokens, turned into spans and mapped
onto our words the same way. A sentence that still does not align is reported.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bnner_tui.core.data.problems import Problem
from bnner_tui.core.data.raw import RawSentence


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    label: str


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def words_of(text: str) -> list[tuple[str, int, int]]:
    """(normalised word, raw start, raw end) by the project's splitter."""
    from bnner_tui.core.textnorm import split_words

    return [(w.text, w.start, w.end) for w in split_words(text)]


def spans_to_sentence(
    text: str,
    spans: Sequence[Span],
    *,
    path: str,
    line: int | None,
    record: int | None,
    words: list[tuple[str, int, int]] | None = None,
) -> RawSentence:
    """Words of ``text`` with IOB2 tags from ``spans``; problems attached (never a moved span)."""
    words = words_of(text) if words is None else words
    sent = RawSentence([w for w, _, _ in words], ["O"] * len(words), None, record=record if line is None else None)
    if line is not None:
        sent.lines = [line] * max(1, len(words))

    def problem(kind: str, detail: str) -> None:
        sent.problems.append(Problem(kind, path, line, detail, "error", sent.record))

    if not words:
        problem("no words", "the text has no words" if not text.strip() else f"no words in {_short(text)!r}")
        sent.lines = [line] if line is not None else None
        return sent
    starts = {s: i for i, (_, s, _) in enumerate(words)}
    ends = {e: i for i, (_, _, e) in enumerate(words)}
    taken: dict[int, Span] = {}
    for span in sorted(spans, key=lambda x: (x.start, x.end)):
        a, b = span.start, span.end
        if not (isinstance(a, int) and isinstance(b, int)) or not 0 <= a < b <= len(text):
            problem("bad span", f"span {a}-{b} ({span.label}) is outside the text of {len(text)} characters")
            continue
        while a < b and text[a].isspace():
            a += 1
        while b > a and text[b - 1].isspace():
            b -= 1
        i, j = starts.get(a), ends.get(b)
        if i is None or j is None or j < i:
            problem(
                "span off word boundaries",
                f"span {span.start}-{span.end} {text[span.start : span.end]!r} ({span.label}) does not fall on word "
                f"boundaries (the words there: {' '.join(w for w, s, e in words if e > a and s < b)})",
            )
            continue
        clash = next((taken[k] for k in range(i, j + 1) if k in taken), None)
        if clash is not None:
            problem(
                "overlapping spans",
                f"span {text[a:b]!r} ({span.label}) overlaps span {text[clash.start : clash.end]!r} ({clash.label})",
            )
            continue
        assert sent.tags is not None
        for k in range(i, j + 1):
            taken[k] = span
            sent.tags[k] = f"{'B' if k == i else 'I'}-{span.label}"
    return sent


def tags_to_spans(tokens: Sequence[tuple[int, int]], iob2: Sequence[str]) -> list[Span]:
    """Token (start, end) offsets + IOB2 tags -> character spans."""
    out: list[Span] = []
    cur: list[int] | None = None  # [start, end] of the open span
    label = ""
    for (s, e), tag in zip(tokens, iob2, strict=True):
        if tag.startswith("I-") and cur is not None and tag[2:] == label:
            cur[1] = e
            continue
        if cur is not None:
            out.append(Span(cur[0], cur[1], label))
            cur = None
        if tag != "O":
            cur, label = [s, e], tag[2:]
    if cur is not None:
        out.append(Span(cur[0], cur[1], label))
    return out


def pair_to_sentence(
    text: str,
    tags: list[str],
    *,
    scheme: str,
    path: str,
    line: int | None,
    record: int | None,
) -> RawSentence:
    """One ``[text, tags]`` pair -> our words with IOB2 tags (see the module docstring)."""
    from bnner_tui.core.data.schemes import SchemeError, convert_sentence, parse_sentence
    from bnner_tui.core.data.spacy_io import spacy_tokens

    words = words_of(text)

    def failed(kind: str, detail: str) -> RawSentence:
        sent = RawSentence(
            [w for w, _, _ in words] or [text], list(tags) if len(tags) == len(words) else ["O"] * max(1, len(words))
        )
        sent.lines = [line] * len(sent.tokens) if line is not None else None
        sent.record = record if line is None else None
        sent.problems.append(Problem(kind, path, line, detail, "error", sent.record))
        return sent

    try:
        iob2, _ = convert_sentence(parse_sentence(tags), scheme)
    except SchemeError as err:
        return failed("unknown tag" if "unknown tag" in err.problem else "mixed schemes", err.problem)
    if len(words) == len(tags):
        offsets = [(s, e) for _, s, e in words]
        return spans_to_sentence(text, tags_to_spans(offsets, iob2), words=words, path=path, line=line, record=record)
    toks = spacy_tokens(text)
    if toks is not None and len(toks) == len(tags):
        keep = [(s, e, t) for (s, e, space), t in zip(toks, iob2, strict=True) if not space]
        spans = tags_to_spans([(s, e) for s, e, _ in keep], [t for _, _, t in keep])
        return spans_to_sentence(text, spans, words=words, path=path, line=line, record=record)
    how = "our splitter" if toks is None else "our splitter and spaCy's Bengali tokenizer"
    hint = "; installing bnner-tui[spacy] aligns to spaCy's Bengali tokenizer" if toks is None else ""
    return failed(
        "unaligned tags",
        f"{len(tags)} tags but {len(words)} words by {how}"
        + (f" ({len(toks)} spaCy tokens)" if toks is not None else "")
        + f": words {_short(' | '.join(w for w, _, _ in words), 80)!r}, tags {_short(' '.join(tags), 80)!r}{hint}",
    )
