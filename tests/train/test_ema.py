"""The weight average (EMA, `ema_decay`): evaluations and checkpoints see the average, training
goes on from the raw weights, and a resumed run continues exactly as one that was never stopped."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bnner_tui.core.config import TrainConfig
from bnner_tui.core.train.callbacks import EMA_RAW_FILE, CancelFlag, make_ema_callback
from bnner_tui.core.train.worker import run_worker


def test_the_average_is_swapped_in_for_evaluation_and_out_for_the_next_step() -> None:
    import torch
    from transformers import TrainerControl, TrainerState, TrainingArguments

    model = torch.nn.Linear(2, 1, bias=False)
    with torch.no_grad():
        model.weight.fill_(0.0)
    cb = make_ema_callback(0.5)
    args = TrainingArguments(output_dir="unused", report_to=[])
    state, control = TrainerState(), TrainerControl()
    cb.on_train_begin(args, state, control, model=model)
    expected = torch.zeros(1, 2)
    for step in range(1, 4):
        cb.on_step_begin(args, state, control, model=model)
        with torch.no_grad():
            model.weight.fill_(float(step))  # what the optimizer step did
        state.global_step = step
        cb.on_step_end(args, state, control, model=model)
        d = 0.5  # no warm-up: the average starts from the initial weights
        expected = expected * d + float(step) * (1 - d)
        assert torch.allclose(model.weight, torch.full((1, 2), float(step)))  # no evaluation: raw
    control.should_evaluate = True
    cb.on_step_end(args, state, control, model=model)  # one more update (raw 3.0), then swapped in
    expected = expected * 0.5 + 3.0 * 0.5
    assert torch.allclose(model.weight, expected)
    control.should_evaluate = False
    cb.on_step_begin(args, state, control, model=model)
    assert torch.allclose(model.weight, torch.full((1, 2), 3.0))  # training goes on from the raw weights
    cb.on_train_end(args, state, control, model=model)
    assert torch.allclose(model.weight, expected)  # the model a run keeps is the average
    # A run too short for the decay averages over at most a fifth of its steps.
    assert cb.decay_for(100) == pytest.approx(0.5) and make_ema_callback(0.998).decay_for(100) == pytest.approx(0.95)
    assert make_ema_callback(0.998).decay_for(10_000) == pytest.approx(0.998)


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
    assert (checkpoint / EMA_RAW_FILE).is_file()  # the raw weights, beside the averaged ones
    assert run_worker(cut, resume=True) == 0

    a, b = _weights(whole), _weights(cut)
    assert a.keys() == b.keys()
    for key in a:
        assert torch.allclose(a[key], b[key], atol=1e-6), key
    assert not (whole / "model" / EMA_RAW_FILE).exists()  # only checkpoints keep the raw weights
