"""The Card screen: the selected run's model card in an editor, a live preview, validation, publishing.

The screen holds no card logic: `core.card` builds, merges, validates and saves (atomically, with
a numbered backup); `core.publish` plans and publishes. What the screen adds is the loop a
person needs: edit, see the rendered body and every problem with its line at once (debounced,
so typing never waits), click a problem to jump to its line, keep the widget examples as a
list, save, dry-run, publish.

Background work follows the screens' one pattern (see `tui.screens`): loading and regenerating
run in workers that post a typed Message with their result (`CardLoaded`, `CardRegenerated`)
and simply raise on failure; `WorkerErrors` is the one handler, and `WorkFailed` puts the
status line right. The publish dialog (`tui.screens.publish`) works the same way.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import (
    Button,
    DataTable,
    Header,
    Input,
    Markdown,
    OptionList,
    Select,
    Static,
    TextArea,
)
from textual.widgets.option_list import Option

from bnner_tui.tui.screens import RUN_LIST_REFRESH_S, WorkerErrors, WorkFailed, describe_error, report_error
from bnner_tui.tui.screens.publish import PublishDialog
from bnner_tui.tui.widgets.footer import KeyFooter

PREVIEW_DELAY_S = 0.3


def card_body(text: str) -> str:
    from bnner_tui.core.card.frontmatter import split_front_matter

    return split_front_matter(text)[1]


class CardLoaded(Message):
    """The load worker read `run_dir`'s card: the saved README (`saved` is its text) or a fresh one (`saved` None)."""

    def __init__(self, run_dir: Path, text: str, saved: str | None) -> None:
        super().__init__()
        self.run_dir = run_dir
        self.text = text
        self.saved = saved


class CardRegenerated(Message):
    """The regenerate worker merged a fresh card of `run_dir` into `base` (the editor's text when asked)."""

    def __init__(self, run_dir: Path, base: str, text: str) -> None:
        super().__init__()
        self.run_dir = run_dir
        self.base = base
        self.text = text


