"""How many terminal cells a character takes: the one place the app and the CLI set it.

Rich's width table (which Textual uses for every measurement: tables, text areas, Markdown,
the footer, cropping and padding) gives *spacing combining marks* (Unicode category Mc) zero
cells, as if the terminal drew each one inside the previous character's cell. Terminals that
follow `wcwidth` (tmux, xterm, VTE/GNOME Terminal, Konsole, Alacritty, ...) give each one a
cell of its own. Bengali has ten of them (া ি ী ে ৈ ো ৌ ৗ and the anusvara/visarga signs), so
under Rich's table `রুবিনা` measures 3 cells and the terminal draws 5: every Bengali string
was laid out too narrow and pushed the rest of its line to the right.

`apply()` makes Rich measure as the terminal draws. It patches Rich at its source, the cell
table that `rich.cells.get_character_cell_size` reads, so every module that imported
`cell_len`, `get_character_cell_size` or `set_cell_size` by name (Textual's `_cells`, `strip`,
`content`, `_wrap`, `Input`, `TextArea`, ...) inherits the convention without being touched.
Rich's ASCII/Latin fast path (`_is_single_cell_widths`) covers no combining mark, so it stays
as it is.

Conventions:
- `wcwidth` (the default): Mc marks take one cell (two where East Asian Wide), as libc
  `wcwidth()` says and as tmux and most terminals draw them.
- `grapheme`: Rich's own table, for terminals that shape whole grapheme clusters (a consonant
  and its vowel sign in one cell group, e.g. kitty or WezTerm with grapheme clustering).

Chosen by `--cell-widths` on the root command or the environment variable `BNNER_CELL_WIDTHS`.
"""

from __future__ import annotations

import os
import unicodedata
from collections.abc import Callable, Sequence
from functools import cache
from typing import Any

ENV_VAR = "BNNER_CELL_WIDTHS"
WCWIDTH = "wcwidth"
GRAPHEME = "grapheme"
CONVENTIONS = (WCWIDTH, GRAPHEME)
DEFAULT = WCWIDTH

_original_load: Callable[..., Any] | None = None
_current: str | None = None


def choose(value: str | None = None) -> str:
    """The convention to use: an explicit value, else the environment variable, else `wcwidth`.

    Raises ValueError with one sentence for an unknown name (the CLI turns it into a usage error).
    """
    raw = value if value else os.environ.get(ENV_VAR, "")
    name = (raw or DEFAULT).strip().lower()
    if name not in CONVENTIONS:
        source = "--cell-widths" if value else ENV_VAR
        raise ValueError(f"{source} must be one of {', '.join(CONVENTIONS)} (got {raw!r}).")
    return name


def _mark_width(ch: str) -> int:
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


def wcwidth_widths(widths: Sequence[tuple[int, int, int]]) -> list[tuple[int, int, int]]:
    """Rich's (start, end, width) ranges with every zero-width Mc code point given its cell(s)."""
    out: list[tuple[int, int, int]] = []

    def add(start: int, end: int, width: int) -> None:
        if out and out[-1][2] == width and out[-1][1] + 1 == start:
            out[-1] = (out[-1][0], end, width)
        else:
            out.append((start, end, width))

    for start, end, width in widths:
        if width != 0:
            add(start, end, width)
            continue
        for cp in range(start, end + 1):
            ch = chr(cp)
            add(cp, cp, _mark_width(ch) if unicodedata.category(ch) == "Mc" else 0)
    return out


def apply(convention: str | None = None) -> str:
    """Set the process-wide width convention before anything is drawn or printed; returns it.

    Safe to call again (the CLI's root command and the app both call it): it swaps the table
    Rich loads and clears every cache that holds a measured width.
    """
    global _original_load, _current
    import rich.cells
    import rich.segment

    name = choose(convention)
    if _original_load is None:
        _original_load = rich.cells.load_cell_table
    original = _original_load

    if name == GRAPHEME:
        rich.cells.load_cell_table = original  # type: ignore[assignment]
    else:

        @cache
        def load(unicode_version: str = "auto") -> Any:
            table = original(unicode_version)
            return table._replace(widths=wcwidth_widths(table.widths))

        rich.cells.load_cell_table = load
    rich.cells.get_character_cell_size.cache_clear()
    rich.cells.cached_cell_len.cache_clear()
    rich.segment.Segment._split_cells.cache_clear()
    _current = name
    return name


def current() -> str | None:
    """The convention `apply()` set, or None before it ran."""
    return _current
