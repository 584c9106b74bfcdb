"""The Data screen's load options: a source with problems is not loaded silently, and the options get past them."""

from __future__ import annotations

from pathlib import Path

from pilot_helpers import wait_for
from textual.widgets import Checkbox, Input

from bnner_tui.tui.app import BnnerApp
from bnner_tui.tui.screens.data import DataScreen

BAD = "রহিম\tB-PERSON\nঢাকা\tB-GPE\n\n\tO\n\nকরিম\tB-PERSON\n২০২০\tB-DATE\n"


def _messages(app: BnnerApp) -> list[str]:
    return [n.message for n in app._notifications]


def _status(screen: DataScreen) -> str:
    return str(screen.query_one("#samples-status").render())


async def test_failed_load_says_why_then_skip_and_map_load_it(tmp_path: Path) -> None:
    path = tmp_path / "bad.conll"
    path.write_text(BAD, encoding="utf-8")
    app = BnnerApp(runs_root=tmp_path / "runs", data_source=str(path))
    async with app.run_test(size=(160, 48)) as pilot:
        screen = app.screen
        assert isinstance(screen, DataScreen)
        await wait_for(pilot, lambda: "not loaded" in _status(screen), what="the failed-load status")
        assert "1 problem(s)" in _status(screen) and "skip bad sentences" in _status(screen)
        await wait_for(pilot, lambda: any("line 4: empty token" in m for m in _messages(app)), what="the error")
        assert screen.state is None
        screen.query_one("#label-map", Input).value = "PERSON=PER GPE=LOC"
        screen.query_one("#drop-types", Input).value = "DATE"
        screen.query_one("#skip-bad", Checkbox).value = True  # posts Changed: loads with the options
        await wait_for(pilot, lambda: screen.state is not None, what="the load with skip")
        state = screen.state
        assert state is not None
        assert state.label_names == ["O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC"]
        assert len(state.splits["train"]) == 2
        await wait_for(pilot, lambda: any("skipped 1 of 3 sentence(s)" in m for m in _messages(app)), what="skips")
        screen.query_one("#label-map", Input).value = "PERSON"
        screen.action_reload()
        await pilot.pause()
        await wait_for(pilot, lambda: any("is not TYPE=TYPE" in m for m in _messages(app)), what="the option error")
