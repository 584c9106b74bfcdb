"""How much does watching a run slow the training? Target: at most 2% of throughput.

Runs the same short training (cpu-demo preset on the demo set, small offline BERT, fixed
step count, no mid-run eval or save) several times, alternating:
- unwatched: the training subprocess alone, this process just waits for it;
- watched: the same, with the TUI's `RunMonitor` attached in a headless Textual app
  (`App.run_test`) in this process, polling events.jsonl and train.log and redrawing
  progress, curves and table, exactly as the Train screen does.
The training is a subprocess either way (as in the app), so the cost measured is the
monitor's competition for the CPU. Throughput = samples / wall time between the first and
the last `step` event of the run (both taken from the events' own timestamps).

A third measurement is less sensitive to other load on the machine: ONE longer run during
which the monitor is switched on and off every few seconds (paused: it reads nothing and
redraws nothing; resumed: it catches up in one collapsed update), comparing each watched
window with its unwatched neighbours.

Usage: .venv/bin/python bench/monitor_overhead.py [--steps 400] [--repeats 3] [--interval 0.25]
       [--window-steps 3000] [--window 3]
Headless means nothing is written to a terminal; all rendering to strips still happens
(the script counts the chart renders to show it).
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import resource
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path


def make_config(root: Path, name: str, steps: int, batch: int, logging_steps: int):
    from bnner_tui.core.config import TrainConfig

    return TrainConfig.from_preset(
        "cpu-demo",
        max_steps=steps,
        batch_size=batch,
        logging_steps=logging_steps,
        eval_every=10 * steps,
        save_every=10 * steps,
        run_name=name,
        output_root=str(root),
    )


def throughput(run_dir: Path, batch: int) -> tuple[float, int]:
    """Samples per second between the first and the last step event, and the event count."""
    from bnner_tui.core.events import read_events

    events, _ = read_events(run_dir / "events.jsonl")
    steps = [e for e in events if e["type"] == "step"]
    if events[-1]["type"] != "finished":
        raise SystemExit(f"run {run_dir.name} did not finish: {events[-1]}")
    first, last = steps[0], steps[-1]
    samples = (last["step"] - first["step"]) * batch
    return samples / (last["time"] - first["time"]), len(events)


def cpu_seconds() -> float:
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def run_unwatched(config) -> float:
    from bnner_tui.core.train.launch import launch

    t0 = cpu_seconds()
    proc = launch(config)
    try:
        proc.wait()
    except BaseException:
        proc.terminate()  # the run lives in its own session: do not leave it behind
        raise
    return cpu_seconds() - t0


def run_watched(config, interval: float) -> tuple[float, dict[str, float]]:
    from textual.app import App, ComposeResult

    from bnner_tui.core.train.launch import launch
    from bnner_tui.tui.widgets.monitor import CurvePlot, RunMonitor

    renders = {"n": 0}
    original = CurvePlot.render

    def counting_render(self):
        renders["n"] += 1
        return original(self)

    CurvePlot.render = counting_render  # type: ignore[method-assign]

    class Watch(App):
        def compose(self) -> ComposeResult:
            yield RunMonitor(poll_interval=interval, id="monitor")

    async def main() -> dict[str, float]:
        app = Watch()
        async with app.run_test(size=(120, 40)) as pilot:
            mon = app.query_one(RunMonitor)
            cpu_at_launch["t"] = cpu_seconds()  # the app's start-up is not part of watching the run
            cpu_at_launch["wall"] = time.monotonic()
            proc = launch(config)
            try:
                mon.attach(Path(proc.run_dir))
                while proc.poll() is None:
                    await asyncio.sleep(0.1)  # not pilot.pause: that forces a repaint each call
            except BaseException:
                proc.terminate()
                raise
            cpu_at_end["t"] = cpu_seconds()
            cpu_at_end["wall"] = time.monotonic()
            await pilot.pause(2 * interval)
            mon.poll()
            await pilot.pause()
            assert mon.state.status == "finished", mon.state.status
            return {"polls": mon.polls, "updates": mon.updates, "events": mon.state.events_seen}

    cpu_at_launch: dict[str, float] = {}  # filled inside the app
    cpu_at_end: dict[str, float] = {}
    try:
        stats = asyncio.run(main())
    finally:
        CurvePlot.render = original  # type: ignore[method-assign]
    stats["chart_renders"] = renders["n"]
    stats["wall"] = cpu_at_end["wall"] - cpu_at_launch["wall"]
    return cpu_at_end["t"] - cpu_at_launch["t"], stats


def steps_at(events: list[dict], t: float) -> float | None:
    """The (interpolated) step count reached at time t, from the step events' timestamps."""
    steps = [(e["time"], e["step"]) for e in events if e["type"] == "step"]
    if not steps or t < steps[0][0] or t > steps[-1][0]:
        return None
    for (t0, s0), (t1, s1) in itertools.pairwise(steps):
        if t0 <= t <= t1:
            return s0 + (s1 - s0) * ((t - t0) / (t1 - t0) if t1 > t0 else 0.0)
    return float(steps[-1][1])


