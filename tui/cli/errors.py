"""How the CLI shows failures: one sentence for the user, details in a log file for a bug report.

Why one printer: a message is made of user text (a path, a tag, a config value), and rich
reads `[...]` in a printed string as markup. A tag `[/]` raised `MarkupError` with a raw
traceback, `[bold]X` lost its brackets, and "unexpected table [model]" printed as "unexpected
table ". Every command prints errors and warnings through `report_user_error` / `warn`, which
build a `rich.text.Text` (never parsed as markup), and other user-derived text in the CLI goes
through `esc` (rich.markup.escape) when it is part of a markup string.
"""

from __future__ import annotations

import os
import tempfile
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.text import Text

from bnner_tui.core.errors import BnnerError

_err = Console(stderr=True, highlight=False, soft_wrap=True)

# The exit status of every "your input is wrong" failure, in every command.
EXIT_USER_ERROR = 2


def esc(value: Any) -> str:
    """`str(value)` made safe to embed in a rich markup string."""
    return escape(str(value))


def crash_log_path() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "bnner-tui" / "crash.log"


def _line(prefix: str, style: str, message: str) -> Text:
    return Text.assemble((prefix, style), " ", message)


def report_user_error(err: BaseException | str, console: Console | None = None) -> None:
    """`error: <the sentence>` on stderr, the sentence printed verbatim (no markup)."""
    (console or _err).print(_line("error:", "bold red", str(err)))


def warn(message: str, *, label: str = "warning:", console: Console | None = None) -> None:
    """`warning: <message>` on stderr, verbatim."""
    (console or _err).print(_line(label, "yellow", str(message)))


@contextmanager
def user_errors() -> Iterator[None]:
    """BnnerError -> one sentence on stderr and exit status 2, also when a command runs in-process
    (typer's CliRunner, the tests), not only through the console-script `main()`."""
    import typer

    try:
        yield
    except BnnerError as err:
        report_user_error(err)
        raise typer.Exit(EXIT_USER_ERROR) from None


def report_unexpected(err: BaseException) -> None:
    """An unexpected exception: one line on screen, the traceback in the crash log."""
    path = crash_log_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a", encoding="utf-8") as fh:
            fh.write("".join(traceback.format_exception(err)))
        where = f" (details in {path})"
    except OSError:
        path = Path(tempfile.gettempdir()) / "bnner-tui-crash.log"
        where = ""
    report_user_error(f"unexpected {type(err).__name__}: {err}{where}")
