"""An exponential moving average (EMA) of the weights, as a Trainer callback (`ema_decay`).

Why: a model trained from scratch with a high learning rate oscillates from one evaluation to
the next (the `cpu` preset's dev F1 moved by up to 1 point between epochs, and stopped at
0.950); the average of the recent weights is steadier and better, without a learning-rate
schedule that must know the run's length. Evaluations and checkpoints see the average, so the
"best model" and the saved model are the average; training itself goes on from the raw weights.

The average starts from the initial weights and has no warm-up. On WikiANN bn (scratch runs,
one thread, `cpu` preset's model) decay 0.998 this way reached 0.957-0.958 dev F1 in two seeds,
and 0.951-0.953 with the usual (1 + n) / (10 + n) or (1 + n) / (2 + n) warm-ups, or with the
average started at the first evaluation: the share of the small initial weights acts as
shrinkage. While that share is large the average is mostly the starting point, so an evaluation
uses the raw weights until the initial weights' share in the average is below a third
(`SHARE_LIMIT`; with the `cpu` preset's 0.999, epoch 7 of WikiANN bn at batch 64). A run too
short for the decay (the demo set: ~150 steps) averages over at most a fifth of its steps
(`decay_for`).

Each checkpoint keeps the raw weights and the average (`EMA_STATE_FILE`), so a resumed run
continues exactly as one that was never stopped. The file is not part of the model folder.
torch, safetensors and transformers are imported inside the factory.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

EMA_STATE_FILE = "bnner_ema_state.safetensors"
SHARE_LIMIT = 1 / 3


def decay_for(decay: float, max_steps: int) -> float:
    """`decay`, or less for a run too short for it: the average spans at most a fifth of the run."""
    return min(decay, 1 - 5 / max_steps) if max_steps > 5 else decay


def make_ema_callback(decay: float, *, resume_from: str | Path | None = None) -> Any:
    """The callback; `resume_from` is the checkpoint a resumed run starts from (its EMA state is read)."""
    import torch
    from transformers import TrainerCallback

    class EmaCallback(TrainerCallback):
        def __init__(self) -> None:
            self.shadow: dict[str, torch.Tensor] | None = None
            self.stash: dict[str, torch.Tensor] | None = None
            self.share = 1.0  # the initial weights' share in the average

        @staticmethod
        def _params(model: Any) -> dict[str, torch.Tensor]:
            return {n: p for n, p in model.named_parameters() if p.requires_grad and p.is_floating_point()}

        @property
        def averaging(self) -> bool:
            """True once evaluations use the average."""
            return self.share < SHARE_LIMIT

        def on_train_begin(self, args: Any, state: Any, control: Any, model: Any = None, **kw: Any) -> None:
            params = self._params(model)
            self.shadow = {n: p.detach().clone() for n, p in params.items()}
            saved = Path(resume_from) / EMA_STATE_FILE if resume_from else None
            if saved is None or not saved.is_file():
                return
            from safetensors import safe_open

            with safe_open(str(saved), framework="pt") as fh:
                self.share = float((fh.metadata() or {}).get("share", "1.0"))
                with torch.no_grad():
                    for n, p in params.items():
                        p.copy_(fh.get_tensor(f"raw.{n}").to(p.device, p.dtype))
                        self.shadow[n] = fh.get_tensor(f"avg.{n}").to(p.device, p.dtype)

        def _swap_in(self, model: Any) -> None:
            if self.stash is not None or self.shadow is None or not self.averaging:
                return
            params = self._params(model)
            self.stash = {n: p.detach().clone() for n, p in params.items()}
            with torch.no_grad():
                for n, p in params.items():
                    p.copy_(self.shadow[n])

        def on_step_begin(self, args: Any, state: Any, control: Any, model: Any = None, **kw: Any) -> None:
            if self.stash is None:
                return
            with torch.no_grad():
                for n, p in self._params(model).items():
                    p.copy_(self.stash[n])
            self.stash = None

        def on_step_end(self, args: Any, state: Any, control: Any, model: Any = None, **kw: Any) -> None:
            if self.shadow is None:
                return
            d = decay_for(decay, int(state.max_steps))
            self.share *= d
            with torch.no_grad():
                for n, p in self._params(model).items():
                    self.shadow[n].mul_(d).add_(p.detach(), alpha=1 - d)
            if control.should_evaluate or control.should_save or control.should_training_stop:
                self._swap_in(model)

        def on_epoch_end(self, args: Any, state: Any, control: Any, model: Any = None, **kw: Any) -> None:
            if control.should_evaluate or control.should_save:
                self._swap_in(model)

        def on_save(self, args: Any, state: Any, control: Any, model: Any = None, **kw: Any) -> None:
            path = Path(args.output_dir) / f"checkpoint-{state.global_step}"
            if self.shadow is None or not state.is_world_process_zero or not path.is_dir():
                return
            from safetensors.torch import save_file

            from bnner_tui.core.files import atomic_write_via

            raw = self.stash if self.stash is not None else self._params(model)
            tensors = {f"raw.{n}": t.detach().contiguous() for n, t in raw.items()}
            tensors.update({f"avg.{n}": t.contiguous() for n, t in self.shadow.items()})
            meta = {"share": repr(self.share), "decay": repr(decay)}
            atomic_write_via(path / EMA_STATE_FILE, lambda tmp: save_file(tensors, str(tmp), metadata=meta))

        def on_train_end(self, args: Any, state: Any, control: Any, model: Any = None, **kw: Any) -> None:
            # The model a run keeps is what its evaluations saw: the best checkpoint's weights
            # (already loaded), else the average once it is in use. Raw weights are only trained on.
            if self.stash is not None:
                self.stash = None
            elif not (args.load_best_model_at_end and state.best_model_checkpoint):
                self._swap_in(model)
                self.stash = None

    return EmaCallback()
