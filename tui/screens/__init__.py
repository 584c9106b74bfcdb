"""The app's screens, one module each. This package imports only Textual.

Also the one way screens report failures: `report_error` turns a `BnnerError` into its own
sentence and anything unexpected into one line naming the exception, so a worker's failure
becomes a notification, never a crash or a traceback on screen.
"""

from __future__ import annotations

import traceback

from textual.app import App

from bnner_tui.core.errors import BnnerError


def describe_error(err: BaseException) -> str:
    """One sentence for the user: a BnnerError already is one; a bug says what kind it is."""
    if isinstance(err, BnnerError):
        return str(err)
    text = str(err).strip().splitlines()[0] if str(err).strip() else ""
    return f"Unexpected {type(err).__name__}: {text}" if text else f"Unexpected {type(err).__name__}."


def report_error(app: App, err: BaseException, *, title: str = "") -> None:
    """Show a failure as a notification (thread-safe: `App.notify` posts a message)."""
    if not isinstance(err, BnnerError):
        _log_traceback(err)
    app.notify(describe_error(err), title=title, severity="error", timeout=8, markup=False)


def _log_traceback(err: BaseException) -> None:
    """Unexpected errors keep their traceback in the crash log (the CLI's), never on screen."""
    from bnner_tui.tui.cli.errors import crash_log_path

    try:
        path = crash_log_path()
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a", encoding="utf-8") as fh:
            fh.write("".join(traceback.format_exception(err)))
    except OSError:
        pass
