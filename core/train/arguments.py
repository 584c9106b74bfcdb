"""TrainingArguments from a TrainConfig: the one mapping, with names that moved between transformers versions."""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Any

from bnner_tui.core.errors import ConfigError
from bnner_tui.core.train.device import cuda_available, world_size


def _cadence(value: Any) -> tuple[str, int | None]:
    if value in (None, "no", "none"):
        return "no", None
    if value == "epoch":
        return "epoch", None
    return "steps", int(value)


def training_arguments(
    cfg: Any,
    output_dir: Path,
    *,
    precision: str,
    report_to: list[str],
    run_name: str | None,
    evaluate: bool,
) -> Any:
    """TrainingArguments from a TrainConfig; names that moved between transformers versions are mapped."""
    from transformers import TrainingArguments

    params = inspect.signature(TrainingArguments.__init__).parameters
    eval_strategy, eval_steps = _cadence(cfg.eval_every) if evaluate else ("no", None)
    save_strategy, save_steps = _cadence(cfg.save_every)
    early = cfg.early_stopping_patience is not None and evaluate
    if early:  # load_best_model_at_end needs the two cadences equal
        save_strategy, save_steps = eval_strategy, eval_steps
    kw: dict[str, Any] = {
        "output_dir": str(output_dir),
        "per_device_train_batch_size": int(cfg.batch_size),
        "per_device_eval_batch_size": int(cfg.eval_batch_size),
        "gradient_accumulation_steps": int(cfg.grad_accum),
        "learning_rate": float(cfg.learning_rate),
        "lr_scheduler_type": getattr(cfg, "lr_scheduler", "linear"),
        "weight_decay": float(cfg.weight_decay),
        "num_train_epochs": float(cfg.epochs),
        "max_steps": int(cfg.max_steps),
        "eval_strategy": eval_strategy,
        "save_strategy": save_strategy,
        "save_total_limit": int(cfg.save_total_limit) if cfg.save_total_limit else None,
        "logging_strategy": "steps",
        "logging_steps": int(cfg.logging_steps),
        "logging_first_step": True,
        "report_to": list(report_to),
        "run_name": run_name,
        "disable_tqdm": True,
        "bf16": precision == "bf16",
        "fp16": precision == "fp16",
        "optim": cfg.optim,
        "dataloader_num_workers": int(cfg.dataloader_workers),
        "dataloader_persistent_workers": int(cfg.dataloader_workers) > 0,
        "dataloader_pin_memory": cuda_available(),
        "torch_compile": bool(cfg.torch_compile),
        "seed": int(cfg.seed),
        "length_column_name": "length",
        "load_best_model_at_end": early,
        "metric_for_best_model": "f1" if early else None,
        "greater_is_better": True if early else None,
        "save_only_model": False,
        # The NaN/inf filter tests every step's loss on the host: a GPU sync per step that stops the
        # CPU from queueing the next step. A diverged loss is logged as-is instead (events write null).
        "logging_nan_inf_filter": False,
    }
    if eval_steps:
        kw["eval_steps"] = eval_steps
    if save_steps:
        kw["save_steps"] = save_steps
    if cfg.warmup_ratio:
        if "warmup_ratio" in params:
            kw["warmup_ratio"] = float(cfg.warmup_ratio)
        else:  # transformers 5: a float < 1 in warmup_steps is a ratio
            kw["warmup_steps"] = float(cfg.warmup_ratio)
    if cfg.group_by_length:
        if "train_sampling_strategy" in params:
            kw["train_sampling_strategy"] = "group_by_length"
        else:
            kw["group_by_length"] = True
    if world_size() > 1:
        kw["ddp_find_unused_parameters"] = False
    kw = {k: v for k, v in kw.items() if k in params}
    try:
        return TrainingArguments(**kw)
    except (ValueError, ImportError) as err:
        raise ConfigError(f"Invalid training settings: {str(err).splitlines()[0]}") from err
