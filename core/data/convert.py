"""Write a loaded source as jsonl / conll / parquet, safely.

Every file is written to a temporary file in the target folder and moved into place with
``os.replace``, so a crash never leaves half a file. An existing file is never overwritten
unless ``force`` is set, and then the old one is kept as ``<name>.~N~`` (core.files).

Output shapes (each reads back with `load_source` to the same dataset):

- ``conll``: ``token<TAB>tag`` lines, a blank line between sentences; an unlabelled split
  is written as tokens only;
- ``jsonl``: one ``{"tokens": [...], "ner_tags": ["B-PER", ...]}`` object per line (tag
  names, not ids, so the file means the same without its label list); ``ner_tags`` is
  ``null`` for an unlabelled split;
- ``parquet``: written by `datasets` (``ner_tags`` as ClassLabel ids with the names in the
  file's schema metadata; -1 for an unlabelled split);
- for annotation tools (`toolfmt`): ``spacy`` (spaCy/Prodigy JSONL: ``text``, ``tokens``,
  ``spans``), ``doccano`` (JSONL: ``text``, ``label`` as ``[start, end, type]``), ``labelstudio``
  (a JSON list of tasks with ``annotations``), ``docbin`` (a spaCy ``.spacy`` file; needs the
  ``bnner-tui[spacy]`` extra). The text is the words joined by single spaces, so the words
  read back identically with our splitter.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from bnner_tui.core.data.conll import format_conll
from bnner_tui.core.data.source import LoadedSource
from bnner_tui.core.errors import BnnerError
from bnner_tui.core.files import atomic_write_via, keep_backup

FORMATS = {
    "conll": ".conll",
    "jsonl": ".jsonl",
    "parquet": ".parquet",
    "spacy": ".jsonl",
    "doccano": ".jsonl",
    "labelstudio": ".json",
    "docbin": ".spacy",
}
_SUFFIX_FORMAT = {
    ".conll": "conll",
    ".tsv": "conll",
    ".txt": "conll",
    ".jsonl": "jsonl",
    ".parquet": "parquet",
    ".json": "labelstudio",
    ".spacy": "docbin",
}


def _exists_message(target: Path) -> str:
    return f"{target} already exists; use --force to replace it (the old file is then kept as {target.name}.~N~)"


def _atomic_write(target: Path, write: Callable[[Path], None], *, force: bool) -> None:
    if target.exists():
        if not force:
            raise BnnerError(_exists_message(target))
        keep_backup(target)
    atomic_write_via(target, write)


def _writer(source: LoadedSource, split: str, fmt: str) -> Callable[[Path], None]:
    ds = source.dataset[split]
    names = source.label_names
    labelled = source.is_labelled(split)

    def write(tmp: Path) -> None:
        if fmt == "parquet":
            ds.to_parquet(str(tmp))
            return
        tokens = ds["tokens"]
        tags = [[names[i] for i in row] for row in ds["ner_tags"]] if labelled else None
        if fmt in ("spacy", "doccano", "labelstudio", "docbin"):
            from bnner_tui.core.data.toolfmt import write_tool_format

            write_tool_format(tmp, fmt, list(tokens), tags)
            return
        if fmt == "conll":
            tmp.write_text(format_conll(tokens, tags), encoding="utf-8")
        else:
            with open(tmp, "w", encoding="utf-8") as fh:
                for s, sent in enumerate(tokens):
                    rec = {"tokens": sent, "ner_tags": tags[s] if tags is not None else None}
                    fh.write(json.dumps(rec, ensure_ascii=False) + "\n")

    return write


def format_for(out: Path, fmt: str | None) -> str:
    """The output format: given, or from the file suffix, else conll."""
    if fmt:
        fmt = fmt.lower()
        if fmt not in FORMATS:
            raise BnnerError(f"unknown format {fmt!r}: use one of {', '.join(FORMATS)}")
        return fmt
    return _SUFFIX_FORMAT.get(out.suffix.lower(), "conll")


def convert(
    source: LoadedSource,
    out: str | Path,
    *,
    fmt: str | None = None,
    split: str | None = None,
    force: bool = False,
) -> list[Path]:
    """Write the source; returns the files written.

    ``out`` with a data suffix (``.conll``, ``.tsv``, ``.jsonl``, ``.parquet``) is one file and
    needs one split (``split``, or a source with a single split). Otherwise ``out`` is a
    folder that gets ``train``/``validation``/``test`` files, which `load_source` reads back.
    """
    out = Path(out).expanduser()
    fmt = format_for(out, fmt)
    splits = list(source.dataset.keys())
    if split is not None and split not in splits:
        raise BnnerError(f"{source.name} has no split {split!r} (it has {', '.join(splits)})")
    is_file = out.suffix.lower() in _SUFFIX_FORMAT
    written: list[Path] = []
    if is_file:
        if split is None:
            if len(splits) != 1:
                raise BnnerError(
                    f"{out} is one file but {source.name} has {len(splits)} splits: "
                    "give --split, or an output folder (no suffix) for all of them"
                )
            split = splits[0]
        _atomic_write(out, _writer(source, split, fmt), force=force)
        return [out]
    if out.exists() and not out.is_dir():
        raise BnnerError(f"{out} exists and is not a folder")
    targets = [(s, out / f"{s}{FORMATS[fmt]}") for s in ([split] if split else splits)]
    if not force:
        for _, target in targets:
            if target.exists():
                raise BnnerError(_exists_message(target))
    for s, target in targets:
        _atomic_write(target, _writer(source, s, fmt), force=force)
        written.append(target)
    return written
