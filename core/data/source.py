"""From raw sentences to the one dataset shape everything downstream uses.

Every source (demo, hub, file, folder) ends here: tags converted to IOB2, tokens normalised
with the project's one Bengali policy, the label set chosen (WikiANN's when the entity
types fit in PER/ORG/LOC, else the data's own), and a `datasets.DatasetDict` built with
``tokens`` and ``ner_tags`` (ClassLabel).

Unlabelled splits (a test file with tokens only) keep ``ner_tags`` as ``-1`` for every
token — the `datasets` convention for "no label" in ClassLabel columns (GLUE test sets do
the same) — and are listed in `LoadedSource.unlabelled_splits` and in the split's
``info.description``. They are never filled with ``O``: scoring them would print zeros.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bnner_tui.core.data.conll import RawSplit
from bnner_tui.core.data.schemes import (
    SchemeError,
    canonical_scheme,
    detect_scheme,
    entity_types,
    split_tag,
    to_iob2,
)
from bnner_tui.core.errors import BnnerError, DataFormatError
from bnner_tui.core.labels import WIKIANN_LABELS, WIKIANN_TYPES, labels_for_types

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
    IOB2). ``files``: split -> the file it came from, for messages.
    """

    dataset: DatasetDict
    label_names: list[str]
    name: str
    spec: str
    warnings: list[str] = field(default_factory=list)
    scheme: str = "IOB2"
    unlabelled_splits: set[str] = field(default_factory=set)
    files: dict[str, str] = field(default_factory=dict)

    def is_labelled(self, split: str) -> bool:
        return split not in self.unlabelled_splits

    @property
    def splits(self) -> list[str]:
        return list(self.dataset.keys())


def _normalizer() -> Any:
    from bnner_tui.core.textnorm import normalize_token

    return normalize_token


def build_source(
    raw: dict[str, RawSplit],
    *,
    name: str,
    spec: str,
    scheme: str = "auto",
    warnings: list[str] | None = None,
) -> LoadedSource:
    """Convert, normalise and package raw splits; errors name the file and line."""
    import pyarrow as pa
    from datasets import ClassLabel, Dataset, DatasetDict, DatasetInfo, Features, Sequence, Value

    warnings = list(warnings or [])
    scheme_key = canonical_scheme(scheme)
    if not raw:
        raise BnnerError(f"{spec}: no sentences found")
    splits = {k: raw[k] for k in sorted(raw, key=lambda k: SPLIT_ORDER.index(k) if k in SPLIT_ORDER else 99)}
    for split in splits.values():
        warnings.extend(split.notes)

    labelled = {k: v for k, v in splits.items() if v.tags is not None}
    # Detect over all labelled splits together so a small dev file cannot be read differently.
    if scheme_key == "auto" and labelled:
        parsed: list[list[tuple[str, str | None]]] = []
        parsed_all: list[list[tuple[str, str | None]]] | None = parsed
        for split in labelled.values():
            try:
                parsed.extend([[split_tag(t) for t in sent] for sent in split.tags or []])
            except ValueError:
                parsed_all = None  # an unknown tag: the per-split pass below reports it with its line
                break
        if parsed_all is not None:
            offset = 0
            try:
                scheme_key = detect_scheme(parsed_all)
            except SchemeError as err:
                for split in labelled.values():
                    n = len(split.tags or [])
                    if err.sentence < offset + n:
                        raise split.error(err.sentence - offset, err.token, err.problem) from None
                    offset += n
                raise BnnerError(f"{spec}: {err.problem}") from None
    converted: dict[str, list[list[str]] | None] = {}
    used_scheme = "IOB2"
    for key, split in splits.items():
        if split.tags is None:
            converted[key] = None
            continue
        try:
            conv = to_iob2(split.tags, "iob2" if scheme_key == "auto" else scheme_key)
        except SchemeError as err:
            raise split.error(err.sentence, err.token, err.problem) from None
        used_scheme = conv.scheme
        converted[key] = conv.tags
        if conv.repaired:
            warnings.append(
                f"{split.path}: {conv.repaired} I- tag(s) without a preceding B- of the same type were "
                "repaired by IOB2 rules (read as the start of an entity)"
            )

    types = entity_types(t for tags in converted.values() if tags for t in tags)
    if set(types) <= set(WIKIANN_TYPES):
        label_names = list(WIKIANN_LABELS)
    else:
        ordered = [t for t in WIKIANN_TYPES if t in types] + sorted(t for t in types if t not in WIKIANN_TYPES)
        label_names = labels_for_types(ordered)
    label_id = {name_: i for i, name_ in enumerate(label_names)}

    norm = _normalizer()
    seen: dict[str, str] = {}
    features = Features({"tokens": Sequence(Value("string")), "ner_tags": Sequence(ClassLabel(names=label_names))})
    out: dict[str, Any] = {}
    unlabelled: set[str] = set()
    for key, split in splits.items():
        tokens: list[list[str]] = []
        for s, sent in enumerate(split.tokens):
            row: list[str] = []
            for t, tok in enumerate(sent):
                normed = seen.get(tok)
                if normed is None:  # each distinct token is normalised once: names and function words repeat a lot
                    normed = seen[tok] = norm(tok)
                if not normed:
                    raise split.error(s, t, f"empty token after normalisation (raw {tok!r})")
                row.append(normed)
            tokens.append(row)
        tags = converted[key]
        if tags is None:
            ids = [[NO_LABEL] * len(sent) for sent in tokens]
            unlabelled.add(key)
            info = DatasetInfo(description=UNLABELLED_MARK, features=features)
        else:
            ids = [[label_id[t] for t in sent] for sent in tags]
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
        warnings.append(f"split(s) {', '.join(sorted(unlabelled))} have no tags (tokens only): they cannot be scored")
    return LoadedSource(
        dataset=DatasetDict(out),
        label_names=label_names,
        name=name,
        spec=spec,
        warnings=warnings,
        scheme=used_scheme,
        unlabelled_splits=unlabelled,
        files={k: v.path for k, v in splits.items()},
    )


