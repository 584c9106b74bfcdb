"""The Train screen: a run-configuration form with inline validation, and the live monitor.

Why it is built this way:
- the form only edits a `core.config.TrainConfig`: presets, coercion and every validation
  message come from core, so the TUI, the CLI and a TOML file accept exactly the same values;
- the data and tokenizer boxes start from what the Data screen has loaded (the app's
  `loaded_source`/`loaded_tokenizer`, which its `DataLoaded` message sets), else from `--data`
  and `--tokenizer`; a value the user typed into the box is never replaced (not by a later
  load, not by a preset). Path boxes complete paths (`tui.widgets.paths.PathSuggester`);
- Launch starts the training PROCESS (`core.train.launch.launch`), never training in the
  app: the run outlives the app, and the monitor reads its files like any later viewer;
- on mount the screen looks for a run that is still running (`core.runs.list_runs`) and
  re-attaches to it, so closing and reopening the app loses nothing;
- status, liveness and "can it be resumed?" come from the monitor's `core.runstate.RunState`
  (the one rule), never from a check of its own;
- Launch, Cancel and Resume are priority bindings on keys no text widget uses (ctrl+l,
  ctrl+g, ctrl+r), so they work and show in the footer wherever focus is, a form field included;
- workers post typed messages (`RunLaunched`, `RunControlled`, `RunsListed`) and simply raise
  on failure: `WorkerErrors` is the one handler for failed workers;
- before launching, core decides whether model `auto` would fall back to random weights (no
  Hub, mBERT not cached: `core.train.models.check_random_init`); the screen only asks, in
  `RandomInitDialog`, because that run would end at F1 0.000 with nobody having noticed why.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.reactive import Reactive
from textual.screen import ModalScreen, Screen
from textual.widgets import Button, Input, Label, Select, Static

from bnner_tui.core.config import PRESETS, SPECS, TrainConfig
from bnner_tui.core.errors import ConfigError
from bnner_tui.core.runstate import RESUMABLE
from bnner_tui.core.train.models import RandomInitNotice
from bnner_tui.tui.screens import WorkerErrors, WorkFailed
from bnner_tui.tui.widgets.footer import KeyFooter
from bnner_tui.tui.widgets.monitor import RunMonitor
from bnner_tui.tui.widgets.monitor.commands import ScreenActions
from bnner_tui.tui.widgets.paths import PathSuggester

CUSTOM = "custom"
# Form boxes that name a file or folder: they complete paths.
PATH_FIELDS = ("data", "model", "tokenizer")
# Form boxes the Data screen hands over (app attribute it loaded, app attribute from the command line).
HANDED_OVER = {"data": ("loaded_source", "data_source"), "tokenizer": ("loaded_tokenizer", "tokenizer_spec")}


@dataclass(frozen=True)
class Field:
    """One form row: the TrainConfig field it edits, its label and, for selects, the choices."""

    key: str
    label: str
    choices: tuple[str, ...] | None = None
    optional: bool = False  # empty input means None
    empty: Any = None  # value an empty input stands for


# The form rows come from the fields' specs in core.config (label, choices, what empty means).
FIELDS: tuple[Field, ...] = tuple(
    Field(
        key,
        spec.form,
        choices=spec.choices or None,
        optional=spec.optional or spec.empty is not None,
        empty=spec.empty,
    )
    for key, spec in SPECS.items()
    if spec.form is not None
)
FIELD_BY_KEY = {f.key: f for f in FIELDS}


def show_value(value: Any) -> str:
    """A config value as the form shows it (floats without noise, None as empty)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _strip_source(message: str) -> str:
    """`with_overrides` prefixes 'the overrides: '; next to a field that is noise."""
    for prefix in ("the overrides: ", "Invalid configuration: "):
        message = message.replace(prefix, "")
    return message


def form_to_config(base: TrainConfig, values: dict[str, str]) -> tuple[TrainConfig, dict[str, list[str]]]:
    """Apply form strings to `base`; returns the config and problems keyed by field.

    Each value is coerced on its own (so one bad field never hides another's message), then
    the whole config is checked with `TrainConfig.field_problems()` for cross-field rules.
    Problems not tied to one field are under the key "".
    """
    config = copy.deepcopy(base)
    problems: dict[str, list[str]] = {}
    for key, raw in values.items():
        spec = FIELD_BY_KEY.get(key)
        text = raw.strip()
        if spec is not None and spec.optional and text == "":
            setattr(config, key, spec.empty)
            continue
        try:
            setattr(config, key, getattr(base.with_overrides(**{key: text}), key))
        except ConfigError as err:
            # The value alone is unusable; keep the base value so other checks still run.
            problems.setdefault(key, []).append(_strip_source(str(err)))
    for key, messages in config.field_problems().items():
        for message in messages:
            if message not in problems.get(key, []):
                problems.setdefault(key if key in values else "", []).append(message)
    return config, problems


