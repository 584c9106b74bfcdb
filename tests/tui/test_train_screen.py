"""The Train screen and its live monitor, driven with Textual's Pilot.

The monitor is fed only by a run's files, so these tests write a real events.jsonl with the
real `EventWriter` (what the training process uses) and a real train.log, then watch the
widgets pick them up.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import stand_in
from pilot_helpers import wait_for
from textual.app import App, ComposeResult
from textual.widgets import DataTable, Log, ProgressBar, Static

from bnner_tui.core.events import Event, EventWriter, parse_event
from bnner_tui.core.runstate import RunState
from bnner_tui.tui.widgets.monitor import CurvePlot, RunMonitor

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


def _typed(*lines: dict) -> list[Event]:
    events = [parse_event(line) for line in lines]
    assert all(e is not None for e in events), lines
    return events  # type: ignore[return-value]


def test_state_folds_a_burst_into_the_newest_values() -> None:
    st = RunState()
    events = _typed(
        *(
            {"type": "step", "time": 1000.0 + i, "step": i, "loss": 1.0, "learning_rate": 0.1, "total_steps": 50}
            for i in range(1, 41)
        )
    )
    changed = st.apply_all(events)
    assert st.step == 40 and st.total_steps == 50
    assert len(st.loss) == 40
    assert "progress" in changed and "curves" in changed
    # 39 steps in 39 s since the first step event, 10 to go: 10 s.
    assert abs(st.eta_seconds() - 10.0) < 1e-6


def test_eta_right_after_a_resume_uses_only_the_resumed_process_speed() -> None:
    """The resumed process spends its first minute loading; its steps then come at 1 per second.
    The ETA must come from those steps only: not from the first process, not from its start-up."""
    st = RunState()
    st.apply_all(
        _typed(
            {"type": "started", "time": 0.0, "total_steps": 300},
            *({"type": "step", "time": 10.0 * s, "step": s, "total_steps": 300} for s in range(1, 11)),
            {"type": "cancelled", "time": 101.0, "step": 10, "checkpoint": "c"},
            {"type": "resumed", "time": 5000.0, "from_step": 10, "checkpoint": "c"},
            {"type": "step", "time": 5060.0, "step": 12, "total_steps": 300},
        )
    )
    assert st.status == "running" and st.eta_seconds() is None  # one step of this process: no rate yet
    st.apply_all(_typed(*({"type": "step", "time": 5060.0 + s, "step": 12 + s, "total_steps": 300} for s in (1, 2))))
    assert st.eta_seconds() == pytest.approx(286.0)  # 1 step/s, 286 steps to go
    # Duration: the first process's 101 s + this one's 62 s so far; the pause is not counted.
    assert st.duration_s() == pytest.approx(163.0)


def test_state_failed_then_resumed_clears_the_reason() -> None:
    st = RunState()
    st.apply_all(_typed({"type": "started", "time": 0.0, "total_steps": 100, "model": "m: why"}))
    st.apply_all(_typed({"type": "step", "time": 10.0, "step": 10, "total_steps": 100}))
    st.apply_all(_typed({"type": "failed", "time": 11.0, "reason": "Out of GPU memory at batch size 64."}))
    assert st.status == "failed" and st.status_reason.startswith("Out of GPU memory") and st.eta_seconds() is None
    assert st.model == "m: why"
    st.apply_all(_typed({"type": "resumed", "time": 3611.0, "from_step": 10}))
    assert st.status == "running" and st.status_reason is None


def test_state_tolerates_nulls() -> None:
    st = RunState()
    st.apply_all(_typed({"type": "step", "step": 3, "loss": None}, {"type": "eval", "step": 3}))
    assert st.step == 3 and st.loss == [] and st.events_seen == 2 and st.overall is not None


@pytest.fixture
def live(tmp_path: Path) -> Iterator[Callable[[Path], None]]:
    """Holds runs' locks as their training processes would (the monitor follows liveness too)."""
    from bnner_tui.core.runs import RunLock

    locks: list[RunLock] = []

    def hold(run: Path) -> None:
        locks.append(RunLock(run).acquire())

    yield hold
    for lock in locks:
        lock.release()


