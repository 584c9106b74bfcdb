"""The app's screens, one module each. This package imports only Textual.

Also the one way screens report failures: `report_error` turns a `BnnerError` into its own
sentence and anything unexpected into one line naming the exception, so a worker's failure
becomes a notification, never a crash or a traceback on screen.

Background work (harlequin's pattern): a worker returns its result by posting a typed Message
and simply raises when it fails; `WorkerErrors.on_worker_state_changed` is the one handler for
every failed worker of a screen. It notifies the user and posts `WorkFailed`, so a screen that
must undo something (re-enable a button) reacts to one message instead of wrapping each worker
in try/except and `call_from_thread(self._after_x, None, str(err))`.
"""

from __future__ import annotations

import traceback
from typing import Any

from textual.app import App
from textual.message import Message
from textual.worker import Worker, WorkerState

from bnner_tui.core.errors import BnnerError

# How often screens that list runs (Tag, Card) look for runs that finished meanwhile.
RUN_LIST_REFRESH_S = 5.0


class WorkFailed(Message):
    """A screen's worker raised; `group` is the worker's group (what it was doing)."""

    def __init__(self, group: str, name: str, error: BaseException) -> None:
        super().__init__()
        self.group = group
        self.name = name
        self.error = error


class WorkerErrors:
    """Mixin for a Screen: the one handler for its failed workers.

    Workers must be started with `exit_on_error=False`; their `description`-free name is the
    method name, shown as the notification's title ("load runs", "control run").
    """

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        worker: Worker[Any] = event.worker
        if event.state != WorkerState.ERROR or worker.error is None:
            return
        err = worker.error
        title = worker.name.strip("_").replace("_", " ")
        report_error(self.app, err, title=title)  # type: ignore[attr-defined]
        self.post_message(WorkFailed(worker.group, worker.name, err))  # type: ignore[attr-defined]


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