class CardScreen(WorkerErrors, Screen[None]):
    """Edit, preview, validate, save and publish the selected run's model card."""

    TITLE = "Card"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", "Save"),
        Binding("ctrl+r", "regenerate", "Regenerate"),
        Binding("ctrl+g", "publish", "Publish"),
    ]
    DEFAULT_CSS = """
    CardScreen #card-bar { height: 3; }
    CardScreen #run-pick { width: 48; }
    CardScreen #card-bar Button { margin-left: 1; }
    CardScreen #card-status { height: 1; padding: 0 1; color: $text-muted; }
    CardScreen #card-main { height: 1fr; }
    CardScreen #editor { width: 1fr; }
    CardScreen #side { width: 1fr; }
    CardScreen #preview-box { height: 1fr; border: round $panel; }
    CardScreen #widgets-box { height: 14; border: round $panel; }
    CardScreen #widgets { height: 1fr; }
    CardScreen #widget-edit { height: 3; }
    CardScreen #widget-title { width: 1fr; }
    CardScreen #widget-text { width: 2fr; }
    /* The buttons on a line of their own: beside the inputs they left the text box 4 cells at 100 columns. */
    CardScreen #widget-buttons { height: 1; align-horizontal: right; }
    CardScreen #widget-buttons Button { margin-left: 1; min-width: 0; width: auto; padding: 0 1; }
    CardScreen #problems { height: auto; max-height: 7; border: round $panel; }
    """

    def __init__(self) -> None:
        super().__init__()
        self.run_dir: Path | None = None
        self.saved_text: str | None = None
        self.problems: list[Any] = []
        self.widgets: list[dict[str, str]] = []
        self._timer: Timer | None = None
        self._run_values: set[str] = set()
        self._widgets_width = 0

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="card-bar"):
            yield Select([], prompt="pick a finished run", id="run-pick")
            yield Button("Regenerate", id="regenerate", tooltip="ctrl+r: refresh the measured parts, keep your edits")
            yield Button("Save", id="save", variant="primary", tooltip="ctrl+s: atomic, old file kept as a backup")
            yield Button("Publish…", id="publish", variant="warning", tooltip="ctrl+g: dry run first")
        yield Static("no run selected", id="card-status")
        with Horizontal(id="card-main"):
            yield TextArea("", id="editor", soft_wrap=False, show_line_numbers=True, tab_behavior="indent")
            with Vertical(id="side"):
                with VerticalScroll(id="preview-box"):
                    yield Markdown("", id="preview")
                with Vertical(id="widgets-box"):
                    yield Static("widget examples (the Hub's inference box)", classes="panel-title")
                    table: DataTable[Any] = DataTable(id="widgets", cursor_type="row", zebra_stripes=True)
                    yield table
                    with Horizontal(id="widget-edit"):
                        yield Input(placeholder="title", id="widget-title")
                        yield Input(placeholder="example text", id="widget-text")
                    with Horizontal(id="widget-buttons"):
                        yield Button("Add", id="widget-add", compact=True, tooltip="Add the example in the boxes")
                        yield Button("Set", id="widget-set", compact=True, tooltip="Replace the highlighted example")
                        yield Button("Delete", id="widget-del", compact=True, tooltip="Delete the highlighted example")
        yield OptionList(id="problems")
        yield KeyFooter()

    def on_mount(self) -> None:
        self._widget_columns(self.query_one("#widgets", DataTable), 0)
        self.refresh_runs()
        self.set_interval(RUN_LIST_REFRESH_S, self._refresh_runs_if_shown, name="card-run-list")
        self.watch(self.app, "selected_run", self._selected_run_changed, init=True)

    # -- runs -------------------------------------------------------------------------------
    def _runs_root(self) -> Path:
        return Path(getattr(self.app, "runs_root", Path("runs")))

    def refresh_runs(self) -> None:
        options: list[tuple[str, str]] = []
        try:
            from bnner_tui.core.runs import list_runs

            for run in list_runs(self._runs_root(), has_model=True, has_metrics=True):
                options.append((f"{run.name} ({run.status})", str(run.path)))
        except Exception as err:
            report_error(self.app, err, title="Runs")
        if options == getattr(self, "_run_options", None):
            return  # nothing new: leave the picker (and an open dropdown) alone
        self._run_options = options
        self._run_values = {v for _, v in options}
        select = self.query_one("#run-pick", Select)
        current = select.value
        with self.prevent(Select.Changed):
            select.set_options(options)
            if current in self._run_values:
                select.value = current

    def on_screen_resume(self) -> None:
        """Runs finish while the user is on another screen: read the list again on each visit
        (and the terminal may have been resized meanwhile)."""
        self.refresh_runs()
        self.call_after_refresh(self._widgets_resized)

    def _refresh_runs_if_shown(self) -> None:
        """A run can also finish while this screen is open (launched from the CLI, say)."""
        if self.is_current:
            self.refresh_runs()

    def _selected_run_changed(self, run: Path | None) -> None:
        if run is None:
            if self.run_dir is None:
                self._default_run()
            return
        self.open_run(Path(run))

    def _default_run(self) -> None:
        """No run selected anywhere: the newest finished run, if there is one."""
        try:
            from bnner_tui.core.runs import list_runs

            runs = list_runs(self._runs_root(), has_model=True, has_metrics=True)
            if runs:
                self.open_run(runs[0].path)
                return
        except Exception as err:
            report_error(self.app, err, title="Runs")
        self._status("No finished run yet: train one (2) or pick a run; the card is built from what it measured.")

    @on(Select.Changed, "#run-pick")
    def _run_picked(self, event: Select.Changed) -> None:
        if isinstance(event.value, str):
            self.open_run(Path(event.value))

    def open_run(self, run_dir: Path) -> None:
        if self.run_dir is not None and self.is_dirty() and run_dir != self.run_dir:
            self.notify(
                f"Unsaved edits of {self.run_dir.name}'s card were left unsaved.", severity="warning", markup=False
            )
        self.run_dir = run_dir
        if str(run_dir) in self._run_values:
            with self.prevent(Select.Changed):
                self.query_one("#run-pick", Select).value = str(run_dir)
        self.sub_title = run_dir.name
        self._status(f"loading the card of {run_dir.name}…")
        self._load_card(run_dir)

    @work(thread=True, exclusive=True, group="card", exit_on_error=False)
    def _load_card(self, run_dir: Path) -> None:
        """The saved README if there is one (the user's edits), else a card generated from the run."""
        readme = run_dir / "model" / "README.md"
        if readme.is_file():
            from bnner_tui.core.card.frontmatter import read_card_file

            text = read_card_file(readme)
            self.post_message(CardLoaded(run_dir, text, text))
            return
        from bnner_tui.core.card.render import card_text

        self.post_message(CardLoaded(run_dir, card_text(run_dir), None))

    @on(CardLoaded)
    def _loaded(self, message: CardLoaded) -> None:
        if message.run_dir != self.run_dir:
            return  # the user picked another run meanwhile
        self.saved_text = message.saved
        editor = self.query_one("#editor", TextArea)
        editor.load_text(message.text)
        self._refresh_now()

    @on(WorkFailed)
    def _work_failed(self, message: WorkFailed) -> None:
        """`WorkerErrors` has notified; a card that could not be loaded also says so in the status line."""
        if message.name == "_load_card" and self.run_dir is not None:
            self._status(f"{self.run_dir.name}: {describe_error(message.error)}")

    # -- editing, preview, validation ---------------------------------------------------------
    def is_dirty(self) -> bool:
        return self.query_one("#editor", TextArea).text != (self.saved_text or "")

    @on(TextArea.Changed, "#editor")
    def _edited(self) -> None:
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.set_timer(PREVIEW_DELAY_S, self._refresh_now)

    def _refresh_now(self) -> None:
        """Preview, problems and the widget list from the editor's current text."""
        text = self.query_one("#editor", TextArea).text
        self.query_one("#preview", Markdown).update(card_body(text))
        self.validate_now(text)
        from bnner_tui.core.card.widgets import card_widgets

        widgets = card_widgets(text)
        if widgets is not None:
            self.widgets = widgets
            self._fill_widgets()
        self._update_status()

    def validate_now(self, text: str | None = None) -> list[Any]:
        from bnner_tui.core.card.validate import validate_card

        if text is None:
            text = self.query_one("#editor", TextArea).text
        try:
            self.problems = validate_card(text, run=self.run_dir) if text.strip() else []
        except Exception as err:
            report_error(self.app, err, title="Validation")
            self.problems = []
        box = self.query_one("#problems", OptionList)
        # A refresh follows every pause in typing; the row the user is on stays highlighted, so a
        # refresh landing between their arrow key and Enter does not swallow the Enter.
        highlighted = box.highlighted
        box.clear_options()
        if self.problems:
            box.add_options([Option(Text(str(p)), id=f"line-{p.line}-{i}") for i, p in enumerate(self.problems)])
            box.border_title = f"{len(self.problems)} problem(s): select one to jump to its line"
            if highlighted is not None:
                box.highlighted = min(highlighted, len(self.problems) - 1)
        else:
            box.add_option(Option(Text("The card is valid: fit to publish."), id="valid", disabled=True))
            box.border_title = "validation"
        return self.problems

    @on(OptionList.OptionSelected, "#problems")
    def _jump(self, event: OptionList.OptionSelected) -> None:
        oid = event.option.id or ""
        if oid.startswith("line-"):
            line = int(oid.split("-")[1])
            editor = self.query_one("#editor", TextArea)
            editor.move_cursor((max(0, line - 1), 0), center=True)
            editor.focus()

    def _status(self, text: str) -> None:
        self.query_one("#card-status", Static).update(Text(text))

    def _update_status(self) -> None:
        if self.run_dir is None:
            return
        readme = self.run_dir / "model" / "README.md"
        state = "unsaved edits" if self.is_dirty() else ("saved" if self.saved_text is not None else "not saved yet")
        self._status(f"{readme} · {state} · {len(self.problems)} problem(s)")

    # -- widget examples ----------------------------------------------------------------------
    def _widget_columns(self, table: DataTable[Any], width: int) -> None:
        """Fixed column widths that add up to the table's width (a third for the title): fixed
        widths wider than the box pushed the example text past its border at 100 columns."""
        self._widgets_width = width
        title = 22 if width <= 0 else max(8, min(22, width // 3))
        text = 60 if width <= 0 else max(8, width - title - 4)  # 2 cells of padding per column
        table.clear(columns=True)
        table.add_column("title", width=title, key="title")
        table.add_column("text", width=text, key="text")

    def on_resize(self, event: events.Resize) -> None:
        """The terminal changed size: the widget table's columns follow once it is laid out."""
        self.call_after_refresh(self._widgets_resized)

    def _widgets_resized(self) -> None:
        table = self.query_one("#widgets", DataTable)
        width = table.scrollable_content_region.width
        if width != self._widgets_width:
            row = table.cursor_row  # rebuilding the columns resets the cursor: keep the user's row
            self._widget_columns(table, width)
            self._fill_widgets()
            if self.widgets:
                table.move_cursor(row=min(max(row, 0), len(self.widgets) - 1))

    def _fill_widgets(self) -> None:
        table = self.query_one("#widgets", DataTable)
        cursor = table.cursor_row
        table.clear()
        for w in self.widgets:
            table.add_row(
                Text(w.get("example_title", ""), no_wrap=True, overflow="ellipsis"),
                Text(w["text"], no_wrap=True, overflow="ellipsis"),
            )
        if self.widgets:
            table.move_cursor(row=min(cursor, len(self.widgets) - 1))
            # Refills follow every (debounced) preview refresh; they never overwrite what the user is
            # typing in the inputs. Empty inputs start from the highlighted example.
            title = self.query_one("#widget-title", Input)
            text = self.query_one("#widget-text", Input)
            if not title.value and not text.value:
                self._fill_inputs(table.cursor_row)

    def _fill_inputs(self, i: int) -> None:
        if 0 <= i < len(self.widgets):
            self.query_one("#widget-title", Input).value = self.widgets[i].get("example_title", "")
            self.query_one("#widget-text", Input).value = self.widgets[i]["text"]

    @on(DataTable.RowSelected, "#widgets")
    @on(DataTable.RowHighlighted, "#widgets")
    def _widget_row(self, event: DataTable.RowHighlighted | DataTable.RowSelected) -> None:
        # A highlight the user made (moving through the focused list) fills the inputs; one that a
        # refill of the list posted, arriving late, must not replace what was typed there meanwhile.
        if isinstance(event, DataTable.RowSelected) or event.data_table.has_focus:
            self._fill_inputs(event.cursor_row)

    def _widget_from_inputs(self) -> dict[str, str] | None:
        text = self.query_one("#widget-text", Input).value.strip()
        title = self.query_one("#widget-title", Input).value.strip()
        if not text:
            self.notify("A widget example needs a text.", severity="warning")
            return None
        return {"text": text, "example_title": title} if title else {"text": text}

    @on(Button.Pressed, "#widget-add")
    def add_widget(self) -> None:
        w = self._widget_from_inputs()
        if w is not None:
            self._apply_widgets([*self.widgets, w])

    @on(Button.Pressed, "#widget-set")
    def set_widget(self) -> None:
        i = self.query_one("#widgets", DataTable).cursor_row
        w = self._widget_from_inputs()
        if w is not None and 0 <= i < len(self.widgets):
            self._apply_widgets([*self.widgets[:i], w, *self.widgets[i + 1 :]])

    @on(Button.Pressed, "#widget-del")
    def delete_widget(self) -> None:
        i = self.query_one("#widgets", DataTable).cursor_row
        if 0 <= i < len(self.widgets):
            self._apply_widgets([*self.widgets[:i], *self.widgets[i + 1 :]])

    def _apply_widgets(self, widgets: list[dict[str, str]]) -> None:
        """Write the list into the card's YAML through core's round-trip merge (the rest is kept)."""
        if self.run_dir is None:
            return
        editor = self.query_one("#editor", TextArea)
        try:
            from bnner_tui.core.card.render import card_text

            text = card_text(self.run_dir, widgets=widgets, existing=editor.text)
        except Exception as err:
            report_error(self.app, err, title="Widget examples")
            return
        editor.load_text(text)
        self._refresh_now()

    # -- save, regenerate, publish --------------------------------------------------------------
    @on(Button.Pressed, "#save")
    def action_save(self) -> bool:
        if self.run_dir is None:
            self.notify("No run selected: there is no card to save.", severity="warning")
            return False
        from bnner_tui.core.files import atomic_write_text

        text = self.query_one("#editor", TextArea).text
        path = self.run_dir / "model" / "README.md"
        try:
            backup = atomic_write_text(path, text, backup=True)
        except Exception as err:
            report_error(self.app, err, title="Save")
            return False
        self.saved_text = text
        problems = self.validate_now(text)
        kept = f"; previous version kept as {backup.name}" if backup else ""
        warn = f" It still has {len(problems)} problem(s)." if problems else ""
        self.notify(f"Saved {path}{kept}.{warn}", severity="warning" if problems else "information", markup=False)
        self._update_status()
        return True

    @on(Button.Pressed, "#regenerate")
    def action_regenerate(self) -> None:
        if self.run_dir is None:
            return
        self._status(f"regenerating the card of {self.run_dir.name}…")
        self._regenerate_card(self.run_dir, self.query_one("#editor", TextArea).text)

    @work(thread=True, exclusive=True, group="card", exit_on_error=False)
    def _regenerate_card(self, run_dir: Path, base: str) -> None:
        """The run's measured parts refreshed in `base`, the user's edits kept (choosing the widget
        examples may read the run's dataset, which is why this is not done on the event loop)."""
        from bnner_tui.core.card.render import card_text

        self.post_message(CardRegenerated(run_dir, base, card_text(run_dir, existing=base or None)))

    @on(CardRegenerated)
    def _regenerated(self, message: CardRegenerated) -> None:
        editor = self.query_one("#editor", TextArea)
        if message.run_dir != self.run_dir or editor.text != message.base:
            self.notify("The card changed while it was regenerated: nothing was replaced; regenerate again.")
            self._update_status()
            return
        editor.load_text(message.text)
        self._refresh_now()

    @on(Button.Pressed, "#publish")
    def action_publish(self) -> None:
        if self.run_dir is None:
            self.notify("No run selected: pick a finished run first.", severity="warning")
            return
        # Unsaved edits are NOT saved here: the dialog plans the editor's text as it is, so a dry
        # run writes nothing (only a real publish writes the card it uploaded).
        from bnner_tui.core.card.frontmatter import card_repo_id

        text = self.query_one("#editor", TextArea).text
        self.app.push_screen(PublishDialog(self.run_dir, card_repo_id(text) or "", card=text), self._after_publish)

    def _after_publish(self, published: str | None) -> None:
        """A publish wrote the card it uploaded to model/README.md: that text is what is saved now."""
        if published is not None:
            self.saved_text = published
            self._update_status()
