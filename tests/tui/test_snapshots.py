"""Layout pins (pytest-textual-snapshot), with Latin and with Bengali fixtures.

Bengali widths are deterministic now: the app sets one width convention before the first
frame (tui/cells.py, wcwidth: a vowel sign takes a cell), so a Bengali snapshot changes only
when the layout does. The fixtures are small CoNLL files and fixed-vocabulary WordPiece
tokenizers, written into the test's own folder and addressed by relative paths, so no
machine-specific path appears on screen either.
Update after an intended layout change: `pytest tests/tui/test_snapshots.py --snapshot-update`.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from pilot_helpers import wait_for
from synthetic_runs import CONLL as TWO_SENTENCES

from bnner_tui.tui.app import BnnerApp

SIZE = (120, 40)
CONLL = (
    TWO_SENTENCES  # the synthetic runs' data, and two more sentences
    + """
Grameen\tB-ORG
Bank\tI-ORG

Sylhet\tB-LOC
Division\tI-LOC
"""
)


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


BENGALI_CONLL = """\
রুবিনা\tB-PER
ভট্টাচার্য\tI-PER
১৮৯০\tO
সালে\tO
ভারতীয়\tB-ORG
জাতীয়\tI-ORG
কংগ্রেসে\tI-ORG
যোগ\tO
দেন\tO
।\tO

ঢাকা\tB-ORG
বিশ্ববিদ্যালয়ের\tI-ORG
শিক্ষার্থীরা\tO
চট্টগ্রামে\tB-LOC
গেছেন\tO
।\tO

