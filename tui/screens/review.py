"""The Review screen: walk the ranked label suspects of a review and fix them, one decision at a time.

What it composes and why:
- the suspects of a review folder (`bnner-tui data review` wrote them), most suspicious first,
  in a table with their score, kind of change and status; filters by kind, entity type and score;
- the selected sentence in the Data screen's alignment grid: under each word its given label,
  then the suggestion (or, once decided, the label the annotator chose; red where it differs
  from the given one), then its subword pieces when a tokenizer is set (`--tokenizer` of the app);
- keys for the decisions. Every rule (what accept means, spans in valid IOB2, undo, the corrected
  dataset) lives in `core.review`; every decision is fsynced to decisions.jsonl before the
  screen shows it, so closing the terminal mid-review loses nothing;
- the tokenizer load and the corrected-source save run in workers that post `TokenizerReady`
  and `CorrectedSaved`; a failed save raises and `WorkerErrors` notifies.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import DataTable, Header, Input, Select, Static

from bnner_tui.tui.screens import WorkDone, WorkerErrors, report_error
from bnner_tui.tui.widgets.alignment_grid import AlignmentGrid, GridColumn, columns_from_alignment
from bnner_tui.tui.widgets.footer import KeyFooter

TEXT_WIDTH = 22  # what the 67-cell list leaves after the other columns and cell padding
ANY = "__any__"
KIND_OPTIONS = [
    ("any kind", ANY),
    ("wrong type", "type"),
    ("missed entity", "missed"),
    ("spurious entity", "spurious"),
    ("boundary", "boundary"),
]
STATUS_OPTIONS = [
    ("any status", ANY),
    ("open", "open"),
    ("skipped", "skipped"),
    ("accepted", "accepted"),
    ("set", "set"),
    ("correct", "correct"),
]


KIND_SHORT = {"type": "type", "missed": "miss", "spurious": "spur", "boundary": "edge"}


def newest_review(root: Path = Path("reviews")) -> Path | None:
    """The most recently written review folder under `root` (the default when none is given)."""
    if not root.is_dir():
        return None
    found = [p for p in root.iterdir() if (p / "suspects.jsonl").is_file()]
    return max(found, key=lambda p: (p / "suspects.jsonl").stat().st_mtime) if found else None


class TokenizerReady(WorkDone):
    """The app's --tokenizer, loaded: the grid shows each word's pieces from now on."""

    def __init__(self, tokenizer: Any) -> None:
        super().__init__()
        self.tokenizer = tokenizer


class CorrectedSaved(WorkDone):
    """The corrected source was written to `target`; `doc` is its changelog summary."""

    def __init__(self, target: Path, doc: dict[str, Any]) -> None:
        super().__init__()
        self.target = target
        self.doc = doc


class ReviewScreen(WorkerErrors, Screen):
    """Ranked suspects, the alignment grid, and one key per decision."""

    DEFAULT_CSS = """
    ReviewScreen #review-top { height: 3; }
    ReviewScreen #review-path { width: 1fr; }
    ReviewScreen #review-kind, ReviewScreen #review-type, ReviewScreen #review-status { width: 20; }
    ReviewScreen #review-score { width: 16; }
    ReviewScreen #review-counts { height: 1; padding: 0 1; color: $text-muted; }
    ReviewScreen #review-list { width: 67; height: 100%; }
    ReviewScreen #review-right { width: 1fr; height: 100%; }
    ReviewScreen #review-sentence { height: auto; padding: 0 1; }
    ReviewScreen #review-word { height: auto; padding: 0 1; color: $text-muted; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "accept", "Accept"),
        Binding("c", "correct", "Given is correct"),
        Binding("s", "skip", "Skip"),
        Binding("u,ctrl+z", "undo", "Undo"),
        Binding("p", "set('PER')", "PER"),
        Binding("g", "set('ORG')", "ORG"),
        Binding("l", "set('LOC')", "LOC"),
        Binding("o", "set('O')", "O"),
        Binding("v", "span", "Span"),
        Binding("j,n", "next(1)", "Next", show=False),
        Binding("k", "next(-1)", "Prev", show=False),
        Binding("ctrl+s", "save", "Save corrected"),
    ]

    def __init__(self, review_dir: str | Path | None = None) -> None:
        super().__init__()
        self.review_dir = Path(review_dir) if review_dir else None
        self.session: Any = None
        self.shown: list[Any] = []
        self.current: Any = None
        self.span_start: int | None = None
        self.tokenizer: Any = None
        self.saved_to: Path | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="review-top"):
            yield Input(placeholder="review folder (from bnner-tui data review)", id="review-path")
            yield Select(KIND_OPTIONS, value=ANY, allow_blank=False, id="review-kind")
            yield Select([("any type", ANY)], value=ANY, allow_blank=False, id="review-type")
            yield Select(STATUS_OPTIONS, value=ANY, allow_blank=False, id="review-status")
            yield Input(placeholder="max score", id="review-score")
        yield Static("", id="review-counts")
        with Horizontal():
            yield DataTable(id="review-list", cursor_type="row", zebra_stripes=True)
            with Vertical(id="review-right"):
                yield Static("", id="review-sentence")
                yield AlignmentGrid(id="review-grid", empty_text="Open a review folder.")
                yield Static("", id="review-word")
        yield KeyFooter()

    def on_mount(self) -> None:
        table = self.query_one("#review-list", DataTable)
        table.add_column("#", key="rank", width=5)
        table.add_column("score", key="score", width=6)
        table.add_column("kind", key="kind", width=14)
        table.add_column("status", key="status", width=8)
        table.add_column("sentence", key="text", width=TEXT_WIDTH)
        folder = self.review_dir or getattr(self.app, "review_dir", None) or newest_review()
        spec = getattr(self.app, "tokenizer_spec", None)
        if spec:
            self._load_tokenizer(spec)
        if folder:
            self.query_one("#review-path", Input).value = str(folder)
            self.open_review(Path(folder))
        else:
            self._counts("No review yet: run `bnner-tui data review SOURCE`, then type its folder above.")

    # -- loading ------------------------------------------------------------------------------
    @on(Input.Submitted, "#review-path")
    def _path_submitted(self, event: Input.Submitted) -> None:
        if event.value.strip():
            self.open_review(Path(event.value.strip()))

    def open_review(self, folder: Path) -> None:
        from bnner_tui.core.errors import BnnerError
        from bnner_tui.core.review.session import ReviewSession

        try:
            self.session = ReviewSession(folder)
        except BnnerError as err:
            report_error(self.app, err, title="Review")
            return
        self.review_dir = folder
        types = sorted({t for s in self.session.suspects for t in s.types})
        self.query_one("#review-type", Select).set_options([("any type", ANY), *((t, t) for t in types)])
        self.query_one("#review-type", Select).value = ANY
        self._refill()
        self.query_one("#review-grid", AlignmentGrid).focus()

    @work(thread=True, exclusive=True, group="review-tokenizer", exit_on_error=False)
    def _load_tokenizer(self, spec: str) -> None:
        from bnner_tui.core.align import load_tokenizer

        try:
            tok = load_tokenizer(spec)
        except Exception:
            # Optional, so not a failure to report: without it the grid shows words and labels
            # only (and the Data screen, which needs it, says why it did not load).
            return
        self.post_message(TokenizerReady(tok))

    @on(TokenizerReady)
    def _tokenizer_ready(self, message: TokenizerReady) -> None:
        self.tokenizer = message.tokenizer
        if self.current is not None:
            self._show(self.current, keep_word=True)

    # -- filters and the list -----------------------------------------------------------------
    @on(Select.Changed)
    def _filter_changed(self, event: Select.Changed) -> None:
        if self.session is not None:
            self._refill()

    @on(Input.Changed, "#review-score")
    def _score_changed(self) -> None:
        if self.session is not None:
            self._refill()

    def _filters(self) -> dict[str, Any]:
        def sel(id_: str) -> str | None:
            v = self.query_one(id_, Select).value
            return None if v in (ANY, Select.BLANK) else str(v)

        text = self.query_one("#review-score", Input).value.strip()
        try:
            max_score = float(text) if text else None
        except ValueError:
            max_score = None
        return {
            "kind": sel("#review-kind"),
            "entity_type": sel("#review-type"),
            "status": sel("#review-status"),
            "max_score": max_score,
        }

    def _refill(self) -> None:
        keep = self.current.sentence if self.current is not None else None
        self.shown = self.session.filtered(**self._filters())
        table = self.query_one("#review-list", DataTable)
        table.clear()
        for s in self.shown:
            table.add_row(*self._cells(s), key=str(s.sentence))
        self._counts()
        if not self.shown:
            self.current = None
            self.query_one("#review-grid", AlignmentGrid).clear("No suspects match the filters.")
            return
        target = next((i for i, s in enumerate(self.shown) if s.sentence == keep), 0)
        table.move_cursor(row=target)
        self._show(self.shown[target], keep_word=self.shown[target].sentence == keep)

    def _cells(self, s: Any) -> tuple[Any, ...]:
        status_style = {"open": "", "skipped": "yellow", "correct": "green", "accepted": "cyan", "set": "cyan"}
        text = " ".join(s.words)
        return (
            str(s.rank),
            f"{s.score:.3f}",
            "+".join(KIND_SHORT.get(k, k) for k in s.kinds) or "-",
            Text(s.status, style=status_style.get(s.status, "")),
            text if len(text) <= TEXT_WIDTH else text[: TEXT_WIDTH - 1] + "…",
        )

    def _counts(self, note: str | None = None) -> None:
        if note is not None or self.session is None:
            self.query_one("#review-counts", Static).update(note or "")
            return
        c = self.session.counts()
        shown = f" · showing {len(self.shown)}" if len(self.shown) != c.total else ""
        saved = f" · saved to {self.saved_to}" if self.saved_to else ""
        self.query_one("#review-counts", Static).update(
            f"{c.total} suspects · {c.reviewed} reviewed · {c.changed} changed · {c.skipped} skipped"
            f" · {c.open} open{shown} · {self.review_dir}{saved}"
        )

    @on(DataTable.RowHighlighted, "#review-list")
    def _row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        key = event.row_key.value
        match = next((s for s in self.shown if str(s.sentence) == key), None)
        if match is not None and match is not self.current:
            self.span_start = None
            self._show(match, keep_word=False)

    # -- the grid -----------------------------------------------------------------------------
    def _show(self, s: Any, *, keep_word: bool) -> None:
        self.current = s
        decided = s.status in ("accepted", "set", "correct")
        second = s.current if decided else s.suggested
        columns = self._columns(s, second)
        grid = self.query_one("#review-grid", AlignmentGrid)
        grid.set_columns(columns, keep_word=keep_word)
        what = "your label" if decided else "suggestion"
        span = f" · span from word {self.span_start}" if self.span_start is not None else ""
        self.query_one("#review-sentence", Static).update(
            f"#{s.rank} sentence {s.sentence} · score {s.score:.3f} · {s.status} · under each word: given,"
            f" then {what} (red where it differs){span}"
        )
        self._word_line()

    def _columns(self, s: Any, second: list[str]) -> list[GridColumn]:
        if self.tokenizer is not None:
            try:
                from bnner_tui.core.align import align

                names = list(self.session.params.get("label_names") or [])
                ids = [names.index(x) for x in s.given]
                al = align(self.tokenizer, s.words, ids, names, strategy="first", max_length=512)
                return columns_from_alignment(
                    s.words,
                    s.given,
                    list(al.pieces),
                    list(al.word_ids),
                    list(al.labels),
                    names,
                    unk_words=list(al.unk_words),
                    mismatch_words=list(al.mismatch_words),
                    predicted=second,
                )
            except Exception:
                pass
        return [
            GridColumn(word=w, gold=g, pred=p, word_index=i)
            for i, (w, g, p) in enumerate(zip(s.words, s.given, second, strict=True))
        ]

    def _selected_word(self) -> int | None:
        return self.query_one("#review-grid", AlignmentGrid).selected_word

    def on_alignment_grid_word_selected(self, event: AlignmentGrid.WordSelected) -> None:
        self._word_line()

    def _word_line(self) -> None:
        s, w = self.current, self._selected_word()
        line = self.query_one("#review-word", Static)
        if s is None or w is None:
            line.update("")
            return
        flag = " · flagged by cleanlab" if w in s.flagged else ""
        line.update(
            f"word {w}: given {s.given[w]} · suggested {s.suggested[w]} · now {s.current[w]}{flag}"
            "  —  a accept · c given is correct · s skip · p/g/l/o set PER/ORG/LOC/O · v span · u undo"
        )

    # -- decisions ----------------------------------------------------------------------------
    def _decide(self, fn: Any, *args: Any, advance: bool = True) -> None:
        if self.current is None:
            return
        try:
            fn(self.current.sentence, *args)
        except Exception as err:
            report_error(self.app, err, title="Review")
            return
        self._after_decision(advance=advance)

    def _after_decision(self, *, advance: bool) -> None:
        table = self.query_one("#review-list", DataTable)
        s = self.current
        if s is not None and str(s.sentence) in {str(k.value) for k in table.rows}:
            for col, cell in zip(("rank", "score", "kind", "status", "text"), self._cells(s), strict=True):
                table.update_cell(str(s.sentence), col, cell)
        self._counts()
        if advance and self.shown:
            self.action_next(1)
        elif s is not None:
            self._show(s, keep_word=True)

    def action_accept(self) -> None:
        if self.session is not None:
            self._decide(self.session.accept)

    def action_correct(self) -> None:
        if self.session is not None:
            self._decide(self.session.correct)

    def action_skip(self) -> None:
        if self.session is not None:
            self._decide(self.session.skip)

    def action_span(self) -> None:
        """Start a span at the selected word (press again to clear); a label key then sets the whole span."""
        w = self._selected_word()
        self.span_start = None if self.span_start is not None or w is None else w
        if self.current is not None:
            self._show(self.current, keep_word=True)

    def action_set(self, kind: str) -> None:
        w = self._selected_word()
        if self.session is None or self.current is None or w is None:
            return
        a = self.span_start if self.span_start is not None else w
        start, end = min(a, w), max(a, w) + 1
        self.span_start = None
        self._decide(self.session.set_span, start, end, None if kind == "O" else kind, advance=False)

    def action_undo(self) -> None:
        if self.session is None:
            return
        try:
            rec = self.session.undo()
        except Exception as err:
            report_error(self.app, err, title="Review")
            return
        if rec is None:
            self.notify("Nothing to undo.", timeout=3)
            return
        target = next((s for s in self.shown if s.sentence == rec["sentence"]), None)
        if target is not None:
            self.current = target
            table = self.query_one("#review-list", DataTable)
            table.move_cursor(row=self.shown.index(target))
        self._after_decision(advance=False)

    def action_next(self, step: int) -> None:
        if not self.shown:
            return
        table = self.query_one("#review-list", DataTable)
        idx = next((i for i, s in enumerate(self.shown) if s is self.current), -1)
        idx = max(0, min(len(self.shown) - 1, idx + step))
        table.move_cursor(row=idx)
        if self.shown[idx] is not self.current:
            self.span_start = None
            self._show(self.shown[idx], keep_word=False)

    def action_save(self) -> None:
        """Write the corrected source into a new folder beside the review (never over the original)."""
        if self.session is None or self.review_dir is None:
            return
        base = self.review_dir.parent / f"{self.review_dir.name}-corrected"
        target, n = base, 2
        while target.exists():
            target, n = base.with_name(f"{base.name}-{n}"), n + 1
        self._save(target)

    @work(thread=True, exclusive=True, group="review-save", exit_on_error=False, name="Save corrected")
    def _save(self, target: Path) -> None:
        from bnner_tui.core.review.corrected import save_corrected

        if self.review_dir is None:
            return
        self.post_message(CorrectedSaved(target, save_corrected([self.review_dir], target)))

    @on(CorrectedSaved)
    def _saved(self, message: CorrectedSaved) -> None:
        target, doc = message.target, message.doc
        self.saved_to = target
        self._counts()
        self.notify(
            f"Wrote {target}: {doc['changes']} label changes in {doc['sentences_changed']} sentences;"
            f" train with `bnner-tui train --data {target}`.",
            title="Saved",
            timeout=8,
        )
