"""`bnner-tui card render|validate`, `bnner-tui publish` and `bnner-tui export`.

Thin: every decision lives in `bnner_tui.core.card` / `bnner_tui.core.publish`, imported inside the
commands so `bnner-tui --help` never pays for huggingface_hub or ruamel. A `BnnerError` becomes one
red sentence and exit code 2 here too (not only in `main()`), so the commands behave the same when
driven by typer's CliRunner or embedded in another app.
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console

from bnner_tui.core.errors import BnnerError
from bnner_tui.tui.cli.errors import warn

# markup=False: everything printed here is made of user text (paths, card lines, problems).
_out = Console(highlight=False, soft_wrap=True, markup=False)
_err = Console(stderr=True, highlight=False, soft_wrap=True, markup=False)

card_app = typer.Typer(
    name="card",
    help="Write, update and validate a run's model card (README.md).",
    no_args_is_help=True,
    add_completion=False,
)


def _fail(err: BnnerError) -> typer.Exit:
    from bnner_tui.tui.cli.errors import EXIT_USER_ERROR, report_user_error

    report_user_error(err, console=_err)
    return typer.Exit(EXIT_USER_ERROR)


@card_app.command("render")
def render(
    run: Path = typer.Argument(..., help="The run folder (runs/<name>)."),
    repo: str | None = typer.Option(None, "--repo", help="Hub repo id user/name, used in the card's snippet."),
    license: str | None = typer.Option(
        None, "--license", help="Licence identifier (default apache-2.0; an existing card's licence is kept)."
    ),
    out: Path | None = typer.Option(None, "--out", help="Where to write (default RUN/model/README.md)."),
    widget: list[str] | None = typer.Option(
        None,
        "--widget",
        help="A widget example 'TITLE=TEXT' (or just TEXT); repeat for several. Replaces the card's examples.",
    ),
    other_data: bool = typer.Option(
        False, "--include-other-data", help="Also list scores measured with `eval --data` on other datasets."
    ),
) -> None:
    """Write or update the card from the run's measured numbers; an existing card is kept as a backup."""
    from bnner_tui.core.card.render import render_card

    widgets = None
    if widget:
        widgets = []
        for i, item in enumerate(widget, start=1):
            title, sep, text = item.partition("=")
            example_title = title.strip() if sep else f"Example {i}"
            widgets.append({"text": (text if sep else title).strip(), "example_title": example_title})
    try:
        result = render_card(
            run, repo_id=repo, license=license, out=out, widgets=widgets, include_other_data=other_data
        )
    except BnnerError as err:
        raise _fail(err) from None
    _out.print(str(result.path))
    if result.backup is not None:
        _err.print(f"previous card kept as {result.backup}")
    for problem in result.problems:
        warn(f"{result.path}:{problem.line}: {problem.message}", console=_err)


@card_app.command("validate")
def validate(
    path: Path = typer.Argument(..., help="A README.md, or a model/run folder holding one."),
    run: Path | None = typer.Option(None, "--run", help="Check the model-index numbers against this run."),
) -> None:
    """List every problem of a card with its line number; exit 1 if there is any."""
    from bnner_tui.core.card.validate import validate_card

    target = path
    if path.is_dir():
        candidates = (path / "README.md", path / "model" / "README.md")
        target = next((p for p in candidates if p.is_file()), candidates[0])
    if not target.is_file():
        raise _fail(BnnerError(f"{target} does not exist: render a card first (bnner-tui card render RUN)."))
    try:
        problems = validate_card(target, run=run)
    except BnnerError as err:
        raise _fail(err) from None
    for problem in problems:
        _out.print(f"{target}:{problem.line}: {problem.message}")
    if problems:
        _err.print(f"{len(problems)} problem(s) in {target}")
        raise typer.Exit(1)
    _out.print(f"{target}: OK" + (f" (model-index matches {run})" if run else ""))


def publish_cmd(
    run: Path = typer.Argument(..., help="The run folder (runs/<name>)."),
    repo: str = typer.Option(..., "--repo", help="Hub repo id user/name (or org/name)."),
    private: bool = typer.Option(False, "--private", help="Create the repo private."),
    create_pr: bool = typer.Option(False, "--create-pr", help="Open a pull request instead of committing to main."),
    message: str | None = typer.Option(None, "--message", "-m", help="Commit message."),
    license: str | None = typer.Option(None, "--license", help="Licence identifier for the card."),
    dry_run: bool = typer.Option(False, "--dry-run", help="List the files and sizes that would go; send nothing."),
    include_checkpoints: bool = typer.Option(
        False, "--include-checkpoints", help="Also upload checkpoints/ (never optimizer/scheduler/RNG states)."
    ),
) -> None:
    """Publish a run's model to the Hugging Face Hub as ONE commit: card, config, weights, tokenizer."""
    from bnner_tui.core.publish import format_plan, publish

    try:
        result = publish(
            run,
            repo,
            private=private,
            create_pr=create_pr,
            message=message,
            license=license,
            include_checkpoints=include_checkpoints,
            dry_run=dry_run,
        )
    except BnnerError as err:
        raise _fail(err) from None
    if dry_run:
        _out.print(f"dry run: would commit to {repo}:")
        for line in format_plan(result.plan):
            _out.print("  " + line)
        card_path = result.plan.card_path
        verb = "replace" if card_path.exists() else "create"
        kept = " (the current one kept as a backup)" if card_path.exists() else ""
        _out.print(
            "dry run: nothing was uploaded or written;"
            f" publishing would also {verb} {card_path} with the card above{kept}."
        )
        for problem in result.plan.problems:
            warn(f"line {problem.line}: {problem.message}", label="card problem:", console=_err)
        return
    _out.print(f"published {len(result.plan.files)} files to {result.repo_url}")
    if result.pr_url:
        _out.print(f"pull request: {result.pr_url}")
    elif result.commit_url:
        _out.print(f"commit: {result.commit_url}")


def export_cmd(
    run: Path = typer.Argument(..., help="The run folder (runs/<name>)."),
    dir: Path = typer.Argument(..., help="A new (or empty) folder to write the repo into."),
    repo: str | None = typer.Option(None, "--repo", help="Hub repo id user/name, used in the card's snippet."),
    license: str | None = typer.Option(None, "--license", help="Licence identifier for the card."),
    include_checkpoints: bool = typer.Option(False, "--include-checkpoints", help="Also export checkpoints/."),
) -> None:
    """Write a folder ready for `git push` to a Hub repo: the publish files plus a git-lfs .gitattributes."""
    from bnner_tui.core.publish import export, format_plan

    try:
        p = export(run, dir, repo_id=repo, license=license, include_checkpoints=include_checkpoints)
    except BnnerError as err:
        raise _fail(err) from None
    _out.print(f"exported to {dir}:")
    for line in format_plan(p):
        _out.print("  " + line)
    remote = f"https://huggingface.co/{repo}" if repo else "https://huggingface.co/USER/NAME"
    _out.print(
        "to push (create the repo on the Hub first):\n"
        f"  cd {dir} && git init -b main && git lfs install && git add . && git commit -m 'Add model'\n"
        f"  git remote add origin {remote} && git push -u origin main"
    )


def register(app: typer.Typer) -> None:
    """Add `card` (render/validate) and the top-level `publish` and `export` commands."""
    app.add_typer(card_app, name="card")
    app.command("publish")(publish_cmd)
    app.command("export")(export_cmd)
