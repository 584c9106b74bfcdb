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

import re
import time
from collections import deque
from pathlib import Path
from typing import Any

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.timer import Timer
from textual.widgets import DataTable, Log, ProgressBar, Static

from bnner_tui.core.display import NO_VALUE
from bnner_tui.core.runstate import CURVES, EVAL, INFO, PROGRESS, STATUS, RunFollower, RunState
from bnner_tui.tui.presentation import STATUS_STYLE, format_duration

from .curves import CurvePlot, Series

LOG_TAIL_BYTES = 64 * 1024
STATS_LINES = 2  # the stats line's fixed height: it repaints without a layout pass


def fit_lines(parts: list[str], width: int, lines: int = STATS_LINES, sep: str = " · ") -> str:
    """`parts` (most important first) joined with `sep`, broken into at most `lines` lines of
    `width` cells; the parts that do not fit are left out, never cut in half.

    Rich wrapping a fixed-height Static would have hidden whatever fell on a third line (the
    best F1, at 100 columns); breaking the lines here keeps the most important numbers on screen.
    """
    from rich.cells import cell_len

    out: list[str] = []
    current = ""
    for part in parts:
        candidate = f"{current}{sep}{part}" if current else part
        if cell_len(candidate) <= width or (not current and not out):
            current = candidate
            continue
        if len(out) + 1 >= lines:
            continue  # no room on the last line: try the next (shorter) parts
        out.append(current)
        current = part
    if current:
        out.append(current)
    return "\n".join(out)


def wrap_line(line: str, width: int, console: Any = None) -> list[str]:
    """One log line as the lines it takes at `width` cells (continuations indented two cells),
    measured as the terminal draws it; a narrow log panel otherwise cut every line at its edge.
    Pass one `console` for a batch of lines (a Console is not free to build)."""
    if width < 12:
        return [line]
    from rich.console import Console
    from rich.text import Text

    wrapped = Text(line).wrap(console or Console(width=width), width - 2)
    rows = [str(part).rstrip() for part in wrapped]
    return [row if i == 0 else f"  {row}" for i, row in enumerate(rows) if row or i == 0]


def _fmt(value: float | None, spec: str = ".3f") -> str:
    return NO_VALUE if value is None else format(value, spec)


def _rate(value: float | None) -> str:
    if value is None:
        return NO_VALUE
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


_RECORD = re.compile(
    r"^\d{4}-\d\d-\d\d (?P<time>\d\d:\d\d:\d\d),\d+ (?P<level>[A-Z]+) (?P<rank>\[rank \d+\] )?"
    r"(?P<name>[\w.]+): ?(?P<msg>.*)$"
)
_LOUD = ("WARNING", "ERROR", "CRITICAL")


class LogFilter:
    """What the log panel shows of train.log: the run's own lines, and every warning and error.

    train.log holds everything (transformers' INFO included: "***** Running training *****",
    "Num examples = ...", "Configuration saved in ..."), which is right for a bug report but buries
    the run's own story in a 12-line panel. Lines of our loggers (`bnner_tui.*`) show with their
    time only; warnings and errors from any logger show with level and logger; a record's
    continuation lines (a traceback) follow it. Nothing is removed from train.log itself.
    """

    def __init__(self) -> None:
        # Lines outside any record (a print, a crash's stderr) show unless they continue a hidden one.
        self._keep_continuation = True

    def feed(self, lines: list[str]) -> list[str]:
        out = []
        for line in lines:
            m = _RECORD.match(line)
            if m is None:
                if self._keep_continuation and line.strip():
                    out.append(line)
                continue
            ours = m["name"].startswith("bnner_tui")
            loud = m["level"] in _LOUD
            self._keep_continuation = ours or loud
            rank = m["rank"] or ""
            if ours and not loud:
                out.append(f"{m['time']} {rank}{m['msg']}")
            elif loud:
                out.append(f"{m['time']} {m['level']} {rank}{m['name']}: {m['msg']}")
        return out


