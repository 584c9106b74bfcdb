"""The Review screen's screenshot (screenshots/11-review.svg), on a real review.

Run from the repository root after `bnner-tui data review ../shared/data/wikiann-bn-xtreme-panx
--out reviews/wikiann-bn-train` (docs/benchmarks.md has the exact command):

    .venv/bin/python scripts/screenshot_review.py [REVIEW_DIR] [--tokenizer DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import time
from pathlib import Path

from bnner_tui.tui.app import BnnerApp

ROOT = Path(__file__).resolve().parents[1]


async def shoot(review: Path, tokenizer: str | None, out: Path) -> None:
    app = BnnerApp(runs_root=Path("runs"), tokenizer=tokenizer, start="review")
    async with app.run_test(size=(150, 42)) as pilot:
        screen = app.screen
        start = time.monotonic()
        while getattr(screen, "session", None) is None or screen.current is None:
            if time.monotonic() - start > 120:
                raise SystemExit("the Review screen did not open the review")
            await asyncio.sleep(0.1)
        screen.open_review(review)
        while tokenizer and screen.tokenizer is None and time.monotonic() - start < 60:
            await asyncio.sleep(0.1)
        await pilot.pause()
        app.save_screenshot(filename=out.name, path=str(out.parent))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("review", nargs="?", default="reviews/wikiann-bn-train")
    parser.add_argument("--tokenizer", default="../shared/data/mbert-cased-tokenizer")
    parser.add_argument("--out", default=str(ROOT / "screenshots" / "11-review.svg"))
    args = parser.parse_args()
    tok = args.tokenizer if Path(args.tokenizer).exists() else None
    asyncio.run(shoot(Path(args.review), tok, Path(args.out)))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
