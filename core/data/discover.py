"""Local files and folders -> one reader per split.

A path can be: one data file (CoNLL-style text, JSON lines, JSON, parquet, a spaCy ``.spacy``
DocBin), a `save_to_disk` folder (DatasetDict or Dataset), or a folder of split files found by
the parts of their names: ``*train*`` -> train, ``*dev*``/``*valid*``/``val`` -> validation,
``*test*`` -> test (``train-bn.tsv``, ``bn_dev_v2.conll``, ``my-test.jsonl``...). What a file
holds is decided by its content, not its extension (`textio.sniff`), except parquet and DocBin.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

from bnner_tui.core.data.conll import ConllReader
from bnner_tui.core.data.raw import ListReader, RawSentence, SplitReader
from bnner_tui.core.errors import BnnerError, DataFormatError

SPLIT_ALIASES = {
    "train": "train",
    "training": "train",
    "dev": "validation",
    "valid": "validation",
    "val": "validation",
    "validation": "validation",
    "test": "test",
    "testing": "test",
}
_SUBSTRINGS = (("train", "train"), ("valid", "validation"), ("dev", "validation"), ("test", "test"))
_SKIP_SUFFIXES = {
    ".md",
    ".py",
    ".bak",
    ".lock",
    ".gz",
    ".zip",
    ".tar",
    ".arrow",
    ".sh",
    ".yaml",
    ".yml",
    ".toml",
    ".cfg",
    ".pdf",
}
_BACKUP = re.compile(r"\.~\d+~$")


def split_of(path: Path) -> str | None:
    """'train-bn.tsv' -> 'train'; 'bn_dev_v2.conll' -> 'validation'; 'README.md' -> None.

    A name part equal to a split name wins; else a part containing exactly one of train, valid,
    dev, test (``mytrain.txt``). A name that matches two splits is not a split file.
    """
    stem = path.name.lower()
    for suffix in (".tsv", ".conll", ".txt", ".jsonl", ".json", ".parquet", ".spacy", ".iob", ".bio", ".csv"):
        if stem.endswith(suffix):
            stem = stem[: -len(suffix)]
            break
    parts = [p for p in re.split(r"[^a-z]+", stem) if p]
    exact = {SPLIT_ALIASES[p] for p in parts if p in SPLIT_ALIASES}
    if len(exact) == 1:
        return exact.pop()
    if exact:
        return None
    found = {split for part in parts for sub, split in _SUBSTRINGS if sub in part}
    return found.pop() if len(found) == 1 else None


def read_file(path: Path) -> SplitReader:
    """One data file of any supported format (by content; parquet and DocBin by their suffix or magic)."""
    from bnner_tui.core.data.textio import _head, sniff

    suffix = path.suffix.lower()
    head = _head(path, 4)
    if suffix == ".parquet" or head == b"PAR1":
        return _read_parquet(path)
    if suffix == ".spacy":
        return _read_docbin(path)
    try:
        kind = sniff(path)
    except DataFormatError as err:  # empty, UTF-16 without BOM...: a problem of this split, found when read
        return BrokenReader(str(path), err)
    if kind in ("json", "jsonl"):
        from bnner_tui.core.data.records import read_records

        return read_records(path, kind)
    return ConllReader(path)


class BrokenReader(SplitReader):
    """A file that cannot be read at all; iterating it raises its one error (so a folder check goes on)."""

    def __init__(self, path: str, err: DataFormatError) -> None:
        self.path = path
        self.err = err
        self.notes = []

    def __iter__(self) -> Iterator[RawSentence]:
        raise self.err


def read_path(path: Path) -> dict[str, SplitReader]:
    """A file or folder -> split name -> reader."""
    if not path.exists():
        raise BnnerError(f"{path} does not exist: give a data file or folder, 'demo', 'wikiann' or 'hub:ID[:CONFIG]'")
    if path.is_file():
        return {split_of(path) or "train": read_file(path)}
    if not path.is_dir():
        raise DataFormatError(path, None, "is not a regular file or folder")
    if (path / "dataset_dict.json").exists() or (path / "state.json").exists():
        return _read_saved(path)
    found: dict[str, Path] = {}
    for child in sorted(path.iterdir()):
        if (
            not child.is_file()
            or child.name.startswith(".")
            or child.suffix.lower() in _SKIP_SUFFIXES
            or _BACKUP.search(child.name)
        ):
            continue
        split = split_of(child)
        if split is None:
            continue
        if split in found:
            raise BnnerError(
                f"{path}: two files for the {split} split ({found[split].name} and {child.name}); keep one"
            )
        found[split] = child
    if not found:
        raise BnnerError(
            f"{path}: no split files found (expected file names containing train, dev or valid, and test, "
            "e.g. train-bn.tsv or bn_dev.conll)"
        )
    return {split: read_file(p) for split, p in found.items()}


def _read_saved(path: Path) -> dict[str, SplitReader]:
    from datasets import Dataset, DatasetDict, load_from_disk

    from bnner_tui.core.data.tables import reader_from_hf

    try:
        ds = load_from_disk(str(path))
    except Exception as err:  # datasets raises several types for a damaged folder
        raise DataFormatError(path, None, f"not a readable save_to_disk folder ({err})") from None
    if isinstance(ds, Dataset):
        return {"train": reader_from_hf(ds, str(path))}
    assert isinstance(ds, DatasetDict)
    return {SPLIT_ALIASES.get(split, split): reader_from_hf(part, f"{path} [{split}]") for split, part in ds.items()}


def _read_parquet(path: Path) -> SplitReader:
    import pyarrow.parquet as pq
    from datasets import Dataset

    from bnner_tui.core.data.tables import reader_from_hf

    try:
        table = pq.read_table(path)
    except Exception as err:  # pyarrow raises ArrowInvalid/OSError for damaged files
        raise DataFormatError(path, None, f"not a readable parquet file ({err})") from None
    return reader_from_hf(Dataset(table), str(path))


def _read_docbin(path: Path) -> SplitReader:
    from bnner_tui.core.data.spacy_io import read_docbin
    from bnner_tui.core.data.spans import Span, spans_to_sentence

    sentences = [
        spans_to_sentence(text, [Span(s, e, lab) for s, e, lab in ents], path=str(path), line=None, record=i + 1)
        for i, (text, _, ents) in enumerate(read_docbin(path))
    ]
    return ListReader(
        str(path), sentences, labelled=True, notes=[f"{path.name}: spaCy DocBin entities put on our words"]
    )
