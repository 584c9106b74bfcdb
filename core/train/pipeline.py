"""One training run, step by step: model choice → data → tokenizer → Trainer → metrics.json and model/.

Why the Trainer and not a home-made loop: it already does mixed precision, gradient
accumulation, DDP under torchrun, fused optimizers, exact resume (optimizer, scheduler, RNG and
data position) and W&B through `report_to`. `train_run` only wires it to the run folder, each
step in a module of its own:
  - `prepare`: the data through the one loader, its splits checked, the training split
    tokenized ONCE (`core.align.align_batch`) and cached inside the run;
  - `arguments`: TrainingArguments from the TrainConfig;
  - `callbacks`: the Trainer's hooks as `events.jsonl` lines (rank 0 only), and a cancel flag
    (set by the worker's signal handler) that saves a checkpoint and stops after the step;
  - `evaluate`: every eval word scored under the one decoding policy;
  - `outputs`: metrics.json (its one writer) and `model/`, whose config carries the real label names.

Everything heavy is imported inside functions: the CLI imports `bnner_tui.core.train` lazily.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bnner_tui.core.labels import IGNORE_INDEX
from bnner_tui.core.runs import RunDir
from bnner_tui.core.train.arguments import training_arguments
from bnner_tui.core.train.callbacks import CancelFlag, make_callbacks, make_trainer_class
from bnner_tui.core.train.device import is_rank0, resolve_precision, synchronize_cuda, world_size
from bnner_tui.core.train.ema import make_ema_callback
from bnner_tui.core.train.models import ModelChoice
from bnner_tui.core.train.outputs import save_model as save_model_dir
from bnner_tui.core.train.outputs import split_entry, write_metrics
from bnner_tui.core.train.prepare import SplitPlan, load_data, plan_splits, tokenize_train_split
from bnner_tui.core.train.tracking import (
    TrackingSetup,
    find_offline_run,
    redact,
    setup_tracking,
    tracking_env,
    wandb_closed,
)

log = logging.getLogger("bnner_tui.train")


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


@dataclass
class _Scoring:
    """What the Trainer needs to score the eval split; empty when the run does not evaluate."""

    dataset: Any = None
    compute_metrics: Any = None
    sink: dict[str, Any] = field(default_factory=dict)  # the last full eval entry, for the event callback


# ---- the steps -------------------------------------------------------------------------------------


def _history(events_path: Path) -> Any:
    """The run's events so far folded into a RunState (what a resumed process continues)."""
    from bnner_tui.core.events import read_typed
    from bnner_tui.core.runstate import fold

    return fold(read_typed(events_path).events, curves=False)


def _pick_model(cfg: Any, model: Any, model_choice: ModelChoice | None, history: Any) -> ModelChoice:
    """Which model, and why; a resumed run keeps its first choice, even if the network came back."""
    if model_choice is None and model is None:
        prior = history.started if history is not None else None
        if prior is not None and prior.model_kind:
            described = prior.model or ""  # describe() of the first choice: "name: reason"
            reason = described.removeprefix(f"{prior.model_name}: ")
            model_choice = ModelChoice(prior.model_kind, prior.model_name or "", reason)
        else:
            from bnner_tui.core.train.models import choose_model

            model_choice = choose_model(cfg.model, tokenizer=cfg.tokenizer)
    if model_choice is None:
        model_choice = ModelChoice("given", type(model).__name__, "passed in by the caller")
    return model_choice


def _prepare_tokenizer(choice: ModelChoice, cfg: Any, source: Any, resume_from: str | Path | None) -> Any:
    """The model's tokenizer; a resumed run reads the one saved in its checkpoint."""
    from bnner_tui.core.train.tokenizers import prepare_tokenizer

    saved = Path(resume_from) if resume_from else None
    return prepare_tokenizer(choice, cfg, source.dataset[cfg.train_split]["tokens"], saved_dir=saved)


def _label_order(choice: ModelChoice, model: Any, source_labels: list[str]) -> list[str]:
    """The label order the model trains with: a pretrained classifier's own order where it has one."""
    if model is None and choice.kind in ("hub", "local"):
        from bnner_tui.core.train.models import label_order_for

        return label_order_for(choice.name, source_labels)
    return source_labels


def _ready_model(
    model: Any,
    choice: ModelChoice,
    label_names: list[str],
    *,
    tokenizer: Any,
    cfg: Any,
    train_words: Iterable[Sequence[str]] | None = None,
) -> Any:
    """The model to train (built unless given), its config carrying the real label names."""
    if model is None:
        from bnner_tui.core.train.models import build_model

        model = build_model(
            choice, label_names, tokenizer=tokenizer, cfg=cfg, seed=int(cfg.seed), train_words=train_words
        )
    model.config.id2label = dict(enumerate(label_names))
    model.config.label2id = {name: i for i, name in enumerate(label_names)}
    return model


