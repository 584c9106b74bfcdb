"""The Runs screen: every run in a table, two runs' curves overlaid, a confusion matrix and
an error browser.

Why it is built this way:
- the table comes from `core.runs.list_runs` (the same listing as `bnner-tui runs`), read in
  a worker so a folder of many runs never blocks a keystroke;
- curves are read from each run's events.jsonl, the one record of a run; marking two runs
  overlays them, so "did the new settings help?" is one glance;
- the confusion matrix is the one the trainer stored in metrics.json when there is one, and
  otherwise comes from the error analysis; the error browser runs `core.analysis` (the run's
  model on its validation split, word level) in a worker and caches it in the run folder;
- selecting a run sets `app.selected_run` and posts `RunSelected`, so Tag and Card follow;
- every worker posts its result as a typed Message (`RunsLoaded`, `OverlayLoaded`,
  `ErrorsAnalysed`) and simply raises on failure: `WorkerErrors` is the one handler.
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static, TabbedContent, TabPane

from bnner_tui.core.runstate import RunState
from bnner_tui.tui.presentation import STATUS_STYLE, format_duration
from bnner_tui.tui.screens import WorkerErrors, WorkFailed
from bnner_tui.tui.widgets.monitor.commands import ScreenActions
from bnner_tui.tui.widgets.monitor.curves import CurvePlot, Series

RUN_COLORS = ("cyan", "orange")
RUNS_REFRESH_S = 5.0
TEXT_WIDTH = 40


def crop(text: str, width: int) -> str:
    """Crop by code points (never by measured glyph width) with an ellipsis."""
    return text if len(text) <= width else text[: max(0, width - 1)] + "…"


def code_points(word: str) -> str:
    """'ড়' -> 'U+09DC'; shows what a word really is when the terminal draws it oddly."""
    import unicodedata

    return "  ".join(f"U+{ord(ch):04X} {unicodedata.name(ch, '?')}" for ch in word)


def load_curves(run_dir: Path) -> RunState:
    """A run's whole history folded (the one fold: `core.runs.run_state`), curves included."""
    from bnner_tui.core.runs import run_state

    return run_state(run_dir, curves=True)


class RunsLoaded(Message):
    """The run table's rows (`core.runs.RunSummary`, newest first)."""

    def __init__(self, runs: list[Any]) -> None:
        super().__init__()
        self.runs = runs


class OverlayLoaded(Message):
    """The folded histories of the runs to overlay."""

    def __init__(self, states: list[tuple[Path, RunState]]) -> None:
        super().__init__()
        self.states = states


class ErrorsAnalysed(Message):
    """A run's word-level predictions on its validation split, and how long they took."""

    def __init__(self, run: Path, predictions: list[Any], seconds: float) -> None:
        super().__init__()
        self.run = run
        self.predictions = predictions
        self.seconds = seconds


