"""What a run leaves in its folder: metrics.json (written here and nowhere else) and the finished model/.

Why one writer: training and `bnner-tui eval` both add scores to the same metrics.json, and
each must keep the other's numbers. `write_metrics` reads what is there, adds one score with
`metrics_document`, and replaces the file atomically; layout in docs/architecture.md.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bnner_tui.core.files import atomic_write_json, publishable_tree


def metrics_document(
    split: str | None,
    entry: dict[str, Any] | None,
    *,
    data_spec: str,
    data_name: str,
    own_data: bool = True,
    train_data: str | None = None,
    best_step: int | None = None,
    best_f1: float | None = None,
    existing: dict[str, Any] | None = None,
    not_scored: str | None = None,
) -> dict[str, Any]:
    """metrics.json with one more score, keyed by data source and split (docs/architecture.md).

    The run's own data keeps its scores under `splits.<split>`; a score on any other data goes to
    `other_data.<source>.splits.<split>`, so evaluating on other data never overwrites the training
    data's numbers. Every entry names its data, split, level and decoding. `not_scored` records
    why a run has no scores at all (no validation split), so the file is complete either way.
    """
    from bnner_tui.core.decoding import DEFAULT_POLICY
    from bnner_tui.core.metrics import data_key

    doc = dict(existing or {})
    doc["level"] = "word"
    doc["scheme"] = "IOB2"
    doc["decoding"] = DEFAULT_POLICY.to_dict()
    if own_data or "data" not in doc:
        spec = train_data or data_spec
        doc["data"] = {"spec": spec, "name": data_name if own_data else (doc.get("data") or {}).get("name", spec)}
    splits = dict(doc.get("splits") or {})
    if entry is not None and split is not None:
        entry = {**entry, "data": data_spec, "data_name": data_name, "split": split, "level": "word"}
        if own_data:
            splits[split] = entry
            doc.pop("not_scored", None)
        else:
            other = dict(doc.get("other_data") or {})
            key = data_key(data_spec)
            node = dict(other.get(key) or {"spec": data_spec, "name": data_name, "splits": {}})
            node["splits"] = {**(node.get("splits") or {}), split: entry}
            other[key] = node
            doc["other_data"] = other
    doc["splits"] = splits
    if not_scored is not None and not splits:
        doc["not_scored"] = not_scored
    if best_step is not None or "best" not in doc:
        doc["best"] = {"step": best_step, "f1": best_f1}
    return doc


def split_entry(full: dict[str, Any], loss: float | None) -> dict[str, Any]:
    """The metrics.json entry for a split (layout in docs/architecture.md), from the last evaluation."""
    entry = {k: v for k, v in full.items() if k != "step"}
    entry["loss"] = loss
    entry["scored_by"] = "training"
    return entry


def read_metrics(path: Path) -> dict[str, Any] | None:
    """The metrics.json already in a run, or None when there is none or it does not parse."""
    if not path.exists():
        return None
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return doc if isinstance(doc, dict) else None


def write_metrics(
    path: Path,
    split: str | None,
    entry: dict[str, Any] | None,
    *,
    data_spec: str,
    data_name: str,
    own_data: bool = True,
    train_data: str | None = None,
    best_step: int | None = None,
    best_f1: float | None = None,
    not_scored: str | None = None,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Add one score (or the reason there is none) to the metrics.json at `path`; returns the document written.

    `extra` are run-level facts set after the scores (training figures, W&B folder, duration).
    """
    doc = metrics_document(
        split,
        entry,
        data_spec=data_spec,
        data_name=data_name,
        own_data=own_data,
        train_data=train_data,
        best_step=best_step,
        best_f1=best_f1,
        existing=read_metrics(path),
        not_scored=not_scored,
    )
    doc.update(extra or {})
    atomic_write_json(path, doc)
    return doc


def save_model(trainer: Any, tokenizer: Any, model_dir: Path) -> Path:
    """The trained weights and the tokenizer in `model_dir`, with the umask's permissions like every file."""
    trainer.save_model(str(model_dir))
    tokenizer.save_pretrained(str(model_dir))
    publishable_tree(model_dir)  # model.safetensors comes out 0600; give it the umask's 0644 like every file
    return model_dir
