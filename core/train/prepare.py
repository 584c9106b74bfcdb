"""The run's data made ready for the Trainer: loaded, its splits checked, the training split tokenized once.

Why tokenize once: the aligned pieces are saved inside the run (`cache/tokenized-<key>`), so a
resume or another rank loads them instead of tokenizing again. Heavy imports (datasets) are
inside the functions.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bnner_tui.core.errors import BnnerError

log = logging.getLogger("bnner_tui.train")

TOKENIZED_CACHE = "cache"


def load_data(cfg: Any) -> Any:
    """The run's data through the project's one loader (`core.data.load_source`)."""
    from bnner_tui.core.data import LoadOptions, load_source

    source = load_source(cfg.data, options=LoadOptions.from_config(cfg))
    if cfg.train_split not in source.dataset:
        raise BnnerError(
            f"Dataset {source.name} has no {cfg.train_split!r} split to train on"
            f" (it has: {', '.join(source.dataset) or 'none'})."
        )
    return source


@dataclass(frozen=True)
class SplitPlan:
    """Which splits the run uses: whether it scores its eval split during training, and if not, why."""

    has_eval: bool
    not_scored: str | None
    unlabelled: set[str] = field(default_factory=set)


def plan_splits(cfg: Any, source: Any, *, evaluate: bool) -> SplitPlan:
    """Refuses a training split that is missing or unlabelled; says why the eval split is not scored, if so."""
    dataset = source.dataset
    unlabelled = set(getattr(source, "unlabelled_splits", set()) or set())
    if cfg.train_split not in dataset:
        raise BnnerError(f"The data has no {cfg.train_split!r} split to train on (it has: {', '.join(dataset)}).")
    if cfg.train_split in unlabelled:
        raise BnnerError(f"The {cfg.train_split!r} split has no labels, so it cannot train a model.")
    has_eval = evaluate and cfg.eval_split in dataset and cfg.eval_split not in unlabelled
    not_scored: str | None = None
    if not has_eval:
        if not evaluate:
            not_scored = "evaluation was switched off for this run"
        else:
            why = "has no labels" if cfg.eval_split in dataset else "does not exist"
            not_scored = f"the evaluation split {cfg.eval_split!r} {why} in {getattr(source, 'name', cfg.data)}"
        log.warning("no evaluation during training: %s", not_scored)
    return SplitPlan(has_eval=has_eval, not_scored=not_scored, unlabelled=unlabelled)


def _tokenizer_fingerprint(tokenizer: Any) -> str:
    return hashlib.sha1(tokenizer.backend_tokenizer.to_str().encode("utf-8")).hexdigest()[:16]


def tokenize_splits(
    dataset: Any,
    *,
    splits: Sequence[str],
    tokenizer: Any,
    label_names: Sequence[str],
    source_label_names: Sequence[str],
    strategy: str,
    max_length: int,
    cache_dir: Path | None,
    data_key: str = "",
) -> Any:
    """Aligned pieces for each split (input_ids, attention_mask, labels, word_ids, length), done once.

    The result is saved under `cache_dir/tokenized-<key>` where the key covers everything that
    changes the pieces (tokenizer, strategy, max length, label order, data), so a resumed run
    or another rank loads it instead of tokenizing again.
    """
    from datasets import DatasetDict, load_from_disk

    key_src = json.dumps(
        [_tokenizer_fingerprint(tokenizer), strategy, max_length, list(label_names), list(splits), data_key],
        ensure_ascii=False,
    )
    key = hashlib.sha1(key_src.encode("utf-8")).hexdigest()[:16]
    target = cache_dir / f"tokenized-{key}" if cache_dir is not None else None
    if target is not None and (target / "dataset_dict.json").exists():
        log.info("tokenized data loaded from cache %s", target)
        return load_from_disk(str(target))

    from bnner_tui.core.align import align_batch

    backend = tokenizer.backend_tokenizer
    remap = None
    if list(source_label_names) != list(label_names):
        index = {name: i for i, name in enumerate(label_names)}
        remap = [index[name] for name in source_label_names]

    def fn(batch: dict[str, list[Any]]) -> dict[str, Any]:
        if remap is not None:
            batch = dict(batch)
            batch["ner_tags"] = [[remap[t] if t >= 0 else t for t in tags] for tags in batch["ner_tags"]]
        aligned = align_batch(
            batch, tokenizer=backend, label_names=list(label_names), strategy=strategy, max_length=max_length
        )
        out: dict[str, list[Any]] = {
            k: aligned[k] for k in ("input_ids", "attention_mask", "labels", "word_ids") if k in aligned
        }
        out["length"] = [len(ids) for ids in out["input_ids"]]
        return out

    parts = {}
    for split in splits:
        ds = dataset[split]
        parts[split] = ds.map(
            fn, batched=True, batch_size=1000, remove_columns=ds.column_names, desc=f"tokenizing {split}"
        )
    tokenized = DatasetDict(parts)
    if target is not None:
        tmp = target.with_name(target.name + f".tmp{os.getpid()}")
        tokenized.save_to_disk(str(tmp))
        try:
            os.replace(tmp, target)
        except OSError:  # another rank got there first
            import shutil

            shutil.rmtree(tmp, ignore_errors=True)
        return load_from_disk(str(target))
    return tokenized


def tokenize_train_split(cfg: Any, source: Any, *, tokenizer: Any, label_names: Sequence[str], run_path: Path) -> Any:
    """The training split's pieces, cached in the run under a key that includes the data's identity."""
    dataset = source.dataset
    return tokenize_splits(
        dataset,
        splits=[cfg.train_split],
        tokenizer=tokenizer,
        label_names=label_names,
        source_label_names=list(source.label_names),
        strategy=cfg.strategy,
        max_length=int(cfg.max_length),
        cache_dir=run_path / TOKENIZED_CACHE,
        data_key=f"{getattr(source, 'spec', cfg.data)}:{dataset[cfg.train_split].num_rows}",
    )
