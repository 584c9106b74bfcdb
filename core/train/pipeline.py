"""The training pipeline: data → tokenize once → Trainer with event-emitting callbacks → model + metrics.

Why the Trainer and not a home-made loop: it already does mixed precision, gradient
accumulation, DDP under torchrun, fused optimizers, exact resume (optimizer, scheduler, RNG and
data position) and W&B through `report_to`. This module only wires it to the run folder:
  - data is tokenized ONCE (`core.align.align_batch` via `Dataset.map(batched=True)`) and
    cached inside the run, so a resume or a second process does not redo it;
  - callbacks turn the Trainer's hooks into `events.jsonl` lines (rank 0 only);
  - a cancel flag (set by the worker's signal handler) makes the Trainer save a checkpoint
    and stop at the end of the current step;
  - metrics are word level (core.metrics); the model config carries the real label names.

Everything heavy is imported inside functions: the CLI imports `bnner_tui.core.train` lazily.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import logging
import os
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bnner_tui.core.errors import BnnerError, ConfigError
from bnner_tui.core.files import atomic_write_json, publishable_tree
from bnner_tui.core.labels import IGNORE_INDEX
from bnner_tui.core.train.models import ModelChoice

log = logging.getLogger("bnner_tui.train")

TOKENIZED_CACHE = "cache"


class CancelFlag:
    """Set from a signal handler; read by a callback at each step end (thread- and signal-safe)."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self.signal_name: str | None = None

    def set(self, signal_name: str | None = None) -> None:
        self.signal_name = signal_name
        self._event.set()

    def is_set(self) -> bool:
        return self._event.is_set()


@dataclass
class RunResult:
    """What the worker reports at the end."""

    status: str  # finished | cancelled
    step: int
    checkpoint: str | None = None
    best_f1: float | None = None
    best_step: int | None = None
    model_dir: str | None = None
    metrics_path: str | None = None
    train_metrics: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] | None = None


# ---- precision and environment ------------------------------------------------------------------


def resolve_precision(precision: str) -> tuple[str, str]:
    """(precision actually used, device description). auto = bf16 on a CUDA GPU that has it, else fp32."""
    import torch

    if torch.cuda.is_available():
        name = torch.cuda.get_device_name(0)
        bf16_ok = torch.cuda.is_bf16_supported()
        device = f"cuda ({name})"
        if precision == "auto":
            return ("bf16" if bf16_ok else "fp16"), device
        if precision == "bf16" and not bf16_ok:
            raise ConfigError(f"precision bf16 is not supported by {name}: use --precision fp16 or fp32.")
        return precision, device
    device = "cpu"
    if precision == "auto":
        return "fp32", device
    if precision == "fp16":
        raise ConfigError("precision fp16 needs a CUDA GPU and none is available: use fp32 (or bf16) on CPU.")
    return precision, device


def _cuda_available() -> bool:
    import torch

    return bool(torch.cuda.is_available())


def world_size() -> int:
    return int(os.environ.get("WORLD_SIZE", "1"))


def is_rank0() -> bool:
    return int(os.environ.get("RANK", "0")) == 0


# ---- data ----------------------------------------------------------------------------------------


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


def _unlabelled(source: Any) -> set[str]:
    return set(getattr(source, "unlabelled_splits", set()) or set())


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


# ---- TrainingArguments ---------------------------------------------------------------------------


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
        "dataloader_pin_memory": _cuda_available(),
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


# ---- callbacks -----------------------------------------------------------------------------------


def _make_trainer_class() -> type:
    """A Trainer that counts real (non-padding) tokens on the device, without a per-step sync."""
    from transformers import Trainer

    class CountingTrainer(Trainer):
        bnner_tokens: Any = None

        def training_step(self, model: Any, inputs: Any, *args: Any, **kwargs: Any) -> Any:
            mask = inputs.get("attention_mask") if hasattr(inputs, "get") else None
            if mask is not None:
                n = mask.sum()
                self.bnner_tokens = n if self.bnner_tokens is None else self.bnner_tokens + n
            return super().training_step(model, inputs, *args, **kwargs)

        def take_tokens(self) -> int:
            n, self.bnner_tokens = self.bnner_tokens, None
            return int(n.item()) if n is not None else 0

    return CountingTrainer


