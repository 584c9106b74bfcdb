"""How the CLI shows failures: one sentence for the user, details in a log file for a bug report."""

from __future__ import annotations

import os
import tempfile
import traceback
from pathlib import Path

from rich.console import Console
from rich.markup import escape

_err = Console(stderr=True, highlight=False)


def crash_log_path() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "bnner-tui" / "crash.log"


def report_user_error(err: BaseException) -> None:
    # Escaped: a message quoting a tag, a path or a value such as '[/]' is text, never markup.
    _err.print(f"[bold red]error:[/] {escape(str(err))}", markup=True, soft_wrap=True)


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
    _err.print(
        f"[bold red]error:[/] unexpected {type(err).__name__}: {escape(str(err))}{escape(where)}",
        markup=True,
        soft_wrap=True,
    )
