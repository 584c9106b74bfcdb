"""Evaluate a finished run's model on any split: `bnner-tui eval RUN --split test`.

Same word-level, strict-IOB2 scoring as during training (core.metrics), written into the run's
metrics.json under `splits.<split>` (atomically; other splits are kept). A split without gold
labels (the shared WikiANN bn test file has none) is refused with one sentence: printing zeros
for it would be a lie.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bnner_tui.core.errors import BnnerError, ModelNotFoundError


def evaluate_run(
    run_dir: str | Path, split: str = "test", *, data: str | None = None, batch_size: int | None = None
) -> dict:
    """Scores `run_dir/model` on `split` of the run's data (or `data`); returns the split's metrics.json entry."""
    import torch
    from transformers import AutoModelForTokenClassification, AutoTokenizer, DataCollatorForTokenClassification

    from bnner_tui.core.config import TrainConfig
    from bnner_tui.core.data import load_source
    from bnner_tui.core.files import atomic_write_json
    from bnner_tui.core.labels import IGNORE_INDEX
    from bnner_tui.core.metrics import split_metrics
    from bnner_tui.core.runs import RunDir
    from bnner_tui.core.train.pipeline import metrics_document, tokenize_splits

    rd = RunDir(run_dir)
    model_dir = rd.model_dir
    if not (model_dir / "config.json").exists():
        raise ModelNotFoundError(
            f"Run {rd.path} has no trained model yet ({model_dir} is missing): let it finish first."
        )
    cfg = TrainConfig.from_toml(rd.config_path) if rd.config_path.exists() else TrainConfig()
    source = load_source(data or cfg.data)
    if split not in source.dataset:
        raise BnnerError(f"Dataset {source.name} has no {split!r} split (it has: {', '.join(source.dataset)}).")
    if not source.is_labelled(split):
        raise BnnerError(
            f"The {split!r} split of {source.name} has no labels, so it cannot be scored: evaluate a labelled split."
        )
    from bnner_tui.core.train.wordmodel import register_if_needed

    register_if_needed(model_dir)  # the offline charword model loads from the installed code
    model = AutoModelForTokenClassification.from_pretrained(str(model_dir))
    tokenizer = AutoTokenizer.from_pretrained(str(model_dir))
    model_labels = [model.config.id2label[i] for i in range(model.config.num_labels)]
    missing = [lab for lab in source.label_names if lab not in model_labels]
    if missing:
        raise BnnerError(
            f"The data has labels {', '.join(missing)} that the run's model does not know"
            f" (it knows {', '.join(model_labels)})."
        )
    tokenized = tokenize_splits(
        source.dataset,
        splits=[split],
        tokenizer=tokenizer,
        label_names=model_labels,
        source_label_names=list(source.label_names),
        strategy=cfg.strategy,
        max_length=int(cfg.max_length),
        cache_dir=None,
    )[split]
    word_ids = tokenized["word_ids"]
    features = tokenized.remove_columns(
        [c for c in tokenized.column_names if c not in ("input_ids", "attention_mask", "labels")]
    )
    collator = DataCollatorForTokenClassification(tokenizer, label_pad_token_id=IGNORE_INDEX)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    model.to(device).eval()
    bs = int(batch_size or cfg.eval_batch_size or 64)
    preds: list[list[int]] = []
    labels: list[list[int]] = []
    total_loss, n_batches = 0.0, 0
    with torch.inference_mode():
        for start in range(0, len(features), bs):
            rows = [features[i] for i in range(start, min(start + bs, len(features)))]
            batch = collator(rows)
            batch = {k: v.to(device) for k, v in batch.items()}
            out = model(**batch)
            total_loss += float(out.loss)
            n_batches += 1
            ids = out.logits.argmax(-1).cpu().tolist()
            for row, pred in zip(rows, ids, strict=True):
                n = len(row["input_ids"])
                preds.append(pred[:n])
                labels.append(list(row["labels"]))
    entry = split_metrics(
        preds,
        labels,
        model_labels,
        strategy=cfg.strategy,
        word_ids=word_ids if cfg.strategy != "first" else None,
        loss=total_loss / max(n_batches, 1),
    )
    existing: dict[str, Any] | None = None
    if rd.metrics_path.exists():
        try:
            existing = json.loads(rd.metrics_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            existing = None
    best = (existing or {}).get("best", {})
    doc = metrics_document(split, entry, best_step=best.get("step"), best_f1=best.get("f1"), existing=existing)
    atomic_write_json(rd.metrics_path, doc)
    return entry
