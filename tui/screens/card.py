"""The Card screen: the selected run's model card in an editor, a live preview, validation, publishing.

The screen holds no card logic: `core.card` builds, merges, validates and saves (atomically, with
a numbered backup); `core.publish` plans and publishes. What the screen adds is the loop a
person needs: edit, see the rendered body and every problem with its line at once (debounced,
so typing never waits), click a problem to jump to its line, keep the widget examples as a
list, save, dry-run, publish.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.timer import Timer
from textual.widgets import (
    Button,
    Checkbox,
    DataTable,
    Footer,
    Header,
    Input,
    Label,
    LoadingIndicator,
    Markdown,
    OptionList,
    Select,
    Static,
    TextArea,
)
from textual.widgets.option_list import Option

from bnner_tui.tui.screens import RUN_LIST_REFRESH_S, describe_error, report_error

PREVIEW_DELAY_S = 0.3


def read_widgets(text: str) -> list[dict[str, str]] | None:
    """The card's widget examples, or None when its YAML does not parse (validation says where)."""
    from ruamel.yaml import YAML

    from bnner_tui.core.card import split_front_matter

    yaml_text, _, _ = split_front_matter(text)
    if yaml_text is None:
        return None
    try:
        meta = YAML(typ="safe").load(yaml_text) or {}
    except Exception:
        return None
    items = meta.get("widget") if isinstance(meta, dict) else None
    if not isinstance(items, list):
        return []
    out = []
    for item in items:
        if isinstance(item, dict) and isinstance(item.get("text"), str):
            entry = {"text": item["text"]}
            if item.get("example_title"):
                entry["example_title"] = str(item["example_title"])
            out.append(entry)
    return out


def card_body(text: str) -> str:
    from bnner_tui.core.card import split_front_matter

    return split_front_matter(text)[1]


