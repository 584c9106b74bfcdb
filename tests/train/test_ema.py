"""The weight average (EMA, `ema_decay`): evaluations and checkpoints see the average, training
goes on from the raw weights, and a resumed run continues exactly as one that was never stopped."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bnner_tui.core.config import TrainConfig
from bnner_tui.core.train.callbacks import CancelFlag
from bnner_tui.core.train.ema import EMA_STATE_FILE, decay_for, make_ema_callback
from bnner_tui.core.train.worker import run_worker


def test_evaluations_see_the_average_once_the_initial_weights_are_under_a_third_of_it() -> None:
    import torch
    from transformers import TrainerControl, TrainerState, TrainingArguments

    model = torch.nn.Linear(2, 1, bias=False)
    with torch.no_grad():
        model.weight.fill_(0.0)
    cb = make_ema_callback(0.5)
    args = TrainingArguments(output_dir="unused", report_to=[])
    state, control = TrainerState(), TrainerControl()
    cb.on_train_begin(args, state, control, model=model)
    control.should_evaluate = True
    expected = torch.zeros(1, 2)  # the average starts from the initial weights: no warm-up
    for step, share in ((1, 0.5), (2, 0.25), (3, 0.125)):
        cb.on_step_begin(args, state, control, model=model)
        assert torch.allclose(model.weight, torch.full((1, 2), float(step - 1)))  # trains on the raw weights
        with torch.no_grad():
            model.weight.fill_(float(step))  # what the optimizer step did
        state.global_step = step
        cb.on_step_end(args, state, control, model=model)  # evaluation follows
        expected = expected * 0.5 + float(step) * 0.5
        assert cb.share == pytest.approx(share)
        if step == 1:  # the average is still half the initial weights: the evaluation sees the raw ones
            assert torch.allclose(model.weight, torch.full((1, 2), 1.0))
        else:
            assert torch.allclose(model.weight, expected)
    cb.on_train_end(args, state, control, model=model)
    assert torch.allclose(model.weight, expected)  # the model a run keeps is the average
    # A run too short for the decay averages over at most a fifth of its steps.
    assert decay_for(0.998, 100) == pytest.approx(0.95) and decay_for(0.998, 10_000) == pytest.approx(0.998)


def _run(tmp_path: Path, name: str) -> Path:
    run = tmp_path / name
    run.mkdir()
    values = dict(max_steps=6, eval_every=3, save_every=3, run_name=name, offline_vocab_size=2000, logging_steps=3)
    TrainConfig.from_preset("cpu", **values).to_toml(run / "config.toml")
    return run


def _weights(run: Path) -> dict[str, Any]:
    from safetensors.torch import load_file

    return load_file(str(run / "model" / "model.safetensors"))


@pytest.mark.slow
def test_a_cancelled_and_resumed_ema_run_ends_with_the_weights_of_one_never_stopped(tmp_path: Path) -> None:
    import torch
    from transformers import TrainerCallback

    assert TrainConfig.from_preset("cpu").ema_decay > 0  # the preset this checks uses the average
    whole = _run(tmp_path, "whole")
    assert run_worker(whole) == 0

    flag = CancelFlag()

    class CancelAt(TrainerCallback):
        def on_step_end(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
            if state.global_step == 2:
                flag.set("SIGTERM")

    cut = _run(tmp_path, "cut")
    assert run_worker(cut, cancel=flag, extra_callbacks=[CancelAt()]) == 0
    checkpoint = cut / "checkpoints" / "checkpoint-2"
    assert (checkpoint / EMA_STATE_FILE).is_file()  # the raw weights and the average
    assert run_worker(cut, resume=True) == 0

    a, b = _weights(whole), _weights(cut)
    assert a.keys() == b.keys()
    for key in a:
        assert torch.allclose(a[key], b[key], atol=1e-6), key
    assert not (whole / "model" / EMA_STATE_FILE).exists()  # only checkpoints keep the EMA state
