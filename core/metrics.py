"""Metrics that mean what they say: entity-level seqeval at the WORD level.

Why word level: a NER dataset labels words, and a user tags words. The notebook recipe this
project replaces copied each word's label to every subword piece and scored the pieces, so a
long entity split into many pieces counted many times and F1 came out inflated. Here each
word is judged by the prediction of its FIRST piece (what a tagger shows a user), entities
are scored with seqeval's strict IOB2 mode, and the tutorial's piece-level number is only
ever reported next to it, labelled `piece_level`, so users can see the inflation.

seqeval imports scikit-learn (slow), so it is imported inside functions.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from bnner_tui.core.labels import IGNORE_INDEX

# A sequence of per-piece word indices (None for special tokens), as `align_batch` stores them.
WordIds = Sequence[int | None]


def _as_label_ids(predictions: Any) -> np.ndarray | list:
    """Accept logits (n, L, C) or label ids (n, L); ragged lists pass through unchanged."""
    if isinstance(predictions, (list, tuple)) and predictions and not np.isscalar(predictions[0]):
        lengths = {len(p) for p in predictions}
        if len(lengths) > 1:
            return [np.asarray(p) for p in predictions]
    arr = np.asarray(predictions)
    if arr.ndim == 3:
        arr = arr.argmax(-1)
    return arr


def first_piece_mask(word_ids: WordIds) -> list[bool]:
    """True at the first piece of each word: the one position that speaks for the word."""
    mask: list[bool] = []
    prev: int | None = None
    for w in word_ids:
        mask.append(w is not None and w != prev)
        if w is not None:
            prev = w
        else:
            prev = None
    return mask


def word_sequences(
    predictions: Any,
    labels: Any,
    label_names: Sequence[str],
    word_ids: Sequence[WordIds] | None = None,
) -> tuple[list[list[str]], list[list[str]]]:
    """Gold and predicted label sequences, one label per WORD.

    Without `word_ids` (the `first` strategy) the words are the positions whose gold label
    is not -100. With `word_ids` (strategies `all`/`all-b2i`, where every piece carries a
    label) the words are the first pieces found from the word ids, and the word's gold label
    is the label its first piece carries (for `all-b2i` that is the word's own B- or I-).
    """
    preds = _as_label_ids(predictions)
    y_true: list[list[str]] = []
    y_pred: list[list[str]] = []
    for i in range(len(labels)):
        lab = np.asarray(labels[i])
        pred = np.asarray(preds[i])
        if word_ids is None:
            positions = [j for j in range(len(lab)) if lab[j] != IGNORE_INDEX]
        else:
            mask = first_piece_mask(word_ids[i])
            positions = [j for j, m in enumerate(mask) if m and j < len(lab) and lab[j] != IGNORE_INDEX]
        y_true.append([label_names[int(lab[j])] for j in positions])
        y_pred.append([_safe_name(label_names, int(pred[j])) for j in positions])
    return y_true, y_pred


def piece_sequences(
    predictions: Any, labels: Any, label_names: Sequence[str]
) -> tuple[list[list[str]], list[list[str]]]:
    """Every labelled piece as if it were a word: the tutorial's (inflated) view."""
    return word_sequences(predictions, labels, label_names, word_ids=None)


def _safe_name(label_names: Sequence[str], idx: int) -> str:
    """A padded prediction (-100) or an id beyond the label set counts as 'O', never a crash."""
    return label_names[idx] if 0 <= idx < len(label_names) else "O"


def score_sequences(y_true: list[list[str]], y_pred: list[list[str]]) -> dict[str, Any]:
    """seqeval strict IOB2 entity scores, overall and per type, plus label accuracy."""
    from seqeval.metrics import accuracy_score, classification_report
    from seqeval.scheme import IOB2

    n_labels = sum(len(s) for s in y_true)
    accuracy = float(accuracy_score(y_true, y_pred)) if n_labels else 0.0
    report = classification_report(y_true, y_pred, mode="strict", scheme=IOB2, output_dict=True, zero_division=0)
    per_type: dict[str, dict[str, float | int]] = {}
    for name, row in report.items():
        if name in ("micro avg", "macro avg", "weighted avg"):
            continue
        per_type[name] = {
            "precision": float(row["precision"]),
            "recall": float(row["recall"]),
            "f1": float(row["f1-score"]),
            "support": int(row["support"]),
        }
    micro = report.get("micro avg", {"precision": 0.0, "recall": 0.0, "f1-score": 0.0})
    overall = {
        "precision": float(micro["precision"]),
        "recall": float(micro["recall"]),
        "f1": float(micro["f1-score"]),
        "accuracy": accuracy,
    }
    return {"overall": overall, "per_type": dict(sorted(per_type.items()))}


def confusion_matrix(y_true: list[list[str]], y_pred: list[list[str]], label_names: Sequence[str]) -> dict[str, Any]:
    """Per-label confusion counts at the word level: rows = gold, columns = predicted."""
    index = {name: i for i, name in enumerate(label_names)}
    matrix = [[0] * len(label_names) for _ in label_names]
    for t_seq, p_seq in zip(y_true, y_pred, strict=True):
        for t, p in zip(t_seq, p_seq, strict=True):
            matrix[index[t]][index.get(p, index.get("O", 0))] += 1
    return {"labels": list(label_names), "matrix": matrix}


def compute_word_metrics(
    predictions: Any,
    labels: Any,
    label_names: Sequence[str],
    word_ids: Sequence[WordIds] | None = None,
    *,
    with_confusion: bool = True,
) -> dict[str, Any]:
    """Word-level strict IOB2 entity scores: {'overall', 'per_type', 'confusion'}.

    `predictions` are logits (n, L, C) or ids (n, L) aligned with `labels` (n, L, -100 where
    ignored). Pass `word_ids` when every piece is labelled (strategies `all`/`all-b2i`).
    """
    y_true, y_pred = word_sequences(predictions, labels, label_names, word_ids)
    out = score_sequences(y_true, y_pred)
    out["words"] = sum(len(s) for s in y_true)
    if with_confusion:
        out["confusion"] = confusion_matrix(y_true, y_pred, label_names)
    return out


def compute_piece_metrics(predictions: Any, labels: Any, label_names: Sequence[str]) -> dict[str, Any]:
    """The tutorial's score over every labelled PIECE (inflated; report only as `piece_level`)."""
    y_true, y_pred = piece_sequences(predictions, labels, label_names)
    out = score_sequences(y_true, y_pred)
    out["level"] = "piece"
    out["pieces"] = sum(len(s) for s in y_true)
    return out


def split_metrics(
    predictions: Any,
    labels: Any,
    label_names: Sequence[str],
    *,
    strategy: str = "first",
    word_ids: Sequence[WordIds] | None = None,
    loss: float | None = None,
) -> dict[str, Any]:
    """One split's entry in metrics.json (docs/architecture.md), word level first."""
    uses_all = strategy != "first"
    if uses_all and word_ids is None:
        raise ValueError("strategies 'all'/'all-b2i' need the word_ids to find each word's first piece")
    words = compute_word_metrics(predictions, labels, label_names, word_ids if uses_all else None)
    entry: dict[str, Any] = {
        "loss": loss,
        "overall": words["overall"],
        "per_type": words["per_type"],
        "piece_level": compute_piece_metrics(predictions, labels, label_names) if uses_all else None,
        "confusion": words["confusion"],
        "words": words["words"],
    }
    return entry


def make_compute_metrics(
    label_names: Sequence[str],
    *,
    strategy: str = "first",
    word_ids: Sequence[WordIds] | None = None,
    sink: Callable[[dict[str, Any]], None] | None = None,
) -> Callable[[Any], dict[str, float]]:
    """A `compute_metrics` for the Trainer, flat (Trainer logs scalars only).

    The Trainer evaluates the eval dataset in order, so `word_ids` (that dataset's column)
    line up with the predictions row for row. `sink` receives the full nested result
    (per type, confusion, piece level) so the event callback can emit it.
    """

    def compute(eval_pred: Any) -> dict[str, float]:
        predictions, labels = eval_pred.predictions, eval_pred.label_ids
        if isinstance(predictions, tuple):
            predictions = predictions[0]
        full = split_metrics(predictions, labels, label_names, strategy=strategy, word_ids=word_ids)
        if sink is not None:
            sink(full)
        flat = {k: v for k, v in full["overall"].items()}
        for t, row in full["per_type"].items():
            flat[f"{t}_f1"] = row["f1"]
        if full["piece_level"] is not None:
            flat["piece_level_f1"] = full["piece_level"]["overall"]["f1"]
        return flat

    return compute


def preprocess_logits_for_metrics(logits: Any, labels: Any) -> Any:
    """Argmax on the device during evaluation: ships ids, not (n, L, C) logits, to the CPU."""
    if isinstance(logits, tuple):
        logits = logits[0]
    return logits.argmax(dim=-1)
