"""Layout pins of the Train and Runs screens (pytest-textual-snapshot), from synthetic runs
(tests/synthetic_runs.py, the `runs_workspace` fixture).

The runs are real folders written with the real EventWriter; event times are fixed, and put
in the future for the running run (year 2096), so its ETA and duration do not depend on the
wall clock: the ETA subtracts the time since the newest event, which is then zero. Latin text
only (see tests/tui/test_snapshots.py for why). Update after an intended layout change:
`pytest tests/tui/test_snapshots_runs.py --snapshot-update`.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from pilot_helpers import select_run_row, wait_for

from bnner_tui.tui.app import BnnerApp

SIZE = (140, 44)


async def _monitor_settled(pilot, status: str, step: int) -> None:
    from bnner_tui.tui.widgets.monitor import CurvePlot, RunMonitor

    screen = pilot.app.screen
    mon = screen.query_one(RunMonitor)
    await wait_for(
        pilot, lambda: mon.state.status == status and mon.state.step == step, what=f"the run {status} at {step}"
    )
    f1 = mon.query_one("#mon-f1", CurvePlot)
    await wait_for(pilot, lambda: bool(f1.series) and len(f1.series[0].x) == step // 10, what="the curves")
    log = mon.query_one("#mon-log")
    await wait_for(pilot, lambda: len(log.lines) >= 3, what="the log tail")
    screen.set_focus(None)
    # Toasts ("Re-attached to …") expire after a few seconds: whether one is still up when the
    # picture is taken depends on the machine's speed, so none is in the picture.
    pilot.app.clear_notifications()
    await pilot.pause()


def test_train_screen_following_a_running_run(
    snap_compare, runs_workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The run's lock is held by pytest itself, so the monitor would measure this test
    # process, whose CPU share changes from run to run. The picture shows fixed numbers in
    # their place; tests/tui/test_monitor.py measures a real process.
    from bnner_tui.tui.widgets.monitor.monitor import ProcessStats

    def fixed(self: ProcessStats, now: float) -> None:
        self.cpu_percent, self.rss_bytes = 97.0, 512 * 2**20

    monkeypatch.setattr(ProcessStats, "sample", fixed)

    async def run_before(pilot) -> None:
        await wait_for(pilot, lambda: pilot.app.screen.run_dir is not None, what="the re-attach")
        await _monitor_settled(pilot, "running", 25)

    app = BnnerApp(runs_root=Path("runs"), start="train")
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_train_screen_a_finished_run_with_curves(snap_compare, runs_workspace: Path) -> None:
    async def run_before(pilot) -> None:
        screen = pilot.app.screen
        await wait_for(pilot, lambda: screen.run_dir is not None, what="the re-attach")
        screen.watch_run(Path("runs") / "alpha-finished")
        await _monitor_settled(pilot, "finished", 40)

    app = BnnerApp(runs_root=Path("runs"), start="train")
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_runs_screen_table_and_overlay(snap_compare, runs_workspace: Path) -> None:
    async def run_before(pilot) -> None:
        from textual.widgets import DataTable

        from bnner_tui.tui.widgets.monitor import CurvePlot

        screen = pilot.app.screen
        table = screen.query_one("#runs-table", DataTable)
        await wait_for(pilot, lambda: table.row_count == 4, what="the four runs")
        table.focus()
        await select_run_row(pilot, table, str(Path("runs") / "alpha-finished"))
        await pilot.press("space")
        await select_run_row(pilot, table, str(Path("runs") / "beta-cancelled"))
        await pilot.press("space")
        plot = screen.query_one("#overlay-metric", CurvePlot)
        await wait_for(
            pilot, lambda: [s.label for s in plot.series] == ["alpha-finished", "beta-cancelled"], what="overlay"
        )
        pilot.app.clear_notifications()
        await pilot.pause()

    app = BnnerApp(runs_root=Path("runs"), start="runs")
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_runs_screen_sorted_with_a_config_diff(snap_compare, runs_workspace: Path) -> None:
    """Sorted by a differing setting (batch size, high to low), and the config diff of two marked runs."""

    async def run_before(pilot) -> None:
        from textual.widgets import DataTable

        screen = pilot.app.screen
        table = screen.query_one("#runs-table", DataTable)
        await wait_for(pilot, lambda: table.row_count == 4, what="the four runs")
        table.focus()
        for name in ("beta-cancelled", "gamma-failed"):
            table.move_cursor(row=table.get_row_index(str(Path("runs") / name)))
            await wait_for(pilot, lambda name=name: screen.selected == Path("runs") / name, what=name)
            await pilot.press("space")
        screen.sort_by("batch_size", descending=True)
        await pilot.press("d")
        diff = screen.query_one("#diff-table", DataTable)
        await wait_for(pilot, lambda: diff.row_count == 2, what="the config diff")
        pilot.app.clear_notifications()
        await pilot.pause()

    app = BnnerApp(runs_root=Path("runs"), start="runs")
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def _decisive_model(out: Path) -> None:
    """The tiny random-init model with its classifier bias favouring `O` by a wide margin: a
    random model's near-ties between labels flip from one process to the next (threaded matmul
    sums in another order), which a picture cannot tolerate; this one predicts `O` for every word."""
    import torch
    from conftest import build_tiny_model
    from transformers import BertForTokenClassification

    build_tiny_model(out)
    model = BertForTokenClassification.from_pretrained(str(out))
    with torch.no_grad():
        model.classifier.bias.zero_()
        model.classifier.bias[0] = 50.0
    model.save_pretrained(str(out))


def test_runs_screen_error_browser(snap_compare, runs_workspace: Path) -> None:
    """A finished run's model (a real tiny one) on its validation split: every sentence it gets
    wrong, and the first one's words with gold, predicted and pieces."""
    _decisive_model(runs_workspace / "runs" / "alpha-finished" / "model")

    async def run_before(pilot) -> None:
        from textual.widgets import DataTable

        screen = pilot.app.screen
        table = screen.query_one("#runs-table", DataTable)
        await wait_for(pilot, lambda: table.row_count == 4, what="the four runs")
        alpha = Path("runs") / "alpha-finished"
        table.focus()
        table.move_cursor(row=table.get_row_index(str(alpha)))
        await wait_for(pilot, lambda: screen.selected == alpha, what="alpha selected")
        await pilot.press("e")
        await wait_for(pilot, lambda: screen.analysed == alpha, timeout=120, what="the error analysis")
        errors = screen.query_one("#errors-list", DataTable)
        errors.focus()
        await wait_for(pilot, lambda: screen.focused is errors, what="focus on the error list")
        pilot.app.clear_notifications()
        await pilot.pause()

    app = BnnerApp(runs_root=Path("runs"), start="runs")
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)
