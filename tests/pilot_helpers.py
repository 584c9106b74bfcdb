"""Helpers for Textual Pilot tests, shared by every test under tests/tui/.

Never assert right after a fixed pause on what a message, worker, timer or debounce
produces: on a loaded 2-core CI machine one pause is not enough. Wait for the condition.
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


def _source(cond: Callable[[], bool]) -> str:
    try:
        return " ".join(inspect.getsource(cond).split())
    except (OSError, TypeError):
        return repr(cond)


async def wait_for(pilot: Any, cond: Callable[[], bool], timeout: float = 30.0, what: str = "") -> None:
    """Polls `cond` while the app runs; the timeout only bounds a real hang, and names the condition."""
    start = time.monotonic()
    while not cond():
        if time.monotonic() - start > timeout:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what or _source(cond)}")
        await pilot.pause(0.05)


async def select_run_row(pilot: Any, table: Any, key: str) -> None:
    """Puts the Runs table's cursor on `key` and waits until the screen has selected that run.

    A screen with a running run rebuilds its table every few seconds and puts the cursor back on
    the selected run; one that lands between `move_cursor` and the highlight being handled moves
    the cursor back, so the move is repeated until the selection follows.
    """
    from pathlib import Path

    def selected() -> bool:
        if pilot.app.screen.selected == Path(key):
            return True
        if table.cursor_row != table.get_row_index(key):
            table.move_cursor(row=table.get_row_index(key))
        return False

    await wait_for(pilot, selected, what=f"the run {key} selected")


async def type_text(pilot: Any, text: str) -> None:
    """Types like a terminal does: one Key per character, with the character attached.

    (`Pilot.press` cannot type Bengali vowel signs: it round-trips each character through a key
    name and loses combining marks, which a real terminal driver never does.)
    """
    from textual import events
    from textual.keys import _character_to_key

    driver = pilot.app._driver
    for ch in text:
        event = events.Key(_character_to_key(ch), ch)
        event.set_sender(pilot.app)
        driver.send_message(event)
        await pilot.pause()


class MessageLog:
    """Every message the app dispatches, for `app.run_test(message_hook=log)`.

    Tests assert on what a screen's workers posted (typed messages such as `Tagged`) instead
    of calling the screen's private handlers. The hook sees a message just before its handler
    runs; `wait_for_message` then lets the handler finish.
    """

    def __init__(self) -> None:
        self.seen: list[Any] = []

    def __call__(self, message: Any) -> None:
        self.seen.append(message)

    def of(self, kind: type[T]) -> list[T]:
        return [m for m in self.seen if isinstance(m, kind)]


async def wait_for_message(
    pilot: Any,
    log: MessageLog,
    kind: type[T],
    cond: Callable[[T], bool] = lambda _m: True,
    timeout: float = 30.0,
) -> T:
    """The first `kind` message matching `cond`, once its handler has run."""
    await wait_for(pilot, lambda: any(cond(m) for m in log.of(kind)), timeout, what=f"a {kind.__name__} message")
    await pilot.pause()  # the hook fired as the message was dispatched: let its handler finish
    return next(m for m in log.of(kind) if cond(m))
