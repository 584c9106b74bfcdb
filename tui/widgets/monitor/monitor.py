"""The live run monitor: progress, curves, per-entity table and log tail, fed only by files.

Why files only: the run is a separate process that outlives the app, so the monitor reads
`events.jsonl` (through `core.runstate.RunFollower`, which also decides liveness) and
`train.log` exactly as it would after a restart. It polls on a timer and collapses each burst
of events into one UI update (toolong-style): every new event is folded into the run's
`core.runstate.RunState`, then each widget is redrawn
at most once per poll, and the charts at most every `curve_interval` seconds. A burst of
10,000 events costs one redraw, so the UI stays responsive and the training process (which
shares the CPU) is not slowed.
"""

from __future__ import annotations

import time
from pathlib import Path

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.timer import Timer
from textual.widgets import DataTable, Log, ProgressBar, Static

from bnner_tui.core.runstate import CURVES, EVAL, INFO, PROGRESS, STATUS, RunFollower, RunState
from bnner_tui.tui.presentation import STATUS_STYLE, format_duration

from .curves import CurvePlot, Series

LOG_TAIL_BYTES = 64 * 1024


def _fmt(value: float | None, spec: str = ".3f") -> str:
    return "--" if value is None else format(value, spec)


def _rate(value: float | None) -> str:
    if value is None:
        return "--"
    return f"{value / 1000:.1f}k" if value >= 10_000 else f"{value:.1f}"


