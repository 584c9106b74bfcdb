"""The Textual app: `bnner-tui` with no command.

Six screens, each a Textual *mode* so each keeps its own state while the user moves between
them: Data (1), Train (2), Runs (3), Tag (4), Card (5), Review (6). A mode's screen module is imported the
first time the user opens it, and screens import torch/transformers/datasets only inside their
workers, so the first frame costs Textual and nothing else (tests/test_startup_imports.py).

Screens share state through the app: `runs_root`, `data_source`, `selected_run` (a reactive
the Tag and Card screens watch; the Runs screen sets it or posts `RunSelected`), and
`loaded_source`/`loaded_tokenizer` (reactives the Train form watches; the Data screen posts
`DataLoaded`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import ClassVar

from textual import events
from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.reactive import reactive
from textual.screen import Screen

from bnner_tui.tui import cells
from bnner_tui.tui.messages import DataLoaded, RunSelected
from bnner_tui.tui.widgets.footer import SCREEN_SWITCHES

# mode name -> (key, title, module, class name). Train and Runs belong to tui-runs.
SCREENS: dict[str, tuple[str, str, str, str]] = {
    "data": ("1", "Data", "bnner_tui.tui.screens.data", "DataScreen"),
    "train": ("2", "Train", "bnner_tui.tui.screens.train", "TrainScreen"),
    "runs": ("3", "Runs", "bnner_tui.tui.screens.runs", "RunsScreen"),
    "tag": ("4", "Tag", "bnner_tui.tui.screens.tag", "TagScreen"),
    "card": ("5", "Card", "bnner_tui.tui.screens.card", "CardScreen"),
    "review": ("6", "Review", "bnner_tui.tui.screens.review", "ReviewScreen"),
}


SCREEN_KEYS = frozenset(key for key, _, _, _ in SCREENS.values())


class BnnerApp(App[None]):
    """The bnner-tui workbench."""

    TITLE = "bnner-tui"
    CSS_PATH = Path(__file__).with_name("app.tcss")  # absolute: subclasses elsewhere find it too
    ENABLE_COMMAND_PALETTE = True
    # Screens get "-narrow" under 120 columns; their CSS stacks what sits side by side when wide.
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (120, "-wide")]  # noqa: RUF012 (Textual reads a class list)

    BINDINGS: ClassVar[list[BindingType]] = [
        *(
            Binding(key, f"go('{mode}')", title, group=SCREEN_SWITCHES)
            for mode, (key, title, _, _) in SCREENS.items()
        ),
        Binding("f1,question_mark", "help", "Help", key_display="?"),
        Binding("ctrl+t", "toggle_dark", "Theme", tooltip="Switch between the dark and the light theme", show=False),
        # Out of a text box with escape, so the screen keys (1-5, ?) work again.
        Binding("escape", "unfocus", "Leave the text box", show=False),
    ]

    selected_run: reactive[Path | None] = reactive(None)
    """The run that Tag and Card work on; set by the Runs screen (or RunSelected)."""
    loaded_source: reactive[str | None] = reactive(None)
    """The source the Data screen has loaded (DataLoaded); the Train form's data starts from it."""
    loaded_tokenizer: reactive[str | None] = reactive(None)
    """The tokenizer the Data screen has loaded (DataLoaded); the Train form's tokenizer starts from it."""

    def __init__(
        self,
        runs_root: Path | str = Path("runs"),
        data_source: str = "demo",
        *,
        tokenizer: str | None = None,
        start: str = "data",
        cell_widths: str | None = None,
    ) -> None:
        # Before the first frame: every widget measures Bengali as the terminal draws it.
        self.cell_widths = cells.apply(cell_widths)
        super().__init__()
        self.runs_root = Path(runs_root)
        self.data_source = data_source
        self.tokenizer_spec = tokenizer
        self.start_mode = start if start in SCREENS else "data"
        self.first_frame_at: float | None = None
        self._missed_click_on: Screen | None = None
        """The screen where the last click landed on no focusable widget, while that still matters."""
        for mode in SCREENS:
            self.add_mode(mode, self._factory(mode))

    async def on_event(self, event: events.Event) -> None:
        """A click that misses a field must not turn the digits typed next into screen switches.

        Someone who clicks beside a field ("-1" into a number box) and types, types into no box:
        "-" does nothing and "1" opened the Data screen. After such a click, typed screen keys
        (1-5) are held back with a note, until a key that is not a character (escape, tab, an
        arrow), a click on a widget that takes focus, or another screen.
        """
        if isinstance(event, events.MouseDown):
            try:
                hit = self.screen.get_focusable_widget_at(event.screen_x, event.screen_y)
            except Exception:  # outside every widget
                hit = None
            self._missed_click_on = self.screen if hit is None else None
        elif isinstance(event, events.Key) and self._missed_click_on is not None:
            if self._missed_click_on is not self.screen or not (event.character and event.character.isprintable()):
                self._missed_click_on = None
            elif event.key in SCREEN_KEYS and not self._typing_into_a_box():
                self.notify(
                    f"{event.character!r} was typed after a click beside a field, so it did not switch screens: "
                    f"click into the field to type, or press escape and then {event.character} to switch.",
                    severity="warning",
                    markup=False,
                )
                return
        await super().on_event(event)

    def _typing_into_a_box(self) -> bool:
        from textual.widgets import Input, TextArea

        return isinstance(self.focused, (Input, TextArea))

    def _factory(self, mode: str) -> Callable[[], Screen]:
        def make() -> Screen:
            import importlib

            _, title, module_name, class_name = SCREENS[mode]
            # No stand-in screen: a screen module that cannot be imported is a bug, and it must
            # fail loudly (in tests above all) rather than hide behind a placeholder.
            cls = getattr(importlib.import_module(module_name), class_name)
            screen = cls(self.runs_root) if mode in ("train", "runs") else cls()
            if not screen.title:
                screen.title = title
            return screen

        return make

    def on_mount(self) -> None:
        self.switch_mode(self.start_mode)
        self.call_after_refresh(self._mark_first_frame)

    def _mark_first_frame(self) -> None:
        self.first_frame_at = time.time()

    def action_go(self, mode: str) -> None:
        if mode in SCREENS:
            self.switch_mode(mode)

    def action_unfocus(self) -> None:
        self.screen.set_focus(None)

    def action_help(self) -> None:
        from bnner_tui.tui.screens.help import HelpScreen

        if isinstance(self.screen, HelpScreen):
            return
        self.push_screen(HelpScreen(self.screen))

    def action_open_source(self) -> None:
        """Palette command: go to Data and put the cursor in the source path box."""
        self.switch_mode("data")
        self.call_after_refresh(lambda: self.screen.query("#source-path").first().focus())

    def on_run_selected(self, message: RunSelected) -> None:
        self.selected_run = message.run_dir

    def on_data_loaded(self, message: DataLoaded) -> None:
        if message.source is not None:
            self.loaded_source = message.source
        if message.tokenizer is not None:
            self.loaded_tokenizer = message.tokenizer

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        for mode, (key, title, _, _) in SCREENS.items():
            yield SystemCommand(f"Go to {title}", f"Open the {title} screen (key {key})", self._go_callback(mode))
        yield SystemCommand("Toggle dark/light theme", "Switch the dark and light theme", self.action_toggle_dark)
        yield SystemCommand("Open a data source", "A local file or folder, demo or wikiann", self.action_open_source)
        yield SystemCommand("Help", "Keys of this screen and what each screen does", self.action_help)
        yield from super().get_system_commands(screen)

    def _go_callback(self, mode: str) -> Callable[[], None]:
        return lambda: self.action_go(mode)


def run_app(
    runs_root: Path | str = Path("runs"),
    data_source: str = "demo",
    tokenizer: str | None = None,
    cell_widths: str | None = None,
) -> None:
    """Entry point of `bnner-tui` with no command."""
    app = BnnerApp(runs_root=runs_root, data_source=data_source, tokenizer=tokenizer, cell_widths=cell_widths)
    app.run()
    exit_now(app.return_code or 0)


def exit_now(code: int) -> None:
    """End the process at once once the app has closed: quitting takes well under a second.

    After the Tag or Runs screen loaded torch, transformers and datasets, the interpreter's own
    teardown (freeing every module and object, after the app has already left the screen) took
    3-7 s on a 2-core machine, measured with bench/quit_time.py. Nothing is lost by skipping
    it: the atexit handlers (logging's flush among them) run first, then the standard streams are
    flushed. Every file the app writes is written atomically (core/files.py), so a worker thread
    still running is cut off between files, never inside one.
    """
    import atexit
    import os
    import sys

    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(code)
