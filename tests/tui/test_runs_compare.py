"""Comparing runs on the Runs screen, with Pilot: the differing-hyperparameter columns, sorting,
the config diff of marked runs, the overlay's metric choice, and exporting the shown curves.

Runs are real folders (config.toml from TrainConfig, events.jsonl from the real EventWriter);
nothing is trained.
"""

from __future__ import annotations

import csv
import importlib.util
from pathlib import Path

import pytest
from pilot_helpers import wait_for
from textual.app import App
from textual.widgets import Button, DataTable, Input, Select, Static, TabbedContent

from bnner_tui.core.config import TrainConfig
from bnner_tui.core.events import EventWriter
from bnner_tui.tui.widgets.monitor import CurvePlot


def make_run(root: Path, name: str, t0: float, f1s: list[float], **config: object) -> Path:
    run = root / name
    run.mkdir(parents=True)
    TrainConfig(data="demo", model="offline", run_name=name, output_root=str(root), **config).to_toml(  # type: ignore[arg-type]
        run / "config.toml"
    )
    with EventWriter(run / "events.jsonl") as w:
        w.emit("started", time=t0, model="offline small BERT: test", device="cpu", total_steps=30)
        for s in range(1, 31):
            w.emit("step", time=t0 + s, step=s, loss=3.0 / s, learning_rate=1e-3, total_steps=30)
            if s % 10 == 0:
                f1 = f1s[s // 10 - 1]
                w.emit(
                    "eval",
                    time=t0 + s + 0.5,
                    step=s,
                    split="validation",
                    loss=1.0,
                    overall={"precision": f1, "recall": f1 / 2, "f1": f1},
                    per_type={"PER": {"precision": 0.9, "recall": f1 / 4, "f1": f1 / 3}},
                )
        w.emit("finished", time=t0 + 40, step=30, best_f1=max(f1s), duration_s=30.0)
    return run


class RunsApp(App):
    def __init__(self, runs_root: Path) -> None:
        super().__init__()
        self.runs_root = runs_root
        self.selected_run: Path | None = None

    def on_mount(self) -> None:
        from bnner_tui.tui.screens.runs import RunsScreen

        self.push_screen(RunsScreen(self.runs_root))


@pytest.fixture
def runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    monkeypatch.chdir(tmp_path)
    root = tmp_path / "runs"
    return {
        "a": make_run(root, "a", 1000.0, [0.2, 0.4, 0.6], learning_rate=1e-3, batch_size=16),
        "b": make_run(root, "b", 2000.0, [0.1, 0.3, 0.35], learning_rate=5e-4, batch_size=16, strategy="all"),
        "c": make_run(root, "c", 3000.0, [0.3, 0.5, 0.5], learning_rate=2e-3, batch_size=32),
    }


def _names(table: DataTable) -> list[str]:
    return [table.get_row_at(i)[1] for i in range(table.row_count)]


async def test_differing_hyperparameters_are_columns_and_every_column_sorts(runs: dict[str, Path]) -> None:
    app = RunsApp(Path("runs"))
    async with app.run_test(size=(140, 40)) as pilot:
        screen = app.screen
        table = screen.query_one("#runs-table", DataTable)
        await wait_for(pilot, lambda: table.row_count == 3)
        keys = [c.key.value for c in table.columns.values()]
        assert keys[8:] == ["learning_rate", "batch_size", "strategy"]  # only what differs, after the facts
        assert [str(c.label) for c in table.columns.values()][8:] == ["lr", "batch", "strategy"]
        assert _names(table) == ["c", "b", "a"]  # newest first
        row = table.get_row(str(Path("runs") / "b"))
        assert row[8:] == ["0.0005", "16", "all"]

        table.focus()
        await pilot.press("s")  # first column: the run name, low to high
        await wait_for(pilot, lambda: screen.sort_column == "name")
        assert _names(table) == ["a", "b", "c"]
        assert str(table.columns[table.columns.__iter__().__next__()].label) == " "
        await pilot.press("S")
        assert _names(table) == ["c", "b", "a"] and screen.sort_descending
        assert "sorted by run (high to low)" in str(screen.query_one("#runs-hint", Static).render())

        # A header click sorts by that column; a second click turns it round.
        lr_index = keys.index("learning_rate")
        lr_key = list(table.columns)[lr_index]
        table.post_message(DataTable.HeaderSelected(table, lr_key, lr_index, table.columns[lr_key].label))
        await wait_for(pilot, lambda: screen.sort_column == "learning_rate")
        assert _names(table) == ["b", "a", "c"] and not screen.sort_descending
        assert str(table.columns[lr_key].label) == "lr ▲"
        table.post_message(DataTable.HeaderSelected(table, lr_key, lr_index, table.columns[lr_key].label))
        await wait_for(pilot, lambda: screen.sort_descending)
        assert _names(table) == ["c", "a", "b"]

        # The cursor stays on the run it was on through a re-sort, and a refresh keeps the order.
        table.move_cursor(row=table.get_row_index(str(Path("runs") / "a")))
        await wait_for(pilot, lambda: screen.selected == Path("runs") / "a")
        await pilot.press("S")
        assert _names(table) == ["b", "a", "c"] and table.cursor_row == 1
        screen.action_refresh()
        await pilot.pause(0.2)
        await wait_for(pilot, lambda: table.row_count == 3)
        assert _names(table) == ["b", "a", "c"] and screen.selected == Path("runs") / "a"


async def test_marked_runs_get_a_config_diff_and_any_number_overlay(runs: dict[str, Path]) -> None:
    app = RunsApp(Path("runs"))
    async with app.run_test(size=(140, 40)) as pilot:
        screen = app.screen
        table = screen.query_one("#runs-table", DataTable)
        await wait_for(pilot, lambda: table.row_count == 3)
        diff = screen.query_one("#diff-table", DataTable)
        table.focus()
        for name in ("a", "b"):
            table.move_cursor(row=table.get_row_index(str(Path("runs") / name)))
            await wait_for(pilot, lambda name=name: screen.selected == Path("runs") / name)
            await pilot.press("space")
        await pilot.press("d")
        assert screen.query_one(TabbedContent).active == "tab-diff"
        await wait_for(pilot, lambda: diff.row_count == 2)
        assert [str(c.label) for c in diff.columns.values()] == ["setting", "a", "b"]
        assert diff.get_row("strategy") == ["strategy", "first", "all"]
        assert diff.get_row("learning_rate") == ["lr", "0.001", "0.0005"]
        assert "2 setting(s) differ between a, b" in str(screen.query_one("#diff-note", Static).render())

        # A third mark: three runs overlaid and diffed.
        table.move_cursor(row=table.get_row_index(str(Path("runs") / "c")))
        await wait_for(pilot, lambda: screen.selected == Path("runs") / "c")
        await pilot.press("space")
        await wait_for(pilot, lambda: len(diff.columns) == 4)
        assert diff.get_row("batch_size") == ["batch", "16", "16", "32"]
        plot = screen.query_one("#overlay-metric", CurvePlot)
        await wait_for(pilot, lambda: [s.label for s in plot.series] == ["a", "b", "c"])
        assert len({s.color for s in plot.series}) == 3

        # Unmarking down to one run: nothing to diff against.
        for name in ("a", "b"):
            table.move_cursor(row=table.get_row_index(str(Path("runs") / name)))
            await wait_for(pilot, lambda name=name: screen.selected == Path("runs") / name)
            await pilot.press("space")
        await wait_for(pilot, lambda: diff.row_count == 0)
        assert "Mark two runs or more" in str(screen.query_one("#diff-note", Static).render())


async def test_overlay_metric_choice(runs: dict[str, Path]) -> None:
    app = RunsApp(Path("runs"))
    async with app.run_test(size=(140, 40)) as pilot:
        screen = app.screen
        table = screen.query_one("#runs-table", DataTable)
        await wait_for(pilot, lambda: table.row_count == 3)
        table.focus()
        for name in ("a", "b"):
            table.move_cursor(row=table.get_row_index(str(Path("runs") / name)))
            await wait_for(pilot, lambda name=name: screen.selected == Path("runs") / name)
            await pilot.press("space")
        plot = screen.query_one("#overlay-metric", CurvePlot)
        await wait_for(pilot, lambda: [s.label for s in plot.series] == ["a", "b"])
        assert list(plot.series[0].y) == [0.2, 0.4, 0.6] and plot.title == "validation F1 (word-level)"
        select = screen.query_one("#overlay-metric-select", Select)
        options = [value for _, value in select._options]
        assert options[:6] == ["f1", "precision", "recall", "eval_loss", "loss", "lr"]
        assert {"f1:PER", "precision:PER", "recall:PER"} <= set(options)

        select.value = "recall:PER"  # what choosing it in the list does
        await wait_for(pilot, lambda: screen.metric == "recall:PER")
        assert plot.title == "PER recall (validation)"
        assert list(plot.series[0].y) == pytest.approx([0.05, 0.1, 0.15])
        assert list(plot.series[1].x) == [10, 20, 30]

        screen.choose_metric("lr")
        await wait_for(pilot, lambda: plot.title == "learning rate")
        assert len(plot.series[0].y) == 30
        # The choice stays when another run is marked.
        table.move_cursor(row=table.get_row_index(str(Path("runs") / "c")))
        await wait_for(pilot, lambda: screen.selected == Path("runs") / "c")
        await pilot.press("space")
        await wait_for(pilot, lambda: len(plot.series) == 3)
        assert screen.metric == "lr" and select.value == "lr"


async def test_export_writes_the_shown_curves(runs: dict[str, Path], tmp_path: Path) -> None:
    app = RunsApp(Path("runs"))
    async with app.run_test(size=(140, 40)) as pilot:
        screen = app.screen
        table = screen.query_one("#runs-table", DataTable)
        await wait_for(pilot, lambda: table.row_count == 3)
        table.focus()
        for name in ("a", "c"):
            table.move_cursor(row=table.get_row_index(str(Path("runs") / name)))
            await wait_for(pilot, lambda name=name: screen.selected == Path("runs") / name)
            await pilot.press("space")
        plot = screen.query_one("#overlay-metric", CurvePlot)
        await wait_for(pilot, lambda: len(plot.series) == 2)
        note = screen.query_one("#export-note", Static)

        # x with an empty box: the default name, an SVG, in the working folder.
        table.focus()
        await pilot.press("x")
        await wait_for(pilot, lambda: screen.exported == Path("compare-f1.svg"))
        svg = (tmp_path / "compare-f1.svg").read_text(encoding="utf-8")
        assert svg.startswith("<svg") and svg.count("<polyline") == 2
        assert "wrote compare-f1.svg" in str(note.render())

        # The series of the chosen metric as CSV, named in the box, with the Export button.
        screen.choose_metric("recall")
        await wait_for(pilot, lambda: screen.metric == "recall")
        box = screen.query_one("#export-path", Input)
        box.value = "out/recall.csv"
        screen.query_one("#export", Button).press()
        await wait_for(pilot, lambda: screen.exported == Path("out/recall.csv"))
        rows = list(csv.DictReader((tmp_path / "out" / "recall.csv").open(encoding="utf-8")))
        assert [(r["run"], r["step"], float(r["value"])) for r in rows] == [
            ("a", "10", 0.1),
            ("a", "20", 0.2),
            ("a", "30", 0.3),
            ("c", "10", 0.15),
            ("c", "20", 0.25),
            ("c", "30", 0.25),
        ]
        # Exporting other curves over it keeps the old file as a numbered backup (the same
        # curves again would leave it untouched: core.files writes nothing then).
        screen.choose_metric("precision")
        await wait_for(pilot, lambda: screen.metric == "precision")
        screen.query_one("#export", Button).press()
        await wait_for(pilot, lambda: "recall.csv.~1~" in str(note.render()))
        assert (tmp_path / "out" / "recall.csv.~1~").is_file()

        # A format it cannot write says so where the result would be.
        box.value = "curves.pdf"
        screen.query_one("#export", Button).press()
        await wait_for(pilot, lambda: "name the file .svg, .png or .csv" in str(note.render()))
        if importlib.util.find_spec("matplotlib") is None:
            box.value = "curves.png"
            screen.query_one("#export", Button).press()
            await wait_for(pilot, lambda: "PNG export needs matplotlib" in str(note.render()))
            assert not (tmp_path / "curves.png").exists()