class ProcessStats:
    """CPU and memory of the run's training process (and its workers), read with psutil.

    The pid comes from the run's `run.lock`, and only while its flock is held, so a pid the
    system reused after the run ended is never measured. Sampled at most once a second: a
    poll is every 0.25 s and psutil walks /proc.
    """

    INTERVAL_S = 1.0

    def __init__(self, run_dir: Path) -> None:
        self.run_dir = run_dir
        self._proc: Any = None
        self._last = 0.0
        self.cpu_percent: float | None = None
        self.rss_bytes: int | None = None

    def sample(self, now: float) -> None:
        if now - self._last < self.INTERVAL_S:
            return
        self._last = now
        try:
            import psutil

            from bnner_tui.core.runs import lock_is_held, read_lock_pid

            if not lock_is_held(self.run_dir):
                self._proc, self.cpu_percent, self.rss_bytes = None, None, None
                return
            pid = read_lock_pid(self.run_dir)
            if pid is None:
                return
            if self._proc is None or self._proc.pid != pid:
                self._proc = psutil.Process(pid)
                self._children: dict[int, Any] = {}
                self._proc.cpu_percent(None)  # the first reading only starts the interval
                return
            procs = [self._proc]
            for child in self._proc.children(recursive=True):
                known = self._children.setdefault(child.pid, child)
                procs.append(known)
            cpu = 0.0
            rss = 0
            for proc in procs:
                try:
                    cpu += proc.cpu_percent(None)
                    rss += proc.memory_info().rss
                except (psutil.NoSuchProcess, psutil.AccessDenied):
                    continue
            self.cpu_percent, self.rss_bytes = cpu, rss
        except Exception:  # psutil missing or the process gone: no numbers, never a crash
            self._proc, self.cpu_percent, self.rss_bytes = None, None, None

    def describe(self) -> list[str]:
        if self.cpu_percent is None or self.rss_bytes is None:
            return []
        return [f"CPU {self.cpu_percent:.0f}%", f"RAM {_bytes(self.rss_bytes)}"]


def _bytes(n: int) -> str:
    return f"{n / 2**30:.1f} GB" if n >= 2**30 else f"{n / 2**20:.0f} MB"


