"""Make the README's screenshots: one SVG per screen, from a real session on the demo data and a real tiny run.

    .venv/bin/python scripts/screenshots.py            # trains a tiny cpu-demo run first (~30 s on 2 CPUs)
    .venv/bin/python scripts/screenshots.py --out screenshots --max-steps 30

Nothing is staged: the run is trained with `bnner-tui train --preset cpu-demo` (the real training
process, offline), and the app is driven with Textual's Pilot exactly as a person would use it:
load the demo set, pick a sample, switch strategy, open the run, tag a sentence, open the card,
do a publish dry run. Everything happens inside a scratch folder with a relative `runs/`, so no
machine-specific path appears in the pictures.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SIZE = (132, 42)
TAG_TEXT = "শেখ হাসিনা ঢাকায় বাংলাদেশ ক্রিকেট বোর্ডের সভায় যোগ দেন। রবীন্দ্রনাথ ঠাকুর কলকাতায় জন্মগ্রহণ করেন।"


def train(workdir: Path, max_steps: int) -> Path:
    """A real tiny run with the cpu-demo preset (offline model, demo data)."""
    exe = Path(sys.executable).with_name("bnner-tui")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-c", "from bnner_tui.tui.cli import main; main()"]
    cmd += [
        "train",
        "--preset",
        "cpu-demo",
        "--max-steps",
        str(max_steps),
        "--eval-every",
        str(max(1, max_steps // 3)),
        "--save-every",
        str(max_steps),
        "--run-name",
        "demo-run",
        "--output-root",
        "runs",
    ]
    print("training:", " ".join(cmd[-14:]), flush=True)
    subprocess.run(cmd, cwd=workdir, check=True)
    return workdir / "runs" / "demo-run"


async def wait_for(pilot, cond: Callable[[], bool], timeout: float = 120.0, what: str = "") -> None:
    start = time.monotonic()
    while not cond():
        if time.monotonic() - start > timeout:
            raise SystemExit(f"timed out waiting for {what or 'the app'}")
        await pilot.pause(0.1)


def events_of(run: Path) -> list[str]:
    from bnner_tui.core.events import read_events

    path = run / "events.jsonl"
    return [e.get("type", "") for e in read_events(path)[0]] if path.exists() else []


async def session(out: Path, tokenizer: str | None, live_steps: int) -> list[Path]:
    from bnner_tui.tui.app import BnnerApp

    saved: list[Path] = []
    app = BnnerApp(runs_root=Path("runs"), data_source="demo", tokenizer=tokenizer)

    def shot(name: str) -> None:
        path = out / f"{name}.svg"
        app.save_screenshot(filename=path.name, path=str(path.parent))
        saved.append(path)
        print("saved", path, flush=True)

    async with app.run_test(size=SIZE) as pilot:
        # 1 Data: the demo set, the run's tokenizer, a sample with multi-piece entities.
        data = app.screen
        await wait_for(pilot, lambda: data.rows is not None and data._current_piece_info() is not None, what="data")
        grid = data.query_one("#grid")
        table = data.query_one("#samples")
        for row, index in enumerate(data.filtered[:200]):
            data._show_sample(index)
            if sum(1 for c in grid.columns if c.gold and c.gold != "O" and len(c.pieces) > 1) >= 2:
                table.move_cursor(row=row)
                break
        table.focus()
        await pilot.pause(0.3)
        shot("01-data")
        await pilot.press("s", "c", "g", "right", "right")
        await pilot.pause(0.3)
        shot("02-data-strategy-codepoints")
        await pilot.press("s", "s", "c")

        # 2 Train: launch a second tiny run from the form and watch it live.
        await pilot.press("2")
        await pilot.pause(1.0)
        train_screen = app.screen
        live = Path("runs") / "live-run"
        if live_steps > 0 and train_screen.query("#f-max_steps"):
            train_screen.query_one("#f-max_steps").value = str(live_steps)
            train_screen.query_one("#f-eval_every").value = str(max(1, live_steps // 4))
            train_screen.query_one("#f-save_every").value = str(live_steps)
            train_screen.query_one("#f-run_name").value = live.name
            await pilot.pause(0.3)
            await pilot.click("#launch")
            await wait_for(pilot, lambda: events_of(live).count("eval") >= 2, 300, "two evaluations of the live run")
            await pilot.pause(2.5)
            shot("03-train-live")
            await wait_for(pilot, lambda: "finished" in events_of(live), 300, "the live run to finish")
            await pilot.pause(2.5)
            shot("03b-train-finished")
        else:
            shot("03-train")

        # 3 Runs: the table, the run selected (Tag and Card follow it), its curves.
        await pilot.press("3")
        await pilot.pause(2.0)
        runs_table = app.screen.query("#runs-table")
        if runs_table:
            runs_table.first().focus()
            await pilot.press("enter")
            await pilot.pause(2.0)
        shot("04-runs")
        if runs_table:
            await pilot.press("e")
            errors = app.screen.query("#errors-list")
            if errors:
                await wait_for(pilot, lambda: errors.first().row_count > 0, 300, "the error analysis")
                errors.first().focus()
            await pilot.pause(1.0)
            shot("05-runs-errors")

        # 4 Tag: a Bengali sentence with the run's model.
        await pilot.press("4")
        tag = app.screen
        await wait_for(pilot, lambda: tag.tagger is not None, what="the tagger")
        tag.query_one("#text").load_text(TAG_TEXT)
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: tag.result is not None and tag.result.text == TAG_TEXT, what="tagging")
        tag.query_one("#entities").focus()
        await pilot.pause(0.3)
        shot("06-tag")

        # 5 Card: the generated card, then a publish dry run.
        await pilot.press("5")
        card = app.screen
        await wait_for(pilot, lambda: bool(card.query_one("#editor").text), what="the card")
        await pilot.pause(1.0)
        shot("07-card")
        await pilot.press("ctrl+g")
        await pilot.pause(0.5)
        dialog = app.screen
        dialog.query_one("#repo-id").value = "your-name/bnner-demo"
        dialog.action_dry_run()
        await wait_for(pilot, lambda: dialog.planned is not None, what="the dry run")
        await pilot.pause(0.5)
        shot("08-publish-dry-run")
        await pilot.press("escape")

        # Help and the light theme.
        await pilot.press("1")
        await pilot.pause(0.3)
        app.screen.set_focus(None)
        await pilot.press("f1")
        await pilot.pause(0.3)
        shot("09-help")
        await pilot.press("escape", "ctrl+t")
        await pilot.pause(0.3)
        shot("10-data-light")
    return saved


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "screenshots")
    parser.add_argument("--max-steps", type=int, default=30)
    parser.add_argument("--workdir", type=Path, default=None, help="reuse a folder (its runs/demo-run is kept)")
    parser.add_argument(
        "--tokenizer",
        default=None,
        help="tokenizer for the Data screen (default: the mBERT files in ../shared/data when present, "
        "else the run's own model tokenizer)",
    )
    parser.add_argument("--live-steps", type=int, default=40, help="steps of the run launched from the Train screen")
    args = parser.parse_args()

    out = args.out.resolve()
    tokenizer = args.tokenizer
    mbert = REPO.parent / "shared" / "data" / "mbert-cased-tokenizer"
    if tokenizer is None and mbert.is_dir():
        tokenizer = str(mbert)
    out.mkdir(parents=True, exist_ok=True)
    workdir = args.workdir.resolve() if args.workdir else Path(tempfile.mkdtemp(prefix="bnner-shots-"))
    workdir.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("WANDB_MODE", "offline")
    try:
        if not (workdir / "runs" / "demo-run" / "metrics.json").exists():
            train(workdir, args.max_steps)
        os.chdir(workdir)
        if tokenizer and Path(tokenizer).is_dir():
            # A copy inside the scratch folder, so the picture shows a relative path, not this machine's.
            local = workdir / Path(tokenizer).name
            if not local.exists():
                shutil.copytree(tokenizer, local)
            tokenizer = local.name
        live = workdir / "runs" / "live-run"
        if live.exists():
            shutil.rmtree(live)
        saved = asyncio.run(session(out, tokenizer, args.live_steps))
    finally:
        if args.workdir is None:
            shutil.rmtree(workdir, ignore_errors=True)
    print(f"{len(saved)} screenshots in {out}")


if __name__ == "__main__":
    main()
