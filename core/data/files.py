"""Local files and folders -> raw splits.

A path can be: one CoNLL-style text file, a ``.jsonl``/``.json``/``.parquet`` file with
tokens + tags columns, a `save_to_disk` folder (DatasetDict or Dataset), or a folder of
split files named by split (``train-bn.tsv``, ``dev``, ``validation.jsonl``, ``test.conll``...).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from bnner_tui.core.data.conll import RawSplit, parse_conll, read_text
from bnner_tui.core.data.source import TAG_COLUMNS, TOKEN_COLUMNS, raw_from_columns, raw_from_hf
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
_SKIP_SUFFIXES = {".md", ".py", ".bak", ".lock", ".gz", ".zip", ".tar", ".arrow"}


def split_of(path: Path) -> str | None:
    """'train-bn.tsv' -> 'train'; 'dev' -> 'validation'; 'README.md' -> None."""
    first = re.split(r"[-_.]", path.name.lower(), maxsplit=1)[0]
    return SPLIT_ALIASES.get(first)


def read_file(path: Path) -> RawSplit:
    """One data file of any supported format."""
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        return _read_parquet(path)
    if suffix == ".jsonl":
        return _read_jsonl(path)
    if suffix == ".json":
        return _read_json(path)
    return parse_conll(path)


def read_path(path: Path) -> dict[str, RawSplit]:
    """A file or folder -> split name -> RawSplit."""
    if not path.exists():
        raise BnnerError(f"{path} does not exist: give a data file or folder, 'demo', 'wikiann' or 'hub:ID[:CONFIG]'")
    if path.is_file():
        return {split_of(path) or "train": read_file(path)}
    if not path.is_dir():
        raise BnnerError(f"{path} is neither a file nor a folder (a device or a pipe?): give a data file or folder")
    if (path / "dataset_dict.json").exists() or (path / "state.json").exists():
        return _read_saved(path)
    found: dict[str, Path] = {}
    for child in sorted(path.iterdir()):
        if not child.is_file() or child.name.startswith(".") or child.suffix.lower() in _SKIP_SUFFIXES:
            continue
        split = split_of(child)
        if split is None:
            continue
        if split in found:
            raise BnnerError(f"{path}: two files for the {split} split ({found[split].name} and {child.name})")
        found[split] = child
    if not found:
        raise BnnerError(
            f"{path}: no split files found (expected files named train, dev or validation, and test, "
            "e.g. train-bn.tsv or train.conll)"
        )
    return {split: read_file(p) for split, p in found.items()}


def _read_saved(path: Path) -> dict[str, RawSplit]:
    from datasets import Dataset, DatasetDict, load_from_disk

    try:
        ds = load_from_disk(str(path))
    except Exception as err:  # datasets raises several types for a damaged folder
        raise DataFormatError(path, None, f"not a readable save_to_disk folder ({err})") from None
    if isinstance(ds, Dataset):
        return {"train": raw_from_hf(ds, str(path))}
    assert isinstance(ds, DatasetDict)
    out = {}
    for split, part in ds.items():
        key = SPLIT_ALIASES.get(split, split)
        out[key] = raw_from_hf(part, f"{path} [{split}]")
    return out


def _pick(record: dict, names: tuple[str, ...]) -> str | None:
    return next((n for n in names if n in record), None)


def _read_jsonl(path: Path) -> RawSplit:
    text = read_text(path)
    tokens: list = []
    tags: list = []
    lines: list[int] = []
    tok_key = tag_key = None
    for lineno, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except json.JSONDecodeError as err:
            raise DataFormatError(path, lineno, f"not valid JSON ({err.msg})") from None
        if not isinstance(rec, dict):
            raise DataFormatError(path, lineno, "each line must be a JSON object with tokens and tags")
        if tok_key is None:
            tok_key = _pick(rec, TOKEN_COLUMNS)
            tag_key = _pick(rec, TAG_COLUMNS)
            if tok_key is None:
                raise DataFormatError(path, lineno, f"no tokens field (expected one of {', '.join(TOKEN_COLUMNS)})")
        tokens.append(rec.get(tok_key))
        tags.append(rec.get(tag_key) if tag_key else None)
        lines.append(lineno)
    return raw_from_columns(str(path), tokens, tags if tag_key else None, None, row_lines=lines)


def _read_json(path: Path) -> RawSplit:
    text = read_text(path)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise DataFormatError(path, err.lineno, f"not valid JSON ({err.msg})") from None
    if isinstance(data, dict) and "data" in data and isinstance(data["data"], list):
        data = data["data"]
    if isinstance(data, dict):  # columns: {"tokens": [...], "ner_tags": [...]}
        tok_key, tag_key = _pick(data, TOKEN_COLUMNS), _pick(data, TAG_COLUMNS)
        if tok_key is None:
            raise DataFormatError(path, None, f"no tokens column (expected one of {', '.join(TOKEN_COLUMNS)})")
        return raw_from_columns(str(path), data[tok_key], data[tag_key] if tag_key else None, None)
    if isinstance(data, list) and data and isinstance(data[0], dict):
        tok_key, tag_key = _pick(data[0], TOKEN_COLUMNS), _pick(data[0], TAG_COLUMNS)
        if tok_key is None:
            raise DataFormatError(path, None, f"no tokens field (expected one of {', '.join(TOKEN_COLUMNS)})")
        tokens = [r.get(tok_key) if isinstance(r, dict) else None for r in data]
        tags = [r.get(tag_key) if isinstance(r, dict) else None for r in data] if tag_key else None
        return raw_from_columns(str(path), tokens, tags, None)
    raise DataFormatError(
        path, None, "expected a list of {tokens, tags} objects or a {tokens: [...], tags: [...]} table"
    )


def _read_parquet(path: Path) -> RawSplit:
    import pyarrow.parquet as pq
    from datasets import Dataset

    try:
        table = pq.read_table(path)
    except Exception as err:  # pyarrow raises ArrowInvalid/OSError for damaged files
        raise DataFormatError(path, None, f"not a readable parquet file ({err})") from None
    return raw_from_hf(Dataset(table), str(path))