class LogTail:
    """Follows train.log from (near) its end; only complete lines are returned."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset: int | None = None
        self._partial = b""

    def poll(self) -> list[str]:
        try:
            with open(self.path, "rb") as fh:
                if self.offset is None:
                    # Attaching to a long run: show the last part, not the whole history.
                    fh.seek(0, 2)
                    size = fh.tell()
                    self.offset = max(0, size - LOG_TAIL_BYTES)
                    skip_first = self.offset > 0
                else:
                    skip_first = False
                fh.seek(self.offset)
                data = fh.read()
        except FileNotFoundError:
            return []
        if not data:
            return []
        self.offset += len(data)
        data = self._partial + data
        lines = data.split(b"\n")
        self._partial = lines.pop()
        if skip_first and lines:
            lines = lines[1:]
        return [line.decode("utf-8", errors="replace").rstrip("\r") for line in lines]


class RunMonitor(Vertical):
    """Watches one run folder. `attach(run_dir)` starts following it from the beginning."""

    DEFAULT_CSS = """
    RunMonitor { height: 1fr; }
    RunMonitor #mon-header { height: auto; padding: 0 1; }
    RunMonitor #mon-progress-row { height: 1; padding: 0 1; }
    RunMonitor #mon-bar { width: 1fr; }
    RunMonitor #mon-stats { height: 2; padding: 0 1; color: $text-muted; }
    RunMonitor #mon-plots { height: 1fr; min-height: 10; }
    RunMonitor #mon-f1 { margin-left: 2; }
    RunMonitor #mon-bottom { height: 12; }
    RunMonitor #mon-entities { width: 46; height: 100%; }
    RunMonitor #mon-log { width: 1fr; height: 100%; border-left: solid $primary-background; }
    """

    class StatusChanged(Message):
        """The watched run changed status (running, finished, failed, cancelled)."""

        def __init__(self, run_dir: Path, status: str, reason: str | None) -> None:
            super().__init__()
            self.run_dir = run_dir
            self.status = status
            self.reason = reason

    def __init__(
        self,
        *,
        poll_interval: float = 0.25,
        curve_interval: float = 2.0,
        log_lines: int = 300,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.poll_interval = poll_interval
        self.curve_interval = curve_interval
        self.log_lines = log_lines
        self.run_dir: Path | None = None
        self.state = RunState()
        self._follower: RunFollower | None = None
        self._log: LogTail | None = None
        self._timer: Timer | None = None
        self._curves_dirty = False
        self._last_curve_draw = 0.0
        self._shown: dict[str, object] = {}  # what each cheap widget shows now: skip no-op updates
        self._pending_log: list[str] = []
        self._last_log_write = 0.0
        # Counters that let tests and the overhead benchmark see the collapsing at work.
        self.polls = 0
        self.updates = 0

    def compose(self) -> ComposeResult:
        yield Static("No run attached. Launch one, or pick a running run.", id="mon-header")
        with Horizontal(id="mon-progress-row"):
            # A known total from the start: an indeterminate bar animates (and repaints) all the time.
            yield ProgressBar(total=1, show_eta=False, id="mon-bar")
        yield Static("", id="mon-stats")
        with Horizontal(id="mon-plots"):
            yield CurvePlot("loss (left) · learning rate (right)", id="mon-loss")
            yield CurvePlot("validation F1 (word-level)", ylim=(0.0, 1.0), id="mon-f1")
        with Horizontal(id="mon-bottom"):
            yield DataTable(id="mon-entities", cursor_type="row", zebra_stripes=True)
            yield Log(max_lines=self.log_lines, id="mon-log")

    def on_mount(self) -> None:
        table = self.query_one("#mon-entities", DataTable)
        table.add_columns("entity", "precision", "recall", "F1", "support")
        table.border_title = "per entity (latest eval)"
        self.query_one("#mon-log", Log).border_title = "train.log"

    # -- public API ---------------------------------------------------------------------
    def attach(self, run_dir: Path) -> None:
        """Follow `run_dir` from its first event (so a re-attached run shows its whole history)."""
        self.run_dir = Path(run_dir)
        self._follower = RunFollower(self.run_dir)
        self.state = self._follower.state
        self._log = LogTail(self.run_dir / "train.log")
        self.query_one("#mon-log", Log).clear()
        self.query_one("#mon-entities", DataTable).clear()
        self._curves_dirty = True
        self._last_curve_draw = 0.0
        self._shown = {}
        self._pending_log = []
        self._last_log_write = 0.0
        self._render_all({STATUS, INFO, PROGRESS, CURVES, EVAL})
        if self._timer is None:
            self._timer = self.set_interval(self.poll_interval, self.poll, name="run-monitor-poll")
        else:
            self._timer.resume()
        self.poll()

    def pause_polling(self) -> None:
        """Stop reading the files (the screen is hidden, say); `resume_polling` catches up in one go."""
        if self._timer is not None:
            self._timer.pause()

    def resume_polling(self) -> None:
        if self._timer is not None and self._follower is not None:
            self._timer.resume()
            self.poll()

    def detach(self) -> None:
        if self._timer is not None:
            self._timer.pause()
        self._follower = None
        self._log = None

    def poll(self) -> int:
        """Read everything new, fold it, redraw once. Returns how many events arrived."""
        if self._follower is None:
            return 0
        self.polls += 1
        previous = self._shown.get("status")
        events = self._follower.poll()  # liveness first, then the new events, folded
        changed = set(self._follower.changed)
        status = self.state.status
        if status != previous:
            self._shown["status"] = status
            changed |= {STATUS, PROGRESS}
        if CURVES in changed:
            self._curves_dirty = True
        now = time.monotonic()
        if self._log is not None:
            self._pending_log.extend(self._log.poll())
        # Each Log write costs a layout pass: append the new lines at most once per second.
        if self._pending_log and (now - self._last_log_write >= 1.0 or STATUS in changed):
            self.query_one("#mon-log", Log).write_lines(self._pending_log[-self.log_lines :])
            self._pending_log = []
            self._last_log_write = now
        # Charts are the costly part: at most one redraw per curve_interval (pending points are
        # drawn on a later poll), and at once when the run ends so the final picture is complete.
        draw_curves = self._curves_dirty and (now - self._last_curve_draw >= self.curve_interval or STATUS in changed)
        if changed or draw_curves or self.state.status == "running":
            self._render_all((changed - {CURVES}) | ({CURVES} if draw_curves else set()))
        if status != previous and self.run_dir is not None:
            self.post_message(self.StatusChanged(self.run_dir, status, self.state.status_reason))
        return len(events)

    # -- drawing --------------------------------------------------------------------------
    def _render_all(self, parts: set[str]) -> None:
        self.updates += 1
        st = self.state
        if parts & {STATUS, INFO}:
            self._render_header()
        # Progress and ETA are cheap and the ETA ticks down between events.
        self._render_progress()
        if CURVES in parts:
            self._render_curves()
        if EVAL in parts:
            self._render_entities()
        if st.status != "running" and self._timer is not None and st.status in ("finished", "failed"):
            # Nothing more will be written; keep the last picture, stop polling.
            self._timer.pause()

    def _render_header(self) -> None:
        st = self.state
        text = Text()
        name = self.run_dir.name if self.run_dir else "(none)"
        text.append("run ", style="dim")
        text.append(name, style="bold")
        text.append("  ")
        status = st.status
        text.append(status, style=STATUS_STYLE.get(status, ""))
        if st.model:
            text.append("\nmodel: ", style="dim")
            text.append(st.model)
        reason = st.status_reason
        if reason:
            text.append("\n")
            text.append(reason, style="red")
        self.query_one("#mon-header", Static).update(text)

    def _render_progress(self) -> None:
        st = self.state
        if st.total_steps:
            bar_state = (st.total_steps, min(st.step, st.total_steps))
            if self._shown.get("bar") != bar_state:
                self._shown["bar"] = bar_state
                self.query_one("#mon-bar", ProgressBar).update(total=bar_state[0], progress=bar_state[1])
        eta = st.eta_seconds(now=time.time())
        gpu = f"{st.gpu_memory_mb:.0f} MB" if st.gpu_memory_mb is not None else "--"
        parts = [
            f"step {st.step}/{st.total_steps or '?'}",
            f"epoch {_fmt(st.epoch, '.2f')}",
            f"ETA {format_duration(eta)}",
            f"{_rate(st.samples_per_second)} samples/s",
            f"{_rate(st.tokens_per_second)} tokens/s",
            f"device {st.device or '--'}",
            f"precision {st.precision or '--'}",
            f"GPU mem {gpu}",
        ]
        if st.best_f1 is not None:
            parts.append(f"best F1 {st.best_f1:.3f}")
        text = " · ".join(parts)
        if self._shown.get("stats") != text:
            # Most polls change nothing visible: no update, no repaint.
            self._shown["stats"] = text
            # Fixed height: no layout pass needed, only this widget repaints.
            self.query_one("#mon-stats", Static).update(text, layout=False)

    def _render_curves(self) -> None:
        st = self.state
        self._curves_dirty = False
        self._last_curve_draw = time.monotonic()
        self.query_one("#mon-loss", CurvePlot).set_series(
            [
                Series("train loss", st.loss_steps, st.loss),
                Series("eval loss", st.eval_steps, st.eval_loss),
                Series("lr", st.lr_steps, st.lr, yside="right"),
            ]
        )
        f1_series = [Series("overall", st.eval_steps, st.eval_f1)]
        for name, points in sorted(st.type_f1.items()):
            f1_series.append(Series(name, [p[0] for p in points], [p[1] for p in points]))
        self.query_one("#mon-f1", CurvePlot).set_series(f1_series)

    def _render_entities(self) -> None:
        st = self.state
        table = self.query_one("#mon-entities", DataTable)
        table.clear()
        for name, score in st.per_type.items():
            table.add_row(
                name,
                _fmt(score.precision),
                _fmt(score.recall),
                _fmt(score.f1),
                "--" if score.support is None else str(score.support),
                key=name,
            )
        if st.overall is not None:
            table.add_row(
                Text("overall", style="bold"),
                _fmt(st.overall.precision),
                _fmt(st.overall.recall),
                Text(_fmt(st.overall.f1), style="bold"),
                "",
                key="__overall__",
            )
        if st.eval_steps:
            table.border_title = f"per entity · {st.eval_split or 'eval'} @ step {st.eval_steps[-1]}"
