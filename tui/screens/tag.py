"""The Tag screen: type Bengali text, tag it with a run's model, copy or export the entities.

All of the work is `core.tagger`: the screen loads a `Tagger` once per model in a thread worker
(torch and transformers are imported there, never at start-up), tags in another worker so
typing never waits on the model, and shows what came back: inline highlights with a legend and
a table of text, label, score and raw character offsets.

The workers post `ModelLoaded` and `Tagged` and simply raise on failure (`WorkerErrors` is the
one handler). The newest request wins without counters: `is_latest` drops a result whose
worker is no longer its group's newest (a newer load or tagging started, or `supersede` was
called because the text was cleared or the model switched from the cache).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.timer import Timer
from textual.widgets import Button, DataTable, Header, Input, Label, Select, Static, TextArea

from bnner_tui.tui.screens import RUN_LIST_REFRESH_S, WorkDone, WorkerErrors, WorkFailed, report_error
from bnner_tui.tui.widgets.footer import KeyFooter

OTHER_MODEL = "__other__"
EXAMPLE = "শেখ হাসিনা ঢাকায় বাংলাদেশ ক্রিকেট বোর্ডের সভায় যোগ দেন।"
# Fixed colours with white text read on both the dark and the light theme.
ENTITY_STYLES = {
    "PER": "bold #ffffff on #1f6feb",
    "ORG": "bold #ffffff on #1a7f37",
    "LOC": "bold #ffffff on #9a6700",
    "MISC": "bold #ffffff on #8250df",
}
OTHER_STYLE = "bold #ffffff on #57606a"


def entity_style(label: str) -> str:
    return ENTITY_STYLES.get(label, OTHER_STYLE)


def highlight(text: str, entities: list[Any]) -> Text:
    """The raw text with each entity on its type's colour and its label after it, offsets untouched."""
    out = Text()
    pos = 0
    for e in sorted(entities, key=lambda e: e.start):
        if e.start < pos:
            continue
        out.append(text[pos : e.start])
        out.append(text[e.start : e.end], style=entity_style(e.label))
        out.append(f" {e.label}", style="dim italic")
        pos = e.end
    out.append(text[pos:])
    return out


def legend(labels: list[str]) -> Text:
    out = Text("legend: ", style="dim")
    for i, label in enumerate(labels):
        if i:
            out.append("  ")
        out.append(f" {label} ", style=entity_style(label))
    return out


def entity_types_of(label_names: list[str]) -> list[str]:
    seen: list[str] = []
    for name in label_names:
        if "-" in name and name.split("-", 1)[1] not in seen:
            seen.append(name.split("-", 1)[1])
    return seen


class TextBox(TextArea):
    """The text to tag: a TextArea that repaints itself whole after it re-wraps for a new width.

    Textual re-wraps a soft-wrapped TextArea on resize, but the rows it had drawn before stayed
    cached: after a 160 -> 100 column resize the terminal showed a row of the old wrapping
    under the new one (one phrase twice) until the cursor moved.
    """

    def on_resize(self) -> None:
        self.call_after_refresh(self.refresh)


class ModelLoaded(WorkDone):
    """A `core.tagger.Tagger` for the model `spec` names."""

    def __init__(self, spec: str, tagger: Any) -> None:
        super().__init__()
        self.spec = spec
        self.tagger = tagger


class Tagged(WorkDone):
    """A tagging result (`core.tagger.TagResult`) for the text that was in the box."""

    def __init__(self, result: Any) -> None:
        super().__init__()
        self.result = result


