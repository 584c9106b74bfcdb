"""The Train screen and its live monitor, driven with Textual's Pilot.

The monitor is fed only by a run's files, so these tests write a real events.jsonl with the
real `EventWriter` (what the training process uses) and a real train.log, then watch the
widgets pick them up.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from pilot_helpers import wait_for
from textual.app import App, ComposeResult
from textual.widgets import DataTable, Log, ProgressBar, Static

from bnner_tui.core.events import EventWriter
from bnner_tui.tui.widgets.monitor import CurvePlot, RunMonitor
from bnner_tui.tui.widgets.monitor.state import MonitorState

PER_TYPE = {
    "LOC": {"precision": 0.5, "recall": 0.4, "f1": 0.444, "support": 10},
    "ORG": {"precision": 0.2, "recall": 0.1, "f1": 0.133, "support": 5},
    "PER": {"precision": 0.7, "recall": 0.6, "f1": 0.646, "support": 8},
}


def _started(w: EventWriter, total: int = 100) -> None:
    w.emit(
        "started",
        config={"data": "demo"},
        model="offline small BERT: test",
        device="cpu",
        precision="fp32",
        dataset_sizes={"train": 80, "validation": 20},
        label_names=["O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC"],
        total_steps=total,
        nproc=1,
    )


def _step(w: EventWriter, step: int, total: int = 100) -> None:
    w.emit(
        "step",
        step=step,
        epoch=step / 10,
        loss=2.0 / step,
        learning_rate=1e-3 * (1 - step / total),
        grad_norm=1.0,
        samples_per_second=50.0 + step,
        tokens_per_second=900.0,
        gpu_memory_mb=None,
        total_steps=total,
    )


class MonitorApp(App):
    def __init__(self, curve_interval: float = 0.0) -> None:
        super().__init__()
        self.curve_interval = curve_interval

    def compose(self) -> ComposeResult:
        yield RunMonitor(id="monitor", curve_interval=self.curve_interval)


def test_state_folds_a_burst_into_the_newest_values() -> None:
    st = MonitorState()
    events = [
        {"type": "step", "time": 1000.0 + i, "step": i, "loss": 1.0, "learning_rate": 0.1, "total_steps": 50}
        for i in range(1, 41)
    ]
    changed = st.apply(events)
    assert st.step == 40 and st.total_steps == 50
    assert len(st.loss) == 40
    assert "progress" in changed and "curves" in changed
    # 39 steps in 39 s since the first step event, 10 to go: 10 s.
    assert abs(st.eta_seconds() - 10.0) < 1e-6


def test_state_failed_then_resumed_restarts_the_eta_clock() -> None:
    st = MonitorState()
    st.apply([{"type": "started", "time": 0.0, "total_steps": 100, "model": {"name": "m", "reason": "why"}}])
    st.apply([{"type": "step", "time": 10.0, "step": 10, "total_steps": 100}])
    st.apply([{"type": "failed", "time": 11.0, "reason": "Out of GPU memory at batch size 64."}])
    assert st.status == "failed" and st.reason.startswith("Out of GPU memory") and st.eta_seconds() is None
    assert st.model == "m: why"
    # An hour later it is resumed: the pause must not count as training time.
    st.apply([{"type": "resumed", "time": 3611.0, "from_step": 10}])
    st.apply([{"type": "step", "time": 3621.0, "step": 20, "total_steps": 100}])
    assert st.status == "running" and st.reason is None
    assert st.eta_seconds() == pytest.approx(80.0)  # 10 steps per 10 s, 80 steps to go


def test_state_tolerates_nulls_and_unknown_events() -> None:
    st = MonitorState()
    st.apply(
        [{"type": "step", "step": 3, "loss": None}, {"type": "future-kind", "x": 1}, {"type": "eval", "overall": None}]
    )
    assert st.step == 3 and st.loss == [] and st.events_seen == 3


async def test_monitor_follows_a_growing_events_file(tmp_path: Path) -> None:
    run = tmp_path / "run-a"
    writer = EventWriter(run / "events.jsonl")
    _started(writer)
    (run / "train.log").write_text("loading data\nbuilding model\n", encoding="utf-8")
    app = MonitorApp()
    async with app.run_test(size=(120, 40)) as pilot:
        mon = app.query_one(RunMonitor)
        mon.attach(run)
        await pilot.pause()
        assert mon.state.status == "running"
        assert "offline small BERT" in str(mon.query_one("#mon-header", Static).render())

        for s in range(1, 31):
            _step(writer, s)
        writer.emit(
            "eval",
            step=30,
            epoch=3.0,
            split="validation",
            loss=0.9,
            overall={"precision": 0.5, "recall": 0.4, "f1": 0.45, "accuracy": 0.9},
            per_type=PER_TYPE,
        )
        with open(run / "train.log", "a", encoding="utf-8") as fh:
            fh.write("step 30 done\n")
        updates_before = mon.updates
        arrived = mon.poll()
        # The whole burst (30 steps + 1 eval) became ONE update.
        assert arrived == 31
        assert mon.updates == updates_before + 1
        await pilot.pause()
        assert mon.state.step == 30
        bar = mon.query_one("#mon-bar", ProgressBar)
        assert bar.total == 100 and bar.progress == 30
        stats = str(mon.query_one("#mon-stats", Static).render())
        assert "step 30/100" in stats and "80.0 samples/s" in stats
        table = mon.query_one("#mon-entities", DataTable)
        assert table.row_count == 4
        assert table.get_row("PER")[3] == "0.646"
        assert [s.label for s in mon.query_one("#mon-f1", CurvePlot).series] == ["overall", "LOC", "ORG", "PER"]
        assert len(mon.query_one("#mon-loss", CurvePlot).series[0].x) == 30
        # Log lines are appended at most once a second (each append costs a layout pass).
        log = mon.query_one("#mon-log", Log)
        await wait_for(pilot, lambda: list(log.lines)[-1:] == ["step 30 done"], timeout=30)
        assert log.lines[0] == "loading data"

        # A half-written line is not shown until it is complete.
        with open(run / "events.jsonl", "a", encoding="utf-8") as fh:
            fh.write('{"v":1,"seq":99,"type":"step","step":31')
        assert mon.poll() == 0
        with open(run / "events.jsonl", "a", encoding="utf-8") as fh:
            fh.write(',"total_steps":100}\n')
        assert mon.poll() == 1 and mon.state.step == 31
        writer.close()
        writer = EventWriter(run / "events.jsonl")
        writer.emit("cancelled", step=31, checkpoint=str(run / "checkpoints" / "checkpoint-31"))
        mon.poll()
        await pilot.pause()
        assert mon.state.status == "cancelled"
        assert "cancelled" in str(mon.query_one("#mon-header", Static).render())
    writer.close()


async def test_charts_redraw_at_most_once_per_interval(tmp_path: Path) -> None:
    """Charts are the costly part: many polls with new steps cost one chart redraw per interval."""
    run = tmp_path / "run-c"
    writer = EventWriter(run / "events.jsonl")
    _started(writer, total=100)
    app = MonitorApp(curve_interval=60.0)
    async with app.run_test(size=(120, 40)) as pilot:
        mon = app.query_one(RunMonitor)
        mon.attach(run)
        plot = mon.query_one("#mon-loss", CurvePlot)
        drawn = plot.redraws
        for s in range(1, 21):
            _step(writer, s)
            assert mon.poll() == 1
        await pilot.pause()
        assert plot.redraws == drawn and mon.state.step == 20  # progress moved, charts waited
        writer.emit("finished", step=20, best_f1=None, duration_s=1.0)
        mon.poll()
        assert plot.redraws == drawn + 1 and len(plot.series[0].x) == 20  # the end is drawn at once
    writer.close()


async def test_paused_monitor_reads_nothing_then_catches_up_in_one_update(tmp_path: Path) -> None:
    run = tmp_path / "run-d"
    writer = EventWriter(run / "events.jsonl")
    _started(writer, total=100)
    app = MonitorApp()
    async with app.run_test(size=(120, 40)) as pilot:
        mon = app.query_one(RunMonitor)
        mon.attach(run)
        mon.pause_polling()
        polls = mon.polls
        for s in range(1, 51):
            _step(writer, s)
        await pilot.pause(0.8)  # three poll intervals: nothing is read while paused
        assert mon.polls == polls and mon.state.step == 0
        updates = mon.updates
        mon.resume_polling()
        assert mon.state.step == 50 and len(mon.state.loss) == 50
        assert mon.updates == updates + 1
    writer.close()


async def test_monitor_timer_picks_up_events_without_explicit_polls(tmp_path: Path) -> None:
    run = tmp_path / "run-b"
    writer = EventWriter(run / "events.jsonl")
    app = MonitorApp()
    async with app.run_test(size=(120, 40)) as pilot:
        mon = app.query_one(RunMonitor)
        mon.attach(run)
        _started(writer, total=10)
        for s in range(1, 11):
            _step(writer, s, total=10)
        writer.emit(
            "finished",
            step=10,
            best_f1=0.5,
            model_dir=str(run / "model"),
            metrics_path=str(run / "metrics.json"),
            duration_s=12.0,
        )
        for _ in range(40):
            await pilot.pause(0.05)
            if mon.state.status == "finished":
                break
        assert mon.state.status == "finished" and mon.state.step == 10
    writer.close()


# --------------------------------------------------------------------------------------------
# The Train screen inside a minimal app (the real BnnerApp registers the same screen).


class TrainApp(App):
    def __init__(self, runs_root: Path) -> None:
        super().__init__()
        self.runs_root = runs_root

    def on_mount(self) -> None:
        from bnner_tui.tui.screens.train import TrainScreen

        self.push_screen(TrainScreen(self.runs_root))


async def test_form_shows_inline_errors_and_blocks_launch(tmp_path: Path) -> None:
    from textual.widgets import Button, Input, Select

    app = TrainApp(tmp_path / "runs")
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.screen
        await pilot.pause()
        assert not screen.query_one("#launch", Button).disabled
        assert screen.config is not None and screen.config.preset == "cpu-demo"

        lr = screen.query_one("#f-learning_rate", Input)
        lr.value = "-1"
        bs = screen.query_one("#f-batch_size", Input)
        bs.value = "sixteen"
        await pilot.pause()
        assert screen.query_one("#launch", Button).disabled
        assert "learning_rate must be > 0" in str(screen.query_one("#e-learning_rate", Static).render())
        assert "batch_size" in str(screen.query_one("#e-batch_size", Static).render())
        assert "2 problem(s)" in str(screen.query_one("#form-errors", Static).render())

        lr.value = "0.001"
        bs.value = "8"
        await pilot.pause()
        assert not screen.query_one("#launch", Button).disabled
        assert screen.config.learning_rate == 1e-3 and screen.config.batch_size == 8
        assert screen.config.output_root == str(tmp_path / "runs")

        # A preset fills the form with its values.
        screen.query_one("#preset", Select).value = "tutorial"
        await pilot.pause()
        assert screen.query_one("#f-learning_rate", Input).value == "2e-05"
        assert screen.query_one("#f-precision", Select).value == "fp32"
        assert screen.config.epochs == 7.0


async def test_reattaches_to_a_running_run_on_mount(tmp_path: Path) -> None:
    from bnner_tui.core.config import TrainConfig
    from bnner_tui.core.runs import RunLock

    root = tmp_path / "runs"
    run = root / "still-going"
    run.mkdir(parents=True)
    TrainConfig(run_name="still-going", output_root=str(root)).to_toml(run / "config.toml")
    writer = EventWriter(run / "events.jsonl")
    _started(writer, total=50)
    for s in range(1, 6):
        _step(writer, s, total=50)
    lock = RunLock(run).acquire()  # a live process holds this lock while it trains
    try:
        app = TrainApp(root)
        async with app.run_test(size=(120, 40)) as pilot:
            screen = app.screen
            await wait_for(pilot, lambda: screen.run_dir == run, timeout=30)
            mon = screen.query_one(RunMonitor)
            await wait_for(pilot, lambda: mon.state.step == 5, timeout=30)
            # Attached from the first event: the whole history is on the curves.
            assert mon.state.loss_steps == [1, 2, 3, 4, 5]
            from textual.widgets import Button

            assert not screen.query_one("#cancel", Button).disabled
            _step(writer, 6, total=50)
            await wait_for(pilot, lambda: mon.state.step == 6, timeout=30)
    finally:
        lock.release()
        writer.close()


async def test_a_run_that_died_without_a_final_event_shows_killed(tmp_path: Path) -> None:
    from textual.widgets import Button

    from bnner_tui.core.config import TrainConfig

    root = tmp_path / "runs"
    run = root / "died"
    run.mkdir(parents=True)
    TrainConfig(run_name="died", output_root=str(root)).to_toml(run / "config.toml")
    with EventWriter(run / "events.jsonl") as writer:
        _started(writer, total=50)
        _step(writer, 1, total=50)
    app = TrainApp(root)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.screen
        await pilot.pause()
        assert screen.run_dir is None  # not running: no automatic re-attach
        screen.watch_run(run)
        mon = screen.query_one(RunMonitor)
        assert mon.state.status == "running"  # what the events alone say
        await wait_for(pilot, lambda: mon.state.status == "killed", timeout=30)  # the free lock says otherwise
        assert "without a final event" in str(mon.query_one("#mon-header", Static).render())
        await wait_for(pilot, lambda: not screen.query_one("#resume", Button).disabled, timeout=30)
        assert screen.query_one("#cancel", Button).disabled


@pytest.mark.slow
async def test_launch_watch_cancel_and_resume_a_real_run(tmp_path: Path) -> None:
    """The whole loop on the demo set: launch from the form, see events arrive, close the app
    (the run goes on), reopen it (it re-attaches), cancel, resume, finish."""
    from textual.widgets import Button, Input

    from bnner_tui.core.runs import run_status

    root = tmp_path / "runs"
    run = root / "tui-run"
    app = TrainApp(root)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.screen
        await pilot.pause()
        tiny = {
            "max_steps": "60",
            "offline_hidden_size": "32",
            "offline_layers": "1",
            "offline_heads": "2",
            "offline_vocab_size": "500",
            "eval_every": "10",
            "save_every": "10",
            "logging_steps": "2",
            "run_name": "tui-run",
        }
        for key, value in tiny.items():
            screen.query_one(f"#f-{key}", Input).value = value
        await pilot.pause()
        assert screen.config is not None, screen.problems
        await pilot.click("#launch")
        await wait_for(pilot, lambda: screen.run_dir == run, timeout=30)
        mon = screen.query_one(RunMonitor)
        await wait_for(pilot, lambda: mon.state.status == "running" and mon.state.step >= 2, timeout=60)
        assert mon.state.total_steps == 60 and mon.state.loss
        assert "offline" in (mon.state.model or "")

    # The app is closed; the training process is not.
    assert run_status(run) == "running"

    app = TrainApp(root)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.screen
        await wait_for(pilot, lambda: screen.run_dir == run, timeout=30)  # re-attached on its own
        mon = screen.query_one(RunMonitor)
        await wait_for(pilot, lambda: mon.state.step >= 4, timeout=60)
        assert mon.state.loss_steps[0] == 1  # tailed from the start: the history is there

        # Cancel: the process checkpoints and records `cancelled`.
        await wait_for(pilot, lambda: not screen.query_one("#cancel", Button).disabled, timeout=30)
        await pilot.click("#cancel")
        await wait_for(pilot, lambda: mon.state.status == "cancelled", timeout=60)
        assert mon.state.step < 60
        await wait_for(pilot, lambda: not screen.query_one("#resume", Button).disabled, timeout=30)

        # Resume at once (the process may still be exiting): it continues to the configured steps.
        await pilot.click("#resume")
        await wait_for(pilot, lambda: mon.state.status == "finished", timeout=120)
        assert mon.state.step == 60
        assert mon.state.eval_steps and mon.state.eval_steps[-1] == 60
        assert mon.query_one("#mon-entities", DataTable).row_count >= 2
        assert (run / "model" / "config.json").exists()
        assert any("resumed" in m for m in mon.state.messages)
