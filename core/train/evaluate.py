"""Evaluation that scores every word: during training and for `bnner-tui eval RUN --split test`.

Why windows: a model takes at most `max_length` pieces, and cutting a longer sentence there
silently drops its last words' gold entities from the score (50 of 3,098 entities on one real
corpus). Here a long sentence becomes several rows, the same overlapping word-aligned windows
the tagger uses (`core.decoding.make_windows`), each word is predicted by the window where it is
most central, and the gold labels come from the data itself, so the reported `words`, supports
and entity counts are the data's own counts.

Why the decoding here: the word-level probabilities go through the one decoding policy
(`core.decoding`), the same that `bnner-tui tag` applies, so eval's F1 is the F1 of what users get.

Scores are added to the run's metrics.json by its one writer (`core.train.outputs.write_metrics`),
keyed by data source and split: the run's own data under `splits.<split>`, any other data under
`other_data.<source>.splits.<split>`, so an eval on other data never overwrites the training
data's numbers. A split without gold labels is refused with one sentence: printing zeros for it
would be a lie.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from bnner_tui.core.decoding import DEFAULT_POLICY, Decoder, DecodingPolicy, assign_windows, make_windows, window_stride
from bnner_tui.core.errors import BnnerError, ModelNotFoundError
from bnner_tui.core.labels import IGNORE_INDEX

_NO_LIMIT = 1 << 30


@dataclass
class EvalSet:
    """A split prepared for evaluation: model rows (windows) plus what is needed to put words back together."""

    rows: Any  # datasets.Dataset: input_ids, attention_mask, labels, word_ids, length, sentence, word_offset, owned
    tokens: list[list[str]]
    gold: list[list[str]]
    label_names: list[str]
    strategy: str
    windowed_sentences: int = 0
    meta: dict[str, list[Any]] = field(default_factory=dict)

    @property
    def n_rows(self) -> int:
        return int(self.rows.num_rows)


def tokenize_eval_split(
    split_ds: Any,
    *,
    tokenizer: Any,
    label_names: Sequence[str],
    source_label_names: Sequence[str],
    strategy: str,
    max_length: int,
    stride: int | None = None,
) -> EvalSet:
    """Rows for the model with every word of every sentence covered (long sentences in windows)."""
    from datasets import Dataset

    from bnner_tui.core.align import align_batch

    backend = tokenizer.backend_tokenizer
    index = {name: i for i, name in enumerate(label_names)}
    names = list(source_label_names)
    tokens = [list(t) for t in split_ds["tokens"]]
    tags_src = [list(t) for t in split_ds["ner_tags"]]
    gold = [[names[t] for t in ts] for ts in tags_src]
    tags = [[index[names[t]] for t in ts] for ts in tags_src]

    full = align_batch(
        {"tokens": tokens, "ner_tags": tags},
        tokenizer=backend,
        label_names=label_names,
        strategy=strategy,
        max_length=_NO_LIMIT,
    )
    n_special = sum(1 for w in full["word_ids"][0] if w < 0) if tokens else 0
    budget = int(max_length) - n_special
    if budget < 1:
        raise BnnerError(f"max_length {max_length} leaves no room for words besides {n_special} special tokens.")
    stride_ = window_stride(budget, stride)
    w_tokens: list[list[str]] = []
    w_tags: list[list[int]] = []
    sentence: list[int] = []
    offset: list[int] = []
    owned: list[list[int]] = []
    windowed = 0
    for i, wids in enumerate(full["word_ids"]):
        n = len(tokens[i])
        n_pieces = len(wids) - n_special
        if n_pieces <= budget:
            windows = [(0, n)]
            owner = np.zeros(n, dtype=np.int64)
        else:
            counts = np.bincount(np.asarray([w for w in wids if w >= 0], dtype=np.int64), minlength=n)
            windows = make_windows(counts.tolist(), budget, stride_)
            owner = assign_windows(n, windows)
            windowed += 1
        for k, (s, e) in enumerate(windows):
            w_tokens.append(tokens[i][s:e])
            w_tags.append(tags[i][s:e])
            sentence.append(i)
            offset.append(s)
            owned.append((owner[s:e] == k).astype(np.int64).tolist())
    rows = align_batch(
        {"tokens": w_tokens, "ner_tags": w_tags},
        tokenizer=backend,
        label_names=label_names,
        strategy=strategy,
        max_length=int(max_length),
    )
    data: dict[str, list[Any]] = {k: rows[k] for k in ("input_ids", "attention_mask", "labels", "word_ids")}
    data["length"] = [len(x) for x in rows["input_ids"]]
    meta: dict[str, list[Any]] = {
        "word_ids": rows["word_ids"],
        "sentence": sentence,
        "word_offset": offset,
        "owned": owned,
    }
    return EvalSet(
        rows=Dataset.from_dict(data),
        tokens=tokens,
        gold=gold,
        label_names=list(label_names),
        strategy=strategy,
        windowed_sentences=windowed,
        meta=meta,
    )


def word_probabilities(evalset: EvalSet, piece_log_probs: Sequence[Any]) -> list[np.ndarray]:
    """Per sentence (n_words, n_labels) probabilities: each word's first piece, from the window that owns it.

    A word without any piece (the tokenizer's normaliser removed all its characters) is O with
    probability 1, as in the tagger.
    """
    n_labels = len(evalset.label_names)
    o_id = evalset.label_names.index("O") if "O" in evalset.label_names else 0
    out = []
    for toks in evalset.tokens:
        p = np.zeros((len(toks), n_labels), dtype=np.float32)
        p[:, o_id] = 1.0
        out.append(p)
    m = evalset.meta
    for r, lp in enumerate(piece_log_probs):
        lp = np.asarray(lp)
        wids = m["word_ids"][r]
        sent, off, own = m["sentence"][r], m["word_offset"][r], m["owned"][r]
        prev = None
        for j, w in enumerate(wids):
            if w < 0 or w == prev:
                prev = w if w >= 0 else None
                continue
            prev = w
            if own[w] and j < len(lp):
                out[sent][off + w] = np.exp(lp[j, :n_labels])
    return out


def score_evalset(
    evalset: EvalSet,
    piece_log_probs: Sequence[Any],
    *,
    loss: float | None = None,
    memory: Any = None,
    policy: DecodingPolicy = DEFAULT_POLICY,
) -> dict[str, Any]:
    """One split's metrics.json entry from the model's per-piece log-probabilities, row by row."""
    from bnner_tui.core.metrics import compute_piece_metrics, word_scores

    probs = word_probabilities(evalset, piece_log_probs)
    decoder = Decoder(evalset.label_names, policy)
    y_pred = [decoder.decode(toks, p).labels for toks, p in zip(evalset.tokens, probs, strict=True)]
    scores = word_scores(evalset.gold, y_pred, evalset.label_names, tokens=evalset.tokens, memory=memory)
    piece_level = None
    if evalset.strategy != "first":
        ids = [
            np.asarray(lp).argmax(-1)[: len(lab)]
            for lp, lab in zip(piece_log_probs, evalset.rows["labels"], strict=True)
        ]
        piece_level = compute_piece_metrics(ids, list(evalset.rows["labels"]), evalset.label_names)
    return {
        "loss": loss,
        "overall": scores["overall"],
        "per_type": scores["per_type"],
        "piece_level": piece_level,
        "confusion": scores["confusion"],
        "words": scores["words"],
        "sentences": scores["sentences"],
        "entities": scores["entities"],
        "windowed_sentences": evalset.windowed_sentences,
        "errors": scores["errors"],
        "unseen": scores["unseen"],
        "decoding": policy.method,
    }


def make_trainer_metrics(
    evalset: EvalSet, *, memory: Any = None, sink: Any = None, policy: DecodingPolicy = DEFAULT_POLICY
) -> Any:
    """A `compute_metrics` for the Trainer over an EvalSet's rows (which the Trainer visits in order).

    Predictions arrive as per-piece log-probabilities (`preprocess_log_probs` below, passed as the
    Trainer's `preprocess_logits_for_metrics`), padded with -100 past each row's end; the full
    nested entry goes to `sink`, the Trainer gets scalars.
    """

    def compute(eval_pred: Any) -> dict[str, float]:
        predictions = eval_pred.predictions
        if isinstance(predictions, tuple):
            predictions = predictions[0]
        full = score_evalset(evalset, list(predictions), memory=memory, policy=policy)
        if sink is not None:
            sink(full)
        flat: dict[str, float] = dict(full["overall"].items())
        for t, row in full["per_type"].items():
            flat[f"{t}_f1"] = row["f1"]
        if full["piece_level"] is not None:
            flat["piece_level_f1"] = full["piece_level"]["overall"]["f1"]
        return flat

    return compute


def preprocess_log_probs(logits: Any, labels: Any) -> Any:
    """Log-probabilities on the device (the decoder needs them, not just the argmax)."""
    import torch

    if isinstance(logits, tuple):
        logits = logits[0]
    return torch.log_softmax(logits.float(), dim=-1)


def train_memory(dataset: Any, split: str, label_names: Sequence[str] | None = None) -> Any:
    """A `TrainMemory` of a dataset's training split (None when it has no such split or no labels)."""
    from bnner_tui.core.metrics import TrainMemory

    if split not in dataset:
        return None
    ds = dataset[split]
    names = list(label_names or ds.features["ner_tags"].feature.names)
    tokens = [list(t) for t in ds["tokens"]]
    tags = [[names[t] if t >= 0 else "O" for t in ts] for ts in ds["ner_tags"]]
    return TrainMemory.from_split(tokens, tags)


def predict_log_probs(model: Any, tokenizer: Any, evalset: EvalSet, *, batch_size: int) -> tuple[list[Any], float]:
    """(per-row piece log-probabilities, mean loss) of a model over an EvalSet, batch by batch."""
    import torch
    from transformers import DataCollatorForTokenClassification

    features = evalset.rows.remove_columns(
        [c for c in evalset.rows.column_names if c not in ("input_ids", "attention_mask", "labels")]
    )
    collator = DataCollatorForTokenClassification(tokenizer, label_pad_token_id=IGNORE_INDEX)
    device = next(model.parameters()).device
    out: list[Any] = []
    total_loss, n_batches = 0.0, 0
    with torch.inference_mode():
        for start in range(0, len(features), batch_size):
            rows = [features[i] for i in range(start, min(start + batch_size, len(features)))]
            batch = {k: v.to(device) for k, v in collator(rows).items()}
            res = model(**batch)
            if res.loss is not None and torch.isfinite(res.loss):
                total_loss += float(res.loss)
                n_batches += 1
            lp = torch.log_softmax(res.logits.float(), dim=-1).cpu().numpy()
            for row, r_lp in zip(rows, lp, strict=True):
                out.append(r_lp[: len(row["input_ids"])])
    return out, (total_loss / n_batches if n_batches else float("nan"))


def evaluate_run(
    run_dir: str | Path,
    split: str = "test",
    *,
    data: str | None = None,
    batch_size: int | None = None,
    label_map: list[str] | None = None,
    drop: list[str] | None = None,
    on_error: str | None = None,
) -> dict:
    """Scores `run_dir/model` on `split` of the run's data (or `data`); returns the split's metrics.json entry.

    ``label_map``/``drop``/``on_error`` read another corpus in the model's label set (``PERSON=PER``);
    without ``data`` they add to the run's own data options.
    """
    import torch
    from transformers import AutoModelForTokenClassification, AutoTokenizer

    from bnner_tui.core.config import TrainConfig
    from bnner_tui.core.data import load_source
    from bnner_tui.core.metrics import data_key
    from bnner_tui.core.runs import RunDir
    from bnner_tui.core.train.outputs import write_metrics

    rd = RunDir(run_dir)
    model_dir = rd.model_dir
    if not (model_dir / "config.json").exists():
        raise ModelNotFoundError(
            f"Run {rd.path} has no trained model yet ({model_dir} is missing): let it finish first."
        )
    cfg = TrainConfig.from_toml(rd.config_path) if rd.config_path.exists() else TrainConfig()
    own = data is None or data_key(data) == data_key(cfg.data)
    from bnner_tui.core.data import LoadOptions

    base = LoadOptions.from_config(cfg) if own else LoadOptions()
    options = LoadOptions.make(
        scheme=base.scheme,
        on_error=on_error or base.on_error,
        label_map={**base.label_map, **LoadOptions.make(label_map=label_map, drop=drop).label_map},
        split=base.split,
        seed=base.seed,
    )
    source = load_source(cfg.data if own else str(data), options=options)
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
            f" (it knows {', '.join(model_labels)}); map the data's types onto the model's with"
            " --map TYPE=NEW (e.g. --map PERSON=PER) or read them as O with --drop TYPE."
        )
    evalset = tokenize_eval_split(
        source.dataset[split],
        tokenizer=tokenizer,
        label_names=model_labels,
        source_label_names=list(source.label_names),
        strategy=cfg.strategy,
        max_length=int(cfg.max_length),
    )
    train_source = source if own else _quiet_load(cfg.data)
    memory = None
    if train_source is not None and not (own and split == cfg.train_split):
        if train_source.is_labelled(cfg.train_split):
            memory = train_memory(train_source.dataset, cfg.train_split)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    model.to(device).eval()
    log_probs, loss = predict_log_probs(
        model, tokenizer, evalset, batch_size=int(batch_size or cfg.eval_batch_size or 64)
    )
    entry = score_evalset(evalset, log_probs, loss=loss, memory=memory)
    entry["scored_by"] = "eval"
    write_metrics(
        rd.metrics_path,
        split,
        entry,
        data_spec=str(cfg.data if own else data),
        data_name=source.name,
        own_data=own,
        train_data=str(cfg.data),
    )
    return entry


def _quiet_load(spec: str) -> Any:
    """The run's training data for the unseen-F1 reference, or None when it cannot be loaded now (e.g. offline)."""
    from bnner_tui.core.data import load_source

    try:
        return load_source(spec)
    except BnnerError:
        return None
