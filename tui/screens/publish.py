"""The publish dialog of the Card screen: repo id, visibility, a dry-run file list, then one publish.

Its two workers follow the screens' one pattern (see `tui.screens`): they post `PublishPlanned`
or `Published` and simply raise on failure; `WorkerErrors` notifies and `WorkFailed` puts the
outcome line and the buttons right.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, DataTable, Input, Label, LoadingIndicator, Static

from bnner_tui.tui.screens import WorkerErrors, WorkFailed, describe_error


class PublishPlanned(Message):
    """A dry run finished: `plan` is `core.publish`'s plan (files, sizes, the card's problems)."""

    def __init__(self, plan: Any) -> None:
        super().__init__()
        self.plan = plan


class Published(Message):
    """The publish worker's commit went through: `result` is `core.publish`'s result (its URLs)."""

    def __init__(self, result: Any) -> None:
        super().__init__()
        self.result = result


class PublishDialog(WorkerErrors, ModalScreen[str | None]):
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
            yield Label(Text(f"Publish {self.run_dir.name} to the Hugging Face Hub"), classes="panel-title")
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
                "Start with a dry run: it lists every file and its size, and uploads and writes nothing.",
                id="outcome",
            )
            with Horizontal(id="buttons"):
                yield Button("Dry run", id="dry-run", variant="primary")
                yield Button("Publish", id="publish", variant="warning", disabled=True)
                yield Button("Close", id="close")

    def on_mount(self) -> None:
        table = self.query_one("#plan", DataTable)
        table.add_column("file in the repo", width=44, key="file")
        table.add_column("size", width=12, key="size")
        table.add_column("from", width=28, key="from")

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
        self._plan_publish(repo)

    @work(thread=True, exclusive=True, group="publish", exit_on_error=False)
    def _plan_publish(self, repo: str) -> None:
        from bnner_tui.core.publish import publish

        self.post_message(PublishPlanned(publish(self.run_dir, repo, dry_run=True, card=self.card).plan))

    @on(PublishPlanned)
    def _planned(self, message: PublishPlanned) -> None:
        from bnner_tui.core.publish import human_size

        planned = message.plan
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
        self._publish(repo, private, create_pr)

    @work(thread=True, exclusive=True, group="publish", exit_on_error=False)
    def _publish(self, repo: str, private: bool, create_pr: bool) -> None:
        from bnner_tui.core.publish import publish

        self.post_message(Published(publish(self.run_dir, repo, private=private, create_pr=create_pr, card=self.card)))

    @on(Published)
    def _published(self, message: Published) -> None:
        self._busy(False)
        result = message.result
        self.published_card = result.plan.card
        where = result.pr_url or result.commit_url or result.repo_url
        self._say(f"Published: {where}", "ok")

    @on(WorkFailed)
    def _failed(self, message: WorkFailed) -> None:
        """`WorkerErrors` has notified; the dialog also says it where the outcome goes."""
        self._busy(False)
        self._say(f"Not published: {describe_error(message.error)}", "fail")

    @on(Button.Pressed, "#close")
    def action_close(self) -> None:
        self.dismiss(self.published_card)