class LaunchChecked(Message):
    """The pre-launch check passed; `notice` is set when the run would train random weights unasked."""

    def __init__(self, config: TrainConfig, notice: RandomInitNotice | None) -> None:
        super().__init__()
        self.config = config
        self.notice = notice


class RandomInitDialog(ModalScreen[bool]):
    """Asks before a run trains a randomly initialised model the user did not choose.

    Says what would be trained, why (the Hub), what follows (F1 near 0 at a fine-tuning rate) and
    how to get the pretrained model instead. "Train anyway" has the focus, so Enter goes on;
    Escape (or Cancel) goes back to the form with nothing started.
    """

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "answer(False)", "Cancel")]
    DEFAULT_CSS = """
    RandomInitDialog { align: center middle; }
    RandomInitDialog > Vertical { width: 84; max-width: 96%; height: auto; max-height: 95%;
        border: thick $warning; background: $surface; padding: 1 2; }
    RandomInitDialog #random-init-title { text-style: bold; color: $warning; }
    RandomInitDialog Static { margin-top: 1; }
    RandomInitDialog #random-init-buttons { height: auto; margin-top: 1; }
    RandomInitDialog #random-init-buttons Button { margin-right: 1; }
    """

    def __init__(self, notice: RandomInitNotice) -> None:
        super().__init__()
        self.notice = notice

    def compose(self) -> ComposeResult:
        from rich.text import Text

        n = self.notice
        with Vertical():
            yield Label(f"Train a randomly initialised model instead of {n.expected}?", id="random-init-title")
            yield Static(Text(f"This run would train {n.what}, not {n.expected}."), id="random-init-what")
            yield Static(
                Text(
                    f"Why: the Hugging Face Hub is unreachable ({n.why}) and {n.expected}"
                    " is not in the local cache, so model auto falls back to random weights."
                ),
                id="random-init-why",
            )
            yield Static(Text(n.consequence), id="random-init-consequence")
            yield Static(Text(n.remedy(cli=False)), id="random-init-remedy")
            with Horizontal(id="random-init-buttons"):
                yield Button("Train anyway (Enter)", id="random-init-yes", variant="warning")
                yield Button("Cancel (Esc)", id="random-init-no")

    def on_mount(self) -> None:
        self.query_one("#random-init-yes", Button).focus()

    @on(Button.Pressed, "#random-init-yes")
    def _yes(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed, "#random-init-no")
    def _no(self) -> None:
        self.dismiss(False)

    def action_answer(self, go: bool) -> None:
        self.dismiss(go)


class RunLaunched(Message):
    """The launch worker started a training process in `run_dir`."""

    def __init__(self, run_dir: Path) -> None:
        super().__init__()
        self.run_dir = run_dir


class RunControlled(Message):
    """A cancel or resume request went through (`what` is "cancel" or "resume")."""

    def __init__(self, what: str, run_dir: Path, message: str) -> None:
        super().__init__()
        self.what = what
        self.run_dir = run_dir
        self.message = message


class RunsListed(Message):
    """The run list for the watch picker, newest first: (folder, name, status)."""

    def __init__(self, rows: list[tuple[Path, str, str]], reattach: bool) -> None:
        super().__init__()
        self.rows = rows
        self.reattach = reattach


