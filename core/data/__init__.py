"""Data sources -> one `datasets.DatasetDict` shape (``tokens`` + ``ner_tags`` ClassLabel).

``load_source(spec)`` accepts:

- ``demo``: the bundled synthetic Bengali demo set (offline default; see ``demo/README.md``);
- ``wikiann``: WikiANN Bengali on the hub (``unimelb-nlp/wikiann``, config ``bn``);
- ``hub:ID[:CONFIG]``: any hub dataset with a tokens column and a tags column;
- a local path: a CoNLL-style file, ``.jsonl``/``.json``/``.parquet``, a ``save_to_disk``
  folder, or a folder of split files (``train-bn.tsv``/``dev-bn.tsv``/``test-bn.tsv``...).

Nothing heavy is imported here at module level: the CLI imports this package at start-up.
"""

from __future__ import annotations

from pathlib import Path

from bnner_tui.core.data.source import LoadedSource

__all__ = ["DEMO_DIR", "LoadedSource", "describe_spec", "load_source"]

DEMO_DIR = Path(__file__).resolve().parent / "demo"
DEMO_NAME = "demo set (synthetic, bundled)"


def describe_spec(spec: str) -> str:
    """A short name for a spec, for titles."""
    if spec == "demo":
        return DEMO_NAME
    if spec == "wikiann":
        return "WikiANN bn (hub: unimelb-nlp/wikiann, bn)"
    if spec.startswith("hub:"):
        return f"hub dataset {spec[4:]}"
    return str(spec)


def load_source(spec: str = "demo", *, scheme: str = "auto") -> LoadedSource:
    """Load any supported source; bad input raises a `BnnerError` with one sentence naming file and line.

    ``scheme``: ``auto`` (detect; see `schemes`), or ``iob2``/``bio``, ``iob1``, ``bioes``/``iobes``,
    ``bilou``, ``io``. Tags always come out as IOB2.
    """
    from bnner_tui.core.data.source import build_source

    spec = str(spec).strip() or "demo"
    if spec == "demo":
        from bnner_tui.core.data.files import read_path

        return build_source(read_path(DEMO_DIR), name=DEMO_NAME, spec=spec, scheme=scheme)
    if spec == "wikiann" or spec.startswith("hub:"):
        from bnner_tui.core.data.files import SPLIT_ALIASES
        from bnner_tui.core.data.hub import load_hub_dataset, parse_hub_spec
        from bnner_tui.core.data.source import raw_from_hf

        repo_id, config = parse_hub_spec(spec)
        dsd = load_hub_dataset(repo_id, config)
        raw = {SPLIT_ALIASES.get(k, k): raw_from_hf(v, f"{repo_id} [{k}]") for k, v in dsd.items()}
        return build_source(raw, name=describe_spec(spec), spec=spec, scheme=scheme)
    from bnner_tui.core.data.files import read_path

    path = Path(spec).expanduser()
    return build_source(read_path(path), name=str(path), spec=spec, scheme=scheme)
