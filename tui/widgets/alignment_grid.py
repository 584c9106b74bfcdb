"""The alignment grid: how each word of a sample became subword pieces, and which label each piece carries.

One column per word (plus the special tokens), under the word its gold label (and, for the
error browser, the predicted one), under that one line per piece: the piece's label (or
-100, greyed) and the piece. Columns wrap onto several bands when the sample is wider than
the widget.

Why a single line-rendered widget with fixed-width columns: every column is `COLUMN_WIDTH`
cells whatever its words, so the columns line up in every band. Text is cut to its cell
budget with an ellipsis before it is drawn, measured with the app's width convention
(`tui/cells.py`: Bengali vowel signs take the cell the terminal gives them), so a long word
never pushes its neighbours right. The ASCII label sits at the left of each piece line so the
part that must line up never follows a Bengali glyph inside its own column. It also keeps
the grid one widget (fast to redraw on every cursor move) instead of hundreds.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import ClassVar

from rich.cells import cell_len, set_cell_size
from rich.segment import Segment
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

COLUMN_WIDTH = 15
"""Cells per column, gap excluded: 6 for the label, 1 space, 8 for the piece."""
GAP = 1
LABEL_WIDTH = 6
TEXT_WIDTH = COLUMN_WIDTH - LABEL_WIDTH - 1
KNOWN_TYPES = ("PER", "ORG", "LOC", "MISC")


def clip(text: str, width: int) -> str:
    """At most `width` cells: a longer text keeps what fits in `width - 1` cells, then an ellipsis.

    Measured in cells, not code points: a wide glyph (emoji, CJK) is two cells, and a
    code-point cut would let it overflow its column.
    """
    if width <= 0:
        return ""
    if cell_len(text) <= width:
        return text
    return set_cell_size(text, width - 1).rstrip(" ") + "…"


def entity_class(label: str | None) -> str:
    """'B-PER' -> 'PER'; unknown types share one colour; 'O' and None have none."""
    if not label or label == "O" or "-" not in label:
        return "O"
    kind = label.split("-", 1)[1]
    return kind if kind in KNOWN_TYPES else "OTHER"


@dataclass
class GridColumn:
    """One word (or special token) and its pieces; plain data so any screen can build one."""

    word: str
    gold: str | None = None
    pred: str | None = None
    pieces: list[tuple[str, str | None]] = field(default_factory=list)
    """(piece text, label name; None where the label is -100)"""
    special: bool = False
    word_index: int | None = None
    flags: tuple[str, ...] = ()
    """'unk', 'mismatch', 'truncated' (cut by max length), 'dropped' (no piece even untruncated)"""


def columns_from_alignment(
    words: Sequence[str],
    word_labels: Sequence[str] | None,
    pieces: Sequence[str],
    word_ids: Sequence[int | None],
    piece_labels: Sequence[int],
    label_names: Sequence[str],
    *,
    unk_words: Sequence[int] = (),
    mismatch_words: Sequence[int] = (),
    dropped_words: Sequence[int] = (),
    predicted: Sequence[str] | None = None,
) -> list[GridColumn]:
    """Group pieces under their words, in piece order; special tokens become their own columns.

    A word without pieces was either cut by max length or (in `dropped_words`) gives no piece
    at all, even untruncated (an invisible character, say): flagged apart, so the grid never
    blames the cut for it.
    """
    unk, mismatch, dropped = set(unk_words), set(mismatch_words), set(dropped_words)
    by_word: dict[int, GridColumn] = {}
    columns: list[GridColumn] = []
    for piece, wid, lab in zip(pieces, word_ids, piece_labels, strict=False):
        name = label_names[lab] if 0 <= lab < len(label_names) else None
        if wid is None:
            columns.append(GridColumn(word=piece, pieces=[(piece, name)], special=True))
            continue
        col = by_word.get(wid)
        if col is None:
            flags = tuple(f for f, s in (("unk", unk), ("mismatch", mismatch)) if wid in s)
            col = GridColumn(
                word=words[wid] if wid < len(words) else "?",
                gold=word_labels[wid] if word_labels is not None and wid < len(word_labels) else None,
                pred=predicted[wid] if predicted is not None and wid < len(predicted) else None,
                word_index=wid,
                flags=flags,
            )
            by_word[wid] = col
            columns.append(col)
        col.pieces.append((piece, name))
    # Words without pieces: a word that gives none even untruncated stays in its place in the
    # sentence; words cut off by max_length follow the last column that has pieces, flagged.
    missing = [i for i in range(len(words)) if i not in by_word]
    insert_at = len(columns) - 1 if columns and columns[-1].special else len(columns)
    for i in missing:
        col = GridColumn(
            word=words[i],
            gold=word_labels[i] if word_labels is not None else None,
            pred=predicted[i] if predicted is not None and i < len(predicted) else None,
            word_index=i,
            flags=("dropped",) if i in dropped else ("truncated",),
        )
        if i in dropped:
            at = next(
                (k for k, c in enumerate(columns) if c.word_index is not None and c.word_index > i),
                insert_at,
            )
            columns.insert(at, col)
            if at <= insert_at:
                insert_at += 1
        else:
            columns.insert(insert_at, col)
            insert_at += 1
    return columns


def columns_from_words(words: Sequence[str], word_labels: Sequence[str] | None) -> list[GridColumn]:
    """Words and labels only: what the grid shows before a tokenizer is chosen."""
    return [
        GridColumn(word=w, gold=word_labels[i] if word_labels is not None else None, word_index=i)
        for i, w in enumerate(words)
    ]


class AlignmentGrid(ScrollView, can_focus=True):
    """Words as fixed-width columns, pieces under them, coloured by label."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("left", "move(-1)", "Prev word", show=False),
        Binding("right", "move(1)", "Next word", show=False),
    ]

    COMPONENT_CLASSES = {  # noqa: RUF012
        "grid--word",
        "grid--selected",
        "grid--PER",
        "grid--ORG",
        "grid--LOC",
        "grid--MISC",
        "grid--OTHER",
        "grid--O",
        "grid--ignored",
        "grid--special",
        "grid--flag",
        "grid--wrong",
        "grid--empty",
    }

    DEFAULT_CSS = """
    AlignmentGrid { height: 1fr; background: $surface; }
    AlignmentGrid > .grid--word { text-style: bold; color: $text; }
    AlignmentGrid > .grid--selected { text-style: bold reverse; }
    AlignmentGrid > .grid--PER { background: $primary 45%; color: $text; }
    AlignmentGrid > .grid--ORG { background: $success 45%; color: $text; }
    AlignmentGrid > .grid--LOC { background: $warning 45%; color: $text; }
    AlignmentGrid > .grid--MISC { background: $accent 45%; color: $text; }
    AlignmentGrid > .grid--OTHER { background: $secondary 45%; color: $text; }
    AlignmentGrid > .grid--O { color: $text; }
    AlignmentGrid > .grid--ignored { color: $text-disabled; }
    AlignmentGrid > .grid--special { color: $text-disabled; text-style: italic; }
    AlignmentGrid > .grid--flag { color: $error; text-style: bold; }
    AlignmentGrid > .grid--wrong { color: $error; text-style: bold; }
    AlignmentGrid > .grid--empty { color: $text-muted; text-style: italic; }
    """

    class WordSelected(Message):
        """The user moved to another word (click or arrow keys)."""

        def __init__(self, grid: AlignmentGrid, word_index: int | None, column: GridColumn | None) -> None:
            super().__init__()
            self.grid = grid
            self.word_index = word_index
            self.column = column

        @property
        def control(self) -> AlignmentGrid:
            return self.grid

    selected: reactive[int] = reactive(0)
    """Index into `columns` of the highlighted column."""

    def __init__(self, *, empty_text: str = "Select a sample.", **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.columns: list[GridColumn] = []
        self.empty_text = empty_text
        self._lines: list[Strip] = []
        self._hitboxes: list[tuple[int, int, int, int, int]] = []  # (y0, y1, x0, x1, column)
        self._laid_out_width = -1

    # -- data -------------------------------------------------------------------------------
    def set_columns(self, columns: list[GridColumn], *, keep_word: bool = True) -> None:
        """Replace the grid's content; keeps the selected word when the same sample is re-aligned."""
        old_word = self.selected_word if keep_word else None
        self.columns = columns
        target = 0
        for i, col in enumerate(columns):
            if old_word is not None and col.word_index == old_word:
                target = i
                break
        else:
            target = next((i for i, c in enumerate(columns) if not c.special), 0)
        self._relayout()
        self.set_reactive(AlignmentGrid.selected, target)
        self._relayout()
        self._announce()

    def clear(self, empty_text: str | None = None) -> None:
        if empty_text is not None:
            self.empty_text = empty_text
        self.columns = []
        self._relayout()

    @property
    def selected_word(self) -> int | None:
        if 0 <= self.selected < len(self.columns):
            return self.columns[self.selected].word_index
        return None

    @property
    def selected_column(self) -> GridColumn | None:
        return self.columns[self.selected] if 0 <= self.selected < len(self.columns) else None

    # -- layout -----------------------------------------------------------------------------
    def _per_band(self) -> int:
        width = max(self.scrollable_content_region.width, COLUMN_WIDTH)
        return max(1, (width + GAP) // (COLUMN_WIDTH + GAP))

    def _column_lines(self, col: GridColumn, selected: bool) -> list[list[Segment]]:
        st = self.get_component_rich_style
        head_style = st("grid--selected") if selected else (st("grid--special") if col.special else st("grid--word"))
        flag = {"unk": "?", "mismatch": "≠", "truncated": "✂", "dropped": "∅"}
        marks = "".join(flag[f] for f in col.flags if f in flag)
        head = clip(col.word, COLUMN_WIDTH - (len(marks) + 1 if marks else 0))
        head_segments = [Segment(head, head_style)]
        if marks:
            head_segments += [Segment(" "), Segment(marks, st("grid--flag"))]
        lines: list[list[Segment]] = [head_segments]
        if not col.special:
            gold = col.gold or ""
            gold_style = st(f"grid--{entity_class(gold)}")
            line = [Segment(clip(gold, LABEL_WIDTH).ljust(LABEL_WIDTH), gold_style)]
            if col.pred is not None:
                wrong = col.pred != col.gold
                line += [Segment(" "), Segment(clip(col.pred, 9), st("grid--wrong" if wrong else "grid--O"))]
            lines.append(line)
        else:
            lines.append([Segment("", st("grid--special"))])
        if col.flags and "truncated" in col.flags:
            lines.append([Segment(clip("cut by max length", COLUMN_WIDTH), st("grid--flag"))])
        elif col.flags and "dropped" in col.flags:
            lines.append([Segment(clip("no piece", COLUMN_WIDTH), st("grid--flag"))])
        for piece, label in col.pieces:
            if col.special or label is None:
                style = st("grid--special") if col.special else st("grid--ignored")
                tag = "-100"
            else:
                style = st(f"grid--{entity_class(label)}")
                tag = label
            lines.append([Segment(clip(tag, LABEL_WIDTH).ljust(LABEL_WIDTH) + " " + clip(piece, TEXT_WIDTH), style)])
        return lines

    def _relayout(self) -> None:
        width = self.scrollable_content_region.width
        self._laid_out_width = width
        base = self.rich_style
        if not self.columns:
            text = self.empty_text
            self._lines = [Strip([Segment(text, self.get_component_rich_style("grid--empty"))])]
            self._hitboxes = []
            self.virtual_size = Size(max(width, len(text)), 1)
            self.refresh()
            return
        per = self._per_band()
        lines: list[Strip] = []
        hitboxes: list[tuple[int, int, int, int, int]] = []
        gap = [Segment(" " * GAP, base)]
        for start in range(0, len(self.columns), per):
            band = self.columns[start : start + per]
            rendered = [self._column_lines(c, start + j == self.selected) for j, c in enumerate(band)]
            height = max(len(r) for r in rendered)
            y0 = len(lines)
            for row in range(height):
                segments: list[Segment] = []
                for j, col_lines in enumerate(rendered):
                    cell = col_lines[row] if row < len(col_lines) else []
                    # Pad/crop each cell to its fixed width; the grid never grows with the text.
                    segments += Segment.adjust_line_length(cell, COLUMN_WIDTH, style=base)
                    if j < len(rendered) - 1:
                        segments += gap
                lines.append(Strip(segments).simplify())
            for j in range(len(band)):
                x0 = j * (COLUMN_WIDTH + GAP)
                hitboxes.append((y0, y0 + height, x0, x0 + COLUMN_WIDTH, start + j))
            lines.append(Strip.blank(0))  # a blank line between bands
        self._lines = lines
        self._hitboxes = hitboxes
        self.virtual_size = Size(per * (COLUMN_WIDTH + GAP), len(lines))
        self.refresh()

    def on_resize(self, event: events.Resize) -> None:
        if self.scrollable_content_region.width != self._laid_out_width:
            self._relayout()

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        index = y + scroll_y
        width = self.scrollable_content_region.width
        strip = self._lines[index] if 0 <= index < len(self._lines) else Strip.blank(0)
        return strip.crop(scroll_x, scroll_x + width).extend_cell_length(width, self.rich_style)

    def notify_style_update(self) -> None:
        """Theme switch: component styles changed, so the cached lines must be redrawn."""
        super().notify_style_update()
        if self.is_mounted:
            self._relayout()

    # -- interaction ------------------------------------------------------------------------
    def watch_selected(self, old: int, new: int) -> None:
        self._relayout()
        for y0, y1, _x0, _x1, index in self._hitboxes:
            if index == new:
                self.scroll_to_region(self._region_for(y0, y1), animate=False)
                break
        self._announce()

    def _region_for(self, y0: int, y1: int):
        from textual.geometry import Region

        return Region(0, y0, 1, max(1, y1 - y0))

    def _announce(self) -> None:
        self.post_message(self.WordSelected(self, self.selected_word, self.selected_column))

    def action_move(self, step: int) -> None:
        if self.columns:
            self.selected = max(0, min(len(self.columns) - 1, self.selected + step))

    def on_click(self, event: events.Click) -> None:
        x = event.x + self.scroll_offset.x
        y = event.y + self.scroll_offset.y
        for y0, y1, x0, x1, index in self._hitboxes:
            if y0 <= y < y1 and x0 <= x < x1:
                self.selected = index
                self.focus()
                return
