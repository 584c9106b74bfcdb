"""The app shell: every screen reachable by key and palette, help, theme, run selection, failures as notifications."""

from __future__ import annotations

from pathlib import Path

import pytest
from pilot_helpers import wait_for
from textual.app import SystemCommand

from bnner_tui.tui.app import SCREENS, BnnerApp
from bnner_tui.tui.messages import RunSelected
from bnner_tui.tui.screens import describe_error, report_error
from bnner_tui.tui.screens.help import HelpScreen

SIZE = (120, 40)


@pytest.fixture
def app(tmp_path: Path) -> BnnerApp:
    return BnnerApp(runs_root=tmp_path / "runs", data_source="demo")


async def test_starts_on_data_and_every_screen_is_reachable_by_key(app: BnnerApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        assert app.current_mode == "data"
        assert type(app.screen).__name__ == "DataScreen"
        app.screen.set_focus(None)  # number keys are typed into inputs when one has focus
        for mode, (key, title, _module, cls) in SCREENS.items():
            await pilot.press(key)
            await wait_for(pilot, lambda mode=mode: app.current_mode == mode and app.screen.is_mounted)
            assert type(app.screen).__name__ == cls, title
            app.screen.set_focus(None)
        await pilot.press("1")
        await wait_for(pilot, lambda: app.current_mode == "data")


async def test_help_lists_keys_of_the_screen_and_closes(app: BnnerApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        app.screen.set_focus(None)
        await pilot.press("f1")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen) and app.screen.query("#help-keys"))
        table = app.screen.query_one("#help-keys")
        rows = [table.get_row_at(i) for i in range(table.row_count)]
        does = {r[1] for r in rows}
        assert {"Data", "Train", "Runs", "Tag", "Card", "Search", "Strategy"} <= does
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, HelpScreen))
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen))


async def test_help_has_one_row_per_action_and_no_widget_internals(app: BnnerApp) -> None:
    """With the source picker focused, Help listed "Show menu" four times (enter, down, space, up)."""
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        await wait_for(pilot, lambda: screen.query("#source-kind"))
        screen.query_one("#source-kind").focus()
        await wait_for(pilot, lambda: screen.focused is screen.query_one("#source-kind"))
        await pilot.press("f1")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen) and app.screen.query("#help-keys"))
        table = app.screen.query_one("#help-keys")
        does = [str(table.get_row_at(i)[1]) for i in range(table.row_count)]
        assert "Show menu" not in does
        assert len(does) == len(set(does)), does
        assert {"Data", "Search", "Strategy", "Help"} <= set(does)


