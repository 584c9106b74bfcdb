"""The training process end to end: run folder, events, metrics.json, cancel/resume, failures."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bnner_tui.core.config import TrainConfig
from bnner_tui.core.events import read_events
from bnner_tui.core.labels import WIKIANN_LABELS
from bnner_tui.core.train.callbacks import CancelFlag
from bnner_tui.core.train.worker import run_worker

TINY = dict(
    offline_hidden_size=32,
    offline_layers=1,
    offline_heads=2,
    offline_vocab_size=400,
    logging_steps=2,
    batch_size=8,
    eval_batch_size=64,
)


def make_run(tmp_path: Path, name: str = "run", **kw: Any) -> Path:
    run = tmp_path / name
    run.mkdir(parents=True)
    values = {**TINY, "max_steps": 6, "eval_every": 3, "save_every": 3, "run_name": name, **kw}
    TrainConfig.from_preset("cpu-demo", **values).to_toml(run / "config.toml")
    return run


def events_of(run: Path) -> list[dict[str, Any]]:
    return read_events(run / "events.jsonl")[0]


def types_of(run: Path) -> list[str]:
    return [e["type"] for e in events_of(run)]


@pytest.mark.slow
def test_all_strategy_reports_labelled_piece_level_and_evaluate_run(tmp_path: Path) -> None:
    from bnner_tui.core.errors import BnnerError
    from bnner_tui.core.train.evaluate import evaluate_run

    run = make_run(tmp_path, strategy="all", max_steps=4, eval_every=4, save_every=4)
    assert run_worker(run) == 0
    ev = next(e for e in events_of(run) if e["type"] == "eval")
    assert ev["piece_level"]["level"] == "piece"
    assert "f1" in ev["piece_level"]["overall"]
    entry = evaluate_run(run, "test")
    assert entry["piece_level"] is not None
    doc = json.loads((run / "metrics.json").read_text())
    assert set(doc["splits"]) == {"validation", "test"}
    with pytest.raises(BnnerError, match="no 'nope' split"):
        evaluate_run(run, "nope")


def test_evaluate_refuses_unlabelled_split(tmp_path: Path, tiny_model_dir: Path) -> None:
    import shutil

    from bnner_tui.core.errors import BnnerError
    from bnner_tui.core.train.evaluate import evaluate_run

    data = tmp_path / "data"
    data.mkdir()
    (data / "train.conll").write_text("ঢাকা\tB-LOC\nশহর\tO\n\n", encoding="utf-8")
    (data / "test.conll").write_text("ঢাকা\nশহর\n\n", encoding="utf-8")
    run = make_run(tmp_path, data=str(data))
    shutil.copytree(tiny_model_dir, run / "model")
    with pytest.raises(BnnerError, match="no labels"):
        evaluate_run(run, "test")


@pytest.mark.slow
def test_cancel_saves_checkpoint_then_resume_finishes(tmp_path: Path) -> None:
    from transformers import TrainerCallback

    flag = CancelFlag()

    class CancelAt(TrainerCallback):
        def on_step_end(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
            if state.global_step == 2:
                flag.set("SIGTERM")  # what the worker's signal handler does

    run = make_run(tmp_path, max_steps=6, eval_every=100, save_every=100)
    assert run_worker(run, cancel=flag, extra_callbacks=[CancelAt()]) == 0
    last = events_of(run)[-1]
    assert last["type"] == "cancelled" and last["step"] == 2
    assert Path(last["checkpoint"]).name == "checkpoint-2"
    assert (Path(last["checkpoint"]) / "trainer_state.json").exists()
    assert not (run / "model").exists()

    assert run_worker(run, resume=True) == 0
    types = types_of(run)
    assert types.count("started") == 1
    resumed = next(e for e in events_of(run) if e["type"] == "resumed")
    assert resumed["from_step"] == 2
    finished = events_of(run)[-1]
    assert finished["type"] == "finished" and finished["step"] == 6
    steps = [e["step"] for e in events_of(run) if e["type"] == "step"]
    assert max(steps) == 6 and steps[-1] == 6
    assert "tokenized data loaded from cache" in (run / "train.log").read_text()  # tokenized once


def test_out_of_gpu_memory_is_one_sentence(tmp_path: Path) -> None:
    import torch
    from transformers import TrainerCallback

    class Boom(TrainerCallback):
        def on_step_end(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
            raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")

    run = make_run(tmp_path, batch_size=32, max_steps=3)
    assert run_worker(run, extra_callbacks=[Boom()]) == 1
    last = events_of(run)[-1]
    assert last["type"] == "failed"
    assert last["reason"] == "Out of GPU memory at batch size 32: try --batch-size 16 or --grad-accum 2."
    assert last["traceback_in"] == "train.log"
    log = (run / "train.log").read_text()
    assert "Traceback" in log and "OutOfMemoryError" in log


def _source(splits: dict[str, list[tuple[list[str], list[str]]]], label_names: list[str]) -> Any:
    from datasets import ClassLabel, Dataset, DatasetDict, Features, Sequence, Value

    from bnner_tui.core.data.source import LoadedSource

    feats = Features({"tokens": Sequence(Value("string")), "ner_tags": Sequence(ClassLabel(names=label_names))})
    dd = DatasetDict(
        {
            name: Dataset.from_dict(
                {"tokens": [t for t, _ in rows], "ner_tags": [[label_names.index(x) for x in g] for _, g in rows]},
                features=feats,
            )
            for name, rows in splits.items()
        }
    )
    return LoadedSource(dataset=dd, label_names=label_names, name="in-test data", spec="test")


def test_no_training_split_fails_before_training(tmp_path: Path) -> None:
    src = _source({"validation": [(["ঢাকা"], ["B-LOC"])]}, WIKIANN_LABELS)
    run = make_run(tmp_path)
    assert run_worker(run, source=src) == 1
    types = types_of(run)
    assert types == ["failed"]
    assert "no 'train' split" in events_of(run)[-1]["reason"]


def test_labels_the_model_does_not_know_fail_before_training(tmp_path: Path, tiny_model_dir: Path) -> None:
    labels = ["O", "B-PER", "I-PER", "B-MISC", "I-MISC"]
    src = _source({"train": [(["ঢাকা", "ক্রিকেট"], ["B-MISC", "I-MISC"])]}, labels)
    run = make_run(tmp_path, model=str(tiny_model_dir))
    assert run_worker(run, source=src) == 1
    assert types_of(run) == ["failed"]
    reason = events_of(run)[-1]["reason"]
    assert "B-MISC" in reason and "\n" not in reason


def test_second_worker_on_a_locked_run_is_refused(tmp_path: Path) -> None:
    from bnner_tui.core.runs import RunLock

    run = make_run(tmp_path)
    with RunLock(run):
        proc = subprocess.run(
            [sys.executable, "-m", "bnner_tui.core.train.worker", str(run)], capture_output=True, text=True, timeout=120
        )
    assert proc.returncode == 1
    assert "in use" in proc.stderr and "Traceback" not in proc.stderr
