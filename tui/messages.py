"""Textual messages shared between screens.

Screens never import each other; they talk through these messages (which bubble up to the
app) and through attributes on the app (`app.selected_run`). tui-runs may add messages here.
"""

from __future__ import annotations

from pathlib import Path

from textual.message import Message


class RunSelected(Message):
    """A run was chosen (in the Runs screen, or anywhere else): Tag and Card follow it."""

    def __init__(self, run_dir: Path | None) -> None:
        super().__init__()
        self.run_dir = run_dir