def make_callbacks(
    *,
    events: Any,
    cancel: CancelFlag | None,
    eval_split: str,
    started: dict[str, Any] | None,
    eval_sink: dict[str, Any],
    batch_per_step: int,
) -> tuple[Any, Any]:
    """(event callback, cancel callback). The event callback is inert without an EventWriter."""
    from transformers import TrainerCallback

    class EventCallback(TrainerCallback):
        """Turns the Trainer's hooks into events.jsonl lines."""

        def __init__(self) -> None:
            self.trainer: Any = None
            self.best_f1: float | None = None
            self.best_step: int | None = None
            self.last_eval: dict[str, Any] | None = None
            self.quiet = False
            self._t = time.perf_counter()
            self._step = 0

        def on_train_begin(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
            self._t = time.perf_counter()
            self._step = state.global_step
            if self.trainer is not None:
                self.trainer.take_tokens()
            if events is not None and started is not None:
                events.emit("started", **started, total_steps=state.max_steps)
            try:  # our own config into W&B (the Trainer logs its arguments itself)
                import wandb

                if wandb.run is not None and started is not None:
                    from bnner_tui.core.train.tracking import redact

                    wandb.config.update({"bnner": redact(started.get("config", {}))}, allow_val_change=True)
            except ImportError:
                pass

        def on_log(self, args: Any, state: Any, control: Any, logs: dict[str, Any] | None = None, **kw: Any) -> None:
            if not logs or "loss" not in logs:
                return
            now = time.perf_counter()
            dt = max(now - self._t, 1e-9)
            steps = state.global_step - self._step
            tokens = self.trainer.take_tokens() if self.trainer is not None else 0
            self._t, self._step = now, state.global_step
            gpu_mb = None
            try:
                import torch

                if torch.cuda.is_available():
                    gpu_mb = round(torch.cuda.max_memory_allocated() / 2**20, 1)
            except ImportError:  # pragma: no cover
                pass
            if events is None:
                return
            events.emit(
                "step",
                step=state.global_step,
                epoch=state.epoch,
                loss=logs.get("loss"),
                learning_rate=logs.get("learning_rate"),
                grad_norm=logs.get("grad_norm"),
                samples_per_second=round(steps * batch_per_step / dt, 2) if steps else None,
                tokens_per_second=round(tokens * world_size() / dt, 1) if steps else None,
                gpu_memory_mb=gpu_mb,
                total_steps=state.max_steps,
            )

        def on_evaluate(
            self, args: Any, state: Any, control: Any, metrics: dict[str, Any] | None = None, **kw: Any
        ) -> None:
            full = eval_sink.pop("last", None)
            if full is None:
                return
            full = dict(full)
            full["loss"] = (metrics or {}).get("eval_loss")
            full["step"] = state.global_step
            self.last_eval = full
            f1 = full["overall"]["f1"]
            if not self.quiet and (self.best_f1 is None or f1 > self.best_f1):
                self.best_f1, self.best_step = f1, state.global_step
            if events is None or self.quiet:
                return
            events.emit(
                "eval",
                step=state.global_step,
                epoch=state.epoch,
                split=eval_split,
                loss=full["loss"],
                overall=full["overall"],
                per_type=full["per_type"],
                piece_level=full["piece_level"],
            )

        def on_save(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
            path = Path(args.output_dir) / f"checkpoint-{state.global_step}"
            if path.is_dir():  # safetensors writes 0600 whatever the umask; the folder follows the user's umask
                publishable_tree(path)
            if events is not None:
                events.emit("checkpoint", step=state.global_step, path=str(path))

    class CancelCallback(TrainerCallback):
        """On a cancel request: save a checkpoint and stop after the current step (all ranks agree)."""

        def __init__(self) -> None:
            self.cancelled_at: int | None = None

        def _requested(self) -> bool:
            flag = cancel is not None and cancel.is_set()
            if world_size() > 1:
                import torch
                import torch.distributed as dist

                if dist.is_available() and dist.is_initialized():
                    device = "cuda" if torch.cuda.is_available() and dist.get_backend() == "nccl" else "cpu"
                    t = torch.tensor([1 if flag else 0], device=device)
                    dist.all_reduce(t, op=dist.ReduceOp.MAX)
                    flag = bool(t.item())
            return flag

        def on_step_end(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
            if self.cancelled_at is None and self._requested():
                self.cancelled_at = state.global_step
                control.should_save = True
                control.should_evaluate = False
                control.should_training_stop = True

        def on_epoch_end(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
            if self.cancelled_at is not None:  # already saved at the step; no epoch-end eval/save
                control.should_evaluate = False
                control.should_save = False

    return EventCallback(), CancelCallback()


# ---- metrics.json --------------------------------------------------------------------------------


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


# ---- the run -------------------------------------------------------------------------------------


def _history(events_path: Path) -> Any:
    """The run's events so far folded into a RunState (what a resumed process continues)."""
    from bnner_tui.core.events import read_typed
    from bnner_tui.core.runstate import fold

    return fold(read_typed(events_path).events, curves=False)


def train_run(
    cfg: Any,
    run_path: str | Path,
    *,
    events: Any = None,
    cancel: CancelFlag | None = None,
    resume_from: str | Path | None = None,
    source: Any = None,
    model: Any = None,
    tokenizer: Any = None,
    model_choice: ModelChoice | None = None,
    evaluate: bool = True,
    save_model: bool = True,
    tracking: Any = None,
    extra_callbacks: Sequence[Any] = (),
    process_start: float | None = None,
) -> RunResult:
    """Train one run in `run_path` (rank-aware). The worker wraps it with the lock, logging, signals.

    `process_start` (unix time) is when this training process began, so metrics.json's
    duration counts what its `finished` event's `duration_s` counts (imports included).

    `source`, `model`/`tokenizer` and `model_choice` override what `cfg` would pick (the
    benchmark uses a random-init mBERT; tests use an in-memory dataset). `resume_from` is a
    checkpoint folder. Returns how it ended; raises BnnerError for the user's mistakes.
    """
    import torch
    from transformers import DataCollatorForTokenClassification, EarlyStoppingCallback

    from bnner_tui.core.train import models as M
    from bnner_tui.core.train.evaluate import (
        make_trainer_metrics,
        preprocess_log_probs,
        tokenize_eval_split,
        train_memory,
    )
    from bnner_tui.core.train.tracking import TrackingSetup, find_offline_run, redact, setup_tracking, tracking_env

    run_path = Path(run_path)
    t_start = process_start if process_start is not None else time.time()
    # A resumed run's duration is every process's share, not only this one's (metrics.json).
    history = _history(run_path / "events.jsonl") if resume_from else None
    earlier_seconds = history.closed_seconds if history is not None else 0.0
    checkpoints = run_path / "checkpoints"
    precision, device = resolve_precision(cfg.precision)
    run_name = cfg.run_name or run_path.name
    setup: TrackingSetup = tracking or setup_tracking(cfg, run_path, run_name)

    # 1. which model, and why (a resumed run keeps the first choice, even if the network came back)
    if model_choice is None and model is None:
        prior = history.started if history is not None else None
        if prior is not None and prior.model_kind:
            described = prior.model or ""  # describe() of the first choice: "name: reason"
            reason = described.removeprefix(f"{prior.model_name}: ")
            model_choice = ModelChoice(prior.model_kind, prior.model_name or "", reason)
        else:
            model_choice = M.choose_model(cfg.model, tokenizer=cfg.tokenizer)
    if model_choice is None:
        model_choice = ModelChoice("given", type(model).__name__, "passed in by the caller")
    log.info("model: %s", model_choice.describe())

    # 2. data
    if source is None:
        source = load_data(cfg)
    dataset = source.dataset
    unlabelled = _unlabelled(source)
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
    source_labels = list(source.label_names)

    # 3. tokenizer and label order
    if tokenizer is None:
        saved = Path(resume_from) if resume_from else None
        tokenizer = M.prepare_tokenizer(model_choice, cfg, dataset[cfg.train_split]["tokens"], saved_dir=saved)
    label_names = source_labels
    if model is None and model_choice.kind in ("hub", "local"):
        label_names = M.label_order_for(model_choice.name, source_labels)

    args = training_arguments(
        cfg, checkpoints, precision=precision, report_to=setup.report_to, run_name=run_name, evaluate=has_eval
    )
    splits = [cfg.train_split]
    with args.main_process_first(desc="tokenize"):
        tokenized = tokenize_splits(
            dataset,
            splits=splits,
            tokenizer=tokenizer,
            label_names=label_names,
            source_label_names=source_labels,
            strategy=cfg.strategy,
            max_length=int(cfg.max_length),
            cache_dir=run_path / TOKENIZED_CACHE,
            data_key=f"{getattr(source, 'spec', cfg.data)}:{dataset[cfg.train_split].num_rows}",
        )

    # 4. model
    if model is None:
        model = M.build_model(model_choice, label_names, tokenizer=tokenizer, cfg=cfg, seed=int(cfg.seed))
    model.config.id2label = dict(enumerate(label_names))
    model.config.label2id = {name: i for i, name in enumerate(label_names)}

    # Evaluation rows cover every word (long sentences in the tagger's windows) and are decoded
    # with the project's one policy, so training-time scores are eval's and tag's scores.
    eval_ds = None
    sink: dict[str, Any] = {}
    compute_metrics = None
    if has_eval:
        with args.main_process_first(desc="tokenize eval"):
            evalset = tokenize_eval_split(
                dataset[cfg.eval_split],
                tokenizer=tokenizer,
                label_names=label_names,
                source_label_names=source_labels,
                strategy=cfg.strategy,
                max_length=int(cfg.max_length),
            )
        eval_ds = evalset.rows
        compute_metrics = make_trainer_metrics(
            evalset,
            memory=train_memory(dataset, cfg.train_split, source_labels),
            sink=lambda full: sink.__setitem__("last", full),
        )

    started = None
    if events is not None and not resume_from:
        started = {
            "config": redact(cfg.to_dict() if hasattr(cfg, "to_dict") else dict(vars(cfg))),
            "model": model_choice.describe(),
            "model_kind": model_choice.kind,
            "model_name": model_choice.name,
            "parameters": int(sum(p.numel() for p in model.parameters())),
            "device": device,
            "precision": precision,
            "dataset": getattr(source, "name", str(cfg.data)),
            "dataset_sizes": {name: int(ds.num_rows) for name, ds in dataset.items()},
            "unlabelled_splits": sorted(unlabelled),
            "not_scored": not_scored,
            "label_names": list(label_names),
            "nproc": world_size(),
            "tracking": setup.mode,
            "wandb_dir": setup.wandb_dir if setup.mode == "wandb-offline" else None,
        }
    batch_per_step = int(cfg.batch_size) * int(cfg.grad_accum) * world_size()
    event_cb, cancel_cb = make_callbacks(
        events=events,
        cancel=cancel,
        eval_split=cfg.eval_split,
        started=started,
        eval_sink=sink,
        batch_per_step=batch_per_step,
    )
    callbacks = [event_cb, *extra_callbacks, cancel_cb]
    if cfg.early_stopping_patience is not None and has_eval:
        callbacks.append(EarlyStoppingCallback(early_stopping_patience=int(cfg.early_stopping_patience)))

    collator = DataCollatorForTokenClassification(
        tokenizer, pad_to_multiple_of=cfg.pad_to_multiple_of, label_pad_token_id=IGNORE_INDEX
    )
    Trainer = _make_trainer_class()
    with tracking_env(setup), _wandb_closed(bool(setup.report_to)):
        trainer = Trainer(
            model=model,
            args=args,
            train_dataset=tokenized[cfg.train_split],
            eval_dataset=eval_ds,
            data_collator=collator,
            processing_class=tokenizer,
            compute_metrics=compute_metrics,
            preprocess_logits_for_metrics=preprocess_log_probs if compute_metrics else None,
            callbacks=callbacks,
        )
        event_cb.trainer = trainer
        from transformers.trainer_callback import PrinterCallback

        trainer.remove_callback(PrinterCallback)  # the events replace its stdout dicts
        out = trainer.train(resume_from_checkpoint=str(resume_from) if resume_from else None)
        train_metrics = dict(out.metrics)
        step = trainer.state.global_step

        if cancel_cb.cancelled_at is not None:
            ckpt = checkpoints / f"checkpoint-{step}"
            return RunResult("cancelled", step, checkpoint=str(ckpt), train_metrics=train_metrics)

        result = RunResult("finished", step, train_metrics=train_metrics)
        if not is_rank0():
            return result
        best_step, best_f1 = event_cb.best_step, event_cb.best_f1
        metrics_path = run_path / "metrics.json"
        existing = None
        if metrics_path.exists():
            try:
                existing = json.loads(metrics_path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                existing = None
        data_spec, data_name = str(getattr(source, "spec", cfg.data)), str(getattr(source, "name", cfg.data))
        if not has_eval:
            doc = metrics_document(
                None, None, data_spec=data_spec, data_name=data_name, existing=existing, not_scored=not_scored
            )
        if has_eval:
            last = event_cb.last_eval
            if last is None or last.get("step") != step or args.load_best_model_at_end:
                event_cb.quiet = True
                trainer.evaluate()
                last = event_cb.last_eval
            if args.load_best_model_at_end and trainer.state.best_model_checkpoint:
                best_step = int(Path(trainer.state.best_model_checkpoint).name.split("-")[-1])
                best_f1 = trainer.state.best_metric
            assert last is not None
            doc = metrics_document(
                cfg.eval_split,
                split_entry(last, last.get("loss")),
                data_spec=data_spec,
                data_name=data_name,
                best_step=best_step,
                best_f1=best_f1,
                existing=existing,
            )
        doc["train"] = {
            k: train_metrics.get(k)
            for k in ("train_runtime", "train_samples_per_second", "train_loss")
            if k in train_metrics
        }
        if setup.mode == "wandb-offline" and setup.wandb_dir:
            offline = find_offline_run(setup.wandb_dir)
            doc["wandb_dir"] = str(offline or setup.wandb_dir)
        doc["duration_s"] = round(earlier_seconds + time.time() - t_start, 2)
        atomic_write_json(metrics_path, doc)
        result.metrics_path = str(metrics_path)
        result.metrics = doc
        result.best_step, result.best_f1 = best_step, best_f1
        if save_model:
            model_dir = run_path / "model"
            trainer.save_model(str(model_dir))
            tokenizer.save_pretrained(str(model_dir))
            publishable_tree(model_dir)  # model.safetensors comes out 0600; give it the umask's 0644 like every file
            result.model_dir = str(model_dir)
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    return result


@contextmanager
def _wandb_closed(active: bool) -> Iterator[None]:
    """Close the W&B run however training ends, so an offline run's files are complete for `wandb sync`."""
    try:
        yield
    finally:
        if active:
            try:
                import wandb
            except ImportError:  # pragma: no cover
                wandb = None  # type: ignore[assignment]
            if wandb is not None and wandb.run is not None:
                wandb.finish()


def oom_message(batch_size: int) -> str:
    half = max(1, int(batch_size) // 2)
    return f"Out of GPU memory at batch size {batch_size}: try --batch-size {half} or --grad-accum 2."
