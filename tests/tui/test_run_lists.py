"""The Tag and Card screens' run pickers list runs that finished after the screen was opened
(on their own timer, and on each return to the screen). Runs are real folders written with the
real EventWriter; the model folder only needs to exist for the listing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pilot_helpers import wait_for
from textual.widgets import Select

from bnner_tui.core.config import TrainConfig
from bnner_tui.core.events import EventWriter
from bnner_tui.tui.app import BnnerApp

SIZE = (120, 40)


def finish_run(root: Path, name: str) -> Path:
    """A run that finished just now: model saved, metrics written, `finished` event last."""
    run = root / name
    run.mkdir(parents=True)
    TrainConfig(data="demo", model="offline", run_name=name, output_root=str(root)).to_toml(run / "config.toml")
    (run / "model").mkdir()
    (run / "model" / "config.json").write_text("{}", encoding="utf-8")
    (run / "metrics.json").write_text(json.dumps({"best": {"step": 1, "f1": 0.5}}), encoding="utf-8")
    with EventWriter(run / "events.jsonl") as w:
        w.emit("started", total_steps=1)
        w.emit("finished", step=1, best_f1=0.5, duration_s=1.0)
    return run


def options(select: Select) -> list[str]:
    return [str(value) for _, value in select._options]


@pytest.mark.parametrize(("mode", "picker", "module"), [("tag", "#model-pick", "tag"), ("card", "#run-pick", "card")])
async def test_a_run_that_finishes_while_the_screen_is_open_appears_in_its_list(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mode: str, picker: str, module: str
) -> None:
    import importlib

    monkeypatch.setattr(
        importlib.import_module(f"bnner_tui.tui.screens.{module}"), "RUN_LIST_REFRESH_S", 0.2, raising=False
    )
    root = tmp_path / "runs"
    root.mkdir()
    app = BnnerApp(runs_root=root, start=mode)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.current_mode == mode and app.screen.is_mounted)
        select = app.screen.query_one(picker, Select)
        assert not any("late" in v for v in options(select))
        run = finish_run(root, "late")
        await wait_for(pilot, lambda: str(run) in options(select))


async def test_the_card_list_is_read_again_when_the_screen_is_shown_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import bnner_tui.tui.screens.card as card_module

    monkeypatch.setattr(card_module, "RUN_LIST_REFRESH_S", 3600.0, raising=False)  # the timer never fires here
    root = tmp_path / "runs"
    root.mkdir()
    app = BnnerApp(runs_root=root, start="card")
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.current_mode == "card" and app.screen.is_mounted)
        card = app.screen
        select = card.query_one("#run-pick", Select)
        app.switch_mode("train")
        await wait_for(pilot, lambda: app.current_mode == "train")
        run = finish_run(root, "while-away")
        app.switch_mode("card")
        # No timer: the list is read again as the screen comes back.
        await wait_for(pilot, lambda: str(run) in options(select))