def _scoring(args: Any, cfg: Any, source: Any, *, tokenizer: Any, label_names: list[str]) -> _Scoring:
    """The eval split's rows and `compute_metrics`.

    Evaluation rows cover every word (long sentences in the tagger's windows) and are decoded
    with the project's one policy, so training-time scores are eval's and tag's scores.
    """
    from bnner_tui.core.train.evaluate import make_trainer_metrics, tokenize_eval_split, train_memory

    dataset, source_labels = source.dataset, list(source.label_names)
    with args.main_process_first(desc="tokenize eval"):
        evalset = tokenize_eval_split(
            dataset[cfg.eval_split],
            tokenizer=tokenizer,
            label_names=label_names,
            source_label_names=source_labels,
            strategy=cfg.strategy,
            max_length=int(cfg.max_length),
        )
    scoring = _Scoring(dataset=evalset.rows)
    sink = scoring.sink
    scoring.compute_metrics = make_trainer_metrics(
        evalset,
        memory=train_memory(dataset, cfg.train_split, source_labels),
        sink=lambda full: sink.__setitem__("last", full),
    )
    return scoring


def _started_event(
    cfg: Any,
    *,
    choice: ModelChoice,
    model: Any,
    device: str,
    precision: str,
    source: Any,
    plan: SplitPlan,
    label_names: list[str],
    setup: TrackingSetup,
) -> dict[str, Any]:
    """The fields of the run's `started` event (emitted by the event callback when training begins)."""
    return {
        "config": redact(cfg.to_dict() if hasattr(cfg, "to_dict") else dict(vars(cfg))),
        "model": choice.describe(),
        "model_kind": choice.kind,
        "model_name": choice.name,
        "parameters": int(sum(p.numel() for p in model.parameters())),
        "device": device,
        "precision": precision,
        "dataset": getattr(source, "name", str(cfg.data)),
        "dataset_sizes": {name: int(ds.num_rows) for name, ds in source.dataset.items()},
        "unlabelled_splits": sorted(plan.unlabelled),
        "not_scored": plan.not_scored,
        "label_names": list(label_names),
        "nproc": world_size(),
        "tracking": setup.mode,
        "wandb_dir": setup.wandb_dir if setup.mode == "wandb-offline" else None,
    }


def _early_stopping(cfg: Any, plan: SplitPlan) -> list[Any]:
    """The early-stopping callback when the config asks for it and there is a score to watch."""
    if cfg.early_stopping_patience is None or not plan.has_eval:
        return []
    from transformers import EarlyStoppingCallback

    return [EarlyStoppingCallback(early_stopping_patience=int(cfg.early_stopping_patience))]


def _make_trainer(
    model: Any, args: Any, train_dataset: Any, *, scoring: _Scoring, tokenizer: Any, callbacks: list[Any], cfg: Any
) -> Any:
    """The (token-counting) Trainer over the tokenized training split, its stdout printer replaced by events."""
    from transformers import DataCollatorForTokenClassification
    from transformers.trainer_callback import PrinterCallback

    from bnner_tui.core.train.evaluate import preprocess_log_probs

    collator = DataCollatorForTokenClassification(
        tokenizer, pad_to_multiple_of=cfg.pad_to_multiple_of, label_pad_token_id=IGNORE_INDEX
    )
    trainer = make_trainer_class()(
        model=model,
        args=args,
        train_dataset=train_dataset,
        eval_dataset=scoring.dataset,
        data_collator=collator,
        processing_class=tokenizer,
        compute_metrics=scoring.compute_metrics,
        preprocess_logits_for_metrics=preprocess_log_probs if scoring.compute_metrics else None,
        callbacks=callbacks,
    )
    trainer.remove_callback(PrinterCallback)  # the events replace its stdout dicts
    return trainer


def _final_score(trainer: Any, event_cb: Any, args: Any, step: int) -> tuple[dict[str, Any], int | None, Any]:
    """(eval entry at the final weights, best step, best F1): evaluates again unless the last eval was at `step`.

    With `load_best_model_at_end` the final weights are the best checkpoint's, so they are
    always scored again, and the best step and F1 are the Trainer's.
    """
    best_step, best_f1 = event_cb.best_step, event_cb.best_f1
    last = event_cb.last_eval
    if last is None or last.get("step") != step or args.load_best_model_at_end:
        event_cb.quiet = True
        trainer.evaluate()
        last = event_cb.last_eval
    if args.load_best_model_at_end and trainer.state.best_model_checkpoint:
        best_step = int(Path(trainer.state.best_model_checkpoint).name.split("-")[-1])
        best_f1 = trainer.state.best_metric
    assert last is not None
    return split_entry(last, last.get("loss")), best_step, best_f1


