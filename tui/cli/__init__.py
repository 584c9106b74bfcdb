"""The `bnner-tui` command: a thin typer layer over `bnner_tui.core`.

Start-up must stay well under a second, so this module and the command modules it
registers import only typer, rich and light parts of core at top level; each command
imports what it needs (datasets, torch, transformers...) inside its body.
With no sub-command, the Textual app opens.
"""

from __future__ import annotations

import sys

import typer

from bnner_tui.core import __version__
from bnner_tui.core.errors import BnnerError
from bnner_tui.tui import cells

app = typer.Typer(
    name="bnner-tui",
    help="A terminal workbench for Bengali named-entity recognition. Run with no command to open the app.",
    invoke_without_command=True,
    no_args_is_help=False,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode="rich",
)


def _cell_widths(value: str | None) -> str:
    """Set the width convention before any command prints: tables in the CLI and the app alike."""
    try:
        return cells.apply(value or None)
    except ValueError:
        # click names the flag and the environment variable in front of this.
        raise typer.BadParameter(f"must be one of {', '.join(cells.CONVENTIONS)} (got {value!r}).") from None


def _version(value: bool) -> None:
    if value:
        typer.echo(f"bnner-tui {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    ctx: typer.Context,
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version and exit."
    ),
    runs_root: str = typer.Option("runs", "--runs-root", help="Folder holding the runs (the app only)."),
    data: str = typer.Option("demo", "--data", help="Data source the app opens with: demo, wikiann, hub:ID or a path."),
    tokenizer: str = typer.Option(
        None, "--tokenizer", help="Tokenizer the Data screen starts with: a folder, a run's model or a hub id."
    ),
    cell_widths: str = typer.Option(
        cells.DEFAULT,
        "--cell-widths",
        envvar=cells.ENV_VAR,
        show_envvar=True,
        callback=_cell_widths,
        help=(
            "How wide your terminal draws Bengali vowel signs: 'wcwidth' (one cell each: tmux, xterm, "
            "GNOME Terminal, Konsole, Alacritty) or 'grapheme' (terminals that shape whole grapheme clusters)."
        ),
    ),
) -> None:
    if ctx.invoked_subcommand is None:
        from bnner_tui.tui.app import run_app

        run_app(runs_root=runs_root, data_source=data, tokenizer=tokenizer, cell_widths=cell_widths)


def _register_commands() -> None:
    """Each command module adds its commands; kept in one place so the order of --help is stable."""
    from bnner_tui.tui.cli import card, data, review, tag, train

    for module in (data, review, train, tag, card):
        module.register(app)


_register_commands()


def main() -> None:
    """Console-script entry: user errors become one sentence on stderr, never a traceback."""
    from bnner_tui.tui.cli.errors import report_unexpected, report_user_error

    try:
        app()
    except BnnerError as err:
        report_user_error(err)
        sys.exit(2)
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as err:
        report_unexpected(err)
        sys.exit(1)


if __name__ == "__main__":
    main()
