"""Path completion for text boxes that take a file or folder (`core.pathcomplete`).

Textual's Input shows a Suggester's suggestion greyed after the cursor; right arrow (or end)
accepts it, so a path is completed one folder at a time. No cache: folders change while the
app is open (a run saves its model).
"""

from __future__ import annotations

from textual.suggester import Suggester

from bnner_tui.core.pathcomplete import complete_path


class PathSuggester(Suggester):
    """Suggests the first entry of the typed folder that starts with the typed name."""

    def __init__(self) -> None:
        super().__init__(use_cache=False, case_sensitive=True)

    async def get_suggestion(self, value: str) -> str | None:
        return complete_path(value)
