"""The Runs screen's Errors tab: the validation sentences a run got wrong, each in the alignment grid.

The list holds every sentence with at least one wrong word; the grid shows the highlighted one
with gold and predicted labels under each word (red when wrong) and, when the run's tokenizer
loads, the pieces the model saw. The screen runs the analysis (a worker, `core.analysis`) and
hands the predictions to `show`; this widget only lays them out.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import DataTable, Static

from bnner_tui.core.display import NO_VALUE, crop
from bnner_tui.tui.widgets.alignment_grid import AlignmentGrid, GridColumn, columns_from_alignment

TEXT_WIDTH = 32  # what the 50-cell list leaves after #, wrong and cell padding


def load_grid_tokenizer(run: Path) -> tuple[Any, str, int] | None:
    """The run's own tokenizer, strategy and max length, to show each word's pieces in the grid.

    Optional: without it the grid still shows words with gold and predicted labels."""
    try:
        from bnner_tui.core.align import load_tokenizer
        from bnner_tui.core.config import TrainConfig

        config = TrainConfig.from_toml(run / "config.toml")
        return load_tokenizer(str(run / "model")), config.strategy, config.max_length
    except Exception:
        return None


class ErrorBrowser(Vertical):
    """Sentences with errors (left) and the highlighted one in the grid (right)."""

    DEFAULT_CSS = """
    ErrorBrowser #errors-note { height: auto; padding: 0 1; color: $text-muted; }
    ErrorBrowser #errors-list { width: 50; height: 100%; }
    ErrorBrowser #errors-right { width: 1fr; height: 100%; }
    ErrorBrowser #error-sentence { height: auto; padding: 0 1; }
    ErrorBrowser #codepoints { height: auto; padding: 0 1; color: $text-muted; }
    ErrorBrowser #codepoints.-hidden { display: none; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.predictions: list[Any] = []
        self.errors: list[Any] = []
        self.show_codepoints = False
        self._grid_tokenizer: tuple[Any, str, int] | None = None

    def compose(self) -> ComposeResult:
        yield Static("Select a finished run, then open this tab (e).", id="errors-note")
        with Horizontal():
            yield DataTable(id="errors-list", cursor_type="row", zebra_stripes=True)
            with Vertical(id="errors-right"):
                yield Static("", id="error-sentence")
                yield AlignmentGrid(id="error-grid", empty_text="Select a sentence with errors.")
                yield Static("", id="codepoints", classes="-hidden")

    def on_mount(self) -> None:
        errors = self.query_one("#errors-list", DataTable)
        # Fixed widths: the sentence column holds Bengali; a "…" ends what does not fit.
        errors.add_column("#", key="index", width=5)
        errors.add_column("wrong", key="wrong", width=5)
        errors.add_column("sentence", key="text", width=TEXT_WIDTH)

    def note(self, text: str | Text) -> None:
        self.query_one("#errors-note", Static).update(text)

    def waiting(self, text: str) -> None:
        """An analysis started: say so and empty the list."""
        self.note(text)
        self.query_one("#errors-list", DataTable).clear()

    def show(self, predictions: list[Any], grid_tokenizer: tuple[Any, str, int] | None) -> None:
        """Lay out one run's predictions: the note, the list of wrong sentences, the first one."""
        from bnner_tui.core.analysis import errors_only, word_accuracy

        self.predictions = predictions
        self.errors = errors_only(predictions)
        self._grid_tokenizer = grid_tokenizer
        acc = word_accuracy(predictions)
        acc_text = NO_VALUE if acc is None else f"{acc:.3f}"
        self.note(
            f"{len(self.errors)} of {len(predictions)} validation sentences have a wrong word"
            f" · word accuracy {acc_text} · word level, first piece"
        )
        table = self.query_one("#errors-list", DataTable)
        table.clear()
        for p in self.errors:
            table.add_row(str(p.index), str(len(p.wrong)), crop(" ".join(p.tokens), TEXT_WIDTH), key=str(p.index))
        if self.errors:
            self._show_sentence(self.errors[0])
        else:
            self.query_one("#error-grid", AlignmentGrid).clear("No errors on this split.")

    @on(DataTable.RowHighlighted, "#errors-list")
    def _error_highlighted(self, event: DataTable.RowHighlighted) -> None:
        key = event.row_key.value
        match = next((p for p in self.errors if str(p.index) == key), None)
        if match is not None:
            self._show_sentence(match)

    def _columns(self, pred: Any) -> list[GridColumn]:
        """The same grid as the Data screen: under each word the pieces the model saw, when the
        run's tokenizer loads; otherwise the words with their gold and predicted labels."""
        if self._grid_tokenizer is not None:
            from bnner_tui.core.align import align
            from bnner_tui.core.analysis import label_order

            tokenizer, strategy, max_length = self._grid_tokenizer
            names = label_order(self.predictions)
            try:
                al = align(tokenizer, pred.tokens, pred.gold, names, strategy=strategy, max_length=max_length)
                return columns_from_alignment(
                    pred.tokens,
                    pred.gold,
                    list(al.pieces),
                    list(al.word_ids),
                    list(al.labels),
                    names,
                    unk_words=list(al.unk_words),
                    mismatch_words=list(al.mismatch_words),
                    predicted=pred.pred,
                )
            except Exception:
                pass
        return [
            GridColumn(word=w, gold=g, pred=p, word_index=i)
            for i, (w, g, p) in enumerate(zip(pred.tokens, pred.gold, pred.pred, strict=True))
        ]

    def _show_sentence(self, pred: Any) -> None:
        self.query_one("#error-sentence", Static).update(
            f"sentence {pred.index}: {len(pred.wrong)} wrong word(s) · under each word: gold, then predicted"
            " (red when wrong), then its pieces"
        )
        self.query_one("#error-grid", AlignmentGrid).set_columns(self._columns(pred), keep_word=False)

    def on_alignment_grid_word_selected(self, event: AlignmentGrid.WordSelected) -> None:
        from bnner_tui.core.data.browse import code_points

        column = getattr(event, "column", None)
        word = column.word if column is not None else ""
        self.query_one("#codepoints", Static).update(code_points(word, sep="  ") if word else "")

    def toggle_codepoints(self) -> None:
        self.show_codepoints = not self.show_codepoints
        self.query_one("#codepoints", Static).set_class(not self.show_codepoints, "-hidden")