async def test_monitor_follows_a_growing_events_file(tmp_path: Path, live: Callable[[Path], None]) -> None:
    run = tmp_path / "run-a"
    writer = EventWriter(run / "events.jsonl")
    live(run)
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


async def test_charts_redraw_at_most_once_per_interval(tmp_path: Path, live: Callable[[Path], None]) -> None:
    """Charts are the costly part: many polls with new steps cost one chart redraw per interval."""
    run = tmp_path / "run-c"
    writer = EventWriter(run / "events.jsonl")
    live(run)
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


async def test_paused_monitor_reads_nothing_then_catches_up_in_one_update(
    tmp_path: Path, live: Callable[[Path], None]
) -> None:
    run = tmp_path / "run-d"
    writer = EventWriter(run / "events.jsonl")
    live(run)
    _started(writer, total=100)
    app = MonitorApp()
    async with app.run_test(size=(120, 40)) as pilot:
        mon = app.query_one(RunMonitor)
        mon.attach(run)
        mon.pause_polling()
        polls = mon.polls
        for s in range(1, 51):
            _step(writer, s)
        ticks: list[int] = []
        app.set_interval(mon.poll_interval, lambda: ticks.append(1))
        await wait_for(pilot, lambda: len(ticks) >= 3)  # three poll intervals: nothing is read while paused
        assert mon.polls == polls and mon.state.step == 0
        updates = mon.updates
        mon.resume_polling()
        assert mon.state.step == 50 and len(mon.state.loss) == 50
        assert mon.updates == updates + 1
    writer.close()


async def test_monitor_timer_picks_up_events_without_explicit_polls(
    tmp_path: Path, live: Callable[[Path], None]
) -> None:
    run = tmp_path / "run-b"
    writer = EventWriter(run / "events.jsonl")
    live(run)
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
        await wait_for(pilot, lambda: mon.state.status == "finished")
        assert mon.state.step == 10
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
        # The events alone say "running"; the free lock says otherwise, decided at the first read.
        assert mon.state.event_status == "step" and mon.state.status == "killed"
        await wait_for(pilot, lambda: "without a final event" in str(mon.query_one("#mon-header", Static).render()))
        await wait_for(pilot, lambda: not screen.query_one("#resume", Button).disabled, timeout=30)
        assert screen.query_one("#cancel", Button).disabled


async def test_cancel_and_resume_keys_work_while_a_form_field_has_focus(tmp_path: Path) -> None:
    """ctrl+g (Cancel) and ctrl+r (Resume) reach the screen with the cursor in a form Input, and
    the footer shows them there; the Input keeps its own ctrl+k and ctrl+u."""
    from textual.widgets import Button, Input

    root = tmp_path / "runs"
    # The resume is refused in its preflight (the data folder is gone): the refusal proves the key
    # reached the action, and shows the one worker-error handler at work.
    run = stand_in.make_run(root, "stand-in", data=str(tmp_path / "gone"))
    proc = stand_in.start(run)
    try:
        app = TrainApp(root)
        async with app.run_test(size=(140, 40), notifications=True) as pilot:
            screen = app.screen
            await wait_for(pilot, lambda: screen.run_dir == run)  # re-attached: it is running
            mon = screen.query_one(RunMonitor)
            await wait_for(pilot, lambda: mon.state.step == 1)
            field = screen.query_one("#f-seed", Input)
            field.focus()
            await pilot.pause()
            assert app.focused is field
            # What the footer draws: the active bindings with focus in the Input.
            shown = {key for key, active in screen.active_bindings.items() if active.binding.show}
            assert {"ctrl+l", "ctrl+g", "ctrl+r"} <= shown, shown

            await pilot.press("ctrl+g")
            await wait_for(pilot, lambda: mon.state.status == "cancelled", timeout=60)
            assert proc.wait(timeout=30) == 0
            assert app.focused is field
            await wait_for(pilot, lambda: not screen.query_one("#resume", Button).disabled)

            await pilot.press("ctrl+r")
            await wait_for(
                pilot, lambda: any("does not exist" in str(n.message) for n in app._notifications), timeout=60
            )
            # The failed worker put the controls back: Resume can be tried again.
            await wait_for(pilot, lambda: not screen.query_one("#resume", Button).disabled)

            # The text box's own keys are untouched: ctrl+u still deletes to the line start.
            field.value = "12345"
            field.cursor_position = 5
            await pilot.press("ctrl+u")
            assert field.value == ""
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()


