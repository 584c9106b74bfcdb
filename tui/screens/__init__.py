"""The app's screens, one module each. This package imports only Textual.

Also the one way screens report failures: `report_error` turns a `BnnerError` into its own
sentence and anything unexpected into one line naming the exception, so a worker's failure
becomes a notification, never a crash or a traceback on screen.

Background work (harlequin's pattern): a worker returns its result by posting a typed Message
and simply raises when it fails; `WorkerErrors.on_worker_state_changed` is the one handler for
every failed worker of a screen. It notifies the user and posts `WorkFailed`, so a screen that
must undo something (re-enable a button) reacts to one message instead of wrapping each worker
in try/except and `call_from_thread(self._after_x, None, str(err))`.

Staleness without counters: a thread worker cannot be interrupted, so when a newer worker of
the same group starts (an exclusive worker, or a new request), the older one still finishes
and posts. A result message that derives from `WorkDone` remembers the worker that posted it,
`WorkFailed` carries its worker too, and `WorkerErrors.is_latest(message)` says whether that
worker is still the newest one the screen started in its group. Both sides of that check happen
on the app's thread (the start in `run_worker`, the check in the message handler), so it is
exact whatever order the threads finish in: a stale load never overwrites a newer one.
`supersede(group)` makes every result of a group stale without starting a new worker (the
text was cleared while a tagging ran).
"""

from __future__ import annotations

import traceback
from typing import Any

from textual.app import App
from textual.message import Message
from textual.worker import NoActiveWorker, Worker, WorkerState, get_current_worker

from bnner_tui.core.errors import BnnerError

# How often screens that list runs (Tag, Card) look for runs that finished meanwhile.
RUN_LIST_REFRESH_S = 5.0


class WorkDone(Message, bubble=False):
    """Base of a worker's result message: it remembers the worker that posted it.

    Construct it inside the worker (as `self.post_message(Loaded(...))` does); outside any
    worker `worker` is None and the message always counts as current.
    """

    def __init_subclass__(cls, bubble: bool | None = False, **kwargs: Any) -> None:
        """A result is for the screen whose worker asked for it: it does not bubble to the app."""
        super().__init_subclass__(bubble=bubble, **kwargs)

    def __init__(self) -> None:
        super().__init__()
        try:
            self.worker: Worker[Any] | None = get_current_worker()
        except NoActiveWorker:
            self.worker = None


class WorkFailed(Message):
    """A screen's worker raised; `group` is the worker's group (what it was doing)."""

    def __init__(self, group: str, name: str, error: BaseException, worker: Worker[Any] | None = None) -> None:
        super().__init__()
        self.group = group
        self.name = name
        self.error = error
        self.worker = worker


class WorkerErrors:
    """Mixin for a Screen: the one handler for its failed workers.

    Workers must be started with `exit_on_error=False`; their name (the method name, or
    `@work(name=...)`) is the notification's title ("load runs", "Data source").
    It also remembers the newest worker started in each group, for `is_latest`.
    """

    _newest_by_group: dict[str, Worker[Any] | None]

    def run_worker(self, *args: Any, **kwargs: Any) -> Worker[Any]:
        """Start a worker (`@work` comes through here) and remember it as its group's newest."""
        worker: Worker[Any] = super().run_worker(*args, **kwargs)  # type: ignore[misc]
        self._newest_workers()[worker.group] = worker
        return worker

    def _newest_workers(self) -> dict[str, Worker[Any] | None]:
        try:
            return self._newest_by_group
        except AttributeError:  # a mixin has no __init__ of its own
            self._newest_by_group = {}
            return self._newest_by_group

    def is_latest(self, message: WorkDone | WorkFailed) -> bool:
        """Whether `message` comes from the newest worker of its group (or from no worker)."""
        worker = message.worker
        return worker is None or self._newest_workers().get(worker.group) is worker

    def supersede(self, group: str) -> None:
        """Every result of `group` started so far is stale now; a running worker is cancelled."""
        self._newest_workers()[group] = None
        self.workers.cancel_group(self, group)  # type: ignore[attr-defined]

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        worker: Worker[Any] = event.worker
        if event.state != WorkerState.ERROR or worker.error is None:
            return
        err = worker.error
        title = worker.name.strip("_").replace("_", " ")
        report_error(self.app, err, title=title)  # type: ignore[attr-defined]
        self.post_message(WorkFailed(worker.group, worker.name, err, worker))  # type: ignore[attr-defined]


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
