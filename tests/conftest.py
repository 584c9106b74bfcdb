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


_TINY_TEXT = [
    "ঢাকা বাংলাদেশের রাজধানী ।",
    "রবীন্দ্রনাথ ঠাকুর কলকাতায় জন্মগ্রহণ করেন ।",
    "বাংলাদেশ ক্রিকেট বোর্ড মিরপুরে অবস্থিত ।",
    "শেখ হাসিনা , সিডনি ক্রিকেট গ্রাউন্ড , জাতীয় উদ্যান",
    "Dhaka University and Google in London .",
]


def build_tiny_model(out_dir: Path, *, seed: int = 0, max_length: int = 128) -> Path:
    """A real, tiny, random-init BERT token classifier with WikiANN's label names, saved like a run's model/.

    Shared by tests that need *a* model folder (tagger, card, publish, TUI) without training one.
    """
    import torch
    from transformers import BertConfig, BertForTokenClassification

    from bnner_tui.core.labels import WIKIANN_LABELS
    from bnner_tui.core.train.tokenizers import train_wordpiece

    fast = train_wordpiece([s.split() for s in _TINY_TEXT], vocab_size=300, max_length=max_length)
    torch.manual_seed(seed)
    config = BertConfig(
        vocab_size=len(fast),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=max_length,
        num_labels=len(WIKIANN_LABELS),
        id2label=dict(enumerate(WIKIANN_LABELS)),
        label2id={label: i for i, label in enumerate(WIKIANN_LABELS)},
    )
    model = BertForTokenClassification(config)
    out_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out_dir)
    fast.save_pretrained(out_dir)
    return out_dir


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A saved tiny random-init BERT token classifier (see build_tiny_model)."""
    return build_tiny_model(tmp_path_factory.mktemp("tiny-model") / "model")


@pytest.fixture(scope="session")
def forced_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The forced model (tests/forced_model.py): each vocabulary piece gets one chosen label."""
    from forced_model import build_forced_model

    return build_forced_model(tmp_path_factory.mktemp("forced-model") / "model")