def run_windows(config, interval: float, window: float) -> list[tuple[bool, float]]:
    """One run; the monitor polls in every other `window` seconds and is paused in between.

    Returns (watched, samples/s) per window. Adjacent windows see nearly the same outside
    load, so comparing neighbours is far less noisy than comparing whole runs on a busy box.
    """
    from textual.app import App, ComposeResult

    from bnner_tui.core.events import read_events
    from bnner_tui.core.train.launch import launch
    from bnner_tui.tui.widgets.monitor import RunMonitor

    class Watch(App):
        def compose(self) -> ComposeResult:
            yield RunMonitor(poll_interval=interval, id="monitor")

    spans: list[tuple[float, float, bool]] = []

    async def main() -> Path:
        app = Watch()
        async with app.run_test(size=(120, 40)):
            mon = app.query_one(RunMonitor)
            proc = launch(config)
            run_dir = Path(proc.run_dir)
            try:
                mon.attach(run_dir)
                watched, start = True, time.time()
                while proc.poll() is None:
                    await asyncio.sleep(0.05)  # not pilot.pause: that forces a repaint each call
                    now = time.time()
                    if now - start >= window:
                        spans.append((start, now, watched))
                        watched, start = not watched, now
                        if watched:
                            mon.resume_polling()
                        else:
                            mon.pause_polling()
            except BaseException:
                proc.terminate()
                raise
            return run_dir

    run_dir = asyncio.run(main())
    events, _ = read_events(run_dir / "events.jsonl")
    out: list[tuple[bool, float]] = []
    for t0, t1, watched in spans:
        s0, s1 = steps_at(events, t0), steps_at(events, t1)
        if s0 is not None and s1 is not None and t1 > t0:
            out.append((watched, (s1 - s0) * config.batch_size / (t1 - t0)))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=400)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--logging-steps", type=int, default=1, help="1 = a step event every step (worst case)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--interval", type=float, default=0.25, help="monitor poll interval, seconds")
    parser.add_argument("--window-steps", type=int, default=3000, help="steps of the alternating-window run (0: skip)")
    parser.add_argument("--window", type=float, default=3.0, help="seconds per watched/unwatched window")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

    root = Path(tempfile.mkdtemp(prefix="bnner-monitor-bench-"))
    print(f"load average at start: {os.getloadavg()[0]:.2f}")
    probe = make_config(root, "probe", args.steps, args.batch, args.logging_steps)
    print(
        f"cpu-demo preset as is (offline BERT {probe.offline_hidden_size}x{probe.offline_layers}),"
        f" {args.steps} steps, batch {args.batch}, a step event every"
        f" {args.logging_steps} step(s), poll every {args.interval}s, {os.cpu_count()} CPU cores"
    )
    # A warm-up run (not counted): the first run builds the tokenizer/dataset caches.
    run_unwatched(make_config(root, "warmup", args.steps, args.batch, args.logging_steps))
    plain: list[float] = []
    watched: list[float] = []
    shares: list[float] = []
    try:
        for i in range(args.repeats):
            cfg = make_config(root, f"plain-{i}", args.steps, args.batch, args.logging_steps)
            cpu = run_unwatched(cfg)
            sps, n_events = throughput(root / cfg.run_name, args.batch)
            plain.append(sps)
            print(f"  unwatched #{i}: {sps:7.2f} samples/s  ({n_events} events; this process used {cpu:.2f} s CPU)")
            cfg = make_config(root, f"watched-{i}", args.steps, args.batch, args.logging_steps)
            cpu, stats = run_watched(cfg, args.interval)
            sps, n_events = throughput(root / cfg.run_name, args.batch)
            watched.append(sps)
            wall = float(stats["wall"])
            # CPU the watcher took, as a share of what the machine had while the run lasted:
            # an upper bound on the throughput it can cost a training that uses every core.
            shares.append(cpu / (wall * (os.cpu_count() or 1)) * 100)
            print(
                f"  watched   #{i}: {sps:7.2f} samples/s  ({n_events} events; monitor: {stats['polls']} polls,"
                f" {stats['updates']} UI updates, {stats['chart_renders']} chart renders;"
                f" this process used {cpu:.2f} s CPU from launch to the end of the run)"
            )
    finally:
        shutil.rmtree(root, ignore_errors=True)
    p, w = statistics.median(plain), statistics.median(watched)
    overhead = (p - w) / p * 100
    print(f"median unwatched: {p:.2f} samples/s")
    print(f"median watched:   {w:.2f} samples/s")
    print(f"overhead: {overhead:+.2f}% (target <= 2%; negative = watched was faster, i.e. within noise)")
    spread = (max(plain) - min(plain)) / p * 100
    print(f"run-to-run spread of unwatched runs: {spread:.2f}%")
    print(
        f"watcher CPU share of the machine during watched runs: median {statistics.median(shares):.2f}%"
        " (an upper bound on what it can take from training; robust to other load on the machine)"
    )
    if args.window_steps > 0:
        print(f"alternating windows: one run of {args.window_steps} steps, monitor on/off every {args.window} s")
        root = Path(tempfile.mkdtemp(prefix="bnner-monitor-bench-"))
        try:
            cfg = make_config(root, "windows", args.window_steps, args.batch, args.logging_steps)
            spans = run_windows(cfg, args.interval, args.window)
        finally:
            shutil.rmtree(root, ignore_errors=True)
        on = [r for w, r in spans if w]
        off = [r for w, r in spans if not w]
        # Each watched window against the mean of its unwatched neighbours.
        ratios = []
        for i, (w, r) in enumerate(spans):
            if not w:
                continue
            nb = [spans[j][1] for j in (i - 1, i + 1) if 0 <= j < len(spans) and not spans[j][0]]
            if nb:
                ratios.append(r / statistics.mean(nb))
        if on and off and ratios:
            print(f"  {len(on)} watched windows: median {statistics.median(on):.2f} samples/s")
            print(f"  {len(off)} unwatched windows: median {statistics.median(off):.2f} samples/s")
            print(
                f"  watched/neighbours ratio: median {statistics.median(ratios):.4f}"
                f" -> overhead {(1 - statistics.median(ratios)) * 100:+.2f}%"
            )
        else:
            print("  not enough windows: raise --window-steps")
    print(f"load average at the end: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    sys.exit(0)


if __name__ == "__main__":
    main()