def _run_facts(train_metrics: dict[str, Any], setup: TrackingSetup, *, since: float, earlier: float) -> dict[str, Any]:
    """Run-level facts metrics.json keeps beside the scores: training figures, W&B folder, duration.

    The duration is every process's share (`earlier`, from the events) plus this process's since `since`.
    """
    facts: dict[str, Any] = {
        "train": {
            k: train_metrics.get(k)
            for k in ("train_runtime", "train_samples_per_second", "train_loss")
            if k in train_metrics
        }
    }
    if setup.mode == "wandb-offline" and setup.wandb_dir:
        offline = find_offline_run(setup.wandb_dir)
        facts["wandb_dir"] = str(offline or setup.wandb_dir)
    facts["duration_s"] = round(earlier + time.time() - since, 2)
    return facts


# ---- the run -------------------------------------------------------------------------------------


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
    rd = RunDir(run_path)
    t_start = process_start if process_start is not None else time.time()
    # A resumed run's duration is every process's share, not only this one's (metrics.json).
    history = _history(rd.events_path) if resume_from else None
    earlier_seconds = history.closed_seconds if history is not None else 0.0
    precision, device = resolve_precision(cfg.precision)
    run_name = cfg.run_name or rd.name
    setup: TrackingSetup = tracking or setup_tracking(cfg, rd.path, run_name)

    model_choice = _pick_model(cfg, model, model_choice, history)
    log.info("model: %s", model_choice.describe())
    if source is None:
        source = load_data(cfg)
    plan = plan_splits(cfg, source, evaluate=evaluate)
    if tokenizer is None:
        tokenizer = _prepare_tokenizer(model_choice, cfg, source, resume_from)
    label_names = _label_order(model_choice, model, list(source.label_names))
    args = training_arguments(
        cfg,
        rd.checkpoints_dir,
        precision=precision,
        report_to=setup.report_to,
        run_name=run_name,
        evaluate=plan.has_eval,
    )
    with args.main_process_first(desc="tokenize"):
        tokenized = tokenize_train_split(cfg, source, tokenizer=tokenizer, label_names=label_names, run_path=rd.path)
    model = _ready_model(
        model,
        model_choice,
        label_names,
        tokenizer=tokenizer,
        cfg=cfg,
        train_words=source.dataset[cfg.train_split]["tokens"],
    )
    scoring = _scoring(args, cfg, source, tokenizer=tokenizer, label_names=label_names) if plan.has_eval else _Scoring()

    started = None
    if events is not None and not resume_from:
        started = _started_event(
            cfg,
            choice=model_choice,
            model=model,
            device=device,
            precision=precision,
            source=source,
            plan=plan,
            label_names=label_names,
            setup=setup,
        )
    event_cb, cancel_cb = make_callbacks(
        events=events,
        cancel=cancel,
        eval_split=cfg.eval_split,
        started=started,
        eval_sink=scoring.sink,
        batch_per_step=int(cfg.batch_size) * int(cfg.grad_accum) * world_size(),
    )
    callbacks = [event_cb, *extra_callbacks, cancel_cb, *_early_stopping(cfg, plan)]
    if float(cfg.ema_decay) > 0:  # last: it must see the cancel callback's save request
        callbacks.append(make_ema_callback(float(cfg.ema_decay), resume_from=resume_from))

    with tracking_env(setup), wandb_closed(bool(setup.report_to)):
        trainer = _make_trainer(
            model, args, tokenized[cfg.train_split], scoring=scoring, tokenizer=tokenizer, callbacks=callbacks, cfg=cfg
        )
        event_cb.trainer = trainer
        out = trainer.train(resume_from_checkpoint=str(resume_from) if resume_from else None)
        train_metrics = dict(out.metrics)
        step = trainer.state.global_step

        if cancel_cb.cancelled_at is not None:
            ckpt = rd.checkpoints_dir / f"checkpoint-{step}"
            return RunResult("cancelled", step, checkpoint=str(ckpt), train_metrics=train_metrics)
        result = RunResult("finished", step, train_metrics=train_metrics)
        if not is_rank0():
            return result

        entry: dict[str, Any] | None = None
        best_step, best_f1 = event_cb.best_step, event_cb.best_f1
        if plan.has_eval:
            entry, best_step, best_f1 = _final_score(trainer, event_cb, args, step)
        result.metrics = write_metrics(
            rd.metrics_path,
            cfg.eval_split if entry is not None else None,
            entry,
            data_spec=str(getattr(source, "spec", cfg.data)),
            data_name=str(getattr(source, "name", cfg.data)),
            best_step=best_step,
            best_f1=best_f1,
            not_scored=plan.not_scored,
            extra=_run_facts(train_metrics, setup, since=t_start, earlier=earlier_seconds),
        )
        result.metrics_path = str(rd.metrics_path)
        result.best_step, result.best_f1 = best_step, best_f1
        if save_model:
            result.model_dir = str(save_model_dir(trainer, tokenizer, rd.model_dir))
    synchronize_cuda()
    return result
