"""The Review screen with Pilot: accept, set a label, undo, all on disk at once; and a layout snapshot.

The fixture is a small Latin CoNLL file (Bengali glyph widths differ between terminals, so the
snapshot stays ASCII) with a few planted label errors, reviewed for real (the lexicon fold
model and cleanlab), in the test's own folder under a relative path.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from pilot_helpers import wait_for

from bnner_tui.core.review.session import ReviewSession, read_decisions
from bnner_tui.tui.app import BnnerApp

SIZE = (140, 40)
GOOD = [
    [("Rahim", "B-PER"), ("Uddin", "I-PER"), ("works", "O"), ("at", "O"), ("Dhaka", "B-ORG"), ("Bank", "I-ORG")],
    [("Karim", "B-PER"), ("visited", "O"), ("Sylhet", "B-LOC"), ("Division", "I-LOC"), (".", "O")],
    [("Sylhet", "B-LOC"), ("is", "O"), ("green", "O"), (".", "O")],
    [("Rahim", "B-PER"), ("visited", "O"), ("Chittagong", "B-LOC"), (".", "O")],
    [("Dhaka", "B-ORG"), ("Bank", "I-ORG"), ("is", "O"), ("in", "O"), ("Chittagong", "B-LOC")],
]
BAD = [  # planted errors: a person tagged ORG, a place tagged PER
    [("Rahim", "B-ORG"), ("visited", "O"), ("Sylhet", "B-LOC"), (".", "O")],
    [("Karim", "B-PER"), ("is", "O"), ("in", "O"), ("Chittagong", "B-PER"), (".", "O")],
]


@pytest.fixture
def review_workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    from bnner_tui.core.data import load_source
    from bnner_tui.core.review.find import run_review
    from bnner_tui.core.review.model import lexicon_fold_model

    monkeypatch.chdir(tmp_path)
    sentences = GOOD * 4 + BAD
    text = "\n\n".join("\n".join(f"{w}\t{t}" for w, t in s) for s in sentences) + "\n"
    (tmp_path / "train.conll").write_text(text, encoding="utf-8")
    source = load_source("train.conll")
    run_review(source, out=Path("reviews") / "ascii-train", folds=4, trainer=lexicon_fold_model)
    return tmp_path / "reviews" / "ascii-train"


async def _ready(pilot) -> None:
    screen = pilot.app.screen
    await wait_for(pilot, lambda: getattr(screen, "session", None) is not None and screen.current is not None)


async def test_accept_set_undo_are_persisted(review_workspace: Path) -> None:
    app = BnnerApp(runs_root=Path("runs"), start="review")
    async with app.run_test(size=SIZE) as pilot:
        await _ready(pilot)
        screen = app.screen
        first = screen.current
        await pilot.press("a")
        await wait_for(pilot, lambda: screen.current is not first)
        assert first.status == "accepted" and first.current == first.suggested
        second = screen.current
        grid = screen.query_one("#review-grid")
        grid.focus()
        await pilot.press("right")
        await wait_for(pilot, lambda: grid.selected_word == 1)
        await pilot.press("v", "left", "l")  # span over words 0..1 -> LOC
        await wait_for(pilot, lambda: second.status == "set")
        assert second.current[:2] == ["B-LOC", "I-LOC"]
        await pilot.press("c")
        await wait_for(pilot, lambda: second.status == "correct")
        await pilot.press("u")
        await wait_for(pilot, lambda: second.status == "set")
        counts = screen.query_one("#review-counts").render()
        assert "2 reviewed" in str(counts)
    # Nothing depends on the app having closed cleanly: the log alone gives the same state.
    log = read_decisions(review_workspace / "decisions.jsonl")
    assert [r["action"] for r in log] == ["accept", "set", "correct", "undo"]
    again = ReviewSession(review_workspace)
    assert again.suspect(first.sentence).status == "accepted"
    assert again.suspect(second.sentence).current[:2] == ["B-LOC", "I-LOC"]


async def test_filters_narrow_the_list(review_workspace: Path) -> None:
    app = BnnerApp(runs_root=Path("runs"), start="review")
    async with app.run_test(size=SIZE) as pilot:
        await _ready(pilot)
        screen = app.screen
        total = len(screen.shown)
        # The list fits its pane: a cut sentence shows its "…" (it ran 10 cells past the pane).
        listing = screen.query_one("#review-list")
        assert listing.virtual_size.width <= listing.scrollable_content_region.width
        screen.query_one("#review-score").value = "0.000001"
        await wait_for(pilot, lambda: len(screen.shown) < total)
        screen.query_one("#review-score").value = ""
        await wait_for(pilot, lambda: len(screen.shown) == total)
        kinds = {k for s in screen.shown for k in s.kinds}
        kind = sorted(kinds)[0]
        screen.query_one("#review-kind").value = kind
        await wait_for(pilot, lambda: all(kind in s.kinds for s in screen.shown))


def test_review_screen_layout(snap_compare, review_workspace: Path) -> None:
    async def run_before(pilot) -> None:
        await _ready(pilot)
        grid = pilot.app.screen.query_one("#review-grid")
        await wait_for(pilot, lambda: pilot.app.screen.focused is grid)

    app = BnnerApp(runs_root=Path("runs"), start="review")
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


async def test_ctrl_s_writes_a_new_corrected_source(review_workspace: Path) -> None:
    from bnner_tui.core.data import load_source
    from bnner_tui.core.review.corrected import read_changelog

    app = BnnerApp(runs_root=Path("runs"), start="review")
    async with app.run_test(size=SIZE) as pilot:
        await _ready(pilot)
        screen = app.screen
        changed = next(s for s in screen.shown if s.suggested != s.given)
        screen.query_one("#review-list").move_cursor(row=screen.shown.index(changed))
        await wait_for(pilot, lambda: screen.current is changed)
        await pilot.press("a", "ctrl+s")
        await wait_for(pilot, lambda: screen.saved_to is not None)
        out = screen.saved_to
    assert out == Path("reviews") / "ascii-train-corrected"
    assert {c.sentence for c in read_changelog(out)} == {changed.sentence}
    assert len(load_source(str(out)).dataset["train"]) == 22
    assert (Path("train.conll")).read_text(encoding="utf-8").count("Rahim\tB-ORG") == 1  # the original is untouched
