"""Labels and entity types: the WikiANN label set, and the one parser of a tag string.

Every place that reads a tag (the data readers, scheme detection, the label mapping given
with ``--map``/``--drop``) goes through `parse_tag`, so a tag means the same everywhere.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

WIKIANN_LABELS: list[str] = ["O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC"]
WIKIANN_TYPES: list[str] = ["PER", "ORG", "LOC"]

# The value the Trainer's loss and seqeval ignore: special tokens and non-first pieces.
IGNORE_INDEX = -100

PREFIXES = "BIESLU"
BARE = ""  # the prefix of a bare type such as ``TIM``: an IO tag (see core.data.schemes)
_PREFIXED_RE = re.compile(r"^([BIESLU])[-_](\S+)$")
# A bare type: capital letters, digits and ``_``/``.``/``-``, starting with a letter (``TIM``,
# ``PERSON``, ``WORK_OF_ART``). Anything else (``B-``, ``[bold]X``, ``0``, a lowercase word that
# slipped into the tag column) is unknown.
_BARE_RE = re.compile(r"^[A-Z][A-Z0-9_.\-]*$")
# Types on either side of a --map (and prefixed types): any case.
_TYPE_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_.\-]*$")


@lru_cache(maxsize=8192)
def parse_tag(tag: str) -> tuple[str, str | None]:
    """'B-PER' -> ('B', 'PER'); 'O' -> ('O', None); 'TIM' -> ('', 'TIM'); ValueError otherwise.

    ``B_PER`` is read like ``B-PER`` (some exports use an underscore). A bare type has prefix
    ``''``: callers decide what it means (an IO tag: it continues or opens a span).
    """
    if tag == "O":
        return "O", None
    m = _PREFIXED_RE.match(tag)
    if m:
        return m.group(1), m.group(2)
    if _BARE_RE.match(tag) and tag.upper() not in ("B", "I", "E", "S", "L", "U"):
        return BARE, tag
    raise ValueError(tag)


def entity_type(label: str) -> str | None:
    """'B-PER' -> 'PER'; 'O' -> None (also for a string that is not a tag)."""
    try:
        return parse_tag(label)[1]
    except ValueError:
        return None


def labels_for_types(types: list[str]) -> list[str]:
    """IOB2 label list for entity types, WikiANN's order when the types are WikiANN's."""
    out = ["O"]
    for t in types:
        out += [f"B-{t}", f"I-{t}"]
    return out


def label_names_for(types: Iterable[str]) -> list[str]:
    """WikiANN's label list when the types fit in PER/ORG/LOC, else WikiANN's types first then the rest sorted."""
    found = set(types)
    if found <= set(WIKIANN_TYPES):
        return list(WIKIANN_LABELS)
    ordered = [t for t in WIKIANN_TYPES if t in found] + sorted(t for t in found if t not in WIKIANN_TYPES)
    return labels_for_types(ordered)


def parse_label_map(items: Iterable[str]) -> dict[str, str]:
    """``["PERSON=PER", "GPE=LOC"]`` -> ``{"PERSON": "PER", "GPE": "LOC"}``; ValueError with one sentence.

    Both sides are entity types, not tags: ``PERSON=PER`` maps ``B-PERSON``, ``I-PERSON`` and a bare
    ``PERSON``. ``A=O`` drops the type (the same as ``--drop A``).
    """
    out: dict[str, str] = {}
    for item in items:
        src, sep, dst = str(item).partition("=")
        src, dst = src.strip(), dst.strip()
        if not sep or not src or not dst:
            raise ValueError(f"label mapping {item!r} is not TYPE=TYPE (e.g. PERSON=PER)")
        for side in (src, dst):
            if side != "O" and not _TYPE_RE.match(side):
                raise ValueError(f"label mapping {item!r}: {side!r} is not an entity type (letters, digits, _)")
        if src in out and out[src] != dst:
            raise ValueError(f"label mapping gives {src} twice ({src}={out[src]} and {item})")
        out[src] = dst
    return out
