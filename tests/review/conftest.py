"""Fixtures for the review tests: real data (the bundled demo set), real cleanlab, real files.

Most tests use the lexicon fold model (a real model that trains in milliseconds) so the review
itself is the thing under test; the fold-split test also trains the offline small BERT.
"""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def demo_source():
    from bnner_tui.core.data import load_source

    return load_source("demo")


@pytest.fixture
def demo_review(tmp_path: Path, demo_source) -> Path:
    from bnner_tui.core.review.find import run_review
    from bnner_tui.core.review.model import lexicon_fold_model

    out = tmp_path / "reviews" / "demo-train"
    run_review(demo_source, split="train", out=out, folds=3, trainer=lexicon_fold_model)
    return out