async def test_theme_toggle_switches_dark_and_light(app: BnnerApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        first = app.theme
        await pilot.press("ctrl+t")
        await wait_for(pilot, lambda: app.theme != first)
        assert {first, app.theme} == {"textual-dark", "textual-light"}
        await pilot.press("ctrl+t")
        await wait_for(pilot, lambda: app.theme == first)


async def test_palette_offers_screens_theme_and_source(app: BnnerApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        commands: list[SystemCommand] = list(app.get_system_commands(app.screen))
        titles = [c.title for c in commands]
        for _key, title, _m, _c in SCREENS.values():
            assert f"Go to {title}" in titles
        assert "Toggle dark/light theme" in titles and "Open a data source" in titles
        go_tag = next(c for c in commands if c.title == "Go to Tag")
        go_tag.callback()
        await wait_for(pilot, lambda: app.current_mode == "tag")
        source = next(c for c in commands if c.title == "Open a data source")
        source.callback()
        await wait_for(pilot, lambda: app.current_mode == "data")
        await wait_for(pilot, lambda: app.screen.focused is not None and app.screen.focused.id == "source-path")


async def test_palette_opens_and_runs_a_command_by_typing(app: BnnerApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        from textual.command import CommandInput, CommandList, CommandPalette

        await pilot.press("ctrl+p")
        await wait_for(pilot, lambda: isinstance(app.screen, CommandPalette) and app.screen.query(CommandInput))
        await pilot.press(*"Go to Card")

        def card_is_first() -> bool:  # the palette searches its providers in a worker
            palette = app.screen
            if not isinstance(palette, CommandPalette) or palette.query_one(CommandInput).value != "Go to Card":
                return False
            hits = palette.query_one(CommandList)
            return hits.highlighted == 0 and "Go to Card" in str(hits.get_option_at_index(0).prompt)

        await wait_for(pilot, card_is_first)
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.current_mode == "card")


async def test_run_selected_message_sets_the_shared_selection(app: BnnerApp, tmp_path: Path) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        run = tmp_path / "runs" / "r1"
        app.screen.post_message(RunSelected(run))
        await wait_for(pilot, lambda: app.selected_run == run)
        assert app.runs_root == tmp_path / "runs"


async def test_a_screen_that_cannot_be_imported_fails_loudly(app: BnnerApp, monkeypatch) -> None:
    """A broken screen module is a bug: the app stops with it instead of showing a placeholder."""
    monkeypatch.setitem(SCREENS, "runs", ("3", "Runs", "bnner_tui.tui.screens.no_such_module", "RunsScreen"))
    with pytest.raises(ModuleNotFoundError, match="no_such_module"):
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            app.screen.set_focus(None)
            await pilot.press("3")
            await pilot.pause()


async def test_unexpected_errors_become_one_line_notifications(app: BnnerApp, tmp_path: Path, monkeypatch) -> None:
    from bnner_tui.core.errors import DataFormatError

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        report_error(app, DataFormatError("x.conll", 3, "wrong column count"))
        try:
            raise KeyError("boom\nsecond line")
        except KeyError as err:
            report_error(app, err)
        await wait_for(pilot, lambda: len(app._notifications) >= 2)
        messages = [n.message for n in app._notifications]
        assert "x.conll, line 3: wrong column count" in messages
        assert any(m.startswith("Unexpected KeyError") and "\n" not in m for m in messages)
    assert "Traceback" in (tmp_path / "cache" / "bnner-tui" / "crash.log").read_text()
    assert describe_error(ValueError()) == "Unexpected ValueError."


async def test_escape_leaves_a_text_box_so_screen_keys_work(app: BnnerApp) -> None:
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("4")  # focus is nowhere yet: this switches to Tag
        await wait_for(pilot, lambda: app.current_mode == "tag" and app.screen.query("#text"))
        area = app.screen.query_one("#text")
        area.focus()
        await wait_for(pilot, lambda: app.screen.focused is area)
        await pilot.press("5")
        await wait_for(pilot, lambda: "5" in area.text)
        assert app.current_mode == "tag"  # typed, not a screen switch
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen.focused is None)
        await pilot.press("5")
        await wait_for(pilot, lambda: app.current_mode == "card")


def test_exit_now_runs_atexit_handlers_and_flushes_then_ends_the_process(tmp_path: Path) -> None:
    """Quitting skips the interpreter's slow teardown (bench/quit_time.py: 6-7 s to 0.5 s) and loses nothing."""
    import subprocess
    import sys

    log = tmp_path / "log.txt"
    code = (
        "import atexit, logging, sys\n"
        f"logging.basicConfig(filename={str(log)!r}, level=logging.INFO)\n"
        "atexit.register(lambda: print('atexit ran'))\n"
        "logging.getLogger('x').info('logged before exit')\n"
        "sys.stdout.write('buffered, no newline')\n"
        "from bnner_tui.tui.app import exit_now\n"
        "exit_now(3)\n"
        "print('never reached')\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 3
    assert "buffered, no newline" in out.stdout and "atexit ran" in out.stdout
    assert "never reached" not in out.stdout
    assert "logged before exit" in log.read_text(encoding="utf-8")


async def test_digits_typed_after_a_click_beside_a_field_do_not_switch_screens(app: BnnerApp) -> None:
    """Clicking beside a field and typing "-2" opened the Train screen; now it says why it did not."""
    async with app.run_test(size=SIZE) as pilot:
        screen = app.screen
        await wait_for(pilot, lambda: screen.query("#samples") and screen.focused is screen.query_one("#samples"))
        await pilot.click("#samples-status")  # a line of text: no field there
        await pilot.press("minus", "2")
        await wait_for(pilot, lambda: any("did not switch screens" in n.message for n in app._notifications))
        assert app.current_mode == "data"
        # Escape first: the screen keys work again.
        await pilot.press("escape", "2")
        await wait_for(pilot, lambda: app.current_mode == "train")
        # A click on a widget that takes focus (the table) keeps the keys as they are.
        await pilot.press("1")
        await wait_for(pilot, lambda: app.current_mode == "data")
        await pilot.click("#samples")
        await pilot.press("2")
        await wait_for(pilot, lambda: app.current_mode == "train")
