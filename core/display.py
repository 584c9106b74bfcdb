"""How a missing value looks, and how text is cut to a column, the same in the CLI, the app and every text report.

One glyph for "no number here" (a score not computed yet, an unknown duration, a support the
file does not record). Plain ASCII, so it reads the same in every terminal and font, and lines
up with the digits around it. Standard library only: the CLI imports it at start-up.
"""

from __future__ import annotations

NO_VALUE = "--"


def number(value: object, digits: int = 3) -> str:
    """`value` with `digits` decimals, or NO_VALUE when it is not a number (None, missing, a bool)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return f"{value:.{digits}f}"
    return NO_VALUE


def crop(text: str, width: int) -> str:
    """Cut to `width` code points with an ellipsis (tables whose columns have fixed widths)."""
    return text if len(text) <= width else text[: max(0, width - 1)] + "…"


def crop_left(text: str, width: int) -> str:
    """Cut the start off with an ellipsis: a path's end (the data folder's name) is what tells
    two sources apart."""
    return text if len(text) <= width else "…" + text[len(text) - max(0, width - 1) :]