class TrainScreen(WorkerErrors, Screen):
    """Configure, launch, watch, cancel and resume a training run."""

    DEFAULT_CSS = """
    TrainScreen { layout: horizontal; }
    TrainScreen #train-left { width: 46; border-right: solid $primary-background; }
    TrainScreen #train-form { height: 1fr; padding: 0 1; }
    TrainScreen .field-label { margin-top: 1; color: $text-muted; }
    TrainScreen .field-error { color: $error; height: auto; }
    TrainScreen .field-error.-empty { display: none; }
    TrainScreen Input.-invalid { border: tall $error; }
    TrainScreen #form-errors { color: $error; height: auto; max-height: 6; padding: 0 1; }
    TrainScreen #form-buttons { height: auto; padding: 0 1; }
    TrainScreen #train-right { width: 1fr; }
    TrainScreen #run-controls { height: auto; padding: 0 1; }
    TrainScreen #run-controls Button { margin-right: 1; min-width: 10; }  /* room for the run picker */
    TrainScreen #watch-select { width: 1fr; }
    """

    COMMANDS: ClassVar[set] = {ScreenActions}
    # Priority: a focused Input, Select or table never swallows them. None of these keys is
    # bound by Input or TextArea (ctrl+k and ctrl+u delete text there): ctrl+g is Emacs' "quit".
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+l", "launch", "Launch", priority=True),
        Binding("ctrl+g", "cancel_run", "Cancel run", priority=True),
        Binding("ctrl+r", "resume_run", "Resume run", priority=True),
    ]

    def __init__(self, runs_root: Path, *, name: str | None = None, id: str | None = None) -> None:
        super().__init__(name=name, id=id)
        self.runs_root = Path(runs_root)
        self.base = TrainConfig.from_preset("cpu-demo")
        self.config: TrainConfig | None = None
        self.problems: dict[str, list[str]] = {}
        self.run_dir: Path | None = None
        self._filling = False
        self._shown: dict[str, str] = {}  # what the screen itself last put in each handed-over box

    # -- layout ---------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        with Vertical(id="train-left"):
            with VerticalScroll(id="train-form"):
                yield Label("preset", classes="field-label")
                yield Select(
                    [(name, name) for name in PRESETS] + [("custom (defaults)", CUSTOM)],
                    value="cpu-demo",
                    allow_blank=False,
                    id="preset",
                )
                for f in FIELDS:
                    yield Label(f.label, classes="field-label")
                    if f.choices:
                        yield Select(
                            [(c, c) for c in f.choices],
                            allow_blank=False,
                            id=f"f-{f.key}",
                            value=show_value(getattr(self.base, f.key)),
                        )
                    else:
                        yield Input(
                            show_value(getattr(self.base, f.key)),
                            id=f"f-{f.key}",
                            compact=True,
                            suggester=PathSuggester() if f.key in PATH_FIELDS else None,
                        )
                    yield Static("", classes="field-error -empty", id=f"e-{f.key}")
            # Outside the scrolling form: the problems and Launch are always in view.
            yield Static("", id="form-errors")
            with Horizontal(id="form-buttons"):
                yield Button("Launch", id="launch", variant="primary")
        with Vertical(id="train-right"):
            with Horizontal(id="run-controls"):
                yield Select([], prompt="watch a run…", id="watch-select")
                yield Button("Cancel", id="cancel", variant="error", disabled=True)
                yield Button("Resume", id="resume", variant="success", disabled=True)
            yield RunMonitor(id="monitor")
        yield KeyFooter()

    def on_mount(self) -> None:
        for key in HANDED_OVER:
            self._shown[key] = self.query_one(f"#f-{key}", Input).value
        for key, (loaded, _) in HANDED_OVER.items():
            self._hand_over(key, self._handed_value(key))
            if isinstance(getattr(type(self.app), loaded, None), Reactive):
                self.watch(self.app, loaded, self._handed_watcher(key), init=False)
        self.validate_form()
        self.refresh_runs(reattach=True)

    # -- what the Data screen (or the command line) hands over -----------------------------------
    def _handed_value(self, key: str) -> str | None:
        """The Data screen's loaded value for a box, else the command line's; None: neither."""
        for attribute in HANDED_OVER[key]:
            value = getattr(self.app, attribute, None)
            if value:
                return str(value)
        return None

    def _handed_watcher(self, key: str) -> Any:
        def changed(value: str | None) -> None:
            if value:
                self._hand_over(key, str(value))
                self.validate_form()

        return changed

    def user_typed(self, key: str) -> bool:
        """Whether the box holds something the user typed (not what the screen put there)."""
        box = self.query_one(f"#f-{key}", Input)
        return box.value != self._shown.get(key, box.value)

    def _hand_over(self, key: str, value: str | None) -> None:
        if value is None or self.user_typed(key):
            return
        box = self.query_one(f"#f-{key}", Input)
        self._shown[key] = value
        box.value = value

    # -- form -----------------------------------------------------------------------------
    def form_values(self) -> dict[str, str]:
        values: dict[str, str] = {}
        for f in FIELDS:
            widget = self.query_one(f"#f-{f.key}")
            if isinstance(widget, Select):
                values[f.key] = "" if widget.value is Select.NULL else str(widget.value)
            else:
                assert isinstance(widget, Input)
                values[f.key] = widget.value
        return values

    def fill_form(self, config: TrainConfig) -> None:
        """Show a config's values (a preset was chosen); the data and tokenizer boxes keep what the
        user typed, or else what the Data screen handed over."""
        self._filling = True
        try:
            for f in FIELDS:
                widget = self.query_one(f"#f-{f.key}")
                value = show_value(getattr(config, f.key))
                if f.key in HANDED_OVER:
                    if self.user_typed(f.key):
                        continue
                    value = self._handed_value(f.key) or value
                    self._shown[f.key] = value
                if isinstance(widget, Select):
                    widget.value = value
                else:
                    assert isinstance(widget, Input)
                    widget.value = value
        finally:
            self._filling = False
        self.validate_form()

    def validate_form(self) -> bool:
        """Rebuild the config from the form; show each problem next to its field."""
        config, problems = form_to_config(self.base, self.form_values())
        config.output_root = str(self.runs_root)
        self.config = None if problems else config
        self.problems = problems
        for f in FIELDS:
            messages = problems.get(f.key, [])
            err = self.query_one(f"#e-{f.key}", Static)
            err.update("\n".join(messages))
            err.set_class(not messages, "-empty")
            self.query_one(f"#f-{f.key}").set_class(bool(messages), "-invalid")
        general = problems.get("", [])
        count = sum(len(v) for v in problems.values())
        summary = f"{count} problem(s): fix them to launch." if count else ""
        self.query_one("#form-errors", Static).update("\n".join([*general, summary]).strip())
        self.query_one("#launch", Button).disabled = bool(problems)
        return not problems

    @on(Select.Changed, "#preset")
    def _preset_changed(self, event: Select.Changed) -> None:
        name = event.value
        if name is Select.NULL:
            return
        self.base = TrainConfig() if name == CUSTOM else TrainConfig.from_preset(str(name))
        self.fill_form(self.base)

    @on(Input.Changed)
    def _input_changed(self, event: Input.Changed) -> None:
        if not self._filling and event.input.id and event.input.id.startswith("f-"):
            self.validate_form()

    @on(Select.Changed)
    def _select_changed(self, event: Select.Changed) -> None:
        if not self._filling and event.select.id and event.select.id.startswith("f-"):
            self.validate_form()

    # -- launching and run control ----------------------------------------------------------
    @on(Button.Pressed, "#launch")
    def _launch_pressed(self) -> None:
        self.action_launch()

    @on(Button.Pressed, "#cancel")
    def _cancel_pressed(self) -> None:
        self.action_cancel_run()

    @on(Button.Pressed, "#resume")
    def _resume_pressed(self) -> None:
        self.action_resume_run()

    def action_launch(self) -> None:
        if not self.validate_form() or self.config is None:
            self.notify("The configuration has problems: see the messages in the form.", severity="error")
            return
        config = self.config
        # Name the run here, so the screen knows the folder before the process starts.
        if not config.run_name:
            config = config.with_overrides(run_name=config.resolved_run_name())
        self.query_one("#launch", Button).disabled = True
        self._check_launch(config)

    @work(thread=True, exclusive=True, group="launch-check", exit_on_error=False)
    def _check_launch(self, config: TrainConfig) -> None:
        """Preflight's refusals first, then whether `auto` would mean random weights (it may wait
        up to a few seconds for the Hub, hence a thread)."""
        from bnner_tui.core.train.launch import preflight
        from bnner_tui.core.train.models import check_random_init

        preflight(config)
        self.post_message(LaunchChecked(config, check_random_init(config)))

    @on(LaunchChecked)
    def _launch_checked(self, message: LaunchChecked) -> None:
        if message.notice is None:
            self._launch(message.config)
            return
        config = message.config

        def answered(go: bool | None) -> None:
            if go:
                self._launch(config)
            else:
                self.notify("Not launched: nothing was started.")
                self.validate_form()

        self.app.push_screen(RandomInitDialog(message.notice), answered)

    @work(thread=True, exclusive=True, group="run-control", exit_on_error=False)
    def _launch(self, config: TrainConfig) -> None:
        from bnner_tui.core.train.launch import launch

        self.post_message(RunLaunched(launch(config).run_dir.path))

    @on(RunLaunched)
    def _launched(self, message: RunLaunched) -> None:
        self.validate_form()
        self.notify(f"Started run {message.run_dir.name}; it keeps running if you close the app.", markup=False)
        self.watch_run(message.run_dir)
        self.refresh_runs()

    @on(WorkFailed)
    def _work_failed(self, message: WorkFailed) -> None:
        """`WorkerErrors` has told the user; put the controls back as they were."""
        if message.group in ("run-control", "launch-check"):
            self.validate_form()
            self._sync_buttons()

    def watch_run(self, run_dir: Path) -> None:
        """Attach the monitor to a run folder (from its first event)."""
        self.run_dir = Path(run_dir)
        self.query_one(RunMonitor).attach(self.run_dir)
        self._sync_buttons()

    def _status(self) -> str:
        return self.query_one(RunMonitor).state.status

    def action_cancel_run(self) -> None:
        if self.run_dir is None or self._status() != "running":
            self.notify("No running run to cancel.", severity="warning")
            return
        self.query_one("#cancel", Button).disabled = True
        self._control("cancel", self.run_dir)

    def action_resume_run(self) -> None:
        if self.run_dir is None or self._status() not in RESUMABLE:
            self.notify("Only a cancelled, failed or killed run can be resumed.", severity="warning")
            return
        self.query_one("#resume", Button).disabled = True
        self._control("resume", self.run_dir)

    @work(thread=True, exclusive=True, group="run-control", exit_on_error=False)
    def _control(self, what: str, run_dir: Path) -> None:
        from bnner_tui.core.train import launch as launch_mod

        if what == "cancel":
            launch_mod.cancel(run_dir)
            message = f"Asked run {run_dir.name} to stop: it saves a checkpoint first."
        else:
            # Right after `cancelled` the process may still be exiting (it holds the lock
            # until it does): give it a moment rather than refusing.
            launch_mod.wait_for_exit(run_dir, timeout=15.0)
            launch_mod.resume(run_dir)
            message = f"Resuming run {run_dir.name} from its last checkpoint."
        self.post_message(RunControlled(what, run_dir, message))

    @on(RunControlled)
    def _controlled(self, message: RunControlled) -> None:
        self.notify(message.message)
        if message.what == "resume" and message.run_dir == self.run_dir:
            self.watch_run(message.run_dir)
        self._sync_buttons()

    def _sync_buttons(self) -> None:
        status = self._status()
        attached = self.run_dir is not None
        self.query_one("#cancel", Button).disabled = not (attached and status == "running")
        self.query_one("#resume", Button).disabled = not (attached and status in RESUMABLE)

    @on(RunMonitor.StatusChanged)
    def _status_changed(self, event: RunMonitor.StatusChanged) -> None:
        self._sync_buttons()
        if event.status == "finished":
            self.notify(f"Run {event.run_dir.name} finished.", markup=False)
        elif event.status == "failed":
            self.notify(f"Run {event.run_dir.name} failed: {event.reason}", severity="error", timeout=10, markup=False)
        elif event.status == "cancelled":
            self.notify(
                f"Run {event.run_dir.name} was cancelled; Resume continues it.", severity="warning", markup=False
            )
        elif event.status == "killed":
            self.notify(
                f"Run {event.run_dir.name} stopped without a final event; Resume continues it.",
                severity="error",
                timeout=10,
            )
        self.refresh_runs()

    # -- run list / re-attaching ----------------------------------------------------------------
    @work(thread=True, exclusive=True, group="run-list", exit_on_error=False)
    def refresh_runs(self, reattach: bool = False) -> None:
        from bnner_tui.core.runs import list_runs

        rows = [(r.path, r.name, r.status) for r in list_runs(self.runs_root)]  # newest first
        self.post_message(RunsListed(rows, reattach))

    @on(RunsListed)
    def _show_runs(self, message: RunsListed) -> None:
        rows = message.rows
        select = self.query_one("#watch-select", Select)
        options = [(f"{name} · {status}", str(path)) for path, name, status in rows]
        current = str(self.run_dir) if self.run_dir else None
        with self.prevent(Select.Changed):
            select.set_options(options)
            if current and any(value == current for _, value in options):
                select.value = current
        if message.reattach and self.run_dir is None:
            newest = next((path for path, _, status in rows if status == "running"), None)
            if newest is not None:
                self.notify(f"Re-attached to running run {newest.name}.", markup=False)
                self.watch_run(newest)
                with self.prevent(Select.Changed):
                    select.value = str(newest)

    @on(Select.Changed, "#watch-select")
    def _watch_selected(self, event: Select.Changed) -> None:
        if event.value is Select.NULL:
            return
        path = Path(str(event.value))
        if path != self.run_dir:
            self.watch_run(path)
