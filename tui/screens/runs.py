"""The Runs screen: every run in a table, any number of runs' curves overlaid, a config diff,
a confusion matrix and an error browser.

Why it is built this way:
- the table comes from `core.runs.list_runs` (the same listing as `bnner-tui runs`), read in
  a worker so a folder of many runs never blocks a keystroke; beside the run's facts it shows
  the hyperparameters that differ between the listed runs (`core.compare.differing_keys`), and
  sorts by any column (a header click, or s / S) with `core.compare.sort_runs`;
- curves are read from each run's events.jsonl, the one record of a run; marking runs overlays
  them, so "did the new settings help?" is one glance, for the metric chosen above the plot
  (`core.compare.curve`: overall or per-entity F1, precision, recall, losses, learning rate);
  the shown curves export as SVG or PNG and their series as CSV (`core.compare.export_curves`);
- two or more marked runs get a config diff (`core.compare.config_diff`): every setting that
  differs, one column per run;
- the confusion matrix is the one the trainer stored in metrics.json when there is one, and
  otherwise comes from the error analysis; the error browser runs `core.analysis` (the run's
  model on its validation split, word level) in a worker and caches it in the run folder;
- selecting a run sets `app.selected_run` and posts `RunSelected`, so Tag and Card follow;
- every worker posts its result as a typed Message (`RunsLoaded`, `OverlayLoaded`,
  `CurvesExported`, `ErrorsAnalysed`) and simply raises on failure: `WorkerErrors` is the one
  handler.
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
from textual.widgets import Button, DataTable, Input, Select, Static, TabbedContent, TabPane

from bnner_tui.core import compare
from bnner_tui.core.display import NO_VALUE, crop, crop_left
from bnner_tui.core.runstate import RunState
from bnner_tui.tui.presentation import STATUS_STYLE, format_duration
from bnner_tui.tui.screens import WorkDone, WorkerErrors, WorkFailed
from bnner_tui.tui.widgets.error_browser import ErrorBrowser, load_grid_tokenizer
from bnner_tui.tui.widgets.footer import KeyFooter
from bnner_tui.tui.widgets.monitor.commands import ScreenActions
from bnner_tui.tui.widgets.monitor.curves import CurvePlot, Series
from bnner_tui.tui.widgets.paths import PathSuggester

RUN_COLORS = ("cyan", "orange", "green", "magenta", "red", "blue", "yellow", "white")
RUNS_REFRESH_S = 5.0
# The run table's own columns (key, header); the differing hyperparameters follow them.
RUN_COLUMNS: tuple[tuple[str, str], ...] = (
    ("mark", " "),
    ("name", "run"),
    ("status", "status"),
    ("f1", "best F1"),
    ("duration", "duration"),
    ("steps", "steps"),
    ("model", "model"),
    ("data", "data"),
)
MAX_HPARAM_COLUMNS = 6  # more differing settings: the config diff (d) shows them all
# Short enough for 100 columns after a run's name and status; the footer names the other keys.
HINT = "space marks runs to overlay and diff · enter: use in Tag and Card"


def load_curves(run_dir: Path) -> RunState:
    """A run's whole history folded (the one fold: `core.runs.run_state`), curves included."""
    from bnner_tui.core.runs import run_state

    return run_state(run_dir, curves=True)


class RunsLoaded(Message):
    """The run table's rows (`core.runs.RunSummary`, newest first) and each run's config values."""

    def __init__(self, runs: list[Any], configs: dict[str, dict[str, Any]]) -> None:
        super().__init__()
        self.runs = runs
        self.configs = configs


class OverlayLoaded(Message):
    """The folded histories of the runs to overlay."""

    def __init__(self, states: list[tuple[Path, RunState]]) -> None:
        super().__init__()
        self.states = states


class CurvesExported(Message):
    """The shown curves were written to `path` (`backup`: where the file it replaced was kept)."""

    def __init__(self, path: Path, backup: Path | None) -> None:
        super().__init__()
        self.path = path
        self.backup = backup


