"""The footer every screen shows: the keys that work here, drawn compactly so they fit.

Textual's Footer scrolls sideways when its keys are wider than the terminal, but without a
scrollbar, so a user at 100 columns simply never sees the last keys. Compact style (no padding
around a key) plus the screen switches drawn as one group ("1 2 3 4 5 6 screens") keep every
screen's keys on a 100-column line; `tests/tui/test_footer.py` checks each screen at that width.
"""

from __future__ import annotations

from textual.binding import Binding
from textual.widgets import Footer

SCREEN_SWITCHES = Binding.Group("screens")
"""The group of the app's 1-6 bindings; their names are in the tooltips, Help and the palette."""


class KeyFooter(Footer):
    """Footer in compact style; everything else is Textual's."""

    DEFAULT_CSS = """
    KeyFooter.-compact FooterLabel { margin: 0 1 0 0; }  /* "screens" and the next key apart */
    """

    def __init__(self) -> None:
        super().__init__(compact=True)
