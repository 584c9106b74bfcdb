"""How long `bnner-tui` takes to quit after the Tag and Runs screens were used (target: <= 1 s).

Drives the real app in a detached tmux session: opens the Data screen, the Tag screen (which
loads a run's model and tags the example in thread workers), the Runs screen, then presses
ctrl+q and measures until the process has exited (tmux's pane_dead). Prints one line per try.

    .venv/bin/python bench/quit_time.py [--tries 3] [--size 160x45]
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BNNER = Path(sys.executable).with_name("bnner-tui")


def make_runs(root: Path) -> None:
    sys.path.insert(0, str(REPO / "tests"))
    from conftest import build_tiny_model  # the tests' tiny random-init BERT, saved like a run's model/

    from bnner_tui.core.config import TrainConfig
    from bnner_tui.core.events import EventWriter

    run = root / "tiny"
    run.mkdir(parents=True)
    TrainConfig(data="demo", model="offline", run_name="tiny", output_root=str(root)).to_toml(run / "config.toml")
    build_tiny_model(run / "model")
    with EventWriter(run / "events.jsonl") as events:
        events.emit("started", total_steps=1)
        events.emit("finished", step=1, best_f1=0.0, duration_s=1.0)


class Tmux:
    def __init__(self, socket: Path) -> None:
        tmux = shutil.which("tmux")
        if tmux is None:
            sys.exit("tmux is not installed")
        self.base = [tmux, "-u", "-f", "/dev/null", "-S", str(socket)]

    def __call__(self, *args: str) -> str:
        return subprocess.run([*self.base, *args], capture_output=True, text=True, check=True).stdout

    def screen(self) -> str:
        return self("capture-pane", "-p", "-t", "t")

    def dead(self) -> bool:
        return self("display-message", "-p", "-t", "t", "#{pane_dead}").strip() == "1"

    def wait(self, cond: Callable[[], bool], what: str, timeout: float = 180.0) -> None:
        start = time.monotonic()
        while not cond():
            if time.monotonic() - start > timeout:
                raise SystemExit(f"timed out waiting for {what}:\n{self.screen()}")
            time.sleep(0.02)


def one_try(work: Path, size: tuple[int, int], n: int) -> float:
    sock = Path(f"/tmp/bnner-quit-{os.getpid()}-{n}")
    t = Tmux(sock)
    env = {**os.environ, "LC_ALL": "C.UTF-8", "TERM": "xterm-256color"}
    prog = os.environ.get("BNNER_QUIT_CMD") or f"{shlex.quote(str(BNNER))} --runs-root runs --data demo"
    cmd = f"cd {shlex.quote(str(work))} && exec {prog}"
    keep = [";", "set-option", "-t", "t", "remain-on-exit", "on"]  # so pane_dead can be read
    subprocess.run(
        [*t.base, "new-session", "-d", "-s", "t", "-x", str(size[0]), "-y", str(size[1]), cmd, *keep],
        check=True,
        env=env,
    )
    try:
        t.wait(lambda: " 0 " in t.screen() and "shown" in t.screen(), "the Data screen")
        t("send-keys", "-t", "t", "4")
        t.wait(lambda: "labels" in t.screen(), "the Tag screen with its model loaded")
        t("send-keys", "-t", "t", "3")
        t.wait(lambda: "tiny  finished" in t.screen(), "the Runs screen listing the run")
        t("send-keys", "-t", "t", "C-q")
        start = time.monotonic()
        t.wait(t.dead, "the app to exit", timeout=60)
        return time.monotonic() - start
    finally:
        subprocess.run([*t.base, "kill-server"], capture_output=True)
        sock.unlink(missing_ok=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tries", type=int, default=3)
    parser.add_argument("--size", default="160x45")
    args = parser.parse_args()
    size = tuple(int(x) for x in args.size.split("x"))
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        make_runs(work / "runs")
        times = [one_try(work, (size[0], size[1]), n) for n in range(args.tries)]
    for n, s in enumerate(times):
        print(f"try {n + 1}: quit took {s:.2f} s")
    print(f"max {max(times):.2f} s (target <= 1 s)")


if __name__ == "__main__":
    main()
