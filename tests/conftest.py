"""Shared fixtures: where the shared data lives, and skips with a reason when it does not."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = Path(os.environ.get("BNNER_SHARED_DATA", REPO.parent / "shared" / "data"))
WIKIANN_DIR = SHARED_DATA / "wikiann-bn-xtreme-panx"
WIKIANN_DUMMY_DIR = SHARED_DATA / "wikiann-bn-hf-dummy"
MBERT_DIR = SHARED_DATA / "mbert-cased-tokenizer"


def _need(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"{path} is absent: this test needs the shared data beside the repo (../shared/data)")
    return path


@pytest.fixture
def wikiann_dir() -> Path:
    return _need(WIKIANN_DIR)


@pytest.fixture
def wikiann_dummy_dir() -> Path:
    return _need(WIKIANN_DUMMY_DIR)


@pytest.fixture
def mbert_dir() -> Path:
    return _need(MBERT_DIR)


@pytest.fixture(autouse=True)
def _offline_env(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Tests never reach the network and never pick up a developer's tokens or W&B login."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setenv("WANDB_SILENT", "true")
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.delenv("HUGGING_FACE_HUB_TOKEN", raising=False)
    monkeypatch.delenv("WANDB_API_KEY", raising=False)
    monkeypatch.setenv("TOKENIZERS_PARALLELISM", "false")