class PublishDialog(ModalScreen[str | None]):
    """Repo id, visibility, PR; a dry-run file list with sizes; then one publish with a clear outcome.

    It plans and publishes `card`, the editor's text as it is, saved or not: opening the dialog and
    the dry run write nothing. Only Publish writes, and only the card it uploaded (to the run's
    model/README.md, old one kept as a backup); the dialog returns that text so the Card screen
    knows what is on disk now.
    """

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "close", "Close")]
    DEFAULT_CSS = """
    PublishDialog { align: center middle; }
    PublishDialog > Vertical { width: 96; max-width: 98%; height: auto; max-height: 95%;
        border: thick $primary; background: $surface; padding: 1 2; }
    PublishDialog #repo-id { width: 1fr; }
    PublishDialog .row { height: auto; }
    PublishDialog Checkbox { width: auto; }
    PublishDialog #plan { height: auto; max-height: 14; }
    PublishDialog #outcome { height: auto; margin-top: 1; }
    PublishDialog #outcome.ok { color: $success; }
    PublishDialog #outcome.fail { color: $error; }
    PublishDialog LoadingIndicator { height: 1; display: none; }
    PublishDialog LoadingIndicator.busy { display: block; }
    PublishDialog #buttons { height: auto; margin-top: 1; }
    PublishDialog #buttons Button { margin-right: 1; }
    """

    def __init__(self, run_dir: Path, repo_id: str = "", card: str | None = None) -> None:
        super().__init__()
        self.run_dir = run_dir
        self._repo_id = repo_id
        self.card = card
        self.planned: Any = None
        self.outcome: str | None = None
        self.published_card: str | None = None

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(f"Publish {self.run_dir.name} to the Hugging Face Hub", classes="panel-title")
            with Horizontal(classes="row"):
                yield Input(self._repo_id, placeholder="repo id: user/name", id="repo-id")
            with Horizontal(classes="row"):
                yield Checkbox("private", id="private")
                yield Checkbox("open a pull request instead of committing to main", id="create-pr")
            plan_table: DataTable[Any] = DataTable(id="plan", cursor_type="row", zebra_stripes=True)
            yield plan_table
            yield Static("", id="plan-total")
            yield LoadingIndicator(id="busy")
            yield Static(
                "Start with a dry run: it lists every file and its size, and uploads and writes nothing.", id="outcome"
            )
            with Horizontal(id="buttons"):
                yield Button("Dry run", id="dry-run", variant="primary")
                yield Button("Publish", id="publish", variant="warning", disabled=True)
                yield Button("Close", id="close")

    def on_mount(self) -> None:
        table = self.query_one("#plan", DataTable)
        table.add_column("file in the repo", width=52, key="file")
        table.add_column("size", width=12, key="size")
        table.add_column("from", width=20, key="from")

    def _repo(self) -> str:
        return self.query_one("#repo-id", Input).value.strip()

    def _busy(self, busy: bool) -> None:
        self.query_one("#busy", LoadingIndicator).set_class(busy, "busy")
        for button in self.query(Button):
            if button.id != "close":
                button.disabled = busy or (button.id == "publish" and self.planned is None)

    def _say(self, text: str, kind: str = "") -> None:
        out = self.query_one("#outcome", Static)
        out.set_classes(kind)
        out.update(Text(text))
        self.outcome = text

    @on(Input.Changed, "#repo-id")
    def _repo_changed(self) -> None:
        # A plan is for one repo id: publishing needs a fresh dry run after any change.
        self.planned = None
        self.query_one("#publish", Button).disabled = True

    @on(Button.Pressed, "#dry-run")
    @on(Input.Submitted, "#repo-id")
    def action_dry_run(self) -> None:
        repo = self._repo()
        if not repo:
            self._say("Type the repo id first (user/name).", "fail")
            return
        self._busy(True)
        self._say("planning…")
        self._plan_worker(repo)

    @work(thread=True, exclusive=True, group="publish", exit_on_error=False)
    def _plan_worker(self, repo: str) -> None:
        try:
            from bnner_tui.core.publish import publish

            result = publish(self.run_dir, repo, dry_run=True, card=self.card)
        except Exception as err:
            self.app.call_from_thread(self._failed, err)
            return
        self.app.call_from_thread(self._planned, result.plan)

    def _planned(self, planned: Any) -> None:
        from bnner_tui.core.publish import human_size

        self.planned = planned
        table = self.query_one("#plan", DataTable)
        table.clear()
        for f in planned.files:
            origin = "card (this editor)" if f.source is None else str(f.source.parent.name + "/" + f.source.name)
            table.add_row(f.path_in_repo, human_size(f.size), origin)
        self.query_one("#plan-total", Static).update(
            f"{len(planned.files)} files, {human_size(planned.total_size)} in one commit to {planned.repo_id}"
        )
        self._busy(False)
        if planned.problems:
            first = planned.problems[0]
            self._say(
                f"Dry run done (nothing was uploaded or written): the card has {len(planned.problems)} problem(s),"
                f" first {first}.",
                "fail",
            )
            self.query_one("#publish", Button).disabled = True
        else:
            self._say(
                "Dry run done: nothing was uploaded or written. Publish sends exactly these files and saves"
                f" the card as {planned.card_path} (the old one kept as a backup).",
                "ok",
            )

    @on(Button.Pressed, "#publish")
    def action_publish(self) -> None:
        repo = self._repo()
        if self.planned is None or not repo:
            self._say("Do a dry run for this repo id first.", "fail")
            return
        private = self.query_one("#private", Checkbox).value
        create_pr = self.query_one("#create-pr", Checkbox).value
        self._busy(True)
        self._say(f"publishing to {repo}… (one commit)")
        self._publish_worker(repo, private, create_pr)

    @work(thread=True, exclusive=True, group="publish", exit_on_error=False)
    def _publish_worker(self, repo: str, private: bool, create_pr: bool) -> None:
        try:
            from bnner_tui.core.publish import publish

            result = publish(self.run_dir, repo, private=private, create_pr=create_pr, card=self.card)
        except Exception as err:
            self.app.call_from_thread(self._failed, err)
            return
        self.app.call_from_thread(self._published, result)

    def _published(self, result: Any) -> None:
        self._busy(False)
        self.published_card = result.plan.card
        where = result.pr_url or result.commit_url or result.repo_url
        self._say(f"Published: {where}", "ok")

    def _failed(self, err: BaseException) -> None:
        self._busy(False)
        self._say(f"Not published: {describe_error(err)}", "fail")

    @on(Button.Pressed, "#close")
    def action_close(self) -> None:
        self.dismiss(self.published_card)


