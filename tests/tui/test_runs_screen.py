"""The Runs screen with Pilot: a table of real run folders, overlaid curves, confusion matrix,
error browser. Runs are made of real files: config.toml (TrainConfig.to_toml), events.jsonl
(the real EventWriter), metrics.json, and a real tiny model for the error browser.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from pilot_helpers import wait_for
from textual.app import App
from textual.command import CommandList, CommandPalette
from textual.widgets import DataTable, Static, TabbedContent

from bnner_tui.core.config import TrainConfig
from bnner_tui.core.events import EventWriter
from bnner_tui.core.labels import WIKIANN_LABELS
from bnner_tui.tui.widgets.monitor import CurvePlot


def make_run(
    root: Path,
    name: str,
    *,
    f1s: list[float],
    finish: bool = True,
    model: Path | None = None,
    confusion: bool = False,
    t0: float = 1_700_000_000.0,
) -> Path:
    run = root / name
    run.mkdir(parents=True)
    TrainConfig(data="demo", model="offline", run_name=name, output_root=str(root)).to_toml(run / "config.toml")
    with EventWriter(run / "events.jsonl") as w:
        w.emit("started", model="offline small BERT: test", device="cpu", precision="fp32", total_steps=30)
        for s in range(1, 31):
            w.emit("step", step=s, loss=3.0 / s, learning_rate=1e-3, total_steps=30)
            if s % 10 == 0:
                f1 = f1s[s // 10 - 1]
                w.emit(
                    "eval",
                    step=s,
                    split="validation",
                    loss=1.0,
                    overall={"precision": f1, "recall": f1, "f1": f1},
                    per_type={},
                )
        if finish:
            w.emit(
                "finished",
                step=30,
                best_f1=max(f1s),
                model_dir=str(run / "model"),
                metrics_path=str(run / "metrics.json"),
                duration_s=95.0,
            )
        else:
            w.emit("cancelled", step=30, checkpoint=str(run / "checkpoints" / "checkpoint-30"))
    if confusion:
        matrix = [[0] * 7 for _ in range(7)]
        matrix[0][0], matrix[1][1], matrix[1][0], matrix[5][3] = 90, 7, 3, 2
        metrics = {
            "level": "word",
            "scheme": "IOB2",
            "best": {"step": 30, "f1": max(f1s)},
            "splits": {
                "validation": {
                    "loss": 1.0,
                    "overall": {"f1": max(f1s)},
                    "per_type": {},
                    "confusion": {"labels": WIKIANN_LABELS, "matrix": matrix},
                    "words": 102,
                    "sentences": 10,
                    "entities": 12,
                    "unseen": {
                        "sentences": {
                            "sentences": 4,
                            "of_sentences": 10,
                            "precision": 0.5,
                            "recall": 0.25,
                            "f1": 0.3333,
                            "support": 4,
                        },
                        "entities": {"precision": 0.2, "recall": 0.5, "f1": 0.2857, "support": 2, "of_entities": 12},
                    },
                    "errors": {
                        "overall": {
                            "exact": 7,
                            "wrong_type": 2,
                            "wrong_boundary": 1,
                            "wrong_type_and_boundary": 0,
                            "missed": 2,
                            "spurious": 3,
                        },
                        "per_type": {},
                    },
                }
            },
        }
        (run / "metrics.json").write_text(json.dumps(metrics), encoding="utf-8")
    if model is not None:
        shutil.copytree(model, run / "model")
    return run


class RunsApp(App):
    def __init__(self, runs_root: Path) -> None:
        super().__init__()
        self.runs_root = runs_root
        self.selected_run: Path | None = None
        self.announced: list[Path | None] = []

    def on_mount(self) -> None:
        from bnner_tui.tui.screens.runs import RunsScreen

        self.push_screen(RunsScreen(self.runs_root))

    def on_run_selected(self, message) -> None:  # the shell's RunSelected message bubbles up here
        self.announced.append(message.run_dir)


async def test_runs_table_overlay_and_confusion(tmp_path: Path) -> None:
    root = tmp_path / "runs"
    a = make_run(root, "alpha", f1s=[0.2, 0.4, 0.6], confusion=True)
    b = make_run(root, "beta", f1s=[0.1, 0.3, 0.35], finish=False)
    c = root / "gamma-failed"
    c.mkdir()
    TrainConfig(run_name="gamma-failed", output_root=str(root)).to_toml(c / "config.toml")
    with EventWriter(c / "events.jsonl") as w:
        w.emit("started", model="m", device="cpu", total_steps=10)
        w.emit("failed", reason="Out of GPU memory at batch size 64: try --batch-size 32.", traceback_in="train.log")
    app = RunsApp(root)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.screen
        table = screen.query_one("#runs-table", DataTable)
        await wait_for(pilot, lambda: table.row_count == 3)
        rows = {table.get_row(str(p))[1]: table.get_row(str(p)) for p in (a, b)}
        assert str(rows["alpha"][2]) == "finished" and rows["alpha"][3] == "0.600" and rows["alpha"][4] == "1m35s"
        assert str(rows["beta"][2]) == "cancelled" and rows["beta"][3] == "0.350"
        assert rows["alpha"][6] == "offline" and rows["alpha"][7] == "demo"

        # A failed run says why, in one sentence, when highlighted.
        table.focus()
        table.move_cursor(row=table.get_row_index(str(c)))
        await wait_for(pilot, lambda: "Out of GPU memory" in str(screen.query_one("#runs-hint", Static).render()))
        assert str(table.get_row(str(c))[2]) == "failed"

        # Highlighting a run selects it for Tag/Card.
        table.move_cursor(row=table.get_row_index(str(a)))
        await wait_for(pilot, lambda: app.selected_run == a)
        assert a in app.announced

        # Mark both: their F1 and loss curves are overlaid.
        await pilot.press("space")
        table.move_cursor(row=table.get_row_index(str(b)))
        await wait_for(pilot, lambda: app.selected_run == b)
        await pilot.press("space")
        assert screen.marked == [a, b]
        f1_plot = screen.query_one("#overlay-metric", CurvePlot)
        await wait_for(pilot, lambda: len(f1_plot.series) == 2)
        assert [s.label for s in f1_plot.series] == ["alpha", "beta"]
        assert list(f1_plot.series[0].y) == [0.2, 0.4, 0.6] and list(f1_plot.series[1].x) == [10, 20, 30]
        assert len(screen.query_one("#overlay-loss", CurvePlot).series[1].y) == 30
        assert table.get_row(str(a))[0] == "●"

        # Confusion matrix of alpha comes from its metrics.json.
        table.move_cursor(row=table.get_row_index(str(a)))
        await pilot.press("c")
        conf = screen.query_one("#confusion-table", DataTable)
        await wait_for(pilot, lambda: conf.row_count == 7)
        assert screen.query_one(TabbedContent).active == "tab-confusion"
        assert str(conf.get_row("B-PER")[1]) == "3" and str(conf.get_row("B-PER")[2]) == "7"
        assert conf.get_row("B-PER")[-1] == "0.70"
        assert "metrics.json" in str(screen.query_one("#confusion-note", Static).render())
        # ... and under it what the run generalises and how its entities go wrong.
        summary = screen.query_one("#scores-summary", Static)
        await wait_for(pilot, lambda: "sentences not in train (4 of 10)" in str(summary.render()))
        text = str(summary.render())
        assert "0.333" in text and "entities unseen in train (2 of 12)" in text and "0.286" in text
        assert "wrong boundary" in text and "102 words" in text


@pytest.mark.slow
async def test_error_browser_with_a_real_model(tmp_path: Path, tiny_model_dir: Path) -> None:
    from transformers import AutoTokenizer

    from bnner_tui.tui.widgets.alignment_grid import AlignmentGrid

    root = tmp_path / "runs"
    run = make_run(root, "gamma", f1s=[0.1, 0.2, 0.3], model=tiny_model_dir)
    app = RunsApp(root)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.screen
        await wait_for(pilot, lambda: screen.selected == run)
        await pilot.press("e")
        errors = screen.query_one("#errors-list", DataTable)
        await wait_for(pilot, lambda: screen.analysed == run, timeout=60)
        # A random-init model gets words wrong: the list holds exactly the sentences with errors.
        assert screen.errors and errors.row_count == len(screen.errors)
        assert all(p.gold != p.pred for p in screen.errors)
        # The sentence column fits the list: a cut sentence shows its "…" (it ran 6 cells past the pane).
        await pilot.pause()
        assert errors.virtual_size.width <= errors.scrollable_content_region.width
        note = str(screen.query_one("#errors-note", Static).render())
        assert f"{len(screen.errors)} of 60 validation sentences" in note
        grid = screen.query_one("#error-grid", AlignmentGrid)
        first = screen.errors[0]
        words = [c for c in grid.columns if not c.special]  # [CLS]/[SEP] are columns of their own
        assert [c.word for c in words] == first.tokens
        assert [c.gold for c in words] == first.gold and [c.pred for c in words] == first.pred
        # Each word's pieces, from the run's own tokenizer, sit under it.
        tokenizer = AutoTokenizer.from_pretrained(str(run / "model"))
        assert [p for c in words for p, _ in c.pieces] == tokenizer.tokenize(" ".join(first.tokens))
        assert any(c.special for c in grid.columns)
        # No confusion in metrics.json: the analysis supplies it, counting every word once.
        conf = screen.query_one("#confusion-table", DataTable)
        assert conf.row_count >= 1
        assert sum(map(sum, screen.confusion["matrix"])) == sum(len(p.tokens) for p in screen.predictions)

        # Another error sentence, and the code-point view of the selected word.
        errors.focus()
        if errors.row_count > 1:
            await pilot.press("down")
            await pilot.pause()
            assert [c.word for c in grid.columns if not c.special] == screen.errors[1].tokens
        await pilot.press("u")
        await pilot.pause()
        assert "U+09" in str(screen.query_one("#codepoints", Static).render())


async def test_screen_actions_are_in_the_command_palette(tmp_path: Path) -> None:
    root = tmp_path / "runs"
    make_run(root, "alpha", f1s=[0.2, 0.4, 0.6], confusion=True)
    app = RunsApp(root)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.screen
        await wait_for(pilot, lambda: screen.selected is not None)
        assert screen.query_one(TabbedContent).active == "tab-curves"
        await pilot.press("ctrl+p")
        await wait_for(pilot, lambda: isinstance(app.screen, CommandPalette))
        await pilot.press(*"confusion")

        def confusion_highlighted() -> bool:
            """The palette's search has run and highlights the screen's Confusion action."""
            hits = app.screen.query_one(CommandList)
            index = hits.highlighted
            return index is not None and "onfusion" in str(hits.get_option_at_index(index).prompt)

        await wait_for(pilot, confusion_highlighted)
        await pilot.press("enter")
        await wait_for(pilot, lambda: screen.query_one(TabbedContent).active == "tab-confusion", timeout=5)


async def test_a_running_runs_row_moves_on_without_a_keypress(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The table refreshes itself while a run is running (its timer once called None: a method
    named `_auto_refresh` is shadowed by an attribute Textual's DOMNode sets)."""
    import bnner_tui.tui.screens.runs as runs_module
    from bnner_tui.core.runs import RunLock

    monkeypatch.setattr(runs_module, "RUNS_REFRESH_S", 0.2, raising=False)
    root = tmp_path / "runs"
    run = root / "going"
    run.mkdir(parents=True)
    TrainConfig(run_name="going", output_root=str(root)).to_toml(run / "config.toml")
    older = make_run(root, "older", f1s=[0.1, 0.2, 0.3], t0=1_600_000_000.0)
    lock = RunLock(run).acquire()  # what a live training process holds
    writer = EventWriter(run / "events.jsonl")
    try:
        writer.emit("started", model="m", total_steps=50)
        writer.emit("step", step=1, total_steps=50)
        app = RunsApp(root)
        async with app.run_test(size=(120, 40)) as pilot:
            table = app.screen.query_one("#runs-table", DataTable)
            await wait_for(pilot, lambda: table.row_count == 2)
            assert table.get_row(str(run))[5] == "1/50" and str(table.get_row(str(run))[2]) == "running"
            # The user looks at the other run: a refresh must not move the selection back.
            table.focus()
            table.move_cursor(row=table.get_row_index(str(older)))
            await wait_for(pilot, lambda: app.screen.selected == older)
            announced = len(app.announced)
            for s in range(2, 8):
                writer.emit("step", step=s, total_steps=50)
            await wait_for(pilot, lambda: table.get_row(str(run))[5] == "7/50")
            await pilot.pause()
            assert app.screen.selected == older and table.cursor_row == table.get_row_index(str(older))
            assert run not in app.announced[announced:]  # not even for a moment (Tag/Card follow it)
    finally:
        writer.close()
        lock.release()
