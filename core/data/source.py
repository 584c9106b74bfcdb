"""From readers to the one dataset shape everything downstream uses.

Every source (demo, hub, file, folder) ends here: the two passes of `checks` (tags parsed,
mapped, converted to IOB2, tokens normalised, every problem collected with its line), the
label set chosen (WikiANN's when the entity types fit in PER/ORG/LOC, else the data's own),
and a `datasets.DatasetDict` built with ``tokens`` and ``ner_tags`` (ClassLabel).

A source with problems stops with one sentence naming the first, how many more there are and
the command that lists them (`DataProblemsError`); with ``on_error="skip"`` every bad sentence
is dropped whole and a warning says how many, where and why.

Unlabelled splits (a test file with tokens only) keep ``ner_tags`` as ``-1`` for every
token — the `datasets` convention for "no label" in ClassLabel columns (GLUE test sets do
the same) — and are listed in `LoadedSource.unlabelled_splits` and in the split's
``info.description``. They are never filled with ``O``: scoring them would print zeros.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bnner_tui.core.data.checks import Checker
from bnner_tui.core.data.options import LoadOptions
from bnner_tui.core.data.problems import DataProblemsError, Problem, Problems, lines_text
from bnner_tui.core.data.raw import SplitReader
from bnner_tui.core.errors import BnnerError, DataFormatError
from bnner_tui.core.labels import label_names_for

if TYPE_CHECKING:
    from datasets import DatasetDict

SPLIT_ORDER = ("train", "validation", "test")
UNLABELLED_MARK = "bnner-tui: unlabelled split (ner_tags are -1, the datasets convention for no label)"
NO_LABEL = -1


@dataclass
class LoadedSource:
    """A loaded dataset and what a person should know about it.

    ``dataset``: splits ``train``/``validation``/``test`` where present, columns ``tokens``
    (list of str, normalised) and ``ner_tags`` (list of ClassLabel over ``label_names``).
    ``unlabelled_splits``: splits that carry no gold tags (``ner_tags`` are -1); evaluation
    must say "no labels" for them. ``scheme``: the tag scheme the data came in (converted to
    IOB2). ``files``: split -> the file it came from, for messages. ``problems``: every error
    and warning found; ``skipped``: sentences dropped by ``on_error="skip"``.
    """

    dataset: DatasetDict
    label_names: list[str]
    name: str
    spec: str
    warnings: list[str] = field(default_factory=list)
    scheme: str = "IOB2"
    unlabelled_splits: set[str] = field(default_factory=set)
    files: dict[str, str] = field(default_factory=dict)
    problems: Problems = field(default_factory=Problems)
    skipped: int = 0
    options: LoadOptions = field(default_factory=LoadOptions)

    def is_labelled(self, split: str) -> bool:
        return split not in self.unlabelled_splits

    @property
    def splits(self) -> list[str]:
        return list(self.dataset.keys())


def ordered(readers: dict[str, Any]) -> dict[str, Any]:
    return {k: readers[k] for k in sorted(readers, key=lambda k: SPLIT_ORDER.index(k) if k in SPLIT_ORDER else 99)}


@dataclass
class Scan:
    """The good sentences of every split after both passes, and what the checker found."""

    checker: Checker
    kept: dict[str, list[tuple[list[str], list[str] | None]]]
    labelled: dict[str, bool]
    bad: dict[str, list[Problem]]  # split -> first error of each dropped sentence
    notes: list[str]
    read_sentences: dict[str, int]


def read_error(checker: Checker, split: str, reader: SplitReader, err: DataFormatError) -> None:
    checker.problems.add(Problem("unreadable file", err.path, err.line, err.problem, "error", None, split))


def scan(readers: dict[str, SplitReader], options: LoadOptions, *, max_length: int | None = None) -> Scan:
    """Both passes over in-memory-able readers (each reader is iterated once; sentences are kept)."""
    checker = Checker(options, max_length=max_length)
    held: dict[str, list[Any]] = {}
    notes: list[str] = []
    for split, reader in ordered(readers).items():
        rows: list[Any] = []
        try:
            for sent in reader:
                rows.append((sent, None))
            labelled = bool(reader.labelled)
            for j, (sent, _) in enumerate(rows):
                rows[j] = (sent, checker.observe(split, reader.path, j, sent, labelled))
        except DataFormatError as err:
            read_error(checker, split, reader, err)
            rows = []
        notes.extend(reader.notes)
        if hasattr(reader, "file_warnings"):
            checker.problems.extend(reader.file_warnings())
        if not rows and not any(p.split == split and p.kind == "unreadable file" for p in checker.problems.items):
            checker.problems.add(Problem("no sentences", reader.path, None, "no sentences found", "error", None, split))
        held[split] = rows
    checker.decide()
    kept: dict[str, list[tuple[list[str], list[str] | None]]] = {}
    bad: dict[str, list[Problem]] = {}
    labelled_of: dict[str, bool] = {}
    for split, rows in held.items():
        reader = readers[split]
        labelled_of[split] = bool(reader.labelled)
        out = []
        for sent, parsed in rows:
            res = checker.convert(split, reader.path, sent, parsed, bad=sent.bad)
            if res is None:
                first = next(p for p in sent.problems if p.severity == "error")
                bad.setdefault(split, []).append(first)
            else:
                out.append(res)
        kept[split] = out
    checker.finish()
    return Scan(checker, kept, labelled_of, bad, notes, {k: len(v) for k, v in held.items()})


def resplit(kept: dict[str, list[Any]], options: LoadOptions, spec: str) -> dict[str, list[Any]]:
    """One split -> train/validation/test by ``options.split`` percentages, shuffled with ``options.seed``."""
    if options.split is None:
        return kept
    if len(kept) != 1:
        raise BnnerError(f"{spec} already has the splits {', '.join(kept)}; --split divides a source of one file only")
    rows = next(iter(kept.values()))
    order = list(range(len(rows)))
    random.Random(options.seed).shuffle(order)
    a, b, _ = options.split
    n_train = round(len(rows) * a / 100)
    n_val = round(len(rows) * b / 100)
    parts = {"train": order[:n_train], "validation": order[n_train : n_train + n_val], "test": order[n_train + n_val :]}
    return {k: [rows[i] for i in sorted(v)] for k, v in parts.items() if v}


def skip_report(scan_: Scan) -> list[str]:
    """One warning per split with dropped sentences: how many, which lines, why (kinds with counts)."""
    out = []
    for split, firsts in scan_.bad.items():
        kinds = Counter(p.kind for p in firsts)
        lines = [p.line for p in firsts if p.line is not None]
        where = lines_text(lines, 12) if lines else f"records {', '.join(str(p.record) for p in firsts[:12])}"
        out.append(
            f"{firsts[0].path}: skipped {len(firsts):,} of {scan_.read_sentences.get(split, 0):,} sentence(s) "
            "with problems "
            f"({', '.join(f'{k}: {n}' for k, n in kinds.most_common())}) at {where}"
        )
    return out


def build_source(
    readers: dict[str, SplitReader],
    *,
    name: str,
    spec: str,
    options: LoadOptions | None = None,
    warnings: list[str] | None = None,
) -> LoadedSource:
    """Check, convert, normalise and package the splits; problems stop the load unless skipping."""
    import pyarrow as pa
    from datasets import ClassLabel, Dataset, DatasetDict, DatasetInfo, Features, Sequence, Value

    options = options or LoadOptions()
    if not readers:
        raise BnnerError(f"{spec}: no sentences found")
    sc = scan(readers, options)
    problems = sc.checker.problems
    if problems.count("error") and options.on_error != "skip":
        raise DataProblemsError(spec, problems)
    fatal = [p for p in problems.errors if p.kind in ("unreadable file", "no sentences")]
    kept = {k: v for k, v in sc.kept.items() if v}
    if not kept:
        first = fatal[0] if fatal else (problems.errors[0] if problems.errors else None)
        raise DataFormatError(
            first.path if first else spec,
            first.line if first else None,
            "no sentence loads" + (f" ({first.detail})" if first else ""),
        )
    warns: list[str] = []
    if options.on_error == "skip":  # first: the screen shows the first few warnings
        warns += skip_report(sc) + [f"{p}: {p.kind}, split left out" for p in fatal]
    warns += list(warnings or []) + sc.notes
    warns += [str(p) for p in problems.warnings]
    labelled_of = dict(sc.labelled)
    kept = resplit(kept, options, spec)
    if options.split:
        only = next(iter(sc.labelled.values()))
        labelled_of = {k: only for k in kept}
        warns.append(
            f"split into {', '.join(f'{k} {len(v):,}' for k, v in kept.items())} sentences ({options.describe()})"
        )

    types: dict[str, None] = {}
    for rows in kept.values():
        for _, tags in rows:
            for tag in tags or []:
                if tag != "O":
                    types.setdefault(tag[2:], None)
    label_names = label_names_for(types)
    label_id = {n: i for i, n in enumerate(label_names)}
    features = Features({"tokens": Sequence(Value("string")), "ner_tags": Sequence(ClassLabel(names=label_names))})
    out: dict[str, Any] = {}
    unlabelled: set[str] = set()
    for key, rows in kept.items():
        tokens = [r[0] for r in rows]
        if not labelled_of.get(key, True):
            ids = [[NO_LABEL] * len(t) for t in tokens]
            unlabelled.add(key)
            info = DatasetInfo(description=UNLABELLED_MARK, features=features)
        else:
            ids = [[label_id[t] for t in (r[1] or [])] for r in rows]
            info = DatasetInfo(features=features)
        # Straight to Arrow: Dataset.from_dict would re-encode every example through the features (~3x slower).
        table = pa.table(
            {
                "tokens": pa.array(tokens, type=pa.list_(pa.string())),
                "ner_tags": pa.array(ids, type=pa.list_(pa.int64())),
            }
        )
        out[key] = Dataset(table, info=info)
    if unlabelled:
        warns.append(f"split(s) {', '.join(sorted(unlabelled))} have no tags (tokens only): they cannot be scored")
    return LoadedSource(
        dataset=DatasetDict(out),
        label_names=label_names,
        name=name,
        spec=spec,
        warnings=warns,
        scheme=sc.checker.scheme_name,
        unlabelled_splits=unlabelled,
        files={k: readers[k].path for k in readers}
        if not options.split
        else {k: next(iter(readers.values())).path for k in kept},
        problems=problems,
        skipped=sum(len(v) for v in sc.bad.values()),
        options=options,
    )