class CardScreen(Screen[None]):
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
    CardScreen #widgets-box { height: 13; border: round $panel; }
    CardScreen #widgets { height: 1fr; }
    CardScreen #widget-edit { height: 3; }
    CardScreen #widget-title { width: 24; }
    CardScreen #widget-text { width: 1fr; }
    CardScreen #widget-edit Button { min-width: 6; width: auto; }
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
                        yield Button("Add", id="widget-add")
                        yield Button("Set", id="widget-set")
                        yield Button("Del", id="widget-del")
        yield OptionList(id="problems")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#widgets", DataTable)
        table.add_column("title", width=22, key="title")
        table.add_column("text", width=60, key="text")
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
        """Runs finish while the user is on another screen: read the list again on each visit."""
        self.refresh_runs()

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
            self.notify(f"Unsaved edits of {self.run_dir.name}'s card were left unsaved.", severity="warning")
        self.run_dir = run_dir
        if str(run_dir) in self._run_values:
            with self.prevent(Select.Changed):
                self.query_one("#run-pick", Select).value = str(run_dir)
        self.sub_title = run_dir.name
        self._status(f"loading the card of {run_dir.name}…")
        self._load_worker(run_dir)

    @work(thread=True, exclusive=True, group="card", exit_on_error=False)
    def _load_worker(self, run_dir: Path) -> None:
        """The saved README if there is one (the user's edits), else a card generated from the run."""
        try:
            readme = run_dir / "model" / "README.md"
            if readme.is_file():
                text = readme.read_text(encoding="utf-8")
                saved: str | None = text
            else:
                from bnner_tui.core.card import card_text

                text = card_text(run_dir)
                saved = None
        except Exception as err:
            report_error(self.app, err, title="Card")
            self.app.call_from_thread(self._status, f"{run_dir.name}: {describe_error(err)}")
            return
        self.app.call_from_thread(self._loaded, run_dir, text, saved)

    def _loaded(self, run_dir: Path, text: str, saved: str | None) -> None:
        if run_dir != self.run_dir:
            return
        self.saved_text = saved
        editor = self.query_one("#editor", TextArea)
        editor.load_text(text)
        self._refresh_now()

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
        widgets = read_widgets(text)
        if widgets is not None:
            self.widgets = widgets
            self._fill_widgets()
        self._update_status()

    def validate_now(self, text: str | None = None) -> list[Any]:
        from bnner_tui.core.card import validate_card

        if text is None:
            text = self.query_one("#editor", TextArea).text
        try:
            self.problems = validate_card(text, run=self.run_dir) if text.strip() else []
        except Exception as err:
            report_error(self.app, err, title="Validation")
            self.problems = []
        box = self.query_one("#problems", OptionList)
        box.clear_options()
        if self.problems:
            box.add_options([Option(Text(str(p)), id=f"line-{p.line}-{i}") for i, p in enumerate(self.problems)])
            box.border_title = f"{len(self.problems)} problem(s): select one to jump to its line"
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
    def _fill_widgets(self) -> None:
        table = self.query_one("#widgets", DataTable)
        cursor = table.cursor_row
        table.clear()
        for w in self.widgets:
            table.add_row(w.get("example_title", ""), Text(w["text"], no_wrap=True, overflow="ellipsis"))
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
            from bnner_tui.core.card import card_text

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
        editor = self.query_one("#editor", TextArea)
        try:
            from bnner_tui.core.card import card_text

            text = card_text(self.run_dir, existing=editor.text or None)
        except Exception as err:
            report_error(self.app, err, title="Card")
            return
        editor.load_text(text)
        self._refresh_now()

    @on(Button.Pressed, "#publish")
    def action_publish(self) -> None:
        if self.run_dir is None:
            self.notify("No run selected: pick a finished run first.", severity="warning")
            return
        # Unsaved edits are NOT saved here: the dialog plans the editor's text as it is, so a dry
        # run writes nothing (only a real publish writes the card it uploaded).
        text = self.query_one("#editor", TextArea).text
        repo = ""
        try:
            from bnner_tui.core.card import REPO_ID_RE, split_front_matter

            yaml_text, _, _ = split_front_matter(text)
            for line in (yaml_text or "").splitlines():
                if line.strip().startswith("- name:"):
                    candidate = line.split(":", 1)[1].strip().strip("'\"")
                    repo = candidate if REPO_ID_RE.match(candidate) else ""
                    break
        except Exception:
            repo = ""
        self.app.push_screen(PublishDialog(self.run_dir, repo, card=text), self._after_publish)

    def _after_publish(self, published: str | None) -> None:
        """A publish wrote the card it uploaded to model/README.md: that text is what is saved now."""
        if published is not None:
            self.saved_text = published
            self._update_status()
