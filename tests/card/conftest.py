"""Real run folders for the card and publishing tests, built the way the training engine lays them out."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import tomli_w

METRICS = {
    "level": "word",
    "scheme": "IOB2",
    "splits": {
        "validation": {
            "loss": 0.3712,
            "overall": {"precision": 0.71234, "recall": 0.68421, "f1": 0.69799, "accuracy": 0.91111},
            "per_type": {
                "PER": {"precision": 0.75, "recall": 0.7, "f1": 0.72414, "support": 40},
                "ORG": {"precision": 0.6, "recall": 0.55, "f1": 0.57391, "support": 20},
                "LOC": {"precision": 0.74, "recall": 0.72, "f1": 0.72986, "support": 35},
            },
            "piece_level": None,
        },
        "test": {
            "loss": 0.4,
            "overall": {"precision": 0.7, "recall": 0.66, "f1": 0.67941, "accuracy": 0.9},
            "per_type": {"PER": {"precision": 0.7, "recall": 0.66, "f1": 0.67941, "support": 30}},
            "piece_level": {"overall": {"precision": 0.8, "recall": 0.79, "f1": 0.795}},
        },
    },
    "best": {"step": 120, "f1": 0.69799},
}

CONFIG = {
    "model": "bert-base-multilingual-cased",
    "data": "wikiann",
    "strategy": "first",
    "max_length": 128,
    "learning_rate": 2e-5,
    "batch_size": 16,
    "epochs": 7,
    "max_steps": -1,
    "warmup_ratio": 0.0,
    "weight_decay": 0.01,
    "grad_accum": 1,
    "precision": "fp32",
    "seed": 42,
    "preset": "notebook",
    "wandb": {"project": "bnner", "api_key": "wandb-secret-should-never-appear"},
}


def make_run(root: Path, model_src: Path, *, name: str = "run1", config: dict | None = None,
             metrics: dict | None = None) -> Path:
    """A run folder: config.toml, events.jsonl, train.log, metrics.json, model/ (real weights), checkpoints/, wandb/."""
    run = root / name
    run.mkdir(parents=True)
    (run / "config.toml").write_text(tomli_w.dumps(config or CONFIG), encoding="utf-8")
    (run / "metrics.json").write_text(json.dumps(metrics or METRICS, indent=2), encoding="utf-8")
    (run / "events.jsonl").write_text('{"type": "start"}\n', encoding="utf-8")
    (run / "train.log").write_text("step 1 loss 1.0\n", encoding="utf-8")
    shutil.copytree(model_src, run / "model")
    ck = run / "checkpoints" / "checkpoint-120"
    ck.mkdir(parents=True)
    (ck / "optimizer.pt").write_bytes(b"\0" * 1000)
    (ck / "model.safetensors").write_bytes((model_src / "model.safetensors").read_bytes())
    (run / "wandb" / "run-x").mkdir(parents=True)
    (run / "wandb" / "run-x" / "config.yaml").write_text("x: 1\n", encoding="utf-8")
    (run / "run.lock").write_text("", encoding="utf-8")
    return run


@pytest.fixture
def run_dir(tmp_path: Path, tiny_model_dir: Path) -> Path:
    return make_run(tmp_path / "runs", tiny_model_dir)
