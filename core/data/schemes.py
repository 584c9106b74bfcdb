"""Tag schemes: detect which one a file uses and convert it to IOB2 (the one scheme everything else speaks).

Supported: IOB2 (``BIO``), IOB1, BIOES (a.k.a. IOBES), BILOU and IO. Tags are ``O``,
``<prefix>-<TYPE>`` (parsed by `core.labels.parse_tag`), or a **bare type** (``TIM``, ``PER``).
A bare type is an IO tag: it continues a span of the same type just before it, else opens
one (the IOB1 rule). Bare types may be mixed with prefixed tags (a corpus with prefixed
PER/ORG/LOC and a bare ``TIM``): the prefixed ones keep their scheme's meaning, and a bare
type that opens a span is never counted as a repair.

How ``auto`` detection works (over all labelled splits of a source at once, so a tiny
dev file cannot be guessed differently from its train file):

1. any ``E-``/``S-`` prefix -> BIOES; any ``L-``/``U-`` prefix -> BILOU; both -> mixed, an error;
2. only ``I-`` prefixes and bare types (no ``B-``) -> IO;
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

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from bnner_tui.core.labels import BARE, parse_tag

SCHEMES = ("auto", "iob2", "iob1", "bioes", "bilou", "io")
SCHEME_NAMES = {"iob2": "IOB2", "iob1": "IOB1", "bioes": "BIOES", "bilou": "BILOU", "io": "IO"}
_ALIASES = {"bio": "iob2", "iobes": "bioes", "auto": "auto"}
_ALLOWED = {
    "iob2": set("BI"),
    "iob1": set("BI"),
    "io": set("BI"),  # B- tags beside bare/I- ones keep their meaning
    "bioes": set("BIES"),
    "bilou": set("BILU"),
}
Parsed = list[tuple[str, "str | None"]]


class SchemeError(ValueError):
    """A tag problem at (sentence index, token index); readers add the file and line."""

    def __init__(self, sentence: int, token: int, problem: str) -> None:
        super().__init__(problem)
        self.sentence = sentence
        self.token = token
        self.problem = problem


class UnknownTagError(SchemeError):
    """A tag that is not ``O``, ``<prefix>-<TYPE>`` or a bare type."""


class MixedSchemeError(SchemeError):
    """Two schemes in one source."""


@dataclass
class Converted:
    """Tags converted to IOB2, the scheme they came in, and how many I- tags were repaired."""

    tags: list[list[str]]
    scheme: str
    repaired: int
    repaired_at: list[tuple[int, int]] = field(default_factory=list)  # (sentence, token)


def canonical_scheme(name: str) -> str:
    """User spelling -> one of SCHEMES (``BIO`` is IOB2, ``IOBES`` is BIOES)."""
    key = name.strip().lower().replace("-", "")
    key = _ALIASES.get(key, key)
    if key not in SCHEMES:
        from bnner_tui.core.errors import BnnerError

        raise BnnerError(f"unknown tag scheme {name!r}: use one of auto, iob2 (bio), iob1, bioes (iobes), bilou, io")
    return key


def split_tag(tag: str) -> tuple[str, str | None]:
    """'B-PER' -> ('B', 'PER'); 'O' -> ('O', None); 'TIM' -> ('', 'TIM'); ValueError otherwise."""
    return parse_tag(tag)


UNKNOWN_TAG_HELP = "expected O, B-/I-/E-/S-/L-/U- followed by an entity type, or a bare type such as PER"


def parse_sentence(tags: Sequence[str], sentence: int = 0) -> Parsed:
    """Tags of one sentence -> (prefix, type) pairs; UnknownTagError at the first bad tag."""
    row: Parsed = []
    for t, tag in enumerate(tags):
        try:
            row.append(parse_tag(tag))
        except ValueError:
            raise UnknownTagError(sentence, t, f"unknown tag {tag!r} ({UNKNOWN_TAG_HELP})") from None
    return row


@dataclass
class SchemeEvidence:
    """What `detect` needs, gathered one sentence at a time (so a file can be streamed)."""

    prefixes: set[str] = field(default_factory=set)
    first_es: tuple[Any, ...] | None = None  # where the first E-/S- was (a comparable tuple)
    first_lu: tuple[Any, ...] | None = None
    b_opens: bool = False
    i_opens: bool = False

    def add(self, parsed: Sequence[tuple[str, str | None]], where: tuple[Any, ...] = ()) -> None:
        prev: tuple[str, str | None] = ("O", None)
        for p, typ in parsed:
            self.prefixes.add(p)
            if p in ("E", "S") and self.first_es is None:
                self.first_es = where
            if p in ("L", "U") and self.first_lu is None:
                self.first_lu = where
            if p in ("B", "I") or p == BARE:
                continues = (prev[0] in ("B", "I") or prev[0] == BARE) and prev[1] == typ
                if p == "B" and not continues:
                    self.b_opens = True
                elif p == "I" and not continues:
                    self.i_opens = True
            prev = (p, typ)

    @property
    def mixed(self) -> bool:
        """Both BIOES and BILOU prefixes: the later one is a mixed-scheme problem."""
        return self.first_es is not None and self.first_lu is not None

    def decide(self) -> str:
        """The scheme (a SCHEMES key); with both E-/S- and L-/U-, the one seen first."""
        if self.first_es is not None and self.first_lu is not None:
            return "bioes" if self.first_es <= self.first_lu else "bilou"
        if self.first_es is not None:
            return "bioes"
        if self.first_lu is not None:
            return "bilou"
        if "B" not in self.prefixes:
            return "io" if ("I" in self.prefixes or BARE in self.prefixes) else "iob2"
        return "iob1" if (self.i_opens and not self.b_opens) else "iob2"


def detect_scheme(parsed: Iterable[Sequence[tuple[str, str | None]]]) -> str:
    """Guess the scheme from already-split tags; see the module docstring for the rules."""
    ev = SchemeEvidence()
    for s, sent in enumerate(parsed):
        ev.add(sent, (s,))
    if ev.mixed:
        assert ev.first_es is not None and ev.first_lu is not None
        s, t = max(ev.first_es, ev.first_lu)[0], 0
        raise MixedSchemeError(s, t, "mixed tag schemes: both BIOES (E-/S-) and BILOU (L-/U-) tags")
    return ev.decide()


def convert_sentence(sent: Sequence[tuple[str, str | None]], scheme: str, s: int = 0) -> tuple[list[str], list[int]]:
    """One parsed sentence -> (IOB2 tags, token indexes of repaired I- tags); MixedSchemeError on a break."""
    allowed = _ALLOWED[scheme]
    row: list[str] = []
    repaired: list[int] = []
    prev_p, prev_t = "O", None
    for t, (p, typ) in enumerate(sent):
        if p == BARE:
            if scheme in ("bioes", "bilou"):
                raise MixedSchemeError(s, t, f"bare type {typ} in a {SCHEME_NAMES[scheme]} source (expected a prefix)")
            p = "I" if (prev_p in ("B", "I") and prev_t == typ) else "B"
            row.append(f"{p}-{typ}")
            prev_p, prev_t = p, typ
            continue
        if p != "O" and p not in allowed:
            raise MixedSchemeError(
                s,
                t,
                f"mixed tag schemes: tag {p}-{typ} does not belong to the {SCHEME_NAMES[scheme]} scheme "
                "used by this source",
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
                repaired.append(t)
        prev_p, prev_t = p, typ
    if scheme in ("bioes", "bilou") and prev_p in ("B", "I"):
        last = "E" if scheme == "bioes" else "L"
        raise MixedSchemeError(
            s,
            len(sent) - 1,
            f"mixed tag schemes: {prev_p}-{prev_t} ends the sentence without {last}- in a "
            f"{SCHEME_NAMES[scheme]} source",
        )
    return row, repaired


def to_iob2(tags: Sequence[Sequence[str]], scheme: str = "auto") -> Converted:
    """Convert sentences of tags to IOB2; ``scheme`` is ``auto`` or one of SCHEMES (aliases allowed)."""
    scheme = canonical_scheme(scheme)
    parsed = [parse_sentence(sent, s) for s, sent in enumerate(tags)]
    if scheme == "auto":
        scheme = detect_scheme(parsed)
    out: list[list[str]] = []
    at: list[tuple[int, int]] = []
    for s, sent in enumerate(parsed):
        row, rep = convert_sentence(sent, scheme, s)
        out.append(row)
        at.extend((s, t) for t in rep)
    return Converted(tags=out, scheme=SCHEME_NAMES[scheme], repaired=len(at), repaired_at=at)


def entity_types(tags: Iterable[Sequence[str]]) -> list[str]:
    """Entity types in IOB2 tags, in first-seen order."""
    seen: dict[str, None] = {}
    for sent in tags:
        for tag in sent:
            if tag != "O":
                seen.setdefault(tag[2:], None)
    return list(seen)
