"""The rules every sentence of every source goes through, in two passes that can stream.

Pass 1 (`Checker.observe`): tags parsed (`core.labels.parse_tag`), ``--map``/``--drop`` applied,
evidence for the tag scheme gathered, and suspicious tags noted (``B-O``, a type seen a
handful of times beside thousands of another, two types that differ only by case).
After pass 1 the scheme is decided (`Checker.decide`). Pass 2 (`Checker.convert`): each
sentence converted to IOB2 (mixed schemes and repaired I- tags found, with lines) and its
tokens normalised. Any error marks its sentence bad; the caller drops bad sentences whole
or stops. Both the loader (sentences in memory) and `data stats`/`data check` (a file read
twice, memory bounded by one sentence) use these same two passes, so they cannot disagree.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache

from bnner_tui.core.data.options import LoadOptions
from bnner_tui.core.data.problems import Problem, Problems, lines_text
from bnner_tui.core.data.raw import RawSentence
from bnner_tui.core.data.schemes import SCHEME_NAMES, UNKNOWN_TAG_HELP, SchemeError, SchemeEvidence, convert_sentence
from bnner_tui.core.labels import parse_tag

Parsed = list[tuple[str, "str | None"]]
RARE_BELOW = 10  # a type with fewer examples than this ...
RARE_BESIDE = 100  # ... while another type has at least this many is worth a warning


@lru_cache(maxsize=200_000)
def _norm(token: str) -> str:
    from bnner_tui.core.textnorm import normalize_token

    return normalize_token(token)


@dataclass
class _Where:
    lines: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))  # path -> lines (first few)
    count: int = 0

    def add(self, path: str, line: int | None, keep: int = 50) -> None:
        self.count += 1
        if line is not None and len(self.lines[path]) < keep:
            self.lines[path].append(line)

    def text(self) -> str:
        return "; ".join(f"{p} {lines_text(ls)}" for p, ls in self.lines.items() if ls)

    def first(self) -> tuple[str, int | None]:
        for p, ls in self.lines.items():
            return p, (ls[0] if ls else None)
        return "", None


class Checker:
    """Two-pass checks of a source (see the module docstring); problems go to ``self.problems``."""

    def __init__(
        self,
        options: LoadOptions,
        *,
        max_length: int | None = None,
        piece_count: Callable[[list[str]], int] | None = None,
    ) -> None:
        self.options = options
        self.problems = Problems()
        self.evidence = SchemeEvidence()
        self.types: dict[str, _Where] = defaultdict(_Where)
        self.type_splits: dict[str, set[str]] = defaultdict(set)
        self.b_o = _Where()
        self.repaired = _Where()
        self.long = _Where()
        self.labelled_splits: set[str] = set()
        self.scheme = "iob2"
        self.seen = 0
        self.max_length = max_length
        self.piece_count = piece_count

    # ---- pass 1 ----
    def observe(
        self, split: str, path: str, index: int, sent: RawSentence, labelled: bool, *, record: bool = True
    ) -> Parsed | None:
        """Record the sentence's reading problems and tags; returns its mapped (prefix, type) tags.

        ``record=False`` only parses (the second read of a streamed file: everything was recorded once).
        """
        if not record:
            return self._parse_quiet(sent) if labelled and sent.tags is not None else None
        for found in sent.problems:
            self.problems.add(_with_split(found, split))
        if labelled and sent.tags is None:
            missing = sent.problem(path, 0, "missing tags", "tags missing for this sentence while others have them")
            sent.problems.append(missing)
            self.problems.add(_with_split(missing, split))
        if sent.tags is None or not labelled:
            return None
        self.labelled_splits.add(split)
        parsed: Parsed = []
        mapping = self.options.label_map
        for t, tag in enumerate(sent.tags):
            try:
                p, typ = parse_tag(tag)
            except ValueError:
                if tag:  # an empty tag was reported by the reader
                    self._error(sent, split, path, t, "unknown tag", f"unknown tag {tag!r} ({UNKNOWN_TAG_HELP})")
                parsed.append(("O", None))
                continue
            if typ is not None:
                typ = mapping.get(typ, typ)
                if typ == "O" and p != "O":
                    if tag.upper() in ("B-O", "I-O") or tag[2:] == "O":
                        self.b_o.add(path, sent.line_of(t))
                    p, typ = "O", None
            if typ is not None:
                self.types[typ].add(path, sent.line_of(t))
                self.type_splits[typ].add(split)
            parsed.append((p, typ))
        if not sent.bad:
            self.seen += 1
            self.evidence.add(parsed, (self.seen,))  # reading order: "first seen" across splits
        return parsed

    def _parse_quiet(self, sent: RawSentence) -> Parsed:
        mapping = self.options.label_map
        out: Parsed = []
        for tag in sent.tags or []:
            try:
                p, typ = parse_tag(tag)
            except ValueError:
                out.append(("O", None))
                continue
            if typ is not None:
                typ = mapping.get(typ, typ)
                if typ == "O":
                    p, typ = "O", None
            out.append((p, typ))
        return out

    def _error(self, sent: RawSentence, split: str, path: str, token: int, kind: str, detail: str) -> None:
        p = sent.problem(path, token, kind, detail)
        sent.problems.append(p)
        self.problems.add(_with_split(p, split))

    def decide(self) -> str:
        """The scheme to convert with (given, or detected over every labelled split); adds source-wide warnings."""
        self.scheme = self.evidence.decide() if self.options.scheme == "auto" else self.options.scheme
        self._tag_warnings()
        return self.scheme

    @property
    def scheme_name(self) -> str:
        return SCHEME_NAMES[self.scheme]

    def _tag_warnings(self) -> None:
        warn = self._warn
        if self.b_o.count:
            p, line = self.b_o.first()
            warn(
                "suspicious tag",
                p,
                line,
                f"{self.b_o.count} tag(s) B-O/I-O look truncated and were read as O ({self.b_o.text()})",
            )
        counts = {t: w.count for t, w in self.types.items()}
        top = max(counts.values(), default=0)
        top_type = max(counts, key=lambda t: counts[t]) if counts else ""
        for typ, w in sorted(self.types.items()):
            if w.count < RARE_BELOW and top >= RARE_BESIDE:
                p, line = w.first()
                warn(
                    "rare type",
                    p,
                    line,
                    f"type {typ} has only {w.count} tag(s) while {top_type} has {top:,}: "
                    f"a typo, or too few to learn ({w.text()})",
                )
        by_case: dict[str, list[str]] = defaultdict(list)
        for typ in counts:
            by_case[typ.upper()].append(typ)
        for group in by_case.values():
            if len(group) > 1:
                group.sort(key=lambda t: -counts[t])
                minor = self.types[group[1]]
                p, line = minor.first()
                warn(
                    "suspicious tag",
                    p,
                    line,
                    f"types {' and '.join(group)} differ only by case "
                    f"({', '.join(f'{t}: {counts[t]:,}' for t in group)}); "
                    f"--map {group[1]}={group[0]} merges them ({group[1]} at {minor.text()})",
                )
        if len(self.labelled_splits) > 1:
            for typ, splits in sorted(self.type_splits.items()):
                if len(splits) == 1:
                    p, line = self.types[typ].first()
                    warn("label in one split", p, line, f"type {typ} appears only in the {next(iter(splits))} split")

    def _warn(self, kind: str, path: str, line: int | None, detail: str) -> None:
        self.problems.add(Problem(kind, path, line, detail, "warning"))

    # ---- pass 2 ----
    def convert(
        self, split: str, path: str, sent: RawSentence, parsed: Parsed | None, *, bad: bool
    ) -> tuple[list[str], list[str] | None] | None:
        """(normalised tokens, IOB2 tags or None) for a good sentence; None for a bad one (problems recorded).

        ``bad``: the sentence had an error in pass 1.
        """
        if bad:
            return None
        iob2 = None
        if parsed is not None:
            try:
                iob2, repaired = convert_sentence(parsed, self.scheme)
            except SchemeError as err:
                self._error(sent, split, path, err.token, "mixed schemes", err.problem)
                return None
            for t in repaired:
                self.repaired.add(path, sent.line_of(t), keep=10_000)
        tokens = []
        for t, tok in enumerate(sent.tokens):
            n = _norm(tok)
            if not n:
                self._error(
                    sent,
                    split,
                    path,
                    t,
                    "empty after normalisation",
                    f"empty token after normalisation (raw {tok!r}: only invisible characters)",
                )
                return None
            tokens.append(n)
        if self.max_length is not None:
            size = self.piece_count(tokens) if self.piece_count else len(tokens) + 2
            if size > self.max_length:
                self.long.add(path, sent.line, keep=200)
        return tokens, iob2

    def finish(self) -> None:
        """Warnings only known after pass 2."""
        if self.repaired.count:
            p, line = self.repaired.first()
            self._warn(
                "repaired I- tag",
                p,
                line,
                f"{self.repaired.count} I- tag(s) without a preceding B- of the same type were repaired by IOB2 rules "
                f"(read as the start of an entity): {self.repaired.text()}",
            )
        if self.long.count:
            p, line = self.long.first()
            unit = "pieces" if self.piece_count else "words (+2 special tokens)"
            self._warn(
                "longer than max length",
                p,
                line,
                f"{self.long.count} sentence(s) longer than the model's max length {self.max_length} in {unit}: "
                f"training truncates them ({self.long.text()})",
            )


def _with_split(p: Problem, split: str) -> Problem:
    if p.split == split:
        return p
    return Problem(p.kind, p.path, p.line, p.detail, p.severity, p.record, split)
