"""Following a run in the terminal: a Rich progress bar, a line per milestone, the final scores.

`follow_run` is what `bnner-tui train` and `bnner-tui follow` show while a run goes on, and the
score tables are what `bnner-tui eval` prints too. It only renders: `core.runstate.RunFollower`
reads the events and decides whether the run is alive (the run lock), the same rule as every
other view.

Only rich and light core modules are imported at top level (start-up time rule).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from bnner_tui.core.display import NO_VALUE, number
from bnner_tui.core.errors import BnnerError
from bnner_tui.core.events import Cancelled, Eval, Event, Failed, Finished, Log, Resumed, Started, Step
from bnner_tui.tui.presentation import format_duration

console = Console(highlight=False)


# ---- formatting helpers ------------------------------------------------------------------------


def scores_table(entry: dict[str, Any], *, split: str, title_extra: str = "") -> Table:
    """Per-entity precision/recall/F1 (word level, seqeval strict IOB2) plus the overall row."""
    table = Table(
        title=f"Word-level entity scores on {split}{title_extra}",
        caption="seqeval, strict IOB2, one prediction per word (its first subword piece)",
        title_justify="left",
    )
    for col in ("entity", "precision", "recall", "F1", "support"):
        table.add_column(col, justify="left" if col == "entity" else "right")
    per_type = entry.get("per_type") or {}
    for name in sorted(per_type):
        row = per_type[name] or {}
        table.add_row(
            name,
            number(row.get("precision")),
            number(row.get("recall")),
            number(row.get("f1")),
            str(row.get("support", NO_VALUE)),
        )
    overall = entry.get("overall") or {}
    support = sum(int((r or {}).get("support") or 0) for r in per_type.values()) if per_type else None
    table.add_row(
        "[bold]overall (micro)[/]",
        number(overall.get("precision")),
        number(overall.get("recall")),
        f"[bold]{number(overall.get('f1'))}[/]",
        str(support) if support is not None else NO_VALUE,
        end_section=False,
    )
    return table


def print_scores(entry: dict[str, Any], *, split: str) -> None:
    console.print(scores_table(entry, split=split))
    extra = []
    if isinstance(entry.get("loss"), (int, float)):
        extra.append(f"loss {number(entry['loss'], 4)}")
    if isinstance((entry.get("overall") or {}).get("accuracy"), (int, float)):
        extra.append(f"word accuracy {number(entry['overall']['accuracy'])}")
    if extra:
        console.print("  " + " · ".join(extra))
    piece = entry.get("piece_level")
    if isinstance(piece, dict):
        pf1 = piece.get("f1", (piece.get("overall") or {}).get("f1"))
        console.print(
            f"  [yellow]piece-level F1 {number(pf1)}[/] — the notebook's way (every subword piece scored);"
            " it inflates the score and is not comparable with word-level F1."
        )
    _print_generalisation(entry)


def _print_generalisation(entry: dict[str, Any]) -> None:
    """Counts, F1 on what training could not have memorised, and the SemEval error breakdown."""
    from bnner_tui.core.metrics import (
        BREAKDOWN_KEYS,
        BREAKDOWN_TITLES,
        breakdown_rows,
        counts_line,
        generalisation_rows,
    )

    line = counts_line(entry)
    if line:
        console.print(f"  {line}")
    rows = generalisation_rows(entry)
    if len(rows) > 1:
        table = Table(title="Generalisation (word level, strict IOB2)", title_justify="left")
        for col in ("scored on", "precision", "recall", "F1", "support"):
            table.add_column(col, justify="left" if col == "scored on" else "right")
        for row in rows:
            table.add_row(*row)
        console.print(table)
    breakdown = breakdown_rows(entry)
    if breakdown:
        table = Table(
            title="Entity errors (SemEval-2013 categories, nervaluate)",
            caption="per type: gold entities of the type; spurious: predictions of the type",
            title_justify="left",
        )
        table.add_column("entity")
        for key in BREAKDOWN_KEYS:
            table.add_column(BREAKDOWN_TITLES[key], justify="right")
        for brow in breakdown:
            table.add_row(*brow)
        console.print(table)


# ---- following a run ---------------------------------------------------------------------------


class _View:
    """Renders a followed run: a Rich progress bar (from `RunState`: step, ETA, loss, last F1)
    plus a line per milestone event. It only renders; `core.runstate.RunFollower` decides."""

    def __init__(self, run: Any, state: Any) -> None:
        self.run = run
        self.state = state
        self.loss: float | None = None
        self.progress: Any = None
        self.task: Any = None
        self._last_line_tenth = -1  # without a terminal (CI logs, nohup): a progress line per 10%
        self._t0 = time.monotonic()

    def __enter__(self) -> _View:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        self.progress = Progress(
            SpinnerColumn(),
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("•"),
            TimeElapsedColumn(),
            TextColumn("ETA {task.fields[eta]}"),
            TextColumn("{task.fields[info]}"),
            console=console,
            transient=False,
        )
        self.progress.__enter__()
        st = self.state
        self.task = self.progress.add_task(
            self.run.name, total=st.total_steps, completed=st.step, info="starting…", eta=NO_VALUE
        )
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.__exit__(*exc)

    def say(self, text: str) -> None:
        self.progress.console.print(text, soft_wrap=True)

    def _info(self) -> str:
        parts = []
        if self.loss is not None:
            parts.append(f"loss {self.loss:.4f}")
        f1 = self.state.overall.f1 if self.state.overall is not None else None
        if f1 is not None:
            parts.append(f"F1 {f1:.3f}")
        return " ".join(parts)

    def handle(self, ev: Event) -> None:
        """A line for the events worth one (the state already holds their facts)."""
        if isinstance(ev, Started):
            self.say(f"model: {escape(ev.model or '?')}")
            size_text = ", ".join(f"{k} {v}" for k, v in ev.dataset_sizes.items())
            self.say(f"data: {escape(ev.dataset or '?')} ({size_text})")
            self.say(
                f"device: {escape(ev.device or '?')} · precision {ev.precision or '?'}"
                f" · processes {ev.nproc or 1} · tracking {ev.tracking or 'none'}"
            )
            if ev.unlabelled_splits:
                self.say(f"no labels in {', '.join(ev.unlabelled_splits)}: never scored")
            if ev.not_scored:
                self.say(f"[yellow]warning:[/] no scores for this run: {escape(ev.not_scored)}")
            if ev.wandb_dir:
                self.say(f"W&B offline files: {escape(ev.wandb_dir)} (upload later with: wandb sync DIR)")
        elif isinstance(ev, Resumed):
            self.say(f"resumed from step {ev.from_step} ({escape(ev.checkpoint or '')})")
        elif isinstance(ev, Step):
            if ev.loss is not None:
                self.loss = ev.loss
            total = self.state.total_steps
            if not self.progress.console.is_terminal and total:
                tenth = min(10, ev.step * 10 // total)
                if tenth > self._last_line_tenth:
                    self._last_line_tenth = tenth
                    rate = ev.samples_per_second
                    self.say(
                        f"step {ev.step}/{total} ({tenth * 10}%) · {self._info() or 'loss ' + NO_VALUE}"
                        + (f" · {rate:.1f} samples/s" if rate is not None else "")
                        + f" · {format_duration(time.monotonic() - self._t0)} elapsed"
                    )
        elif isinstance(ev, Eval):
            o = ev.overall
            line = (
                f"eval @ step {ev.step} (epoch {number(ev.epoch, 2)}) on {escape(ev.split or '?')}:"
                f" loss {number(ev.loss, 4)} · word-level F1 {number(o.f1)}"
                f" (P {number(o.precision)}, R {number(o.recall)})"
            )
            if ev.piece_level is not None:
                line += f" · piece-level F1 {number(ev.piece_level.f1)} (inflated)"
            self.say(line)
        elif isinstance(ev, Log) and ev.level.lower() in ("warning", "error", "critical"):
            self.say(f"[yellow]{escape(ev.level.lower())}:[/] {escape(ev.message)}")

    def update(self) -> None:
        st = self.state
        eta = st.eta_seconds(now=time.time())
        self.progress.update(
            self.task,
            total=st.total_steps,
            completed=st.step,
            info=self._info(),
            eta=format_duration(eta),
        )


def follow_run(run: Any, *, proc: Any = None, offset: int = 0, cancel_on_interrupt: bool = True) -> str:
    """Shows a run's events from `offset` until it ends; returns the final status.

    Liveness and status come from `core.runstate.RunFollower` (the run lock), the same rule as
    every other view; `proc` (the launch handle) only adds the exit code to a killed run's
    message. Ctrl-C: with `cancel_on_interrupt`, asks the run to checkpoint and stop, then keeps
    following; a second Ctrl-C (or the first, without it) stops following.
    """
    from bnner_tui.core.runstate import RunFollower
    from bnner_tui.core.train.launch import cancel

    follower = RunFollower(run, offset=offset)
    cancelling = False
    new_events = 0
    with _View(run, follower.state) as view, _Interrupts() as interrupts:
        while True:
            try:
                if interrupts.take():
                    raise KeyboardInterrupt
                events = follower.poll()
                new_events += len(events)
                for ev in events:
                    view.handle(ev)
                view.update()
                if follower.done:
                    break
                if not events:
                    interrupts.wait(0.2)
            except KeyboardInterrupt:
                if not cancel_on_interrupt or cancelling:
                    view.say(
                        "Stopped following; the run goes on in the background. Re-attach with:"
                        f" bnner-tui follow {run.name} --root {escape(str(run.path.parent))}"
                    )
                    return "detached"
                cancelling = True
                try:
                    cancel(run)
                    view.say(
                        "[yellow]Cancelling:[/] the run finishes its step and saves a checkpoint"
                        " (Ctrl-C again to stop waiting)."
                    )
                except BnnerError as err:
                    view.say(escape(str(err)))
        state = follower.state
        # A process started at `offset` that died before writing anything has not ended the run
        # the way the earlier terminal event says: it was killed.
        if state.status == "killed" or (offset and not new_events):
            if proc is not None:
                proc.poll()
            code = proc.returncode if proc is not None else None
            view.say(
                f"[red]The training process exited{f' with code {code}' if code is not None else ''}"
                f" without a final event.[/] Last lines of {escape(str(run.log_path))}:"
            )
            for line in _log_tail(run.log_path, 12):
                view.say(f"  {escape(line)}")
            return "killed"
    _wait_exit(run, proc, 30.0)  # after its final event the process still closes files and exits
    return _report_end(run, state)


class _Interrupts:
    """Ctrl-C while following, counted by a signal handler instead of raised at a random point.

    A KeyboardInterrupt raised anywhere (inside Rich's live display, holding its lock) could
    leave the display wedged, and the follower then hung instead of cancelling the run. In the
    main thread the handler only counts; the loop acts on the count between polls. Elsewhere
    (no signal handlers there) Ctrl-C still arrives as KeyboardInterrupt.
    """

    def __init__(self) -> None:
        import threading

        self._event = threading.Event()
        self._count = 0
        self._previous: Any = None
        self._installed = False

    def __enter__(self) -> _Interrupts:
        import signal
        import threading

        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handle)
            self._installed = True
        return self

    def __exit__(self, *exc: object) -> None:
        import signal

        if self._installed:
            signal.signal(signal.SIGINT, self._previous)

    def _handle(self, signum: int, frame: Any) -> None:
        self._count += 1
        self._event.set()

    def take(self) -> bool:
        """Whether Ctrl-C was pressed since the last call (one press each call)."""
        if self._count == 0:
            return False
        self._count -= 1
        if self._count == 0:
            self._event.clear()
        return True

    def wait(self, timeout: float) -> None:
        """Sleep up to `timeout`, waking at once on Ctrl-C."""
        self._event.wait(timeout)


def _wait_exit(run: Any, proc: Any, timeout: float) -> None:
    """After a terminal event the process still closes files and exits; wait for it (bounded)."""
    import subprocess

    from bnner_tui.core.train.launch import wait_for_exit

    if proc is not None:
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            pass
    else:
        wait_for_exit(run, timeout)


def _log_tail(path: Path, n: int) -> list[str]:
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return []
    return [ln for ln in lines if ln.strip()][-n:]


def _report_end(run: Any, state: Any) -> str:
    ev = state.terminal
    if isinstance(ev, Finished):
        metrics = run.metrics() or {}
        config_split = "validation"
        try:
            config_split = run.load_config().eval_split
        except BnnerError:
            pass
        splits = metrics.get("splits") or {}
        split = config_split if config_split in splits else next(iter(splits), None)
        took = format_duration(state.duration_s())
        console.print(f"[green]Finished[/] at step {ev.step if ev.step is not None else state.step} in {took}.")
        if split is not None:
            print_scores(splits[split], split=split)
        elif state.last_eval is not None:
            print_scores(_eval_entry(state.last_eval), split=state.last_eval.split or "validation")
        else:
            why = metrics.get("not_scored") or "the data has no labelled evaluation split"
            console.print(f"[yellow]Nothing was scored:[/] {why}.")
        best = metrics.get("best") or {}
        if isinstance(best.get("f1"), (int, float)):
            console.print(f"Best word-level F1 {number(best['f1'])} at step {best.get('step')}.")
        model_dir = Path(ev.model_dir or run.model_dir)
        if (model_dir / "config.json").is_file():  # never name a file that was not written
            console.print(f"Model: {escape(str(model_dir))}")
        metrics_path = Path(ev.metrics_path or run.metrics_path)
        if metrics_path.is_file():
            console.print(f"Metrics: {escape(str(metrics_path))}")
        if metrics.get("wandb_dir"):
            wdir = escape(str(metrics["wandb_dir"]))
            console.print(f"W&B offline run: {wdir} (upload with: wandb sync {wdir})")
        return "finished"
    if isinstance(ev, Cancelled):
        console.print(
            f"[yellow]Cancelled[/] at step {ev.step if ev.step is not None else state.step};"
            f" checkpoint {escape(ev.checkpoint or NO_VALUE)}."
            f" Resume with: bnner-tui train --resume {run.name} --output-root {escape(str(run.path.parent))}"
        )
        return "cancelled"
    if isinstance(ev, Failed):
        console.print(f"[bold red]Failed:[/] {escape(ev.reason)}")
        console.print(f"Full details in {escape(str(run.log_path))}")
        return "failed"
    return "killed"


def _eval_entry(ev: Eval) -> dict[str, Any]:
    """An eval event in metrics.json's split-entry shape (what `print_scores` reads)."""
    from dataclasses import asdict

    return {
        "loss": ev.loss,
        "overall": asdict(ev.overall),
        "per_type": {name: asdict(row) for name, row in ev.per_type.items()},
        "piece_level": asdict(ev.piece_level) if ev.piece_level is not None else None,
    }
