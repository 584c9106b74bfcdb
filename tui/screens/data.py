"""The Data screen: browse a source's samples and see exactly how each word becomes pieces and labels.

Everything heavy (datasets for loading, the tokenizer file, aligning every sample for the
UNK / max-length filters) runs in thread workers; the screen itself only holds plain Python
lists, so scrolling, searching and filtering 10,000 samples never waits on a library.
Rows are added to the table a page at a time, when the cursor or the scrollbar gets near the
end of what is loaded.

Workers post typed messages (`SourceLoaded`, `TokenizerLoaded`, `PiecesReady`) and simply
raise on failure: `WorkerErrors` notifies, and `WorkFailed` lets the screen say what is (not)
loaded. A result whose worker is no longer its group's newest is dropped (`is_latest`), so a
slow, older load never replaces the source or tokenizer asked for since.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Button, Checkbox, DataTable, Header, Input, Select, Static

from bnner_tui.core.config import STRATEGIES
from bnner_tui.core.data.browse import (
    PieceInfo,
    SplitRows,
    code_points,
    entity_counts,
    histogram,
    normalize_query,
    piece_info,
    sample_warnings,
    split_rows,
)
from bnner_tui.tui.messages import DataLoaded
from bnner_tui.tui.screens import WorkDone, WorkerErrors, WorkFailed, describe_error, report_error
from bnner_tui.tui.widgets.alignment_grid import (
    AlignmentGrid,
    GridColumn,
    clip,
    columns_from_alignment,
    columns_from_words,
)
from bnner_tui.tui.widgets.footer import KeyFooter

PAGE_SIZE = 200
"""Rows added to the table at a time; the next page loads when the cursor or scroll nears the end."""
TEXT_COLUMN_WIDTH = 20  # what the 48-cell pane leaves after #, w, entities and cell padding
"""Fixed, so the table's layout never depends on the sample; longer text ends in an ellipsis (cut in cells)."""
SOURCE_KINDS = [
    ("Demo set (offline)", "demo"),
    ("WikiANN bn (hub)", "wikiann"),
    ("Local path / hub:ID", "path"),
]
ANY_TYPE = "__any__"
WORDPIECE = "wordpiece"
"""Tokenizer box value that trains core's offline WordPiece on the source's train split."""


@dataclass
class SourceState:
    name: str
    spec: str
    label_names: list[str]
    splits: dict[str, SplitRows]
    unlabelled: set[str] = field(default_factory=set)


class SourceLoaded(WorkDone):
    """A source was read into plain lists; `warnings` are the loader's (skipped sentences, ...)."""

    def __init__(self, state: SourceState, warnings: list[str]) -> None:
        super().__init__()
        self.state = state
        self.warnings = warnings


class TokenizerLoaded(WorkDone):
    """The tokenizer `spec` names is loaded (or trained, for `wordpiece`)."""

    def __init__(self, spec: str, tokenizer: Any) -> None:
        super().__init__()
        self.spec = spec
        self.tokenizer = tokenizer


class PiecesReady(WorkDone):
    """Every sample of `split` tokenized once with the tokenizer named `name`."""

    def __init__(self, split: str, name: str, info: PieceInfo) -> None:
        super().__init__()
        self.split = split
        self.name = name
        self.info = info


class SampleTable(DataTable[Any]):
    """A DataTable that asks for the next page when its scrollbar nears the bottom."""

    class NearEnd(Message):
        pass

    def watch_scroll_y(self, old_value: float, new_value: float) -> None:
        super().watch_scroll_y(old_value, new_value)
        if self.row_count and new_value >= self.max_scroll_y - self.size.height:
            self.post_message(self.NearEnd())


