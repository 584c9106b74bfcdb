"""A run's card as text, fresh or merged into the README already there, and saved atomically with a backup.

This is the entry point the CLI, the Card screen and publishing call; building, merging and
validating live in their own modules.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bnner_tui.core import files
from bnner_tui.core.card.build import build_card
from bnner_tui.core.card.errors import CardError, Problem
from bnner_tui.core.card.facts import RunInfo, load_run
from bnner_tui.core.card.frontmatter import read_card_file
from bnner_tui.core.card.merge import merge_card
from bnner_tui.core.card.validate import validate_card
from bnner_tui.core.card.vocab import REPO_ID_RE


@dataclass
class RenderResult:
    """What `render_card` wrote: where, the backup of what was there, the text and its problems."""

    path: Path
    backup: Path | None
    text: str
    problems: list[Problem]


def card_text(
    run: RunInfo | str | Path,
    *,
    repo_id: str | None = None,
    license: str | None = None,
    widgets: list[dict[str, str]] | None = None,
    existing: str | None = None,
    include_other_data: bool = False,
) -> str:
    """The card's full text: fresh, or merged into `existing` (the README already there)."""
    info = run if isinstance(run, RunInfo) else load_run(run)
    if repo_id is not None and not REPO_ID_RE.match(repo_id):
        raise CardError(f"'{repo_id}' is not a valid repo id: use the form user/name (letters, digits, - _ .).")
    fresh = str(
        build_card(info, repo_id=repo_id, license=license, widgets=widgets, include_other_data=include_other_data)
    )
    if existing is None:
        return fresh if fresh.endswith("\n") else fresh + "\n"
    return merge_card(existing, fresh, license=license, widgets_given=widgets is not None)


def render_card(
    run_dir: str | Path,
    *,
    repo_id: str | None = None,
    license: str | None = None,
    widgets: list[dict[str, str]] | None = None,
    out: str | Path | None = None,
    include_other_data: bool = False,
) -> RenderResult:
    """Write (or update) the run's card, by default RUN/model/README.md, atomically and with a backup."""
    info = load_run(run_dir)
    path = Path(out) if out is not None else info.model_dir / "README.md"
    existing = read_card_file(path) if path.exists() else None
    text = card_text(
        info,
        repo_id=repo_id,
        license=license,
        widgets=widgets,
        existing=existing,
        include_other_data=include_other_data,
    )
    backup = files.atomic_write_text(path, text, backup=True)
    return RenderResult(path=path, backup=backup, text=text, problems=validate_card(text, run=info))
