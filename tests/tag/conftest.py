"""Fixtures for the tagger: loaded taggers of the forced model (tests/forced_model.py, its
folder is the `forced_model_dir` fixture of tests/conftest.py) and of the tiny random model."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def forced_tagger(forced_model_dir: Path):
    from bnner_tui.core.tagger import Tagger

    return Tagger.load(forced_model_dir, device="cpu")


@pytest.fixture(scope="session")
def tiny_tagger(tiny_model_dir: Path):
    from bnner_tui.core.tagger import Tagger

    return Tagger.load(tiny_model_dir, device="cpu")
