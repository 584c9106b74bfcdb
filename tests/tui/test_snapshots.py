"""Layout pins (pytest-textual-snapshot) with ASCII/Latin fixtures only.

Bengali glyph widths differ between terminals, Rich versions and fonts, so a snapshot with
Bengali in it would fail for reasons that are not regressions. The fixtures here are a small
Latin CoNLL file and a WordPiece tokenizer trained on it, written into the test's own folder
and addressed by relative paths, so no machine-specific path appears on screen either.
Update after an intended layout change: `pytest tests/tui/test_snapshots.py --snapshot-update`.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from bnner_tui.tui.app import BnnerApp

SIZE = (120, 40)
CONLL = """\
Rahim\tB-PER
Uddin\tI-PER
works\tO
at\tO
Dhaka\tB-ORG
University\tI-ORG
in\tO
Bangladesh\tB-LOC
.\tO

Sheikh\tB-PER
Mujib\tI-PER
visited\tO
Chittagong\tB-LOC
port\tO
.\tO

Grameen\tB-ORG
Bank\tI-ORG

Sylhet\tB-LOC
Division\tI-LOC
"""


@pytest.fixture
def ascii_workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors

    monkeypatch.chdir(tmp_path)
    (tmp_path / "ascii.conll").write_text(CONLL, encoding="utf-8")
    # A fixed vocabulary (trained vocabularies break ties differently from run to run):
    # some words whole, some split into pieces, and "Grameen" absent so it becomes [UNK].
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", ".", "at", "in", "works", "port", "visited"]
    vocab += ["Rahim", "Ud", "##din", "Dhaka", "University", "Bang", "##la", "##desh", "Sheikh", "Mu", "##jib"]
    vocab += ["Chitta", "##gong", "Bank", "Syl", "##het", "Division"]
    tok = Tokenizer(models.WordPiece({w: i for i, w in enumerate(vocab)}, unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=False, strip_accents=False, clean_text=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]",
        special_tokens=[("[CLS]", tok.token_to_id("[CLS]")), ("[SEP]", tok.token_to_id("[SEP]"))],
    )
    (tmp_path / "tok").mkdir()
    tok.save(str(tmp_path / "tok" / "tokenizer.json"))
    return tmp_path


async def _data_ready(pilot) -> None:
    screen = pilot.app.screen
    start = time.monotonic()
    while screen.rows is None or screen._current_piece_info() is None:
        if time.monotonic() - start > 60:
            raise AssertionError("the Data screen did not load")
        await pilot.pause(0.05)
    screen.query_one("#samples").focus()
    await pilot.pause()


def test_data_screen_layout(snap_compare, ascii_workspace: Path) -> None:
    app = BnnerApp(runs_root=Path("runs"), data_source="ascii.conll", tokenizer="tok")
    assert snap_compare(app, terminal_size=SIZE, run_before=_data_ready)


def test_data_screen_strategy_all_with_code_points(snap_compare, ascii_workspace: Path) -> None:
    async def run_before(pilot) -> None:
        await _data_ready(pilot)
        await pilot.press("s", "c", "g", "right")
        await pilot.pause()

    app = BnnerApp(runs_root=Path("runs"), data_source="ascii.conll", tokenizer="tok")
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_help_screen_layout(snap_compare, ascii_workspace: Path) -> None:
    async def run_before(pilot) -> None:
        await _data_ready(pilot)
        await pilot.press("f1")
        await pilot.pause()

    app = BnnerApp(runs_root=Path("runs"), data_source="ascii.conll", tokenizer="tok")
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_tag_screen_layout_without_a_model(snap_compare, ascii_workspace: Path) -> None:
    async def run_before(pilot) -> None:
        await pilot.pause()
        pilot.app.screen.query_one("#text").load_text("Rahim Uddin works at Dhaka University in Bangladesh.")
        pilot.app.screen.query_one("#entities").focus()
        await pilot.pause()

    app = BnnerApp(runs_root=Path("runs"), data_source="ascii.conll", start="tag")
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_light_theme_data_screen(snap_compare, ascii_workspace: Path) -> None:
    async def run_before(pilot) -> None:
        await _data_ready(pilot)
        await pilot.press("ctrl+t")
        await pilot.pause()

    app = BnnerApp(runs_root=Path("runs"), data_source="ascii.conll", tokenizer="tok")
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)
