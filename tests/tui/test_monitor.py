"""The run monitor's process numbers (CPU, RAM) and its log panel, on real files and a real process."""

from __future__ import annotations

from pathlib import Path

from pilot_helpers import wait_for
from textual.app import App, ComposeResult
from textual.widgets import Log, Static

from bnner_tui.core.events import EventWriter
from bnner_tui.core.runs import RunLock
from bnner_tui.tui.widgets.monitor import RunMonitor
from bnner_tui.tui.widgets.monitor.monitor import LogFilter

TRAIN_LOG = """\
2026-12-01 11:04:04,100 INFO bnner_tui.train: model: offline small BERT: chosen explicitly (model = offline)
2026-12-01 11:04:16,713 INFO transformers.training_args: PyTorch: setting up devices
2026-12-01 11:04:19,702 INFO transformers.trainer: ***** Running training *****
2026-12-01 11:04:19,702 INFO transformers.trainer:   Num examples = 10,000
2026-12-01 11:07:43,082 INFO transformers.trainer:\x20
***** Running Evaluation *****
2026-12-01 11:07:54,503 INFO transformers.configuration_utils: Configuration saved in /x/checkpoint-625/config.json
2026-12-01 11:07:55,000 WARNING py.warnings: /x/trainer.py:12: UserWarning: something the user should see
2026-12-01 11:08:00,000 INFO bnner_tui.train: validation: word-level F1 0.412 at step 625
2026-12-01 11:08:01,000 ERROR bnner_tui.train: Training failed with RuntimeError: boom (see train.log).
Traceback (most recent call last):
  File "x.py", line 1, in <module>
RuntimeError: boom
"""


def test_log_panel_leads_with_the_run_s_own_lines() -> None:
    shown = LogFilter().feed(TRAIN_LOG.splitlines())
    assert shown[0] == "11:04:04 model: offline small BERT: chosen explicitly (model = offline)"
    boilerplate = ("Running training", "Num examples", "Running Evaluation", "setting up devices")
    assert not any(b in line for b in boilerplate for line in shown)
    assert not any("Configuration saved" in line for line in shown)
    assert "11:08:00 validation: word-level F1 0.412 at step 625" in shown
    assert any("WARNING py.warnings" in line and "UserWarning" in line for line in shown)
    assert any("ERROR bnner_tui.train" in line for line in shown)
    assert shown[-1].strip() == "RuntimeError: boom"  # a record's traceback follows it
    # Lines outside any record (a print, a crash's stderr) are shown.
    assert LogFilter().feed(["loading data"]) == ["loading data"]


class MonitorApp(App[None]):
    def compose(self) -> ComposeResult:
        yield RunMonitor(id="monitor", curve_interval=0.0)


async def test_cpu_run_shows_cpu_and_ram_not_only_gpu_dashes(tmp_path: Path) -> None:
    """A CPU run: the stats line shows the training process's CPU and RAM (this process holds the lock)."""
    run = tmp_path / "run-cpu"
    lock = RunLock(run).acquire()
    try:
        writer = EventWriter(run / "events.jsonl")
        writer.emit("started", model="offline small BERT: test", device="cpu", precision="fp32", total_steps=10)
        writer.emit("step", step=1, total_steps=10, loss=1.0, gpu_memory_mb=None)
        (run / "train.log").write_text(TRAIN_LOG, encoding="utf-8")
        app = MonitorApp()
        async with app.run_test(size=(160, 40)) as pilot:
            mon = app.query_one(RunMonitor)
            mon.attach(run)
            stats = mon.query_one("#mon-stats", Static)
            await wait_for(pilot, lambda: "RAM" in str(stats.render()), timeout=30)
            text = str(stats.render())
            assert "CPU " in text and "%" in text and ("MB" in text or "GB" in text)
            assert "GPU mem" not in text
            log = mon.query_one("#mon-log", Log)
            await wait_for(pilot, lambda: len(log.lines) > 0, timeout=30)
            assert str(log.lines[0]).startswith("11:04:04 model: offline small BERT")
            # The run ends: no numbers of a process that is gone.
            writer.emit("finished", step=10, best_f1=0.1, duration_s=1.0)
            writer.close()
            lock.release()
            await wait_for(pilot, lambda: mon.state.status == "finished" and "RAM" not in str(stats.render()))
    finally:
        lock.release()


def test_fit_lines_keeps_the_first_parts_and_leaves_out_whole_parts() -> None:
    from rich.cells import cell_len

    from bnner_tui.tui.widgets.monitor.monitor import fit_lines

    parts = ["step 30/100", "ETA 1m02s", "best F1 0.680", "epoch 1.20", "1,234.5 samples/s", "RAM 1.2 GB"]
    text = fit_lines(parts, 30)
    lines = text.split("\n")
    assert len(lines) == 2 and all(cell_len(line) <= 30 for line in lines)
    assert lines[0] == "step 30/100 · ETA 1m02s" and "best F1 0.680" in lines[1]
    assert "samples" not in text  # a part that does not fit is left out whole, never cut
    assert fit_lines(parts, 500) == " · ".join(parts)