def raw_from_columns(
    path: str,
    tokens: list[Any],
    tags: list[Any] | None,
    tag_names: list[str] | None,
    *,
    row_lines: list[int] | None = None,
) -> RawSplit:
    """Token/tag columns from a table (jsonl, json, parquet, a saved or hub dataset) -> RawSplit.

    Tags may be strings or ints; ints need names (a ClassLabel), except that ints in 0..6
    without names are read in WikiANN's order (with a warning). A split whose tags are all
    missing (None, or -1 everywhere: the datasets "no label" convention) is unlabelled.
    """
    # Errors name the file line of a row when the format has one (jsonl), else the row number.
    lines = (
        [[ln] * max(1, len(t) if isinstance(t, (list, tuple)) else 1) for ln, t in zip(row_lines, tokens, strict=True)]
        if row_lines
        else None
    )
    raw = RawSplit(path=path, tokens=[], tags=None, lines=lines)
    out_tokens: list[list[str]] = []
    for i, sent in enumerate(tokens):
        if not isinstance(sent, (list, tuple)) or not all(isinstance(t, str) for t in sent):
            raise raw.error(i, 0, "tokens must be a list of strings")
        for t, tok in enumerate(sent):
            if not tok.strip():
                raise raw.error(i, t, "empty token")
        out_tokens.append([tok.strip() for tok in sent])
    raw.tokens = out_tokens
    if tags is None or all(
        row is None or (isinstance(row, (list, tuple)) and all(x is None or x == NO_LABEL for x in row)) for row in tags
    ):
        return raw
    out_tags: list[list[str]] = []
    warned = False
    for i, row in enumerate(tags):
        if row is None or not isinstance(row, (list, tuple)):
            raise raw.error(i, 0, "tags missing for this sentence while other sentences have them")
        if len(row) != len(out_tokens[i]):
            raise raw.error(i, 0, f"{len(out_tokens[i])} tokens but {len(row)} tags")
        str_row = []
        for t, tag in enumerate(row):
            if isinstance(tag, str):
                str_row.append(tag.strip())
            elif isinstance(tag, int) and not isinstance(tag, bool):
                names = tag_names
                if names is None:
                    names = WIKIANN_LABELS
                    warned = True
                if not 0 <= tag < len(names):
                    raise raw.error(i, t, f"unknown tag id {tag} (the label set has {len(names)} names)")
                str_row.append(names[tag])
            else:
                raise raw.error(i, t, f"unknown tag {tag!r}")
        out_tags.append(str_row)
    raw.tags = out_tags
    if warned:
        raw.notes.append(
            f"{path}: tags are integers without label names; read in WikiANN's order {', '.join(WIKIANN_LABELS)}"
        )
    return raw


def raw_from_hf(dataset: Any, path: str) -> RawSplit:
    """A `datasets.Dataset` with a tokens column and a tags column -> RawSplit (columns found by name or type)."""
    from datasets import ClassLabel

    tok_col, tag_col = find_columns(dataset.features, path)
    names = None
    if tag_col is not None:
        inner = getattr(dataset.features[tag_col], "feature", None)
        if isinstance(inner, ClassLabel):
            names = list(inner.names)
    tags = dataset[tag_col] if tag_col is not None else None
    return raw_from_columns(path, dataset[tok_col], tags, names)


TOKEN_COLUMNS = ("tokens", "words")
TAG_COLUMNS = ("ner_tags", "tags", "labels", "ner", "ner_labels")


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