class ExportDialog(ModalScreen[Path | None]):
    """Ask where to write the jsonl; the write itself keeps a backup of an existing file."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]
    DEFAULT_CSS = """
    ExportDialog { align: center middle; }
    ExportDialog > Vertical { width: 72; height: auto; border: thick $primary; background: $surface; padding: 1 2; }
    ExportDialog Horizontal { height: auto; margin-top: 1; }
    """

    def __init__(self, default: Path, count: int) -> None:
        super().__init__()
        self._default = default
        self._count = count

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(f"Export {self._count} tagged text(s) as JSON lines to:")
            yield Input(str(self._default), id="export-path")
            yield Static("An existing file is kept as a numbered backup (NAME.~N~).", classes="muted")
            with Horizontal():
                yield Button("Export", id="export-ok", variant="primary")
                yield Button("Cancel", id="export-cancel")

    @on(Button.Pressed, "#export-ok")
    @on(Input.Submitted, "#export-path")
    def _ok(self) -> None:
        value = self.query_one("#export-path", Input).value.strip()
        self.dismiss(Path(value).expanduser() if value else None)

    @on(Button.Pressed, "#export-cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)


class TagScreen(WorkerErrors, Screen[None]):
    """Bengali text in, entities out."""

    TITLE = "Tag"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+r", "tag", "Tag"),
        Binding("ctrl+l", "focus_model", "Model"),
        Binding("ctrl+b", "copy", "Copy"),
        Binding("ctrl+g", "export", "Export"),
        # Not ctrl+a: inside the text box that is "line start", as in every Textual text widget.
        Binding("f7", "select_all", "Select all"),
        Binding("ctrl+n", "clear_text", "Clear", tooltip="Empty the text box for a new text"),
    ]
    DEFAULT_CSS = """
    TagScreen #model-bar { height: 3; }
    TagScreen #model-pick { width: 44; }
    TagScreen #model-path { width: 1fr; }
    TagScreen #load-model { width: 10; min-width: 8; }
    TagScreen #model-status { height: 1; padding: 0 1; color: $text-muted; }
    /* As tall as the text (up to 40% of the screen), so a paragraph is read whole, not scrolled. */
    /* A stable gutter: the wrap width does not change when the scrollbar comes and goes. */
    TagScreen #text { height: auto; min-height: 6; max-height: 40%; scrollbar-gutter: stable; }
    TagScreen #actions { height: 3; }
    TagScreen #actions Button { margin-right: 1; }
    TagScreen #legend { height: 1; padding: 0 1; }
    TagScreen #highlight-box { height: auto; max-height: 10; border: round $panel; padding: 0 1; }
    TagScreen #entities { height: 1fr; }
    """

    def __init__(self) -> None:
        super().__init__()
        self.taggers: dict[str, Any] = {}
        self.tagger: Any = None
        self.model_spec: str | None = None
        self.result: Any = None
        self.history: dict[str, Any] = {}
        self._tag_timer: Timer | None = None
        self._loading: str | None = None
        self._model_values: set[str] = set()
        # What the status line shows is composed from these, so a late worker result can only add
        # to it: a tagging result that lands after a failed load must not hide the failure.
        self._load_failed: str | None = None
        self._result_note: str = ""

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="model-bar"):
            yield Select([], prompt="pick a run's model", id="model-pick")
            yield Input(placeholder="or a model folder / run folder / hub id", id="model-path")
            yield Button("Load", id="load-model", variant="primary")
        yield Static("no model loaded: pick a run, or type a model folder or hub id", id="model-status")
        yield TextBox(EXAMPLE, id="text", soft_wrap=True, tab_behavior="focus")
        with Horizontal(id="actions"):
            yield Button("Tag", id="tag", variant="primary", tooltip="ctrl+r")
            yield Button("Copy", id="copy", tooltip="ctrl+b: entities as JSON to the clipboard")
            yield Button("Export", id="export", tooltip="ctrl+g: all tagged texts to a .jsonl file")
            yield Button("Select all", id="select-all", tooltip="f7: select the whole text")
            yield Button("Clear", id="clear", tooltip="ctrl+n: empty the text box")
        yield Static("", id="legend")
        with VerticalScroll(id="highlight-box"):
            yield Static("", id="highlighted")
        table: DataTable[Any] = DataTable(id="entities", cursor_type="row", zebra_stripes=True)
        yield table
        yield KeyFooter()

    def on_mount(self) -> None:
        table = self.query_one("#entities", DataTable)
        table.add_column("text", width=30, key="text")
        table.add_column("label", width=7, key="label")
        table.add_column("score", width=6, key="score")
        table.add_column("start", width=6, key="start")
        table.add_column("end", width=6, key="end")
        self.refresh_models()
        self.set_interval(RUN_LIST_REFRESH_S, self._refresh_models_if_shown, name="tag-run-list")
        self.watch(self.app, "selected_run", self._selected_run_changed, init=False)
        selected = getattr(self.app, "selected_run", None)
        default = self._default_model(selected)
        if default is not None:
            self.load_model(str(default))

    # -- models -----------------------------------------------------------------------------
    def _runs_root(self) -> Path:
        return Path(getattr(self.app, "runs_root", Path("runs")))

    def refresh_models(self) -> None:
        """Offer every run that has a saved model, newest first."""
        options: list[tuple[str, str]] = []
        try:
            from bnner_tui.core.runs import list_runs

            for run in list_runs(self._runs_root(), has_model=True):
                f1 = f" F1 {run.best_f1:.3f}" if run.best_f1 is not None else ""
                options.append((f"{run.name} ({run.status}{f1})", str(run.path)))
        except Exception as err:
            report_error(self.app, err, title="Runs")
        options.append(("model folder or hub id…", OTHER_MODEL))
        if options == getattr(self, "_model_options", None):
            return  # nothing new: leave the picker (and an open dropdown) alone
        self._model_options = options
        select = self.query_one("#model-pick", Select)
        current = select.value
        self._model_values = {value for _, value in options}
        with self.prevent(Select.Changed):
            select.set_options(options)
            if current in self._model_values:
                select.value = current

    def on_screen_resume(self) -> None:
        """Runs finish while the user is on another screen: read the list again on each visit."""
        self.refresh_models()

    def _refresh_models_if_shown(self) -> None:
        """A run can also finish while this screen is open (launched from the CLI, say)."""
        if self.is_current:
            self.refresh_models()

    def _default_model(self, selected: Path | None) -> Path | None:
        if selected is not None and (Path(selected) / "model" / "config.json").is_file():
            return Path(selected)
        from bnner_tui.core.tagger import find_latest_run_model

        found = find_latest_run_model(self._runs_root())
        # Shown and cached as the run (as the picker lists it), not as its model/ folder.
        if found is not None and found.name == "model" and (found.parent / "config.toml").is_file():
            return found.parent
        return found

    def _selected_run_changed(self, run: Path | None) -> None:
        if run is not None and (Path(run) / "model" / "config.json").is_file():
            self.refresh_models()
            self.load_model(str(run))

    @on(Select.Changed, "#model-pick")
    def _model_picked(self, event: Select.Changed) -> None:
        if event.value == OTHER_MODEL:
            self.query_one("#model-path", Input).focus()
        elif isinstance(event.value, str):
            self.load_model(event.value)

    @on(Input.Submitted, "#model-path")
    @on(Button.Pressed, "#load-model")
    def _load_pressed(self) -> None:
        spec = self.query_one("#model-path", Input).value.strip()
        if not spec:
            value = self.query_one("#model-pick", Select).value
            spec = value if isinstance(value, str) and value != OTHER_MODEL else ""
        if not spec:
            self.notify("Pick a run or type a model folder or hub id first.", severity="warning")
            return
        self.load_model(spec)

    def action_focus_model(self) -> None:
        self.query_one("#model-path", Input).focus()

    def load_model(self, spec: str) -> None:
        """Use the cached tagger for `spec`, or load it once in a worker.

        The newest request wins: a load that finishes after the user asked for another model is
        cached but not switched to, and its failure is not shown as the current model's.
        """
        if spec in self.taggers:
            self.supersede("model")  # a load still in flight is cached when it lands, not shown
            self._loading = None
            self._model_ready(spec, self.taggers[spec])
            return
        if self._loading == spec:
            return
        self._loading = spec
        self._load_failed = None
        select = self.query_one("#model-pick", Select)
        if spec in self._model_values:
            with self.prevent(Select.Changed):
                select.value = spec
        self._update_status()
        self._load_worker(spec)

    @work(thread=True, exclusive=True, group="model", exit_on_error=False, name="Model")
    def _load_worker(self, spec: str) -> None:
        from bnner_tui.core.tagger import Tagger

        self.post_message(ModelLoaded(spec, Tagger.load(spec, runs_dir=self._runs_root())))

    @on(WorkFailed)
    def _work_failed(self, message: WorkFailed) -> None:
        """`WorkerErrors` has said what failed; the status line says the current model is unchanged."""
        if message.group != "model" or not self.is_latest(message):
            return  # the user has asked for another model since; the notification said what failed
        self._load_failed = self._loading
        self._loading = None
        self._update_status()

    @on(ModelLoaded)
    def _model_loaded(self, message: ModelLoaded) -> None:
        self.taggers[message.spec] = message.tagger  # cached even when another model was asked for since
        if self.is_latest(message):
            self._loading = None
            self._model_ready(message.spec, message.tagger)

    def _model_ready(self, spec: str, tagger: Any) -> None:
        self.taggers[spec] = tagger
        self.tagger = tagger
        self.model_spec = spec
        self._load_failed = None
        labels = list(tagger.labels)
        self._result_note = self._model_note()
        self._update_status()
        self.query_one("#legend", Static).update(legend(entity_types_of(labels)))
        for warning in getattr(tagger, "warnings", []):
            self.notify(warning, severity="warning", markup=False)
        self.action_tag()

    def _model_note(self) -> str:
        if self.tagger is None:
            return ""
        return f"{len(list(self.tagger.labels))} labels · {self.tagger.device}"

    def _update_status(self) -> None:
        """One line from the screen's state: a load in progress, a failed load, the model, the result."""
        if self._loading is not None:
            text = f"loading model… ({self._loading})"
        elif self.tagger is None:
            if self._load_failed is not None:
                text = "no model loaded: the last one failed to load"
            else:
                text = "no model loaded: pick a run, or type a model folder or hub id"
        else:
            # the precision stays in view after each tagging: bf16 may be the default (core.tagger)
            text = f"model: {self.tagger.source} · {getattr(self.tagger, 'precision', 'fp32')}"
            if self._load_failed is not None:
                text += " (the model you asked for failed to load)"
            if self._result_note:
                text += f" · {self._result_note}"
        self.query_one("#model-status", Static).update(Text(text))

    # -- tagging ----------------------------------------------------------------------------
    @on(TextArea.Changed, "#text")
    def _text_changed(self) -> None:
        if self.tagger is None:
            return
        if self._tag_timer is not None:
            self._tag_timer.stop()
        self._tag_timer = self.set_timer(0.5, self.action_tag)

    @on(Button.Pressed, "#select-all")
    def action_select_all(self) -> None:
        area = self.query_one("#text", TextArea)
        area.focus()
        area.select_all()

    @on(Button.Pressed, "#clear")
    def action_clear_text(self) -> None:
        """Empty the box and forget the shown result at once (not after the tagging debounce)."""
        area = self.query_one("#text", TextArea)
        area.clear()
        area.focus()
        self.supersede("tag")  # a tagging still in flight answers a text that is gone
        if self._tag_timer is not None:
            self._tag_timer.stop()
        self._show(None)

    @on(Button.Pressed, "#tag")
    def action_tag(self) -> None:
        text = self.query_one("#text", TextArea).text
        if self.tagger is None:
            if self._loading:
                self.notify("The model is still loading; the text is tagged as soon as it is ready.")
            else:
                self.notify("Load a model first (ctrl+l): a run, a model folder or a hub id.", severity="warning")
            return
        if not text.strip():
            self.supersede("tag")
            self._show(None)
            return
        self._tag_worker(self.tagger, text)

    @work(thread=True, exclusive=True, group="tag", exit_on_error=False, name="Tagging")
    def _tag_worker(self, tagger: Any, text: str) -> None:
        self.post_message(Tagged(tagger.tag(text)))

    @on(Tagged)
    def _tagged(self, message: Tagged) -> None:
        """Show a result only if it answers the newest request: every new text, model or clear
        starts a newer tagging or supersedes this one."""
        if self.is_latest(message):
            self._show(message.result)

    def _show(self, result: Any) -> None:
        self.result = result
        table = self.query_one("#entities", DataTable)
        table.clear()
        box = self.query_one("#highlighted", Static)
        if result is None:
            box.update("")
            # The status describes what is on screen: no text, no entity count.
            self._result_note = self._model_note()
            self._update_status()
            return
        self.history[result.text] = result
        box.update(highlight(result.text, result.entities))
        for e in result.entities:
            table.add_row(Text(e.text, no_wrap=True, overflow="ellipsis"), e.label, f"{e.score:.3f}", e.start, e.end)
        if not result.entities:
            self._result_note = "no entities found in this text"
        else:
            n = len(result.entities)
            self._result_note = f"{n} {'entity' if n == 1 else 'entities'}"
        self._update_status()

    # -- copy / export ----------------------------------------------------------------------
    @on(Button.Pressed, "#copy")
    def action_copy(self) -> None:
        if self.result is None:
            self.notify("Nothing to copy yet: tag a text first.", severity="warning")
            return
        payload = {"text": self.result.text, "entities": self.result.to_dict()["entities"]}  # core.tagoutput
        self.app.copy_to_clipboard(json.dumps(payload, ensure_ascii=False))
        self.notify(f"Copied {len(self.result.entities)} entities as JSON.")

    @on(Button.Pressed, "#export")
    def action_export(self) -> None:
        if not self.history:
            self.notify("Nothing to export yet: tag a text first.", severity="warning")
            return
        self.app.push_screen(ExportDialog(Path("tagged.jsonl"), len(self.history)), self._export_to)

    def _export_to(self, path: Path | None) -> None:
        if path is None:
            return
        try:
            written, backup = export_results(path, list(self.history.values()))
        except Exception as err:
            report_error(self.app, err, title="Export")
            return
        extra = f" (previous file kept as {backup.name})" if backup else ""
        self.notify(f"Wrote {written} line(s) to {path}{extra}.", markup=False)


def export_results(path: Path, results: list[Any]) -> tuple[int, Path | None]:
    """One JSON object per tagged text; atomic, and an existing file is kept as a numbered backup."""
    from bnner_tui.core.errors import BnnerError
    from bnner_tui.core.files import atomic_write_text

    if path.is_dir():
        raise BnnerError(f"{path} is a folder: give a file name such as {path / 'tagged.jsonl'}.")
    if not path.parent.exists():
        raise BnnerError(f"{path.parent} does not exist: create the folder first or pick another path.")
    from bnner_tui.core.tagoutput import dumps

    lines = [dumps(r) for r in results]
    backup = atomic_write_text(path, "\n".join(lines) + "\n", backup=True)
    return len(lines), backup
