"""Start-up time: from process start to the app's first frame, against `python -c pass`.

Each sample is a fresh interpreter. The parent notes the wall clock just before it starts the
child; the child runs `BnnerApp` headless (Textual's own headless driver: layout, styles and
rendering all happen, only the terminal write is skipped), records the wall clock when the
first frame has been composed (`App.call_after_refresh` from `on_mount`, the same hook
`BnnerApp.first_frame_at` uses) and exits at once. The difference includes interpreter start,
imports and the first layout, i.e. what a user waits for after pressing Enter.

In the same process it also times `bnner-tui --help` and the baseline `python -c pass`, and
lists any heavy module (torch, transformers, datasets, ...) present at the first frame.

    .venv/bin/python bench/startup_time.py --repeat 7
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_S = 1.5
HEAVY = ("torch", "transformers", "datasets", "seqeval", "sklearn", "wandb")


def child() -> None:
    """Run the app headless to its first frame; print the first-frame wall time and heavy modules."""
    import asyncio

    from bnner_tui.tui.app import BnnerApp

    class FirstFrame(BnnerApp):
        def _mark_first_frame(self) -> None:
            super()._mark_first_frame()
            heavy = sorted({m.split(".")[0] for m in sys.modules if m.split(".")[0] in HEAVY})
            print(json.dumps({"first_frame": self.first_frame_at, "heavy": heavy}), flush=True)
            self.exit()

    app = FirstFrame(runs_root=Path(tempfile.mkdtemp()) / "runs")
    asyncio.run(app.run_async(headless=True, size=(120, 40)))


def _timed(cmd: list[str]) -> float:
    start = time.time()
    subprocess.run(cmd, check=True, capture_output=True)
    return time.time() - start


def _first_frame() -> tuple[float, list[str]]:
    start = time.time()
    out = subprocess.run(
        [sys.executable, __file__, "--child"], check=True, capture_output=True, text=True, env=os.environ.copy()
    )
    line = next(ln for ln in out.stdout.splitlines() if ln.startswith("{"))
    data = json.loads(line)
    return data["first_frame"] - start, data["heavy"]


def _summary(name: str, values: list[float]) -> str:
    return f"{name:<34} best {min(values):.3f} s   median {statistics.median(values):.3f} s   (n={len(values)})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child()
        return

    _first_frame()  # warm the OS file cache and .pyc files; not counted
    baseline = [_timed([sys.executable, "-c", "pass"]) for _ in range(args.repeat)]
    script = Path(sys.executable).with_name("bnner-tui")  # the installed console script
    cli_cmd = [str(script), "--help"] if script.exists() else [
        sys.executable, "-c", "import sys; sys.argv=['bnner-tui','--help']; from bnner_tui.tui.cli import main; main()"
    ]
    cli = [_timed(cli_cmd) for _ in range(args.repeat)]
    frames: list[float] = []
    heavy: set[str] = set()
    for _ in range(args.repeat):
        seconds, mods = _first_frame()
        frames.append(seconds)
        heavy.update(mods)

    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
    print(_summary("python -c pass (baseline)", baseline))
    print(_summary("bnner-tui --help", cli))
    print(_summary("app: process start -> first frame", frames))
    ratio = statistics.median(frames) / statistics.median(baseline)
    print(f"first frame / baseline (medians): {ratio:.1f}x")
    print(f"first frame minus baseline (medians): {statistics.median(frames) - statistics.median(baseline):.3f} s")
    verdict = "met" if statistics.median(frames) <= TARGET_S else "NOT met"
    print(f"target <= {TARGET_S} s to first frame: {verdict} (median {statistics.median(frames):.3f} s)")
    print(f"heavy modules imported at the first frame: {sorted(heavy) or 'none'}")


if __name__ == "__main__":
    main()
