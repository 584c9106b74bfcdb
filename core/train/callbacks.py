"""The Trainer's hooks: events.jsonl lines, the cancel request (checkpoint, then stop), real-token counting.

transformers is imported inside the factories: the worker creates a `CancelFlag` before any
heavy import, so a Ctrl-C during start-up still ends as `cancelled`.
"""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path
from typing import Any

from bnner_tui.core.files import publishable_tree
from bnner_tui.core.train.device import world_size


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


def make_trainer_class() -> type:
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
            # Our own config into W&B (the Trainer logs its arguments itself). Only when the
            # Trainer's W&B callback has imported wandb: importing it here costs a run without
            # tracking most of a second of start-up.
            wandb = sys.modules.get("wandb")
            if wandb is not None and getattr(wandb, "run", None) is not None and started is not None:
                from bnner_tui.core.train.tracking import redact

                wandb.config.update({"bnner": redact(started.get("config", {}))}, allow_val_change=True)

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
            # safetensors writes 0600 whatever the umask; the folder follows the user's umask. Only the
            # process that wrote the checkpoint touches it: the other ranks reach on_save without a
            # barrier, while rank 0 may still be writing its temporary files there.
            if state.is_world_process_zero and path.is_dir():
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
