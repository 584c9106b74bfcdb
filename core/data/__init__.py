"""Data sources -> one `datasets.DatasetDict` shape (``tokens`` + ``ner_tags`` ClassLabel).

``load_source(spec)`` accepts (see `spec.DataSpec`):

- ``demo``: the bundled synthetic Bengali demo set (offline default; see ``demo/README.md``);
- ``wikiann``: WikiANN Bengali on the hub (``unimelb-nlp/wikiann``, config ``bn``);
- ``hub:ID[:CONFIG]``: any hub dataset with a tokens column and a tags column;
- a local path: a CoNLL-style file, JSON lines / JSON (token tables, spaCy/Prodigy, doccano,
  Label Studio, ``[text, tags]`` pairs), parquet, a spaCy ``.spacy`` DocBin, a ``save_to_disk``
  folder, or a folder of split files (``*train*``, ``*dev*``/``*valid*``, ``*test*``).

``check_source(spec)`` reads a whole source and returns every problem (`report.CheckReport`).
Nothing heavy is imported here at module level: the CLI imports this package at start-up.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from bnner_tui.core.data.options import LoadOptions
from bnner_tui.core.data.spec import DEMO_NAME, DataSpec

if TYPE_CHECKING:
    from bnner_tui.core.data.raw import SplitReader
    from bnner_tui.core.data.report import CheckReport
    from bnner_tui.core.data.source import LoadedSource

__all__ = [
    "DEMO_DIR",
    "DEMO_NAME",
    "DataSpec",
    "LoadOptions",
    "check_source",
    "describe_spec",
    "load_source",
    "readers_for",
]

DEMO_DIR = Path(__file__).resolve().parent / "demo"


def describe_spec(spec: str) -> str:
    """A short name for a spec, for titles."""
    return DataSpec.parse(spec).display


def readers_for(spec: str | DataSpec) -> tuple[DataSpec, dict[str, SplitReader]]:
    """The parsed spec and one reader per split (files are read when the readers are iterated)."""
    from bnner_tui.core.data.discover import SPLIT_ALIASES, read_path

    ds = spec if isinstance(spec, DataSpec) else DataSpec.parse(spec)
    if ds.kind == "demo":
        return ds, read_path(DEMO_DIR)
    if ds.kind == "hub":
        from bnner_tui.core.data.hub_source import load_hub_dataset
        from bnner_tui.core.data.tables import reader_from_hf

        assert ds.repo_id is not None
        dsd = load_hub_dataset(ds.repo_id, ds.config)
        return ds, {SPLIT_ALIASES.get(k, k): reader_from_hf(v, f"{ds.repo_id} [{k}]") for k, v in dsd.items()}
    assert ds.path is not None
    return ds, read_path(ds.path)


def load_source(
    spec: str = "demo", *, scheme: str = "auto", options: LoadOptions | None = None, **kw: Any
) -> LoadedSource:
    """Load any supported source; bad input raises a `BnnerError` with one sentence naming file and line.

    ``scheme``: ``auto`` (detect; see `schemes`), or ``iob2``/``bio``, ``iob1``, ``bioes``/``iobes``,
    ``bilou``, ``io``. Tags always come out as IOB2. ``options`` (or its fields as keywords:
    ``on_error``, ``label_map``, ``drop``, ``split``, ``seed``; see `LoadOptions.make`) say what to do
    with bad sentences, how to map or drop types and how to re-split one file.
    """
    from bnner_tui.core.data.source import build_source

    if options is None:
        options = LoadOptions.make(scheme=scheme, **kw)
    ds, readers = readers_for(spec)
    return build_source(readers, name=ds.display, spec=ds.text, options=options)


def check_source(
    spec: str = "demo", *, options: LoadOptions | None = None, tokenizer: Any = None, max_length: int = 128
) -> CheckReport:
    """Every problem and warning of a source, read whole (streamed: memory bounded by one sentence)."""
    from bnner_tui.core.data.report import check

    return check(spec, options=options or LoadOptions(), tokenizer=tokenizer, max_length=max_length)