class ConfusionLoaded(WorkDone):
    """A run's stored confusion matrix (None when metrics.json has none), its note, and the score summary."""

    def __init__(self, run: Path, confusion: dict[str, Any] | None, note: str, summary: str) -> None:
        super().__init__()
        self.run = run
        self.confusion = confusion
        self.note = note
        self.summary = summary


class ErrorsAnalysed(Message):
    """A run's word-level predictions on its validation split, how long they took, and the run's
    tokenizer for the grid (None when it cannot be loaded)."""

    def __init__(self, run: Path, predictions: list[Any], seconds: float, grid_tokenizer: Any = None) -> None:
        super().__init__()
        self.run = run
        self.predictions = predictions
        self.seconds = seconds
        self.grid_tokenizer = grid_tokenizer


class RunsScreen(WorkerErrors, Screen):
    """Browse and sort runs, compare any number, open one's confusion matrix and errors."""

    DEFAULT_CSS = """
    RunsScreen #runs-table { height: auto; max-height: 12; }
    RunsScreen #runs-hint { height: auto; max-height: 3; padding: 0 1; color: $text-muted; }
    RunsScreen #runs-tabs { height: 1fr; }
    RunsScreen #overlay-bar { height: 1; }
    RunsScreen #overlay-metric-select { width: 32; }
    RunsScreen #export-path { width: 1fr; }
    RunsScreen #export { min-width: 10; height: 1; border: none; }
    RunsScreen #export-note { height: 1; padding: 0 1; color: $text-muted; text-overflow: ellipsis; }
    RunsScreen #overlay-plots { height: 1fr; }
    RunsScreen #diff-note { height: auto; padding: 0 1; color: $text-muted; }
    RunsScreen #diff-table { height: 1fr; }
    RunsScreen #overlay-loss { margin-left: 2; }
    RunsScreen #confusion-note { height: auto; padding: 0 1; color: $text-muted; }
    RunsScreen #confusion-table { height: 1fr; }
    """

    COMMANDS: ClassVar[set] = {ScreenActions}
    BINDINGS: ClassVar[list[BindingType]] = [
        # Footer keys are short so the line fits 100 columns; Help shows every key (r and u too).
        Binding("r", "refresh", "Refresh", show=False),  # the screen also refreshes by itself
        Binding("space", "mark", "Mark", tooltip="Mark the run to compare it with others"),
        Binding("s", "sort_next", "Sort"),
        Binding("S", "sort_reverse", "Reverse sort", show=False),
        Binding("d", "show_diff", "Diff", tooltip="Config diff of the marked runs"),
        Binding("x", "export", "Export", tooltip="Export the shown curves (SVG, CSV)"),
        Binding("c", "show_confusion", "Confusion"),
        Binding("e", "show_errors", "Errors"),
        Binding("u", "toggle_codepoints", "Code points", show=False),
    ]

    def __init__(self, runs_root: Path, *, name: str | None = None, id: str | None = None) -> None:
        super().__init__(name=name, id=id)
        self.runs_root = Path(runs_root)
        self.runs: dict[str, Any] = {}  # path str -> RunSummary
        self.listing: list[Any] = []  # RunSummary, as list_runs ordered them (newest first)
        self.configs: dict[str, dict[str, Any]] = {}  # path str -> config values
        self.hparam_columns: list[str] = []  # the differing settings the table shows
        self.sort_column: str | None = None  # None: the listing's order
        self.sort_descending = False
        self.metric = "f1"
        self.overlay_states: list[tuple[Path, RunState]] = []
        self.shown_curves: list[compare.Curve] = []
        self.exported: Path | None = None
        self._columns: tuple[tuple[str, str], ...] = ()
        self._diff_shown: tuple[Any, ...] | None = None
        self.selected: Path | None = None
        self.marked: list[Path] = []
        self.analysed: Path | None = None
        self.confusion: dict[str, Any] | None = None
        self._analysing: Path | None = None

    def compose(self) -> ComposeResult:
        yield DataTable(id="runs-table", cursor_type="row", zebra_stripes=True)
        yield Static(HINT, id="runs-hint")
        with TabbedContent(id="runs-tabs"):
            with TabPane("Curves", id="tab-curves"), Vertical():
                with Horizontal(id="overlay-bar"):
                    yield Select(
                        [(compare.metric_title("f1"), "f1")],
                        value="f1",
                        allow_blank=False,
                        compact=True,
                        id="overlay-metric-select",
                        tooltip="the metric the left plot overlays",
                    )
                    yield Input(
                        placeholder="export to FILE.svg, .png or .csv (x)",
                        compact=True,
                        id="export-path",
                        suggester=PathSuggester(),
                    )
                    yield Button("Export", id="export", compact=True)
                yield Static("", id="export-note")
                with Horizontal(id="overlay-plots"):
                    yield CurvePlot(compare.metric_title("f1"), ylim=(0.0, 1.0), id="overlay-metric")
                    yield CurvePlot("training loss", id="overlay-loss")
            with TabPane("Config diff", id="tab-diff"), Vertical():
                yield Static("Mark two runs or more (space) to see every setting in which they differ.", id="diff-note")
                yield DataTable(id="diff-table", cursor_type="row", zebra_stripes=True)
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
            with TabPane("Errors", id="tab-errors"):
                yield ErrorBrowser(id="error-browser")
        yield KeyFooter()

    def on_mount(self) -> None:
        self._set_columns(self.query_one("#runs-table", DataTable))
        scores = self.query_one("#scores-table", DataTable)
        for label in ("run", "data", "data is", "split", "F1", "P", "R", "entities"):
            scores.add_column(label, key=label)
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

        runs = list_runs(self.runs_root)
        self.post_message(RunsLoaded(runs, compare.load_configs(r.path for r in runs)))

    @on(RunsLoaded)
    def _show_runs(self, message: RunsLoaded) -> None:
        runs = message.runs
        self.listing = runs
        self.configs = message.configs
        differing = compare.differing_keys([message.configs.get(str(r.path), {}) for r in runs])
        self.hparam_columns = [k for k in differing if k not in ("model", "data")][:MAX_HPARAM_COLUMNS]
        self._render_table()
        if not runs:
            self.query_one("#runs-hint", Static).update(
                f"No runs in {self.runs_root} yet: launch one on the Train screen."
            )
        cursor_key = str(self.selected) if self.selected else None
        if not (cursor_key and cursor_key in self.runs) and runs and self.selected is None:
            self._select(Path(str(runs[0].path)), announce=False)
        self._show_diff()

    def _render_table(self) -> None:
        """Fill the table in the chosen order, keeping the cursor on the selected run."""
        runs = self.listing
        if self.sort_column is not None:
            runs = compare.sort_runs(runs, self.sort_column, self.configs, descending=self.sort_descending)
        table = self.query_one("#runs-table", DataTable)
        cursor_key = str(self.selected) if self.selected else None
        # Rebuilding moves the cursor to row 0 and back; those moves are not the user's choice
        # (unprevented, every auto-refresh re-selected the first run and restarted its analysis).
        with self.prevent(DataTable.RowHighlighted):
            self._set_columns(table)
            self._fill_table(table, runs)
            if cursor_key and cursor_key in self.runs:
                table.move_cursor(row=table.get_row_index(cursor_key))

    def _set_columns(self, table: DataTable[Any]) -> None:
        """The run's own columns, then one per differing setting; the sorted one shows ▲ or ▼."""
        columns = RUN_COLUMNS + tuple((k, compare.label_of(k)) for k in self.hparam_columns)
        arrow = " ▼" if self.sort_descending else " ▲"
        labelled = tuple((k, label + (arrow if k == self.sort_column else "")) for k, label in columns)
        if labelled == self._columns:
            return
        table.clear(columns=True)
        for key, label in labelled:
            table.add_column(label, key=key)
        self._columns = labelled

    def _fill_table(self, table: DataTable[Any], runs: list[Any]) -> None:
        table.clear()
        self.runs = {}
        for r in runs:
            key = str(r.path)
            self.runs[key] = r
            steps = f"{r.last_step or 0}/{r.total_steps}" if r.total_steps else str(r.last_step or "")
            config = self.configs.get(key, {})
            table.add_row(
                "●" if Path(key) in self.marked else "",
                crop(r.name, 32),
                Text(r.status, style=STATUS_STYLE.get(r.status, "")),
                NO_VALUE if r.best_f1 is None else f"{r.best_f1:.3f}",
                format_duration(r.duration_s),
                steps,
                crop(str(r.model), 28),
                crop(str(r.data), 28),
                *(crop(compare.show(config.get(k)), 20) for k in self.hparam_columns),
                key=key,
            )

    # -- sorting ------------------------------------------------------------------------------
    def sort_by(self, column: str | None, *, descending: bool = False) -> None:
        """Order the table by a column (None: the listing's order, newest first)."""
        self.sort_column, self.sort_descending = column, descending
        self._render_table()
        if column is None:
            note = "listing order (newest first)"
        else:
            note = f"sorted by {dict(self._columns_plain()).get(column, column)}"
            note += " (high to low)" if descending else " (low to high)"
        self.query_one("#runs-hint", Static).update(Text(f"{note} · {HINT}", style="dim"))

    def _columns_plain(self) -> tuple[tuple[str, str], ...]:
        return RUN_COLUMNS + tuple((k, compare.label_of(k)) for k in self.hparam_columns)

    def _sortable(self) -> list[str]:
        return [k for k, _ in self._columns_plain() if k != "mark"]

    @on(DataTable.HeaderSelected, "#runs-table")
    def _header_selected(self, event: DataTable.HeaderSelected) -> None:
        column = event.column_key.value
        if column is None or column == "mark":
            return
        if column == self.sort_column:
            self.sort_by(column, descending=not self.sort_descending)
        else:
            self.sort_by(column)

    def action_sort_next(self) -> None:
        """s: sort by the next column (after the last one, back to the listing's order)."""
        keys = self._sortable()
        if self.sort_column not in keys:
            self.sort_by(keys[0])
            return
        i = keys.index(self.sort_column) + 1
        self.sort_by(keys[i] if i < len(keys) else None)

    def action_sort_reverse(self) -> None:
        """S: the same column the other way round."""
        if self.sort_column is not None:
            self.sort_by(self.sort_column, descending=not self.sort_descending)

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
                hint.append(f" · {HINT}", style="dim")
            self.query_one("#runs-hint", Static).update(hint)
        if announce:
            self.notify(f"Run {run_dir.name} selected: Tag and Card use it.", markup=False)
        if changed:
            self._update_overlay()
            self._load_confusion()
            if self.query_one(TabbedContent).active == "tab-errors":
                self.action_show_errors()

    def action_mark(self) -> None:
        """Mark (or unmark) the highlighted run for the overlay and the config diff; any number."""
        if self.selected is None:
            return
        if self.selected in self.marked:
            self.marked.remove(self.selected)
        else:
            self.marked.append(self.selected)
        table = self.query_one("#runs-table", DataTable)
        for key in self.runs:
            table.update_cell(key, "mark", "●" if Path(key) in self.marked else "")
        self._update_overlay()
        self._show_diff()

    # -- config diff ------------------------------------------------------------------------------
    def action_show_diff(self) -> None:
        self.query_one(TabbedContent).active = "tab-diff"

    def _show_diff(self) -> None:
        """Every setting in which the marked runs differ: one row per setting, one column per run."""
        runs = [run for run in self.marked if str(run) in self.configs]
        shown = (tuple(runs), tuple(repr(self.configs[str(run)]) for run in runs))
        if shown == self._diff_shown:
            return  # a refresh of the run list changed nothing here: the cursor stays put
        self._diff_shown = shown
        table = self.query_one("#diff-table", DataTable)
        note = self.query_one("#diff-note", Static)
        table.clear(columns=True)
        if len(runs) < 2:
            note.update("Mark two runs or more (space) to see every setting in which they differ.")
            return
        rows = compare.config_diff([self.configs[str(run)] for run in runs])
        names = ", ".join(run.name for run in runs)
        if not rows:
            note.update(Text(f"{names}: the same settings (the run names aside)."))
            return
        note.update(Text(f"{len(rows)} setting(s) differ between {names}"))
        table.add_column("setting", key="__setting__")
        for i, run in enumerate(runs):
            table.add_column(crop(run.name, 24), key=f"run-{i}")
        for key, values in rows:
            table.add_row(compare.label_of(key), *(crop(compare.show(v), 40) for v in values), key=key)

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
            return NO_VALUE if x is None else f"{x:.3f}"

        for run in runs:
            for sc in run_scores(run):
                # Widths add up to 96 cells with padding: the table fits a 100-column terminal.
                table.add_row(
                    crop(run.name, 16),
                    crop_left(sc.data, 26),
                    "own" if sc.own else "other",
                    sc.split,
                    num(sc.f1),
                    num(sc.precision),
                    num(sc.recall),
                    NO_VALUE if sc.support is None else str(sc.support),
                )

    @work(thread=True, exclusive=True, group="runs-overlay", exit_on_error=False)
    def _load_overlay(self, runs: list[Path]) -> None:
        self.post_message(OverlayLoaded([(run, load_curves(run)) for run in runs]))

    @on(OverlayLoaded)
    def _show_overlay(self, message: OverlayLoaded) -> None:
        self.overlay_states = message.states
        metrics = compare.available_metrics(st for _, st in self.overlay_states)
        if self.metric not in metrics:
            self.metric = "f1"
        select = self.query_one("#overlay-metric-select", Select)
        with self.prevent(Select.Changed):
            select.set_options([(compare.metric_title(m), m) for m in metrics])
            select.value = self.metric
        self._plot_overlay()

    def _plot_overlay(self) -> None:
        """The chosen metric of every overlaid run (left) and their training loss (right)."""
        chosen: list[Series] = []
        loss: list[Series] = []
        self.shown_curves = []
        for i, (run, st) in enumerate(self.overlay_states):
            color = RUN_COLORS[i % len(RUN_COLORS)]
            label = crop(run.name, 24)
            c = compare.curve(st, self.metric, run.name)
            self.shown_curves.append(c)
            chosen.append(Series(label, c.steps, c.values, color=color))
            loss.append(Series(label, st.loss_steps, st.loss, color=color))
        ylim = (0.0, 1.0) if compare.is_score(self.metric) else None
        self.query_one("#overlay-metric", CurvePlot).set_series(
            chosen, title=compare.metric_title(self.metric), ylim=ylim
        )
        self.query_one("#overlay-loss", CurvePlot).set_series(loss)

    @on(Select.Changed, "#overlay-metric-select")
    def _metric_chosen(self, event: Select.Changed) -> None:
        if isinstance(event.value, str) and event.value != self.metric:
            self.metric = event.value
            self._plot_overlay()

    def choose_metric(self, metric: str) -> None:
        """Overlay another metric (an id of `core.compare.available_metrics`)."""
        self.query_one("#overlay-metric-select", Select).value = metric

    # -- export -----------------------------------------------------------------------------------
    def action_export(self) -> None:
        """x: export the shown curves to the file named in the box (its suffix says the format)."""
        box = self.query_one("#export-path", Input)
        if not box.value.strip():
            box.value = compare.default_export_name(self.metric)
        self.query_one(TabbedContent).active = "tab-curves"
        self._start_export(box.value.strip())

    @on(Button.Pressed, "#export")
    @on(Input.Submitted, "#export-path")
    def _export_requested(self) -> None:
        self.action_export()

    def _start_export(self, path: str) -> None:
        curves = list(self.shown_curves)
        self.query_one("#export-note", Static).update(Text(f"writing {path}…"))  # a typed path: not markup
        self._export(Path(path), curves, compare.metric_title(self.metric))

    @work(thread=True, exclusive=True, group="runs-export", exit_on_error=False)
    def _export(self, path: Path, curves: list[compare.Curve], title: str) -> None:
        backup = compare.export_curves(path, curves, title)
        self.post_message(CurvesExported(path, backup))

    @on(CurvesExported)
    def _exported(self, message: CurvesExported) -> None:
        self.exported = message.path
        text = f"wrote {message.path}"
        if message.backup is not None:
            text += f" (the file it replaced is kept as {message.backup.name})"
        self.query_one("#export-note", Static).update(Text(text))
        self.notify(text, markup=False)

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
        summary = "\n".join(run_summary_lines(run, "validation"))
        self.post_message(ConfusionLoaded(run, conf, note, summary))

    @on(ConfusionLoaded)
    def _show_confusion(self, message: ConfusionLoaded) -> None:
        """The confusion tab, and the counts, F1 on unseen sentences/entities and the error
        breakdown (core.metrics.run_summary_lines), for the run still selected."""
        if message.run != self.selected or not self.is_latest(message):
            return
        self.query_one("#scores-summary", Static).update(Text(message.summary))
        self._fill_confusion(message.run, message.confusion, message.note)

    def _fill_confusion(self, run: Path, conf: dict[str, Any] | None, note: str) -> None:
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
            cells.append(NO_VALUE if math.isnan(recall) else f"{recall:.2f}")
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
        self.query_one(ErrorBrowser).waiting(f"Tagging the validation split with {run.name}'s model…")
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
        grid_tokenizer = load_grid_tokenizer(run)
        self.post_message(ErrorsAnalysed(run, preds, time.monotonic() - started, grid_tokenizer))

    @on(WorkFailed)
    def _analysis_failed(self, message: WorkFailed) -> None:
        """`WorkerErrors` has notified; the Errors tab (or the export note) also says it in place."""
        if message.group == "runs-export":
            from bnner_tui.tui.screens import describe_error

            self.query_one("#export-note", Static).update(Text(describe_error(message.error), style="red"))
            return
        if message.group != "runs-analysis" or self._analysing != self.selected:
            return
        from bnner_tui.tui.screens import describe_error

        self.analysed = None
        self.query_one(ErrorBrowser).note(Text(describe_error(message.error), style="red"))

    @on(ErrorsAnalysed)
    def _show_errors(self, message: ErrorsAnalysed) -> None:
        from bnner_tui.core.analysis import confusion_matrix, label_order

        run, preds = message.run, message.predictions
        if run != self.selected:
            return
        self.analysed = run
        self.query_one(ErrorBrowser).show(preds, message.grid_tokenizer)
        # How long it took goes to the log, not the note: the screen shows what is true of the run.
        self.log.info(f"error analysis of {run.name}: {message.seconds:.1f} s")
        if self.confusion is None:
            self._fill_confusion(
                run,
                confusion_matrix(preds, label_order(preds)),
                "word-level label confusion on validation, from the error analysis (rows gold, columns predicted)",
            )

    @property
    def predictions(self) -> list[Any]:
        """Every validation sentence of the analysed run, predicted (the Errors tab holds them)."""
        return self.query_one(ErrorBrowser).predictions

    @property
    def errors(self) -> list[Any]:
        """The analysed sentences with at least one wrong word."""
        return self.query_one(ErrorBrowser).errors

    def action_toggle_codepoints(self) -> None:
        self.query_one(ErrorBrowser).toggle_codepoints()