class RunsScreen(WorkerErrors, Screen):
    """Browse runs, compare two, open one's confusion matrix and errors."""

    DEFAULT_CSS = """
    RunsScreen #runs-table { height: auto; max-height: 12; }
    RunsScreen #runs-hint { height: 1; padding: 0 1; color: $text-muted; text-overflow: ellipsis; }
    RunsScreen #runs-tabs { height: 1fr; }
    RunsScreen #overlay-plots { height: 1fr; }
    RunsScreen #overlay-loss { margin-left: 2; }
    RunsScreen #confusion-note { height: auto; padding: 0 1; color: $text-muted; }
    RunsScreen #confusion-table { height: 1fr; }
    RunsScreen #errors-note { height: auto; padding: 0 1; color: $text-muted; }
    RunsScreen #errors-list { width: 50; height: 100%; }
    RunsScreen #errors-right { width: 1fr; height: 100%; }
    RunsScreen #error-sentence { height: auto; padding: 0 1; }
    RunsScreen #codepoints { height: auto; padding: 0 1; color: $text-muted; }
    RunsScreen #codepoints.-hidden { display: none; }
    """

    COMMANDS: ClassVar[set] = {ScreenActions}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "refresh", "Refresh"),
        Binding("space", "mark", "Mark to compare"),
        Binding("c", "show_confusion", "Confusion"),
        Binding("e", "show_errors", "Errors"),
        Binding("u", "toggle_codepoints", "Code points"),
    ]

    def __init__(self, runs_root: Path, *, name: str | None = None, id: str | None = None) -> None:
        super().__init__(name=name, id=id)
        self.runs_root = Path(runs_root)
        self.runs: dict[str, Any] = {}  # path str -> RunSummary
        self.selected: Path | None = None
        self.marked: list[Path] = []
        self.predictions: list[Any] = []
        self.errors: list[Any] = []
        self.analysed: Path | None = None
        self.confusion: dict[str, Any] | None = None
        self._grid_tokenizer: tuple[Any, str, int] | None = None
        self._analysing: Path | None = None
        self.show_codepoints = False

    def compose(self) -> ComposeResult:
        yield DataTable(id="runs-table", cursor_type="row", zebra_stripes=True)
        yield Static("space marks up to two runs to overlay · enter opens a run for Tag and Card", id="runs-hint")
        with TabbedContent(id="runs-tabs"):
            with TabPane("Curves", id="tab-curves"), Horizontal(id="overlay-plots"):
                yield CurvePlot("validation F1 (word-level)", ylim=(0.0, 1.0), id="overlay-f1")
                yield CurvePlot("training loss", id="overlay-loss")
            with TabPane("Confusion", id="tab-confusion"), Vertical():
                yield Static("Select a run.", id="confusion-note")
                yield DataTable(id="confusion-table", cursor_type="cell")
                yield Static("", id="scores-summary")
            with TabPane("Scores by data", id="tab-scores"), Vertical():
                # After a label review: each marked run on the original and on the corrected data.
                yield Static(
                    "Every score in each marked run's metrics.json, one row per data source.", id="scores-note"
                )
                yield DataTable(id="scores-table", cursor_type="row", zebra_stripes=True)
            with TabPane("Errors", id="tab-errors"), Vertical():
                yield Static("Select a finished run, then open this tab (e).", id="errors-note")
                with Horizontal():
                    yield DataTable(id="errors-list", cursor_type="row", zebra_stripes=True)
                    with Vertical(id="errors-right"):
                        yield Static("", id="error-sentence")
                        yield self._make_grid()
                        yield Static("", id="codepoints", classes="-hidden")
        yield Footer()

    def _make_grid(self) -> Any:
        from bnner_tui.tui.widgets.alignment_grid import AlignmentGrid

        return AlignmentGrid(id="error-grid", empty_text="Select a sentence with errors.")

    def on_mount(self) -> None:
        table = self.query_one("#runs-table", DataTable)
        for key, label in (
            ("mark", " "),
            ("name", "run"),
            ("status", "status"),
            ("f1", "best F1"),
            ("duration", "duration"),
            ("steps", "steps"),
            ("model", "model"),
            ("data", "data"),
        ):
            table.add_column(label, key=key)
        scores = self.query_one("#scores-table", DataTable)
        for label in ("run", "data", "which", "split", "F1", "P", "R", "entities"):
            scores.add_column(label, key=label)
        errors = self.query_one("#errors-list", DataTable)
        # Fixed widths: the sentence column holds Bengali, whose measured width is unreliable.
        errors.add_column("#", key="index", width=5)
        errors.add_column("wrong", key="wrong", width=5)
        errors.add_column("sentence", key="text", width=TEXT_WIDTH)
        self.action_refresh()
        # Running runs move on: keep the table current without a keypress. (Not `_auto_refresh`:
        # Textual's DOMNode sets an instance attribute of that name, which hid the method and
        # made this timer call None.)
        self.set_interval(RUNS_REFRESH_S, self._refresh_running, name="runs-auto-refresh")

    def _refresh_running(self) -> None:
        if any(r.status == "running" for r in self.runs.values()):
            self._load_runs()

    # -- run table ----------------------------------------------------------------------------
    def action_refresh(self) -> None:
        self._load_runs()

    @work(thread=True, exclusive=True, group="runs-list", exit_on_error=False)
    def _load_runs(self) -> None:
        from bnner_tui.core.runs import list_runs

        self.post_message(RunsLoaded(list_runs(self.runs_root)))

    @on(RunsLoaded)
    def _show_runs(self, message: RunsLoaded) -> None:
        runs = message.runs
        table = self.query_one("#runs-table", DataTable)
        cursor_key = str(self.selected) if self.selected else None
        # Rebuilding moves the cursor to row 0 and back; those moves are not the user's choice
        # (unprevented, every auto-refresh re-selected the first run and restarted its analysis).
        with self.prevent(DataTable.RowHighlighted):
            self._fill_table(table, runs)
            if cursor_key and cursor_key in self.runs:
                table.move_cursor(row=table.get_row_index(cursor_key))
        if not runs:
            self.query_one("#runs-hint", Static).update(
                f"No runs in {self.runs_root} yet: launch one on the Train screen."
            )
        if not (cursor_key and cursor_key in self.runs) and runs and self.selected is None:
            self._select(Path(str(runs[0].path)), announce=False)

    def _fill_table(self, table: DataTable[Any], runs: list[Any]) -> None:
        table.clear()
        self.runs = {}
        for r in runs:
            key = str(r.path)
            self.runs[key] = r
            steps = f"{r.last_step or 0}/{r.total_steps}" if r.total_steps else str(r.last_step or "")
            table.add_row(
                "●" if Path(key) in self.marked else "",
                crop(r.name, 32),
                Text(r.status, style=STATUS_STYLE.get(r.status, "")),
                "--" if r.best_f1 is None else f"{r.best_f1:.3f}",
                format_duration(r.duration_s),
                steps,
                crop(str(r.model), 28),
                crop(str(r.data), 28),
                key=key,
            )

    @on(DataTable.RowHighlighted, "#runs-table")
    def _row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.row_key.value is not None:
            self._select(Path(event.row_key.value), announce=False)

    @on(DataTable.RowSelected, "#runs-table")
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value is not None:
            self._select(Path(event.row_key.value), announce=True)

    def _select(self, run_dir: Path, *, announce: bool) -> None:
        changed = run_dir != self.selected
        self.selected = run_dir
        # Tag and Card follow the highlighted run; the message lets them react at once.
        self.app.selected_run = run_dir  # type: ignore[attr-defined]
        if changed or announce:
            try:
                from bnner_tui.tui.messages import RunSelected

                self.post_message(RunSelected(run_dir))
            except ImportError:  # the shell's messages module is optional for this screen
                pass
        summary = self.runs.get(str(run_dir))
        if summary is not None:
            hint = Text(f"{summary.name} · {summary.status}")
            if summary.reason:
                hint.append(f" · {summary.reason}", style="red")
            else:
                hint.append(" · space marks up to two runs to overlay · enter opens it for Tag and Card", style="dim")
            self.query_one("#runs-hint", Static).update(hint)
        if announce:
            self.notify(f"Run {run_dir.name} selected: Tag and Card use it.")
        if changed:
            self._update_overlay()
            self._load_confusion()
            if self.query_one(TabbedContent).active == "tab-errors":
                self.action_show_errors()

    def action_mark(self) -> None:
        """Mark the highlighted run for the overlay (two at most: the oldest mark drops)."""
        if self.selected is None:
            return
        if self.selected in self.marked:
            self.marked.remove(self.selected)
        else:
            self.marked.append(self.selected)
            self.marked = self.marked[-2:]
        table = self.query_one("#runs-table", DataTable)
        for key in self.runs:
            table.update_cell(key, "mark", "●" if Path(key) in self.marked else "")
        self._update_overlay()

    # -- curves ---------------------------------------------------------------------------------
    def _update_overlay(self) -> None:
        runs = list(self.marked) or ([self.selected] if self.selected else [])
        self._load_overlay(runs)
        self._show_scores(runs)

    def _show_scores(self, runs: list[Path]) -> None:
        from bnner_tui.core.review.compare import run_scores

        table = self.query_one("#scores-table", DataTable)
        table.clear()

        def num(x: float | None) -> str:
            return "--" if x is None else f"{x:.3f}"

        for run in runs:
            for sc in run_scores(run):
                table.add_row(
                    crop(run.name, 24),
                    crop(sc.data, 44),
                    "own data" if sc.own else "other data",
                    sc.split,
                    num(sc.f1),
                    num(sc.precision),
                    num(sc.recall),
                    "--" if sc.support is None else str(sc.support),
                )

    @work(thread=True, exclusive=True, group="runs-overlay", exit_on_error=False)
    def _load_overlay(self, runs: list[Path]) -> None:
        self.post_message(OverlayLoaded([(run, load_curves(run)) for run in runs]))

    @on(OverlayLoaded)
    def _show_overlay(self, message: OverlayLoaded) -> None:
        states = message.states
        f1: list[Series] = []
        loss: list[Series] = []
        for i, (run, st) in enumerate(states):
            color = RUN_COLORS[i % len(RUN_COLORS)]
            label = crop(run.name, 24)
            f1.append(Series(label, st.eval_steps, st.eval_f1, color=color))
            loss.append(Series(label, st.loss_steps, st.loss, color=color))
        self.query_one("#overlay-f1", CurvePlot).set_series(f1)
        self.query_one("#overlay-loss", CurvePlot).set_series(loss)

    # -- confusion matrix ---------------------------------------------------------------------------
    def action_show_confusion(self) -> None:
        self.query_one(TabbedContent).active = "tab-confusion"

    @work(thread=True, exclusive=True, group="runs-confusion", exit_on_error=False)
    def _load_confusion(self) -> None:
        from bnner_tui.core.analysis import confusion_from_metrics
        from bnner_tui.core.metrics import run_summary_lines

        run = self.selected
        if run is None:
            return
        try:
            conf = confusion_from_metrics(run, "validation")
        except Exception:
            conf = None
        if conf is not None:
            note = "word-level label confusion on validation, from metrics.json (rows gold, columns predicted)"
        else:
            note = "No confusion matrix in metrics.json yet: open the Errors tab (e) to compute one from the model."
        self.app.call_from_thread(self._show_confusion, run, conf, note)
        summary = "\n".join(run_summary_lines(run, "validation"))
        self.app.call_from_thread(self._show_summary, run, summary)

    def _show_summary(self, run: Path, text: str) -> None:
        """Counts, F1 on unseen sentences/entities and the error breakdown (core.metrics.run_summary_lines)."""
        if run == self.selected:
            self.query_one("#scores-summary", Static).update(Text(text))

    def _show_confusion(self, run: Path, conf: dict[str, Any] | None, note: str) -> None:
        if run != self.selected:
            return
        self.confusion = conf
        self.query_one("#confusion-note", Static).update(note)
        table = self.query_one("#confusion-table", DataTable)
        table.clear(columns=True)
        if conf is None:
            return
        labels = [str(x) for x in conf["labels"]]
        table.add_column("gold \\ pred", key="__gold__")
        for name in labels:
            table.add_column(name, key=name)
        table.add_column("recall", key="__recall__")
        for i, row in enumerate(conf["matrix"]):
            total = sum(row)
            cells: list[Any] = [Text(labels[i], style="bold")]
            for j, count in enumerate(row):
                style = "bold green" if i == j and count else ("bold red" if count else "dim")
                cells.append(Text(str(count), style=style, justify="right"))
            recall = row[i] / total if total else math.nan
            cells.append("--" if math.isnan(recall) else f"{recall:.2f}")
            table.add_row(*cells, key=labels[i])

    # -- error browser ------------------------------------------------------------------------------
    def action_show_errors(self) -> None:
        tabs = self.query_one(TabbedContent)
        tabs.active = "tab-errors"
        run = self.selected
        if run is None:
            return
        if run == self.analysed:
            return
        self.query_one("#errors-note", Static).update(f"Tagging the validation split with {run.name}'s model…")
        self.query_one("#errors-list", DataTable).clear()
        self._analyse(run)

    @on(TabbedContent.TabActivated)
    def _tab_activated(self, event: TabbedContent.TabActivated) -> None:
        if event.pane.id == "tab-errors" and self.selected is not None and self.selected != self.analysed:
            self.action_show_errors()

    @work(thread=True, exclusive=True, group="runs-analysis", exit_on_error=False)
    def _analyse(self, run: Path) -> None:
        from bnner_tui.core.analysis import predict_split

        started = time.monotonic()
        self._analysing = run
        preds = predict_split(run, "validation")
        self._grid_tokenizer = self._load_grid_tokenizer(run)
        self.post_message(ErrorsAnalysed(run, preds, time.monotonic() - started))

    @staticmethod
    def _load_grid_tokenizer(run: Path) -> tuple[Any, str, int] | None:
        """The run's own tokenizer, strategy and max length, to show each word's pieces in the grid.

        Optional: without it the grid still shows words with gold and predicted labels."""
        try:
            from bnner_tui.core.align import load_tokenizer
            from bnner_tui.core.config import TrainConfig

            config = TrainConfig.from_toml(run / "config.toml")
            return load_tokenizer(str(run / "model")), config.strategy, config.max_length
        except Exception:
            return None

    @on(WorkFailed)
    def _analysis_failed(self, message: WorkFailed) -> None:
        """`WorkerErrors` has notified; the Errors tab also says it where the list would be."""
        if message.group != "runs-analysis" or self._analysing != self.selected:
            return
        from bnner_tui.tui.screens import describe_error

        self.analysed = None
        self.query_one("#errors-note", Static).update(Text(describe_error(message.error), style="red"))

    @on(ErrorsAnalysed)
    def _show_errors(self, message: ErrorsAnalysed) -> None:
        from bnner_tui.core.analysis import confusion_matrix, errors_only, word_accuracy

        run, preds, seconds = message.run, message.predictions, message.seconds

        if run != self.selected:
            return
        self.analysed = run
        self.predictions = preds
        self.errors = errors_only(preds)
        acc = word_accuracy(preds)
        acc_text = "--" if acc is None else f"{acc:.3f}"
        self.query_one("#errors-note", Static).update(
            f"{len(self.errors)} of {len(preds)} validation sentences have a wrong word · word accuracy {acc_text}"
            " · word level, first piece"
        )
        # How long it took goes to the log, not the note: the screen shows what is true of the run.
        self.log.info(f"error analysis of {run.name}: {seconds:.1f} s")
        table = self.query_one("#errors-list", DataTable)
        table.clear()
        for p in self.errors:
            table.add_row(str(p.index), str(len(p.wrong)), crop(" ".join(p.tokens), TEXT_WIDTH), key=str(p.index))
        if self.confusion is None:
            labels = self._label_names(preds)
            self._show_confusion(
                run,
                confusion_matrix(preds, labels),
                "word-level label confusion on validation, from the error analysis (rows gold, columns predicted)",
            )
        if self.errors:
            self._show_sentence(self.errors[0])
        else:
            from bnner_tui.tui.widgets.alignment_grid import AlignmentGrid

            self.query_one("#error-grid", AlignmentGrid).clear("No errors on this split.")

    @staticmethod
    def _label_names(preds: list[Any]) -> list[str]:
        from bnner_tui.core.labels import WIKIANN_LABELS

        seen = {label for p in preds for label in (*p.gold, *p.pred)}
        names = [x for x in WIKIANN_LABELS if x in seen or x == "O"]
        return names + sorted(seen - set(names))

    @on(DataTable.RowHighlighted, "#errors-list")
    def _error_highlighted(self, event: DataTable.RowHighlighted) -> None:
        key = event.row_key.value
        match = next((p for p in self.errors if str(p.index) == key), None)
        if match is not None:
            self._show_sentence(match)

    def _show_sentence(self, pred: Any) -> None:
        from bnner_tui.tui.widgets.alignment_grid import GridColumn, columns_from_alignment

        columns = None
        if self._grid_tokenizer is not None:
            # The same grid as the Data screen: the pieces the model saw under each word.
            from bnner_tui.core.align import align

            tokenizer, strategy, max_length = self._grid_tokenizer
            names = self._label_names(self.predictions)
            try:
                al = align(tokenizer, pred.tokens, pred.gold, names, strategy=strategy, max_length=max_length)
                columns = columns_from_alignment(
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
                columns = None
        if columns is None:
            columns = [
                GridColumn(word=w, gold=g, pred=p, word_index=i)
                for i, (w, g, p) in enumerate(zip(pred.tokens, pred.gold, pred.pred, strict=True))
            ]
        self.query_one("#error-sentence", Static).update(
            f"sentence {pred.index}: {len(pred.wrong)} wrong word(s) · under each word: gold, then predicted"
            " (red when wrong), then its pieces"
        )
        from bnner_tui.tui.widgets.alignment_grid import AlignmentGrid

        self.query_one("#error-grid", AlignmentGrid).set_columns(columns, keep_word=False)

    def on_alignment_grid_word_selected(self, event: Any) -> None:
        column = getattr(event, "column", None)
        word = column.word if column is not None else ""
        self.query_one("#codepoints", Static).update(code_points(word) if word else "")

    def action_toggle_codepoints(self) -> None:
        self.show_codepoints = not self.show_codepoints
        self.query_one("#codepoints", Static).set_class(not self.show_codepoints, "-hidden")