শেখ\tB-PER
হাসিনা\tI-PER
"""


@pytest.fixture
def bengali_workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors

    monkeypatch.chdir(tmp_path)
    (tmp_path / "bn.conll").write_text(BENGALI_CONLL, encoding="utf-8")
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "।", "১৮৯০", "সালে", "যোগ", "দেন", "ঢাকা", "শেখ"]
    vocab += ["রু", "##বি", "##না", "ভ", "##ট্ট", "##াচার্য", "ভারতীয়", "জাতীয়", "কংগ্রেস", "##ে"]
    vocab += ["বিশ্ববিদ্যালয়", "##ের", "শিক্ষার্থী", "##রা", "চট্ট", "##গ্রাম", "গেছেন", "হাসি"]
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
    stats = screen.query_one("#stats")
    # The piece-length histogram is drawn once every sample is tokenized (the last worker to report).
    await wait_for(pilot, lambda: screen.rows is not None and "p50 " in str(stats.render()), what="the Data screen")
    table = screen.query_one("#samples")
    await wait_for(
        pilot, lambda: table.row_count > 0 and bool(screen.query_one("AlignmentGrid").columns), what="the samples"
    )
    table.focus()
    await wait_for(pilot, lambda: screen.focused is table, what="focus on the samples")


def test_data_screen_layout(snap_compare, ascii_workspace: Path) -> None:
    app = BnnerApp(runs_root=Path("runs"), data_source="ascii.conll", tokenizer="tok")
    assert snap_compare(app, terminal_size=SIZE, run_before=_data_ready)


def test_data_screen_strategy_all_with_code_points(snap_compare, ascii_workspace: Path) -> None:
    async def run_before(pilot) -> None:
        await _data_ready(pilot)
        screen = pilot.app.screen
        await pilot.press("s", "c", "g")
        grid = screen.query_one("AlignmentGrid")
        await wait_for(
            pilot,
            lambda: screen.strategy == "all" and screen.query_one("#codepoints").display and screen.focused is grid,
            what="strategy all, the code points and focus on the grid",
        )
        first = grid.selected
        await pilot.press("right")
        await wait_for(pilot, lambda: grid.selected == first + 1, what="the next word")

    app = BnnerApp(runs_root=Path("runs"), data_source="ascii.conll", tokenizer="tok")
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_help_screen_layout(snap_compare, ascii_workspace: Path) -> None:
    async def run_before(pilot) -> None:
        await _data_ready(pilot)
        await pilot.press("f1")
        await wait_for(pilot, lambda: type(pilot.app.screen).__name__ == "HelpScreen", what="the help screen")

    app = BnnerApp(runs_root=Path("runs"), data_source="ascii.conll", tokenizer="tok")
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_tag_screen_layout_without_a_model(snap_compare, ascii_workspace: Path) -> None:
    async def run_before(pilot) -> None:
        screen = pilot.app.screen
        await wait_for(pilot, lambda: bool(screen.query("#entities")), what="the Tag screen")
        screen.query_one("#text").load_text("Rahim Uddin works at Dhaka University in Bangladesh.")
        table = screen.query_one("#entities")
        table.focus()
        await wait_for(pilot, lambda: screen.focused is table, what="focus on the entity table")

    app = BnnerApp(runs_root=Path("runs"), data_source="ascii.conll", start="tag")
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_light_theme_data_screen(snap_compare, ascii_workspace: Path) -> None:
    async def run_before(pilot) -> None:
        await _data_ready(pilot)
        await pilot.press("ctrl+t")
        await wait_for(pilot, lambda: pilot.app.theme == "textual-light", what="the light theme")

    app = BnnerApp(runs_root=Path("runs"), data_source="ascii.conll", tokenizer="tok")
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_bengali_data_screen_layout(snap_compare, bengali_workspace: Path) -> None:
    app = BnnerApp(runs_root=Path("runs"), data_source="bn.conll", tokenizer="tok")
    assert snap_compare(app, terminal_size=SIZE, run_before=_data_ready)


def test_bengali_tag_screen_without_a_model(snap_compare, bengali_workspace: Path) -> None:
    async def run_before(pilot) -> None:
        screen = pilot.app.screen
        await wait_for(pilot, lambda: bool(screen.query("#entities")), what="the Tag screen")
        screen.query_one("#text").load_text(
            "রবীন্দ্রনাথ ঠাকুর ১৮৬১ সালের ৭ মে কলকাতার জোড়াসাঁকো ঠাকুরবাড়িতে জন্মগ্রহণ করেন। "
            "১৯১৩ সালে গীতাঞ্জলি কাব্যগ্রন্থের ইংরেজি অনুবাদের জন্য তিনি সাহিত্যে নোবেল পুরস্কার পান। "
            "তিনি শান্তিনিকেতনে বিশ্বভারতী বিশ্ববিদ্যালয় প্রতিষ্ঠা করেন।"
        )
        table = screen.query_one("#entities")
        table.focus()
        await wait_for(pilot, lambda: screen.focused is table, what="focus on the entity table")

    app = BnnerApp(runs_root=Path("runs"), data_source="bn.conll", start="tag")
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


BENGALI_TAGGED = "রবীন্দ্রনাথ ঠাকুর কলকাতায় গেছেন এবং ঢাকা শহর থেকে বাংলা ব্যাংক দেখেছেন।"


def test_bengali_tag_screen_with_a_model_and_entities(
    snap_compare, bengali_workspace: Path, forced_model_dir: Path
) -> None:
    """A model loaded and Bengali text tagged: highlights, legend, status and the entity table.

    The model is the forced one (tests/forced_model.py): every piece gets a chosen label with
    probability ~1, so the entities (a PER, a LOC and an ORG) and their scores are fixed. It is
    typed into the model box and loaded by the screen's own worker, as a user would.
    """
    import shutil

    shutil.copytree(forced_model_dir, bengali_workspace / "models" / "bn-forced")

    async def run_before(pilot) -> None:
        screen = pilot.app.screen
        await wait_for(pilot, lambda: bool(screen.query("#entities")), what="the Tag screen")
        screen.query_one("#text").load_text(BENGALI_TAGGED)
        box = screen.query_one("#model-path")
        box.value = "models/bn-forced"
        box.focus()
        await wait_for(pilot, lambda: screen.focused is box, what="focus on the model box")
        await pilot.press("enter")
        table = screen.query_one("#entities")
        status = screen.query_one("#model-status")
        await wait_for(
            pilot,
            lambda: (
                screen.result is not None
                and screen.result.text == BENGALI_TAGGED
                and table.row_count == 3
                and "3 entities" in str(status.render())
            ),
            timeout=120,
            what="the tagged text",
        )
        table.focus()
        await wait_for(pilot, lambda: screen.focused is table, what="focus on the entity table")

    app = BnnerApp(runs_root=Path("runs"), data_source="bn.conll", start="tag")
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


@pytest.mark.parametrize("size", [(160, 45), (100, 30)], ids=lambda s: f"{s[0]}x{s[1]}")
async def test_bengali_samples_table_fits_its_pane(bengali_workspace: Path, size: tuple[int, int]) -> None:
    """The samples table is never wider than its pane: the text column's "…" is on screen, and
    no Bengali word is cut at the pane's border (it was 55 cells in a 48-cell pane)."""
    from textual.widgets import DataTable

    app = BnnerApp(runs_root=Path("runs"), data_source="bn.conll", tokenizer="tok")
    async with app.run_test(size=size) as pilot:
        await _data_ready(pilot)
        table = pilot.app.screen.query_one("#samples", DataTable)
        await pilot.pause()
        assert table.virtual_size.width <= table.scrollable_content_region.width, (
            table.virtual_size.width,
            table.scrollable_content_region.width,
        )
