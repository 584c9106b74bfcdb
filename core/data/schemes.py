"""Tag schemes: detect which one a file uses and convert it to IOB2 (the one scheme everything else speaks).

Supported: IOB2 (``BIO``), IOB1, BIOES (a.k.a. IOBES), BILOU and IO. Tags are ``O`` or
``<prefix>-<TYPE>``; the prefix letters decide the scheme.

How ``auto`` detection works (over all labelled splits of a source at once, so a tiny
dev file cannot be guessed differently from its train file):

1. any ``E-``/``S-`` prefix -> BIOES; any ``L-``/``U-`` prefix -> BILOU; both -> mixed, an error;
2. only ``I-`` prefixes (no ``B-``) -> IO;
3. ``B-`` and ``I-``: IOB1 if no ``B-`` ever opens an entity after ``O``/another type or at
   a sentence start (IOB1 uses ``B-`` only to split two adjacent same-type entities) and at
   least one entity opens with ``I-``; otherwise IOB2.

In IOB2 an ``I-X`` that does not continue an ``X`` entity is repaired (it opens one, as the
IOB2 rules read it) and counted, so the caller can report a warning. In BIOES/BILOU a
sequence that breaks the scheme (e.g. ``B-X`` followed by ``O``) means two schemes are mixed:
that raises `MixedSchemeError` with the position, which the file readers turn into a
`DataFormatError` naming the file and line.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

SCHEMES = ("auto", "iob2", "iob1", "bioes", "bilou", "io")
SCHEME_NAMES = {"iob2": "IOB2", "iob1": "IOB1", "bioes": "BIOES", "bilou": "BILOU", "io": "IO"}
_ALIASES = {"bio": "iob2", "iobes": "bioes", "auto": "auto"}
_ALLOWED = {
    "iob2": set("BI"),
    "iob1": set("BI"),
    "io": set("I"),
    "bioes": set("BIES"),
    "bilou": set("BILU"),
}
TAG_RE = re.compile(r"^([BIESLU])-(\S+)$")


class SchemeError(ValueError):
    """A tag problem at (sentence index, token index); readers add the file and line."""

    def __init__(self, sentence: int, token: int, problem: str) -> None:
        super().__init__(problem)
        self.sentence = sentence
        self.token = token
        self.problem = problem


class UnknownTagError(SchemeError):
    """A tag that is not ``O`` and not ``<prefix>-<TYPE>`` of the scheme in use."""


class MixedSchemeError(SchemeError):
    """Two schemes in one source."""


@dataclass
class Converted:
    """Tags converted to IOB2, the scheme they came in, and how many I- tags were repaired."""

    tags: list[list[str]]
    scheme: str
    repaired: int


def canonical_scheme(name: str) -> str:
    """User spelling -> one of SCHEMES (``BIO`` is IOB2, ``IOBES`` is BIOES)."""
    key = name.strip().lower().replace("-", "")
    key = _ALIASES.get(key, key)
    if key not in SCHEMES:
        from bnner_tui.core.errors import BnnerError

        raise BnnerError(f"unknown tag scheme {name!r}: use one of auto, iob2 (bio), iob1, bioes (iobes), bilou, io")
    return key


@lru_cache(maxsize=4096)
def split_tag(tag: str) -> tuple[str, str | None]:
    """'B-PER' -> ('B', 'PER'); 'O' -> ('O', None); raises ValueError for anything else."""
    if tag == "O":
        return "O", None
    m = TAG_RE.match(tag)
    if not m:
        raise ValueError(tag)
    return m.group(1), m.group(2)


def _parse_all(tags: Sequence[Sequence[str]]) -> list[list[tuple[str, str | None]]]:
    out = []
    for s, sent in enumerate(tags):
        row = []
        for t, tag in enumerate(sent):
            try:
                row.append(split_tag(tag))
            except ValueError:
                raise UnknownTagError(
                    s, t, f"unknown tag {tag!r} (expected O or B-/I-/E-/S-/L-/U- followed by an entity type)"
                ) from None
        out.append(row)
    return out


def detect_scheme(parsed: Iterable[Sequence[tuple[str, str | None]]]) -> str:
    """Guess the scheme from already-split tags; see the module docstring for the rules."""
    parsed = list(parsed)
    prefixes: set[str] = set()
    first_es = first_lu = None
    for s, sent in enumerate(parsed):
        for t, (p, _) in enumerate(sent):
            prefixes.add(p)
            if p in "ES" and first_es is None:
                first_es = (s, t)
            if p in "LU" and first_lu is None:
                first_lu = (s, t)
    if first_es and first_lu:
        s, t = max(first_es, first_lu)
        raise MixedSchemeError(s, t, "mixed tag schemes: both BIOES (E-/S-) and BILOU (L-/U-) tags")
    if first_es:
        return "bioes"
    if first_lu:
        return "bilou"
    if "B" not in prefixes:
        return "io" if "I" in prefixes else "iob2"
    b_opens = i_opens = False
    for sent in parsed:
        prev: tuple[str, str | None] = ("O", None)
        for p, typ in sent:
            if p == "B" and not (prev[0] in "BI" and prev[1] == typ):
                b_opens = True
            elif p == "I" and not (prev[0] in "BI" and prev[1] == typ):
                i_opens = True
            prev = (p, typ)
        if b_opens:
            break
    return "iob1" if (i_opens and not b_opens) else "iob2"


def _to_iob2(parsed: list[list[tuple[str, str | None]]], scheme: str) -> tuple[list[list[str]], int]:
    allowed = _ALLOWED[scheme]
    out: list[list[str]] = []
    repaired = 0
    for s, sent in enumerate(parsed):
        row: list[str] = []
        prev_p, prev_t = "O", None
        for t, (p, typ) in enumerate(sent):
            if p != "O" and p not in allowed:
                raise MixedSchemeError(
                    s, t, f"tag {p}-{typ} does not belong to the {SCHEME_NAMES[scheme]} scheme used by this source"
                )
            if scheme in ("bioes", "bilou"):
                single, last = ("S", "E") if scheme == "bioes" else ("U", "L")
                is_open = prev_p in ("B", "I")
                continues = p in ("I", last) and is_open and prev_t == typ
                if is_open and not continues:
                    raise MixedSchemeError(
                        s,
                        t - 1,
                        f"mixed tag schemes: {prev_p}-{prev_t} is not closed by {last}-{prev_t} in a "
                        f"{SCHEME_NAMES[scheme]} source (looks like IOB tags mixed in)",
                    )
                if p in ("I", last) and not continues:
                    raise MixedSchemeError(
                        s,
                        t,
                        f"mixed tag schemes: {p}-{typ} without an opening B-{typ} in a {SCHEME_NAMES[scheme]} source",
                    )
                row.append("O" if p == "O" else (f"I-{typ}" if continues else f"B-{typ}"))
                prev_p, prev_t = ("O", None) if p in ("O", single, last) else (p, typ)
                continue
            if p == "O":
                row.append("O")
            elif p == "B":
                row.append(f"B-{typ}")
            elif prev_p in ("B", "I") and prev_t == typ:
                row.append(f"I-{typ}")
            else:  # an I- that opens an entity: IOB1/IO by design, IOB2 by mistake (repaired, counted)
                row.append(f"B-{typ}")
                if scheme == "iob2":
                    repaired += 1
            prev_p, prev_t = p, typ
        if scheme in ("bioes", "bilou") and prev_p in ("B", "I"):
            last = "E" if scheme == "bioes" else "L"
            raise MixedSchemeError(
                s,
                len(sent) - 1,
                f"mixed tag schemes: {prev_p}-{prev_t} ends the sentence without {last}- in a "
                f"{SCHEME_NAMES[scheme]} source",
            )
        out.append(row)
    return out, repaired


def to_iob2(tags: Sequence[Sequence[str]], scheme: str = "auto") -> Converted:
    """Convert sentences of tags to IOB2; ``scheme`` is ``auto`` or one of SCHEMES (aliases allowed)."""
    scheme = canonical_scheme(scheme)
    parsed = _parse_all(tags)
    if scheme == "auto":
        scheme = detect_scheme(parsed)
    converted, repaired = _to_iob2(parsed, scheme)
    return Converted(tags=converted, scheme=SCHEME_NAMES[scheme], repaired=repaired)


def entity_types(tags: Iterable[Sequence[str]]) -> list[str]:
    """Entity types in IOB2 tags, in first-seen order."""
    seen: dict[str, None] = {}
    for sent in tags:
        for tag in sent:
            if tag != "O":
                seen.setdefault(tag[2:], None)
    return list(seen)
