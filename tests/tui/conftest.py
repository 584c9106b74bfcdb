"""Every TUI test measures text with the app's default width convention (tui/cells.py).

The app sets it when it starts; pure helpers (clip, the grid) tested without an app need it
set too, and a test that switches to the grapheme convention must not leak it to the next.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bnner_tui.tui import cells


@pytest.fixture(autouse=True)
def _wcwidth_cells() -> Iterator[None]:
    cells.apply(cells.WCWIDTH)
    yield
    cells.apply(cells.WCWIDTH)


@pytest.fixture
def runs_workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Four synthetic runs under ./runs of a temporary working folder (tests/tui/synthetic_runs.py)."""
    from synthetic_runs import make_runs_workspace

    yield from make_runs_workspace(tmp_path, monkeypatch)
