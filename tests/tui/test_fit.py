"""Everything a screen shows fits a 100x30 terminal: keys, hints and tables are on screen,
not past an edge that Textual would scroll to but the user never sees.

Textual lays out what it cannot fit in a horizontally scrollable region without a visible
scrollbar (the footer) or with one the user does not expect (a table inside a scrolling
dialog), so each check compares what a widget needs with the width it has.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from pilot_helpers import select_run_row, wait_for
from textual.widgets import Footer

from bnner_tui.tui.app import SCREENS, BnnerApp

NARROW = (100, 30)


@pytest.mark.parametrize("mode", list(SCREENS))
async def test_footer_keys_fit_100_columns(tmp_path: Path, mode: str) -> None:
    """At 100 columns the Runs footer needed 192 cells and ended `5 C`; every screen's keys now fit."""
    app = BnnerApp(runs_root=tmp_path / "runs", start=mode)
    async with app.run_test(size=NARROW) as pilot:
        await wait_for(pilot, lambda: app.current_mode == mode and bool(app.screen.query(Footer)))
        footer = app.screen.query_one(Footer)
        await wait_for(pilot, lambda: len(footer.children) > 3, what="the footer's keys")
        await pilot.pause()
        needed = sum(child.outer_size.width for child in footer.children)
        assert needed <= footer.size.width, (mode, needed, footer.size.width)
        shown = {getattr(key, "description", "") for key in footer.children}
        assert "Help" in shown  # the group of screen switches did not push Help off the line


async def test_help_has_one_scrollbar(tmp_path: Path) -> None:
    """The key table had its own scrollbar inside the scrolling dialog; now only the dialog scrolls."""
    from textual.widgets import DataTable

    from bnner_tui.tui.screens.help import HelpScreen

    app = BnnerApp(runs_root=tmp_path / "runs", start="runs")
    async with app.run_test(size=NARROW) as pilot:
        await wait_for(pilot, lambda: app.current_mode == "runs")
        app.screen.set_focus(None)
        await pilot.press("f1")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen) and bool(app.screen.query("#help-keys")))
        table = app.screen.query_one("#help-keys", DataTable)
        await wait_for(pilot, lambda: table.row_count > 0 and table.size.height > 0)
        await pilot.pause()
        assert table.size.height >= table.row_count + 1  # every row and the header, unscrolled
        assert not table.show_vertical_scrollbar
        does = [str(table.get_row_at(i)[1]) for i in range(table.row_count)]
        assert "Mark the run to compare it with others" in does  # Help gives the tooltip's sentence


async def test_train_monitor_at_100_columns_keeps_best_f1_and_wraps_the_log(runs_workspace: Path) -> None:
    """At 100x30 the stats line wrapped onto a third, hidden line (the best F1 was lost), the
    log beside the per-entity table was 7 cells wide, and the run picker wrapped in its box."""
    from rich.cells import cell_len
    from textual.widgets import Log, Select, Static

    from bnner_tui.tui.widgets.monitor import RunMonitor

    app = BnnerApp(runs_root=Path("runs"), start="train")
    async with app.run_test(size=NARROW) as pilot:
        screen = app.screen
        await wait_for(pilot, lambda: screen.run_dir is not None, what="the re-attach")
        screen.watch_run(Path("runs") / "alpha-finished")
        mon = screen.query_one(RunMonitor)
        await wait_for(pilot, lambda: mon.state.status == "finished", what="the finished run")
        stats = mon.query_one("#mon-stats", Static)
        await wait_for(pilot, lambda: "best F1 0.680" in str(stats.render()), what="best F1 on the stats line")
        lines = str(stats.render()).splitlines()
        assert len(lines) <= stats.size.height and all(cell_len(line) <= stats.content_region.width for line in lines)
        log = mon.query_one("#mon-log", Log)
        await wait_for(pilot, lambda: len(log.lines) >= 3, what="the log tail")
        assert log.size.width >= 40  # stacked under the table, not squeezed beside it
        assert all(cell_len(line) <= log.scrollable_content_region.width for line in log.lines)
        picker = screen.query_one("#watch-select", Select)
        assert picker.size.width >= 24 and picker.size.height == 3


async def test_a_long_log_line_wraps_to_the_panel_width_and_rewraps_on_resize(runs_workspace: Path) -> None:
    from rich.cells import cell_len
    from textual.widgets import Log

    from bnner_tui.tui.widgets.monitor import RunMonitor

    long_line = "2026-12-01 13:52:22,204 INFO bnner_tui.train: " + "model: offline small BERT with a long tail " * 6
    with open(Path("runs") / "alpha-finished" / "train.log", "a", encoding="utf-8") as fh:
        fh.write(long_line + "\n")
    app = BnnerApp(runs_root=Path("runs"), start="train")
    async with app.run_test(size=(160, 45)) as pilot:
        screen = app.screen
        await wait_for(pilot, lambda: screen.run_dir is not None, what="the re-attach")
        screen.watch_run(Path("runs") / "alpha-finished")
        mon = screen.query_one(RunMonitor)
        log = mon.query_one("#mon-log", Log)
        await wait_for(pilot, lambda: any("long tail" in line for line in log.lines), what="the long line")

        def wrapped() -> bool:
            width = log.scrollable_content_region.width
            start = next(i for i, line in enumerate(log.lines) if line.startswith("13:52:22"))
            text = " ".join(line.strip() for line in log.lines[start:])  # the record and its continuations
            return all(cell_len(line) <= width for line in log.lines) and text.count("long tail") == 6

        assert wrapped()
        wide_rows = len(log.lines)
        await pilot.resize_terminal(*NARROW)
        await wait_for(pilot, lambda: len(log.lines) > wide_rows and wrapped(), what="the log re-wrapped narrower")


async def test_runs_scores_table_and_hint_fit_100_columns(runs_workspace: Path) -> None:
    """The scores table needed sideways scrolling at 100 columns (a 44-character data path)."""
    import json

    from textual.widgets import DataTable, Static, TabbedContent

    split = {"overall": {"f1": 0.68, "precision": 0.7, "recall": 0.66}, "entities": 1107}
    metrics = {
        "data": {"spec": "/home/someone/corpora/bengali/wikiann-bn-xtreme-panx"},
        "splits": {"validation": split},
        "other_data": {"x": {"spec": "/home/someone/corpora/bengali/b-ner-2023-v2", "splits": {"test": split}}},
    }
    (Path("runs") / "alpha-finished" / "metrics.json").write_text(json.dumps(metrics), encoding="utf-8")

    app = BnnerApp(runs_root=Path("runs"), start="runs")
    async with app.run_test(size=NARROW) as pilot:
        screen = app.screen
        table = screen.query_one("#runs-table", DataTable)
        await wait_for(pilot, lambda: table.row_count == 4, what="the four runs")
        hint = screen.query_one("#runs-hint", Static)
        await wait_for(pilot, lambda: "enter: use in Tag and Card" in str(hint.render()), what="the hint")
        assert "enter: use in Tag and Card" in "".join(str(hint.render()).split("\n"))
        table.focus()
        await select_run_row(pilot, table, str(Path("runs") / "alpha-finished"))
        await pilot.press("space")
        screen.query_one(TabbedContent).active = "tab-scores"
        scores = screen.query_one("#scores-table", DataTable)
        await wait_for(pilot, lambda: scores.row_count == 2 and scores.size.width > 0, what="the scores")
        await pilot.pause()
        assert scores.virtual_size.width <= scores.scrollable_content_region.width, (
            scores.virtual_size.width,
            scores.scrollable_content_region.width,
        )