# --------------------------------------------------------------------------------------------
# Model auto without the Hub: the screen asks before a random-init run (core decides, see
# core.train.models.check_random_init).


@pytest.fixture
def no_mbert(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An empty HF cache for this process and the training process it launches (HF_HUB_OFFLINE=1 is set)."""
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty-hf-cache"))
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_CACHE", str(tmp_path / "empty-hf-cache"))


async def _tutorial_form(pilot, screen, run_name: str, **values: str) -> None:
    from textual.widgets import Input, Select

    screen.query_one("#preset", Select).value = "tutorial"
    await wait_for(pilot, lambda: screen.query_one("#f-learning_rate", Input).value == "2e-05")
    tiny = {
        "max_steps": "1",
        "offline_hidden_size": "32",
        "offline_layers": "1",
        "offline_heads": "2",
        "offline_vocab_size": "500",
        "eval_every": "1",
        "save_every": "1",
        "run_name": run_name,
        **values,
    }
    for key, value in tiny.items():
        screen.query_one(f"#f-{key}", Input).value = value
    await wait_for(pilot, lambda: screen.config is not None and screen.config.run_name == run_name)
    assert screen.config.model == "auto"


async def test_escape_on_the_random_init_question_starts_nothing(tmp_path: Path, no_mbert: None) -> None:
    from textual.widgets import Button

    from bnner_tui.tui.screens.train import RandomInitDialog

    root = tmp_path / "runs"
    app = TrainApp(root)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        screen = app.screen
        await _tutorial_form(pilot, screen, "not-this")
        await pilot.press("ctrl+l")
        await wait_for(pilot, lambda: isinstance(app.screen, RandomInitDialog))
        dialog = app.screen
        text = " ".join(str(s.render()) for s in dialog.query(Static))
        assert "randomly initialised small BERT (1 layer, hidden size 32), not bert-base-multilingual-cased" in text
        assert "Hugging Face Hub is unreachable (HF_HUB_OFFLINE is set)" in text
        assert "F1 near 0.000" in text and "go online" in text
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is screen)
        await wait_for(pilot, lambda: any("Not launched" in str(n.message) for n in app._notifications))
        assert not screen.query_one("#launch", Button).disabled
        assert screen.run_dir is None and not (root / "not-this").exists()


@pytest.mark.slow
async def test_ctrl_l_in_a_form_field_asks_about_random_init_and_enter_trains_a_real_run_to_the_end(
    tmp_path: Path, no_mbert: None
) -> None:
    """The one real-process test of this screen: ctrl+l from a form field, the question (model
    auto, no Hub, no cached mBERT), Enter trains anyway, and the monitor follows the real run to
    `finished`. Cancel/resume of a real process: tests/train/test_process.py."""
    from textual.widgets import Input

    from bnner_tui.tui.screens.train import RandomInitDialog

    root = tmp_path / "runs"
    run = root / "anyway"
    app = TrainApp(root)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = app.screen
        steps = {"max_steps": "6", "eval_every": "6", "save_every": "6", "logging_steps": "2"}
        await _tutorial_form(pilot, screen, "anyway", **steps)
        screen.query_one("#f-run_name", Input).focus()
        await pilot.press("ctrl+l")
        await wait_for(pilot, lambda: isinstance(app.screen, RandomInitDialog))
        await pilot.press("enter")
        await wait_for(pilot, lambda: screen.run_dir == run, timeout=30)
        mon = screen.query_one(RunMonitor)
        await wait_for(pilot, lambda: mon.state.status == "finished", timeout=240)
        assert mon.state.step == 6 and mon.state.total_steps == 6 and mon.state.loss
        assert "offline small BERT" in (mon.state.model or "")  # what the question said would train
        assert mon.query_one("#mon-entities", DataTable).row_count >= 2
        assert (run / "model" / "config.json").exists()
