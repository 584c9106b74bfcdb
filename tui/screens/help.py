"""The help screen (`?` / F1): every key that works where the user was, and what each screen is for.

Built from the live bindings of the screen underneath, so it can never drift from the footer.
"""

from __future__ import annotations

from typing import ClassVar

from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import DataTable, Markdown, Static

SCREENS_HELP = """\
- **1 Data**: pick a source and split, search and filter samples, see how each word becomes
  subword pieces and labels (the alignment grid), switch strategy and tokenizer, statistics.
- **2 Train**: configure and launch a run, watch its curves, cancel and resume.
- **3 Runs**: runs and the settings that differ, sort, config diff, overlay and export any metric, errors.
- **4 Tag**: type Bengali text and tag it with a run's model; copy or export entities.
- **5 Card**: edit and validate the selected run's model card; publish (dry run first).
- **6 Review**: the label suspects of `bnner-tui data review`; accept, relabel a word or span,
  mark correct, skip, undo (every decision saved at once); `ctrl+s` writes a corrected source.

`ctrl+p` opens the command palette (screens, theme, open a data source). `ctrl+q` quits;
a running training run keeps going and the app re-attaches to it next time.
"""


def help_rows(under: Screen) -> list[tuple[str, str]]:
    """(keys, what they do) for the screen and the app, one row per action.

    Several keys for one action share a row ("enter, down, space, up"), and a focused widget's
    own hidden keys (a Select's "Show menu", a table's cursor keys) are left out: they belong to
    that widget, not to the screen, and listed them four times over.
    """
    rows: dict[tuple[str, str], list[str]] = {}
    for key, active in under.active_bindings.items():
        binding = active.binding
        # The footer shows the short description; Help has room for the tooltip's whole sentence.
        text = binding.tooltip or binding.description or binding.action
        if not text or binding.system:
            continue
        if not binding.show and not isinstance(active.node, (Screen, App)):
            continue
        shown = under.app.get_key_display(binding) or key
        keys = rows.setdefault((binding.action, text), [])
        if shown not in keys:
            keys.append(shown)
    return [(", ".join(keys), text) for (_, text), keys in rows.items()]


class HelpScreen(ModalScreen[None]):
    """Key list for the screen it was opened from."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark,f1", "dismiss_help", "Close", show=True),
    ]

    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll {
        width: 90; max-width: 95%; height: 90%;
        border: thick $primary; background: $surface; padding: 0 1;
    }
    HelpScreen #help-title { text-style: bold; color: $primary; margin-bottom: 1; }
    HelpScreen DataTable { height: auto; margin-bottom: 1; }  /* one scrollbar: the dialog's */
    """

    def __init__(self, under: Screen) -> None:
        super().__init__()
        self._under = under

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Static(f"Keys: {self._under.title or type(self._under).__name__}", id="help-title")
            table: DataTable[str] = DataTable(id="help-keys", cursor_type="row", zebra_stripes=True)
            table.add_columns("key", "does")
            for keys, text in help_rows(self._under):
                table.add_row(keys, text)
            yield table
            yield Markdown(SCREENS_HELP)

    def action_dismiss_help(self) -> None:
        self.dismiss(None)
