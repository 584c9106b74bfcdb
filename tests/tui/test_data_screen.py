"""The Data screen, driven with Pilot on real sources and real tokenizers (no mocks)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from pilot_helpers import MessageLog, type_text, wait_for, wait_for_message

from bnner_tui.core.data.browse import code_points, histogram, split_rows
from bnner_tui.tui.app import BnnerApp
from bnner_tui.tui.screens.data import (
    PAGE_SIZE,
    DataScreen,
    PiecesReady,
    SourceLoaded,
    SourceState,
)
from bnner_tui.tui.widgets.alignment_grid import (
    COLUMN_WIDTH,
    AlignmentGrid,
    clip,
    columns_from_alignment,
)

SIZE = (120, 40)
_TRAIN_TEXT = [
    "অনুপম তালুকদার দীর্ঘদিন ধানমন্ডিতে বসবাস করেছেন ।",
    "মুনীর চৌধুরীর লেখা বইটি কলকাতা বিশ্ববিদ্যালয় প্রকাশ করেছে ।",
    "বিশ্ব স্বাস্থ্য সংস্থার উদ্যোগে টাঙ্গাইলে একটি মেলা অনুষ্ঠিত হয় ।",
]


def build_tokenizer_dir(out: Path, texts: list[str], vocab_size: int = 120) -> Path:
    """A small real WordPiece (BERT-style template) whose alphabet is only what `texts` contain."""
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors, trainers

    tok = Tokenizer(models.WordPiece(unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=False, strip_accents=False, clean_text=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    trainer = trainers.WordPieceTrainer(
        vocab_size=vocab_size, special_tokens=["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"], show_progress=False
    )
    tok.train_from_iterator(texts, trainer=trainer)
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]",
        special_tokens=[("[CLS]", tok.token_to_id("[CLS]")), ("[SEP]", tok.token_to_id("[SEP]"))],
    )
    out.mkdir(parents=True, exist_ok=True)
    tok.save(str(out / "tokenizer.json"))
    return out


@pytest.fixture
def tokenizer_dir(tmp_path: Path) -> Path:
    return build_tokenizer_dir(tmp_path / "tok", _TRAIN_TEXT)


def screen_of(app: BnnerApp) -> DataScreen:
    screen = app.get_screen_stack("data")[0] if hasattr(app, "get_screen_stack") else app.screen
    assert isinstance(screen, DataScreen)
    return screen


def make_app(tmp_path: Path, source: str = "demo", tokenizer: str | None = None) -> BnnerApp:
    return BnnerApp(runs_root=tmp_path / "runs", data_source=source, tokenizer=tokenizer)


def messages(app: BnnerApp) -> list[str]:
    return [n.message for n in app._notifications]


def stats_text(screen: DataScreen) -> str:
    return str(screen.query_one("#stats").render())


def pieces_counted(screen: DataScreen) -> bool:
    """The piece-length histogram is on screen: every sample was tokenized for the filters."""
    return "p50 " in stats_text(screen)


# -- pure helpers -----------------------------------------------------------------------------


def test_clip_cuts_in_terminal_cells_with_an_ellipsis() -> None:
    from rich.cells import cell_len

    word = "ক্রিকেট"  # 7 code points, 6 cells in a wcwidth terminal (the hasant takes none)
    assert cell_len(word) == 6
    assert clip(word, 6) == word
    assert clip(word, 4) == "ক্রি…"
    assert len(clip("x" * 40, COLUMN_WIDTH)) == COLUMN_WIDTH
    # Wide glyphs: 9 code points but 18 cells; a code-point cut would overflow the column.
    party = clip("🎉" * 9, COLUMN_WIDTH)
    assert party.endswith("…") and cell_len(party) <= COLUMN_WIDTH


async def test_grid_cells_never_overflow_their_column(tmp_path: Path) -> None:
    """A word wider than its cell is cut with an ellipsis; every drawn line keeps the column grid."""
    from rich.cells import cell_len
    from textual.app import App, ComposeResult

    from bnner_tui.tui import cells
    from bnner_tui.tui.widgets.alignment_grid import GAP, GridColumn

    cells.apply("wcwidth")
    words = ["বিশ্ববিদ্যালয়সমূহের", "🎉🎉🎉🎉🎉🎉🎉🎉🎉", "রুবিনা"]
    columns = [
        GridColumn(word=w, gold="B-ORG", word_index=i, pieces=[(w, "B-ORG"), ("##" + w, None)])
        for i, w in enumerate(words)
    ]

    class GridApp(App[None]):
        def compose(self) -> ComposeResult:
            yield AlignmentGrid(id="grid")

    app = GridApp()
    async with app.run_test(size=(80, 12)) as pilot:
        grid = app.query_one(AlignmentGrid)
        grid.set_columns(columns)
        await wait_for(pilot, lambda: bool(grid._lines) and grid.columns == columns)
        step = COLUMN_WIDTH + GAP
        for strip in grid._lines[:4]:
            text = strip.text
            # Each column's slice (in cells) holds its own text: a cut word ends in "…".
            for j, _ in enumerate(words):
                cell = strip.crop(j * step, j * step + COLUMN_WIDTH).text
                assert cell_len(cell) <= COLUMN_WIDTH
            assert strip.cell_length <= len(words) * step, text
        head = grid._lines[0]
        assert head.crop(0, COLUMN_WIDTH).text.rstrip().endswith("…")
        assert head.crop(step, step + COLUMN_WIDTH).text.rstrip().endswith("…")
        assert head.crop(2 * step, 2 * step + COLUMN_WIDTH).text.rstrip() == "রুবিনা"


def test_columns_group_pieces_under_words_and_flag_cut_words() -> None:
    names = ["O", "B-PER", "I-PER"]
    cols = columns_from_alignment(
        ["Ram", "Das", "went"],
        ["B-PER", "I-PER", "O"],
        ["[CLS]", "Ra", "##m", "Das", "[SEP]"],
        [None, 0, 0, 1, None],
        [-100, 1, -100, 2, -100],
        names,
        unk_words=[1],
    )
    assert [c.word for c in cols] == ["[CLS]", "Ram", "Das", "went", "[SEP]"]
    assert cols[0].special and cols[-1].special
    assert cols[1].pieces == [("Ra", "B-PER"), ("##m", None)]
    assert cols[2].flags == ("unk",)
    assert cols[3].flags == ("truncated",) and cols[3].pieces == []
    # A word with no piece even untruncated is not blamed on the cut.
    dropped = columns_from_alignment(
        ["Ram", "\u200d", "Das"],
        None,
        ["[CLS]", "Ram", "Das", "[SEP]"],
        [None, 0, 2, None],
        [-100, 0, 0, -100],
        names,
        dropped_words=[1],
    )
    assert [c.flags for c in dropped if not c.special] == [(), ("dropped",), ()]


def test_truncation_warning_counts_the_words_the_cut_took(tokenizer_dir: Path) -> None:
    from bnner_tui.core.align import align, load_tokenizer
    from bnner_tui.core.data.browse import sample_warnings

    tok = load_tokenizer(str(tokenizer_dir))
    words = _TRAIN_TEXT[1].split() + _TRAIN_TEXT[2].split()
    al = align(tok, words, None, ["O"], max_length=12)
    assert al.truncated and al.dropped_words == []
    kept = {w for w in al.word_ids if w is not None}
    gone = [i for i in range(len(words)) if i not in kept]
    assert len(gone) >= 2
    (line,) = [w for w in sample_warnings(words, al, 12) if w.startswith("✂")]
    assert f"{len(gone)} word(s) after the cut get no piece and no label" in line


def test_code_points_names_nukta_and_zwj() -> None:
    text = code_points("ড\u09bc\u200d")
    assert "U+09A1  BENGALI LETTER DDA" in text
    assert "U+09BC  BENGALI SIGN NUKTA" in text
    assert "U+200D  ZERO WIDTH JOINER" in text


def test_histogram_counts_every_sample_once() -> None:
    lengths = [5, 10, 20, 40, 200]
    text = histogram(lengths, max_length=32)
    counts = [int(line.rsplit(" ", 1)[1]) for line in text.splitlines()[:-1]]
    assert sum(counts) == len(lengths)
    assert text.splitlines()[-1].endswith("> 32: 2")


# -- the screen -------------------------------------------------------------------------------


async def test_demo_source_loads_by_default(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = screen_of(app)
        await wait_for(pilot, lambda: screen.rows is not None)
        rows = screen.rows
        assert rows is not None and len(rows) >= 200
        table = screen.query_one("#samples")
        await wait_for(pilot, lambda: table.row_count == min(PAGE_SIZE, len(rows)))
        grid = screen.query_one(AlignmentGrid)
        await wait_for(pilot, lambda: bool(grid.columns))
        assert str(screen.query_one("#samples-status").render()).startswith(f"{len(rows):,} of {len(rows):,} shown")
        stats = str(screen.query_one("#stats").render())
        assert "PER" in stats and "LOC" in stats and "ORG" in stats
        # Without a tokenizer the grid still shows the words and their labels, and says what to do.
        assert [c.word for c in grid.columns] == rows.tokens[0]
        assert "tokenizer" in screen.query_one(AlignmentGrid).empty_text


async def test_strategy_switch_changes_continuation_labels(tmp_path: Path, tokenizer_dir: Path) -> None:
    app = make_app(tmp_path, tokenizer=str(tokenizer_dir))
    async with app.run_test(size=SIZE) as pilot:
        screen = screen_of(app)
        await wait_for(pilot, lambda: screen.rows is not None and screen.tokenizer is not None)
        rows = screen.rows
        assert rows is not None
        names = screen.state.label_names  # type: ignore[union-attr]
        grid = screen.query_one(AlignmentGrid)
        # Find a sample whose B- word became several pieces (with the same tokenizer, in core).
        from bnner_tui.core.align import align

        target = None
        for i in range(min(200, len(rows))):
            al = align(screen.tokenizer, rows.tokens[i], rows.tags[i], names)
            pieces = [w for w in al.word_ids if w is not None]
            target = next(
                ((i, w) for w, t in enumerate(rows.tags[i]) if names[t].startswith("B-") and pieces.count(w) > 1),
                None,
            )
            if target:
                break
        assert target is not None, "the tiny tokenizer should split some entity word"
        index, word = target
        screen.query_one("#samples").move_cursor(row=screen.filtered.index(index))

        def column():
            return next(c for c in grid.columns if c.word_index == word)

        await wait_for(pilot, lambda: screen.current == index and any(c.word_index == word for c in grid.columns))

        gold = column().gold
        assert gold is not None and gold.startswith("B-")
        assert grid.columns[0].word == "[CLS]" and grid.columns[-1].word == "[SEP]"
        assert column().pieces[0][1] == gold and all(lab is None for _, lab in column().pieces[1:])
        screen.query_one("#samples").focus()
        await pilot.press("s")
        await wait_for(pilot, lambda: screen.strategy == "all" and all(lab == gold for _, lab in column().pieces))
        await pilot.press("s")
        await wait_for(pilot, lambda: screen.strategy == "all-b2i" and column().pieces[0][1] == gold)
        assert column().pieces[0][1] == gold
        assert all(lab == "I-" + gold[2:] for _, lab in column().pieces[1:])
        assert "I-" + gold[2:] in names


async def test_typed_bengali_search_filters_rows(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = screen_of(app)
        await wait_for(pilot, lambda: screen.rows is not None)
        total = len(screen.rows or [])
        screen.set_focus(None)
        await pilot.press("slash")
        await wait_for(pilot, lambda: screen.focused is screen.query_one("#search"))
        await type_text(pilot, "কলকাতা")
        await wait_for(pilot, lambda: screen.query_one("#search").value == "কলকাতা")
        await pilot.press("enter")
        await wait_for(pilot, lambda: 0 < len(screen.filtered) < total)
        rows = screen.rows
        assert rows is not None
        assert all("কলকাতা" in " ".join(rows.tokens[i]) for i in screen.filtered)
        expected = sum(1 for toks in rows.tokens if "কলকাতা" in " ".join(toks))
        assert len(screen.filtered) == expected


async def test_entity_type_unk_and_length_filters(tmp_path: Path, tokenizer_dir: Path) -> None:
    from bnner_tui.core.align import align, load_tokenizer

    app = make_app(tmp_path, tokenizer=str(tokenizer_dir))
    async with app.run_test(size=SIZE) as pilot:
        screen = screen_of(app)
        await wait_for(pilot, lambda: pieces_counted(screen))
        rows = screen.rows
        assert rows is not None and screen.state is not None
        names = screen.state.label_names
        screen.query_one("#type-filter").value = "ORG"
        org = [i for i in range(len(rows)) if any(names[t].endswith("-ORG") for t in rows.tags[i])]
        await wait_for(pilot, lambda: screen.filtered == org)

        screen.query_one("#type-filter").value = "__any__"
        screen.query_one("#has-unk").value = True
        tok = load_tokenizer(str(tokenizer_dir))
        unk = [i for i in range(len(rows)) if align(tok, rows.tokens[i], rows.tags[i], names).unk_words]
        assert 0 < len(unk) < len(rows)
        await wait_for(pilot, lambda: screen.filtered == unk)

        screen.query_one("#has-unk").value = False
        screen.query_one("#too-long").value = True
        length_box = screen.query_one("#max-length")
        length_box.value = "24"
        length_box.focus()
        await pilot.press("enter")
        await wait_for(pilot, lambda: screen.max_length == 24)
        long = [i for i in range(len(rows)) if align(tok, rows.tokens[i], None, names, max_length=24).truncated]
        assert long
        await wait_for(pilot, lambda: screen.filtered == long)
        # The selected sample shows the truncation warning.
        await wait_for(pilot, lambda: "max length 24" in str(screen.query_one("#sample-warnings").render()))


async def test_code_point_toggle_shows_selected_word(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = screen_of(app)
        await wait_for(pilot, lambda: screen.rows is not None)
        panel = screen.query_one("#codepoints")
        assert not panel.display
        screen.query_one("#samples").focus()
        await pilot.press("c")
        await wait_for(pilot, lambda: panel.display)
        grid = screen.query_one(AlignmentGrid)
        grid.focus()
        await wait_for(pilot, lambda: screen.focused is grid)
        await pilot.press("right")
        await wait_for(pilot, lambda: grid.selected == 1)
        word = grid.selected_column.word  # type: ignore[union-attr]
        assert word == screen.rows.tokens[screen.current][1]  # type: ignore[union-attr,index]
        await wait_for(pilot, lambda: f"U+{ord(word[0]):04X}" in str(panel.render()))
        assert "BENGALI" in str(panel.render())


async def test_grid_click_selects_a_word(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = screen_of(app)
        await wait_for(pilot, lambda: screen.rows is not None)
        grid = screen.query_one(AlignmentGrid)
        await wait_for(pilot, lambda: len(grid.columns) > 1 and grid.size.width > 2 * COLUMN_WIDTH)
        await pilot.click(AlignmentGrid, offset=(COLUMN_WIDTH + 2, 0))
        await wait_for(pilot, lambda: grid.selected == 1)


async def test_bad_path_and_offline_hub_are_one_sentence_notifications(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = screen_of(app)
        await wait_for(pilot, lambda: screen.rows is not None)
        screen.query_one("#source-kind").value = "path"
        await wait_for(pilot, lambda: screen.focused is screen.query_one("#source-path"))
        missing = tmp_path / "nope.conll"
        screen.query_one("#source-path").value = str(missing)
        await pilot.press("enter")
        await wait_for(pilot, lambda: any(str(missing) in m for m in messages(app)))
        bad = next(m for m in messages(app) if str(missing) in m)
        assert "\n" not in bad and "Traceback" not in bad
        broken = tmp_path / "broken.conll"
        broken.write_text("ঢাকা\tB-LOC\nশহর\tB-XYZ\tEXTRA\tCOLS\n", encoding="utf-8")
        screen.query_one("#source-path").value = str(broken)
        await pilot.press("enter")
        await wait_for(pilot, lambda: any(str(broken) in m for m in messages(app)))
        start = time.monotonic()
        screen.query_one("#source-kind").value = "wikiann"
        await wait_for(pilot, lambda: any("hub" in m.lower() or "offline" in m.lower() for m in messages(app)))
        # Offline fails fast, not after network time-outs (with head-room for a loaded CI machine).
        assert time.monotonic() - start < 15
        # Nothing of the demo set stays on screen under the failed source's name.
        await wait_for(pilot, lambda: screen.rows is None and "wikiann failed" in screen.sub_title)
        assert screen.query_one("#samples").row_count == 0
        assert screen.query_one(AlignmentGrid).columns == []
        assert "no data loaded" in screen.sub_title and "demo" not in screen.sub_title
        assert "demo set" not in str(screen.query_one("#stats").render())
        assert str(screen.query_one("#samples-status").render()) == "no data loaded"
        # And the next good load fills it again.
        screen.query_one("#source-kind").value = "demo"
        await wait_for(pilot, lambda: screen.rows is not None and screen.query_one("#samples").row_count > 0)
        assert "demo" in screen.sub_title


@pytest.mark.slow
async def test_wikiann_ten_thousand_rows_scroll_lazily(tmp_path: Path, wikiann_dir: Path, mbert_dir: Path) -> None:
    from bnner_tui.core.align import load_tokenizer

    app = make_app(tmp_path, source=str(wikiann_dir), tokenizer=str(mbert_dir))
    async with app.run_test(size=SIZE) as pilot:
        screen = screen_of(app)
        await wait_for(pilot, lambda: screen.rows is not None, 120)
        rows = screen.rows
        assert rows is not None and len(rows) == 10000
        table = screen.query_one("#samples")
        assert table.row_count == PAGE_SIZE
        table.focus()
        start = time.monotonic()
        presses = 0
        while table.row_count < len(rows) and presses < 100:
            await pilot.press("ctrl+end")  # cursor to the last loaded row: the next page loads
            presses += 1
        await wait_for(pilot, lambda: table.row_count == len(rows), what="every page of the 10,000 rows")
        elapsed = time.monotonic() - start
        assert table.row_count == 10000
        assert screen.loaded == 10000
        assert elapsed < 60, f"paging through 10,000 rows took {elapsed:.1f}s"
        # Scrolling with the mouse wheel / scrollbar (no cursor move) also pulls the next page.
        screen.query_one("#search").value = "ভ"
        await wait_for(pilot, lambda: 0 < len(screen.filtered) < len(rows))  # the search is debounced
        await wait_for(pilot, lambda: table.row_count == PAGE_SIZE)
        before = table.row_count
        assert before == PAGE_SIZE < len(screen.filtered)
        table.scroll_end(animate=False)
        await wait_for(pilot, lambda: table.row_count > before)
        # Piece filters over all 10,000 with the real mBERT tokenizer, checked independently.
        await wait_for(pilot, lambda: pieces_counted(screen), 120)
        screen.query_one("#search").value = ""
        await wait_for(pilot, lambda: len(screen.filtered) == len(rows))
        screen.query_one("#has-unk").value = True
        tok = load_tokenizer(str(mbert_dir))
        unk_id = tok.token_to_id("[UNK]")
        enc = tok.encode_batch([list(t) for t in rows.tokens], is_pretokenized=True)
        expected = [i for i, e in enumerate(enc) if unk_id in e.ids]
        await wait_for(pilot, lambda: screen.filtered == expected, what="the [UNK] filter over 10,000 rows")


async def test_offline_wordpiece_fallback_from_the_tokenizer_box(tmp_path: Path) -> None:
    log = MessageLog()
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE, message_hook=log) as pilot:
        screen = screen_of(app)
        await wait_for(pilot, lambda: screen.rows is not None)
        assert screen.tokenizer is None
        assert "wordpiece" in screen.query_one(AlignmentGrid).empty_text
        screen.set_focus(None)
        await pilot.press("k")
        await wait_for(pilot, lambda: screen.focused is screen.query_one("#tokenizer"))
        await type_text(pilot, "wordpiece")
        await wait_for(pilot, lambda: screen.query_one("#tokenizer").value == "wordpiece")
        await pilot.press("enter")
        await wait_for(pilot, lambda: screen.tokenizer is not None, 120)
        grid = screen.query_one(AlignmentGrid)
        await wait_for(pilot, lambda: bool(grid.columns) and grid.columns[0].word == "[CLS]")
        assert grid.columns[-1].word == "[SEP]"
        words = [c.word for c in grid.columns if not c.special]
        assert words == screen.rows.tokens[screen.current]  # type: ignore[union-attr,index]
        # Trained on this very data: its words are in the vocabulary, none becomes [UNK].
        counted = await wait_for_message(pilot, log, PiecesReady, lambda m: m.name == "wordpiece", 60)
        assert len(counted.info.has_unk) == len(screen.rows or []) and not any(counted.info.has_unk)
        await wait_for(pilot, lambda: pieces_counted(screen))


async def test_an_older_source_load_landing_late_changes_nothing(tmp_path: Path) -> None:
    """Two loads in flight: the one asked for last is shown, whichever finishes last."""
    log = MessageLog()
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE, message_hook=log) as pilot:
        screen = screen_of(app)
        await wait_for(pilot, lambda: screen.rows is not None)
        started, release = threading.Event(), threading.Event()
        one_row = {"train": split_rows([["x"]], [[0]], ["O"])}
        older = SourceState(name="older source", spec="older.conll", label_names=["O"], splits=one_row)

        def older_load() -> None:
            """What a slow load of another source does (it posts its result), finishing when told."""
            started.set()
            assert release.wait(60)
            screen.post_message(SourceLoaded(older, []))

        # Started in the screen's "source" group, as `load_source` starts its own; then the user
        # asks for the demo set again, and that newer load finishes first.
        screen.run_worker(older_load, group="source", thread=True, exclusive=True, exit_on_error=False)
        await wait_for(pilot, started.is_set)
        before = list(log.of(SourceLoaded))
        screen.load_source("demo")
        await wait_for_message(pilot, log, SourceLoaded, lambda m: m not in before)
        await wait_for(pilot, lambda: screen.rows is not None and "demo" in screen.sub_title)
        release.set()
        late = await wait_for_message(pilot, log, SourceLoaded, lambda m: m.state is older)
        assert late.state is older
        assert screen.state is not None and screen.state.name != "older source"
        assert screen.sub_title != "older source" and len(screen.rows or []) > 1


def test_histogram_percentiles_equal_data_stats() -> None:
    """The Data screen and `bnner-tui data stats` use one percentile rule (was srt[len//2] vs numpy)."""
    from bnner_tui.core.data.stats import piece_stats

    lengths = [10, 12, 14, 40]
    p = piece_stats(lengths, max_length=32)
    assert (p.p50, round(p.p95, 1), p.max, p.over_max_length) == (13.0, 36.1, 40, 1)
    assert histogram(lengths, max_length=32).splitlines()[-1] == f"p50 {p.p50:g}  p95 {p.p95:g}  max 40  > 32: 1"


async def test_a_source_whose_name_holds_markup_is_shown_as_written(tmp_path: Path) -> None:
    """`[/]` or `[bold]` in a data path is text: the stats panel shows it, never parses it."""
    from bnner_tui.core.data import DEMO_DIR

    data = tmp_path / "a[" / "]b[bold]"  # the path reads .../a[/]b[bold]
    data.mkdir(parents=True)
    for split in ("train", "validation"):
        (data / f"{split}.conll").write_bytes((DEMO_DIR / f"{split}.conll").read_bytes())
    app = make_app(tmp_path, source=str(data))
    async with app.run_test(size=SIZE) as pilot:
        screen = screen_of(app)
        await wait_for(pilot, lambda: screen.rows is not None, 60)
        await wait_for(pilot, lambda: "entities in train" in stats_text(screen))
        assert "a[/]b[bold]" in " ".join(stats_text(screen).split())


async def test_wordpiece_asked_for_at_start_is_trained_once_the_source_has_loaded(tmp_path: Path) -> None:
    """`--data demo --tokenizer wordpiece` (what a machine without the mBERT files uses): the
    tokenizer is trained on the source's train split, so it waits for the source instead of
    failing with "Load a data source first"."""
    app = make_app(tmp_path, source="demo", tokenizer="wordpiece")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = screen_of(app)
        await wait_for(pilot, lambda: screen.tokenizer is not None, 60, what="the WordPiece tokenizer")
        assert screen.tokenizer_name == "wordpiece"
        assert not any("Load a data source first" in m for m in messages(app))
        await wait_for(pilot, lambda: pieces_counted(screen), 60)