class RunMonitor(Vertical):
    """Watches one run folder. `attach(run_dir)` starts following it from the beginning."""

    DEFAULT_CSS = """
    RunMonitor { height: 1fr; }
    RunMonitor #mon-header { height: auto; padding: 0 1; }
    RunMonitor #mon-progress-row { height: 1; padding: 0 1; }
    RunMonitor #mon-bar { width: 1fr; }
    RunMonitor #mon-stats { height: 2; padding: 0 1; color: $text-muted; }  /* STATS_LINES */
    RunMonitor #mon-plots { height: 1fr; min-height: 10; }
    RunMonitor #mon-f1 { margin-left: 2; }
    RunMonitor #mon-bottom { height: 12; }
    RunMonitor #mon-entities { width: 46; height: 100%; }
    RunMonitor #mon-log { width: 1fr; height: 100%; border-left: solid $primary-background; }
    /* Under 120 columns (the screen's "-narrow" class) the two are stacked: see tui/app.tcss. */
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
        self._log_filter = LogFilter()
        self._proc_stats: ProcessStats | None = None
        self._timer: Timer | None = None
        self._curves_dirty = False
        self._last_curve_draw = 0.0
        self._shown: dict[str, object] = {}  # what each cheap widget shows now: skip no-op updates
        self._pending_log: list[str] = []
        self._raw_log: deque[str] = deque(maxlen=log_lines)  # unwrapped: re-wrapped on resize
        self._log_width = 0
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
        # Fixed widths: auto-width columns were sometimes measured before the rows arrived (under
        # load the F1 column came out 2 cells wide, "0." for 0.578). Scores are 5 cells, labels short.
        for label, width in (("entity", 10), ("precision", 9), ("recall", 6), ("F1", 5), ("support", 7)):
            table.add_column(label, width=width, key=label)
        table.border_title = "per entity (latest eval)"
        log = self.query_one("#mon-log", Log)
        log.border_title = "log: the run's lines, warnings, errors"
        log.border_subtitle = "everything is in train.log"

    # -- public API ---------------------------------------------------------------------
    def attach(self, run_dir: Path) -> None:
        """Follow `run_dir` from its first event (so a re-attached run shows its whole history)."""
        self.run_dir = Path(run_dir)
        self._follower = RunFollower(self.run_dir)
        self.state = self._follower.state
        self._log = LogTail(self.run_dir / "train.log")
        self._log_filter = LogFilter()
        self._proc_stats = ProcessStats(self.run_dir)
        self.query_one("#mon-log", Log).clear()
        self.query_one("#mon-entities", DataTable).clear()
        self._curves_dirty = True
        self._last_curve_draw = 0.0
        self._shown = {}
        self._pending_log = []
        self._raw_log.clear()
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
        self._proc_stats = None

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
            self._pending_log.extend(self._log_filter.feed(self._log.poll()))
        # Each Log write costs a layout pass: append the new lines at most once per second.
        if self._pending_log and (now - self._last_log_write >= 1.0 or STATUS in changed):
            self._write_log(self._pending_log[-self.log_lines :])
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
    def _log_text_width(self) -> int:
        log = self.query_one("#mon-log", Log)
        return max(0, log.scrollable_content_region.width - 1)  # room for a vertical scrollbar

    def _write_log(self, lines: list[str]) -> None:
        self._raw_log.extend(lines)
        from rich.console import Console

        width = self._log_width = self._log_text_width()
        console = Console(width=max(width, 1))
        rows = [row for line in lines for row in wrap_line(line, width, console)]
        self.query_one("#mon-log", Log).write_lines(rows)

    def on_resize(self, event: events.Resize) -> None:
        """A new width: the stats line is re-fitted and the log re-wrapped."""
        self._shown.pop("stats", None)
        self.call_after_refresh(self._after_resize)

    def _after_resize(self) -> None:
        if self._follower is not None:
            self._render_progress()
        if self._raw_log and self._log_text_width() != self._log_width:
            lines = list(self._raw_log)
            self._raw_log.clear()
            self.query_one("#mon-log", Log).clear()
            self._write_log(lines)

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
        # Most important first: on a narrow screen the last parts are the ones left out.
        parts = [
            f"step {st.step}/{st.total_steps or '?'}",
            f"ETA {format_duration(eta)}",
        ]
        if st.best_f1 is not None:
            parts.append(f"best F1 {st.best_f1:.3f}")
        parts += [
            f"epoch {_fmt(st.epoch, '.2f')}",
            f"{_rate(st.samples_per_second)} samples/s",
            f"{_rate(st.tokens_per_second)} tokens/s",
            f"device {st.device or NO_VALUE}",
            f"precision {st.precision or NO_VALUE}",
        ]
        on_cpu = st.device is not None and st.device.startswith("cpu")
        if not on_cpu or st.gpu_memory_mb is not None:
            parts.append(f"GPU mem {st.gpu_memory_mb:.0f} MB" if st.gpu_memory_mb is not None else "GPU mem --")
        # The process itself, on every device: on a CPU run these are the numbers that matter.
        if self._proc_stats is not None:
            if st.status == "running":
                self._proc_stats.sample(time.monotonic())
                parts += self._proc_stats.describe()
        stats = self.query_one("#mon-stats", Static)
        width = stats.content_region.width
        text = fit_lines(parts, width) if width > 0 else " · ".join(parts)
        if self._shown.get("stats") != text:
            # Most polls change nothing visible: no update, no repaint.
            self._shown["stats"] = text
            # Fixed height: no layout pass needed, only this widget repaints.
            stats.update(text, layout=False)

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
                NO_VALUE if score.support is None else str(score.support),
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