class DataScreen(WorkerErrors, Screen[None]):
    """Source, samples, alignment grid, statistics."""

    TITLE = "Data"
    # The samples, not the source picker: arrows browse at once, and the screen keys (1-5, /, s,
    # k, c) are not swallowed by a Select's type-to-search.
    AUTO_FOCUS = "#samples"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "focus_search", "Search", key_display="/"),
        Binding("s", "next_strategy", "Strategy"),
        Binding("k", "focus_tokenizer", "Tokenizer"),
        Binding("c", "toggle_codepoints", "Code points"),
        Binding("g", "focus_grid", "Grid", show=False),
        Binding("ctrl+r", "reload", "Reload", show=False),
    ]

    DEFAULT_CSS = """
    DataScreen #source-bar { height: 3; }
    DataScreen #source-kind { width: 28; }
    DataScreen #source-path { width: 1fr; }
    DataScreen #split { width: 26; }
    DataScreen #load { width: 10; min-width: 8; }
    DataScreen #options-bar { height: 3; }
    DataScreen #label-map { width: 1fr; }
    DataScreen #drop-types { width: 30; }
    DataScreen #options-bar Checkbox { width: auto; border: none; padding: 0 1; height: 3; }
    DataScreen #main { height: 1fr; }
    DataScreen #samples-pane { width: 50; border-right: vkey $panel; }
    DataScreen #search { height: 3; }
    DataScreen #filters { height: 3; }
    DataScreen #type-filter { width: 20; }
    DataScreen #filters Checkbox { width: auto; border: none; padding: 0 1; height: 3; }
    DataScreen #samples { height: 1fr; }
    DataScreen #samples-status { height: auto; color: $text-muted; padding: 0 1; }
    DataScreen #align-pane { width: 1fr; }
    DataScreen #align-bar { height: 3; }
    DataScreen #strategy { width: 16; }
    DataScreen #tokenizer { width: 1fr; }
    DataScreen #max-length { width: 10; }
    DataScreen #grid { height: 1fr; min-height: 6; }
    DataScreen #sample-warnings { height: auto; max-height: 4; padding: 0 1; color: $warning; }
    DataScreen #codepoints { height: auto; max-height: 10; padding: 0 1; border-top: hkey $panel; display: none; }
    DataScreen #codepoints.shown { display: block; }
    DataScreen #stats { height: auto; max-height: 12; padding: 0 1; border-top: hkey $panel; }
    """

    def __init__(self) -> None:
        super().__init__()
        self.state: SourceState | None = None
        self.split: str | None = None
        self.filtered: list[int] = []
        self.loaded = 0
        self.tokenizer: Any = None
        self.tokenizer_name: str | None = None
        self.strategy = "first"
        self.max_length = 128
        self.piece_info: dict[tuple[str, str], PieceInfo] = {}
        self.current: int | None = None
        self._search_timer: Timer | None = None
        self._pending_filter = False
        self._requested: str | None = None
        self._wordpiece_waits = False  # asked for before the source it is trained on had loaded

    # -- layout -----------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="source-bar"):
            spec = getattr(self.app, "data_source", "demo") or "demo"
            kind = spec if spec in ("demo", "wikiann") else "path"
            yield Select(SOURCE_KINDS, value=kind, allow_blank=False, id="source-kind")
            yield Input(
                spec if kind == "path" else "",
                placeholder="path to a file or folder, or hub:ID[:CONFIG]",
                id="source-path",
            )
            yield Select([], prompt="split", id="split")
            yield Button("Load", id="load", variant="primary")
        with Horizontal(id="options-bar"):
            yield Input(placeholder="map types: PERSON=PER GPE=LOC", id="label-map", tooltip="--map, applied on load")
            yield Input(placeholder="drop types: DATE", id="drop-types", tooltip="--drop: read these types as O")
            yield Checkbox(Text("skip bad sentences"), id="skip-bad", tooltip="--on-error skip: drop them, report")
        with Horizontal(id="main"):
            with Vertical(id="samples-pane"):
                yield Input(placeholder="search text (/)", id="search")
                with Horizontal(id="filters"):
                    yield Select([("any type", ANY_TYPE)], value=ANY_TYPE, allow_blank=False, id="type-filter")
                    yield Checkbox(Text("[UNK]"), id="has-unk", tooltip="samples with a word that became [UNK]")
                    yield Checkbox(Text("too long"), id="too-long", tooltip="samples longer than max length (pieces)")
                table = SampleTable(id="samples", cursor_type="row", zebra_stripes=True)
                yield table
                yield Static("loading…", id="samples-status")
            with Vertical(id="align-pane"):
                with Horizontal(id="align-bar"):
                    yield Select([(s, s) for s in STRATEGIES], value="first", allow_blank=False, id="strategy")
                    yield Input(placeholder="tokenizer: folder, run model or hub id", id="tokenizer")
                    yield Input(str(self.max_length), type="integer", id="max-length", tooltip="max length in pieces")
                yield AlignmentGrid(id="grid", empty_text="Select a sample.")
                yield Static("", id="sample-warnings")
                yield Static("", id="codepoints")
                yield Static("", id="stats")
        yield KeyFooter()

    def on_mount(self) -> None:
        table = self.query_one("#samples", SampleTable)
        table.add_column("#", width=5, key="index")
        table.add_column("w", width=3, key="words")
        table.add_column("entities", width=10, key="entities")
        table.add_column("text", width=TEXT_COLUMN_WIDTH, key="text")
        # Loading starts after the first frame is on screen: the user sees the app at once, and
        # datasets/tokenizers load in workers behind it.
        self.call_after_refresh(self._start)

    def _start(self) -> None:
        spec = getattr(self.app, "data_source", "demo") or "demo"
        self._set_source_widgets(spec)
        self.load_source(spec)
        tok = self._default_tokenizer()
        if tok:
            self.query_one("#tokenizer", Input).value = tok
            self.request_tokenizer(tok)
        else:
            self.query_one("#grid", AlignmentGrid).empty_text = (
                "No tokenizer yet: enter a folder with tokenizer.json (e.g. the mBERT files), a run's model "
                f"folder, a hub id, or '{WORDPIECE}' (one trained on this source, offline) above (k) "
                "to see subword pieces."
            )

    def _set_source_widgets(self, spec: str) -> None:
        kind = spec if spec in ("demo", "wikiann") else "path"
        with self.prevent(Select.Changed):
            self.query_one("#source-kind", Select).value = kind
        if kind == "path":
            self.query_one("#source-path", Input).value = spec

    def _default_tokenizer(self) -> str | None:
        """The app's --tokenizer, else the newest run's saved model tokenizer (works offline)."""
        explicit = getattr(self.app, "tokenizer_spec", None)
        if explicit:
            return str(explicit)
        try:
            from bnner_tui.core.runs import list_runs

            for run in list_runs(getattr(self.app, "runs_root", Path("runs")), has_model=True):
                model = run.model_dir
                if (model / "tokenizer.json").is_file() or (model / "vocab.txt").is_file():
                    return str(model)
        except Exception:  # a broken runs folder must not stop the Data screen
            return None
        return None

    # -- source -----------------------------------------------------------------------------
    def _source_spec(self) -> str | None:
        kind = self.query_one("#source-kind", Select).value
        if kind == "path":
            path = self.query_one("#source-path", Input).value.strip()
            return path or None
        return str(kind)

    @on(Select.Changed, "#source-kind")
    def _kind_changed(self, event: Select.Changed) -> None:
        if self._requested is None:
            return  # the initial value, posted on mount: _start() does the first load
        if event.value == "path":
            self.query_one("#source-path", Input).focus()
        elif event.value != self._requested:
            self.load_source(str(event.value))

    @on(Input.Submitted, "#source-path")
    @on(Input.Submitted, "#label-map")
    @on(Input.Submitted, "#drop-types")
    @on(Checkbox.Changed, "#skip-bad")
    @on(Button.Pressed, "#load")
    def _load_pressed(self) -> None:
        spec = self._source_spec()
        if not spec:
            self.notify("Type a file or folder path (or hub:ID) first.", severity="warning")
            return
        self.load_source(spec)

    def action_reload(self) -> None:
        spec = self._source_spec()
        if spec:
            self.load_source(spec)

    def _load_options(self) -> Any:
        """The options bar as core's LoadOptions (the same parser as --map/--drop/--on-error)."""
        from bnner_tui.core.data import LoadOptions

        return LoadOptions.make(
            label_map=self.query_one("#label-map", Input).value.replace(",", " ").split(),
            drop=self.query_one("#drop-types", Input).value.replace(",", " ").split(),
            on_error="skip" if self.query_one("#skip-bad", Checkbox).value else "stop",
        )

    def load_source(self, spec: str) -> None:
        """Load a source in a worker; the table keeps the previous source until the new one is ready."""
        try:
            options = self._load_options()
        except Exception as err:
            report_error(self.app, err, title="Data options")
            return
        self._requested = spec
        self._status(f"loading {spec}…")
        self._load_source_worker(spec, options)

    @work(thread=True, exclusive=True, group="source", exit_on_error=False, name="Data source")
    def _load_source_worker(self, spec: str, options: Any = None) -> None:
        from bnner_tui.core.data import load_source

        loaded = load_source(spec, options=options)
        splits: dict[str, SplitRows] = {}
        for name, ds in loaded.dataset.items():
            cols = ds[:]
            splits[name] = split_rows(list(cols["tokens"]), list(cols["ner_tags"]), loaded.label_names)
        state = SourceState(
            name=loaded.name,
            spec=spec,
            label_names=list(loaded.label_names),
            splits=splits,
            unlabelled=set(getattr(loaded, "unlabelled_splits", set()) or set()),
        )
        self.post_message(SourceLoaded(state, list(loaded.warnings)))

    @on(WorkFailed)
    def _work_failed(self, message: WorkFailed) -> None:
        """`WorkerErrors` has notified; say on screen what is loaded now (older failures say nothing)."""
        if message.group != "source" or not self.is_latest(message) or self._requested is None:
            return
        from bnner_tui.core.data.problems import DataProblemsError

        spec, err = self._requested, message.error
        if isinstance(err, DataProblemsError):
            # The first problem and the way past it, not a silent empty table; the previous source stays.
            n = err.problems.count("error")
            kept = f"still showing {self.state.name}" if self.state else "no data loaded"
            self._status(f"{spec}: {n:,} problem(s), not loaded ({kept}); tick 'skip bad sentences' to load the rest")
        else:
            self._source_failed(spec, err)

    def _source_failed(self, spec: str, err: BaseException) -> None:
        """Nothing of the previous source stays on screen: title, splits, table, grid and stats say so."""
        self.state = None
        self.split = None
        self.current = None
        self.filtered = []
        self.loaded = 0
        self.piece_info.clear()
        self.sub_title = f"no data loaded ({spec} failed)"
        with self.prevent(Select.Changed):
            self.query_one("#split", Select).set_options([])
            self.query_one("#type-filter", Select).set_options([("any type", ANY_TYPE)])
        self.query_one("#samples", SampleTable).clear()
        self.query_one("#grid", AlignmentGrid).clear(f"No data loaded: {describe_error(err)}")
        self.query_one("#sample-warnings", Static).update("")
        self.query_one("#codepoints", Static).update("")
        self.query_one("#stats", Static).update("")
        self._status("no data loaded")

    @on(SourceLoaded)
    def _source_loaded(self, message: SourceLoaded) -> None:
        if not self.is_latest(message):
            return  # a slower, older load finishing after the user asked for another source
        state, warnings = message.state, message.warnings
        self.state = state
        self.post_message(DataLoaded(source=state.spec))  # the Train form starts from it
        self.piece_info.clear()
        self.sub_title = state.name
        for w in warnings[:3]:
            self.notify(w, title=state.name, severity="warning", markup=False)
        split_select = self.query_one("#split", Select)
        names = list(state.splits)
        with self.prevent(Select.Changed):
            split_select.set_options([(f"{n} {len(state.splits[n]):,}", n) for n in names])
        split = self.split if self.split in state.splits else ("train" if "train" in names else names[0])
        types = sorted({t for rows in state.splits.values() for ts in rows.types for t in ts})
        type_select = self.query_one("#type-filter", Select)
        with self.prevent(Select.Changed):
            type_select.set_options([("any type", ANY_TYPE), *((t, t) for t in types)])
            type_select.value = ANY_TYPE
        self._select_split(split)
        with self.prevent(Select.Changed):
            split_select.value = split
        if self._wordpiece_waits:
            self._wordpiece_waits = False
            self.load_tokenizer(WORDPIECE)

    @on(Select.Changed, "#split")
    def _split_changed(self, event: Select.Changed) -> None:
        if isinstance(event.value, str) and self.state and event.value in self.state.splits:
            self._select_split(event.value)

    def _select_split(self, split: str) -> None:
        self.split = split
        self.current = None
        self._apply_filters()
        self._update_stats()
        if self.tokenizer is not None:
            self.compute_pieces()

    @property
    def rows(self) -> SplitRows | None:
        if self.state is None or self.split is None:
            return None
        return self.state.splits.get(self.split)

    # -- filtering and the table --------------------------------------------------------------
    @on(Input.Changed, "#search")
    def _search_changed(self) -> None:
        if self._search_timer is not None:
            self._search_timer.stop()
        self._search_timer = self.set_timer(0.2, self._apply_filters)

    @on(Input.Submitted, "#search")
    def _search_submitted(self) -> None:
        self._apply_filters()
        self.query_one("#samples", SampleTable).focus()

    @on(Select.Changed, "#type-filter")
    @on(Checkbox.Changed)
    def _filters_changed(self) -> None:
        self._apply_filters()

    def _piece_filters(self) -> tuple[bool, bool]:
        return self.query_one("#has-unk", Checkbox).value, self.query_one("#too-long", Checkbox).value

    def _apply_filters(self) -> None:
        rows = self.rows
        if rows is None:
            return
        query_raw = self.query_one("#search", Input).value.strip()
        query = normalize_query(query_raw) if query_raw else ""
        wanted = self.query_one("#type-filter", Select).value
        want_unk, want_long = self._piece_filters()
        info = self._current_piece_info()
        if (want_unk or want_long) and info is None:
            if self.tokenizer is None:
                self.notify(
                    "The [UNK] and max-length filters need a tokenizer: pick one first (k).",
                    severity="warning",
                    markup=False,
                )
            else:
                self._pending_filter = True
                self._status("aligning every sample for the filters…")
            want_unk = want_long = False
        out = []
        for i in range(len(rows)):
            if query and query not in rows.search_text[i]:
                continue
            if wanted not in (ANY_TYPE, None) and wanted not in rows.types[i]:
                continue
            if info is not None:
                if want_unk and not info.has_unk[i]:
                    continue
                if want_long and info.lengths[i] <= self.max_length:
                    continue
            out.append(i)
        self.filtered = out
        table = self.query_one("#samples", SampleTable)
        table.clear()
        self.loaded = 0
        self._load_more()
        if out:
            table.move_cursor(row=0)
            self._show_sample(out[0])
        else:
            self.current = None
            self.query_one("#grid", AlignmentGrid).clear("No sample matches the search and filters.")
            self.query_one("#sample-warnings", Static).update("")
        self._update_status()

    def _row_cells(self, index: int) -> tuple[Any, ...]:
        rows = self.rows
        assert rows is not None
        toks = rows.tokens[index]
        types = " ".join(sorted(rows.types[index])) if rows.entities[index] else "-"
        # Cut in cells, with the app's width convention (tui/cells.py), to the column's width.
        text = clip(" ".join(toks), TEXT_COLUMN_WIDTH)
        return (str(index), str(len(toks)), types, Text(text, no_wrap=True, overflow="ellipsis"))

    def _load_more(self) -> None:
        if self.loaded >= len(self.filtered):
            return
        table = self.query_one("#samples", SampleTable)
        page = self.filtered[self.loaded : self.loaded + PAGE_SIZE]
        for i in page:
            table.add_row(*self._row_cells(i), key=str(i))
        self.loaded += len(page)
        self._update_status()

    @on(SampleTable.NearEnd)
    def _near_end(self) -> None:
        self._load_more()

    @on(DataTable.RowHighlighted, "#samples")
    def _row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.cursor_row >= self.loaded - 20:
            self._load_more()
        if event.row_key is not None and event.row_key.value is not None:
            index = int(event.row_key.value)
            if index != self.current:
                self._show_sample(index)

    def _status(self, text: str) -> None:
        self.query_one("#samples-status", Static).update(Text(text))  # holds paths: never markup

    def _update_status(self) -> None:
        rows = self.rows
        if rows is None:
            return
        tok = f" · tok {Path(self.tokenizer_name).name or self.tokenizer_name}" if self.tokenizer_name else ""
        self._status(f"{len(self.filtered):,} of {len(rows):,} shown · {self.loaded:,} loaded{tok}")

    # -- tokenizer, strategy, alignment --------------------------------------------------------
    @on(Input.Submitted, "#tokenizer")
    def _tokenizer_submitted(self, event: Input.Submitted) -> None:
        value = event.value.strip()
        if value:
            self.request_tokenizer(value)

    def request_tokenizer(self, spec: str) -> None:
        """Load `spec`. The WordPiece tokenizer is trained on this source's train split, so it
        waits for the source when that is still loading (`--data demo --tokenizer wordpiece`)."""
        if spec.strip().lower() == WORDPIECE and self.state is None:
            self._wordpiece_waits = True
            return
        self.load_tokenizer(spec)

    @work(thread=True, exclusive=True, group="tokenizer", exit_on_error=False, name="Tokenizer")
    def load_tokenizer(self, spec: str) -> None:
        if spec.strip().lower() == WORDPIECE:
            tok = self._train_wordpiece()
        else:
            from bnner_tui.core.align import load_tokenizer

            tok = load_tokenizer(spec)
        self.post_message(TokenizerLoaded(spec, tok))

    def _train_wordpiece(self) -> Any:
        """The offline fallback: the WordPiece core trains for the offline model, on this source's train split."""
        from bnner_tui.core.errors import BnnerError
        from bnner_tui.core.train.tokenizers import train_wordpiece

        state = self.state
        if state is None:
            raise BnnerError("Load a data source first: the WordPiece tokenizer is trained on its train split.")
        rows = state.splits.get("train") or next(iter(state.splits.values()))
        tok = train_wordpiece(rows.tokens).backend_tokenizer
        tok.no_truncation()
        tok.no_padding()
        return tok

    @on(TokenizerLoaded)
    def _tokenizer_loaded(self, message: TokenizerLoaded) -> None:
        if not self.is_latest(message):
            return  # the user has asked for another tokenizer since
        self.tokenizer = message.tokenizer
        self.tokenizer_name = message.spec
        if message.spec.strip().lower() != WORDPIECE:  # trained here on the fly: nothing the Train form can name
            self.post_message(DataLoaded(tokenizer=message.spec))
        self.piece_info.clear()
        self._update_status()
        if self.current is not None:
            self._show_sample(self.current)
        else:
            self.query_one("#grid", AlignmentGrid).clear("Select a sample.")
        if self.rows is not None:
            self.compute_pieces()

    @on(Select.Changed, "#strategy")
    def _strategy_changed(self, event: Select.Changed) -> None:
        if isinstance(event.value, str):
            self.strategy = event.value
            if self.current is not None:
                self._show_sample(self.current)

    def action_next_strategy(self) -> None:
        nxt = STRATEGIES[(STRATEGIES.index(self.strategy) + 1) % len(STRATEGIES)]
        self.query_one("#strategy", Select).value = nxt

    @on(Input.Submitted, "#max-length")
    @on(Input.Blurred, "#max-length")
    def _max_length_changed(self) -> None:
        raw = self.query_one("#max-length", Input).value.strip()
        try:
            value = int(raw)
            if value < 8:
                raise ValueError
        except ValueError:
            self.notify(
                f"Max length must be a whole number of pieces, 8 or more (got {raw!r}).", severity="error", markup=False
            )
            self.query_one("#max-length", Input).value = str(self.max_length)
            return
        if value != self.max_length:
            self.max_length = value
            self._update_stats()
            if self._piece_filters()[1]:
                self._apply_filters()
            elif self.current is not None:
                self._show_sample(self.current)

    def _current_piece_info(self) -> PieceInfo | None:
        if self.split is None or self.tokenizer_name is None:
            return None
        return self.piece_info.get((self.split, self.tokenizer_name))

    @work(thread=True, exclusive=True, group="pieces", exit_on_error=False, name="Tokenizer")
    def compute_pieces(self) -> None:
        """Tokenize every sample of the split once (batched, in Rust) for the filters and the histogram."""
        rows, tok, split, name = self.rows, self.tokenizer, self.split, self.tokenizer_name
        if rows is None or tok is None or split is None or name is None:
            return
        self.post_message(PiecesReady(split, name, piece_info(tok, rows.tokens)))

    @on(PiecesReady)
    def _pieces_ready(self, message: PiecesReady) -> None:
        if not self.is_latest(message):
            return  # counted for a source or tokenizer that has been replaced since
        self.piece_info[(message.split, message.name)] = message.info
        self._update_stats()
        if self._pending_filter or any(self._piece_filters()):
            self._pending_filter = False
            self._apply_filters()

    def _show_sample(self, index: int) -> None:
        rows = self.rows
        if rows is None or not (0 <= index < len(rows)):
            return
        self.current = index
        assert self.state is not None
        names = self.state.label_names
        words = rows.tokens[index]
        labelled = self.split not in self.state.unlabelled
        tags = rows.tags[index]
        word_labels = [names[t] if 0 <= t < len(names) else "?" for t in tags] if labelled else None
        grid = self.query_one("#grid", AlignmentGrid)
        warnings: list[str] = []
        if self.tokenizer is None:
            columns: list[GridColumn] = columns_from_words(words, word_labels)
            grid.set_columns(columns)
        else:
            try:
                from bnner_tui.core.align import align

                labels = list(tags) if labelled else None
                al = align(self.tokenizer, words, labels, names, strategy=self.strategy, max_length=self.max_length)
            except Exception as err:
                report_error(self.app, err, title="Alignment")
                grid.set_columns(columns_from_words(words, word_labels))
                return
            piece_labels = list(al.labels)
            columns = columns_from_alignment(
                words,
                word_labels,
                list(al.pieces),
                list(al.word_ids),
                piece_labels,
                names,
                unk_words=list(al.unk_words),
                mismatch_words=list(al.mismatch_words),
                dropped_words=list(al.dropped_words),
            )
            grid.set_columns(columns)
            warnings = sample_warnings(words, al, self.max_length)
        self.query_one("#sample-warnings", Static).update(Text("\n".join(warnings)))

    def on_alignment_grid_word_selected(self, event: AlignmentGrid.WordSelected) -> None:
        panel = self.query_one("#codepoints", Static)
        col = event.column
        if col is None:
            panel.update("")
            return
        lines = [f"{col.word!r}  ({len(col.word)} code points)", code_points(col.word)]
        if col.pieces and not col.special:
            lines.append("pieces: " + " | ".join(p for p, _ in col.pieces))
        panel.update(Text("\n".join(lines)))

    def action_toggle_codepoints(self) -> None:
        self.query_one("#codepoints", Static).toggle_class("shown")

    def action_focus_search(self) -> None:
        self.query_one("#search", Input).focus()

    def action_focus_tokenizer(self) -> None:
        self.query_one("#tokenizer", Input).focus()

    def action_focus_grid(self) -> None:
        self.query_one("#grid", AlignmentGrid).focus()

    # -- stats ------------------------------------------------------------------------------
    def _update_stats(self) -> None:
        state, rows = self.state, self.rows
        panel = self.query_one("#stats", Static)
        if state is None or rows is None:
            panel.update("")
            return
        # Text, not markup: a source's name is a path, and `[/]` in a path is not a tag.
        per_split = "  ".join(f"{n} {len(r):,}" for n, r in state.splits.items())
        lines = [Text.assemble((state.name, "bold"), f"  sentences: {per_split}")]
        if self.split in state.unlabelled:
            lines.append(Text(f"{self.split}: no gold labels"))
        else:
            counts = entity_counts(rows.tags, state.label_names)
            ents = "  ".join(f"{k} {v:,}" for k, v in sorted(counts.items()) if v) or "none"
            lines.append(Text(f"entities in {self.split}: {ents}"))
        info = self._current_piece_info()
        if info is not None:
            lines.append(Text(f"pieces per sentence ({Path(self.tokenizer_name or '').name}):"))
            lines.append(Text(histogram(info.lengths, self.max_length)))
        elif self.tokenizer is not None:
            lines.append(Text("pieces per sentence: computing…"))
        panel.update(Text("\n").join(lines))
