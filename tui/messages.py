"""Textual messages shared between screens.

Screens never import each other; they talk through these messages (which bubble up to the
app) and through attributes on the app (`app.selected_run`, `app.loaded_source`,
`app.loaded_tokenizer`). tui-runs may add messages here.
"""

from __future__ import annotations

from pathlib import Path

from textual.message import Message


class DataLoaded(Message):
    """The Data screen loaded a source or a tokenizer: the Train form starts from them.

    Either may be None (only the other changed). A tokenizer the Train form cannot name (the
    Data screen's own "wordpiece", trained on the fly) is never sent."""

    def __init__(self, source: str | None = None, tokenizer: str | None = None) -> None:
        super().__init__()
        self.source = source
        self.tokenizer = tokenizer


class RunSelected(Message):
    """A run was chosen (in the Runs screen, or anywhere else): Tag and Card follow it."""

    def __init__(self, run_dir: Path | None) -> None:
        super().__init__()
        self.run_dir = run_dir
