"""`bnner-tui data review | correct | diff`: find silver-label errors, save the corrections, compare sources.

Registered into the `data` group (`register(app)` adds them to `data_app`), so they sit beside
`data stats` and `data convert`. Only typer and rich at module level; the model, cleanlab and
datasets load inside the commands.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import typer

from bnner_tui.tui.cli.data import SCHEME_HELP, SOURCE_HELP, _console, _load, _user_errors, _warn, data_app


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", Path(text).name or text).strip("-") or "source"


class _Bars:
    """Rich progress bars for the folds: one overall, one for the fold being trained."""

    def __init__(self, progress: Any, folds: int) -> None:
        self.p = progress
        self.overall = progress.add_task("folds", total=folds)
        self.current: Any = None

    def fold_started(self, fold: int, total_steps: int) -> None:
        self.current = self.p.add_task(f"fold {fold + 1} training", total=total_steps)

    def fold_step(self, fold: int, step: int) -> None:
        if self.current is not None:
            self.p.update(self.current, completed=step)

    def fold_done(self, fold: int, stats: Any, reused: bool) -> None:
        if self.current is not None:
            self.p.remove_task(self.current)
            self.current = None
        how = (
            "saved earlier, reused" if reused else f"{stats.steps} steps, {stats.cpu_s:.0f} CPU-s, {stats.wall_s:.0f} s"
        )
        self.p.console.print(f"fold {fold + 1}: {how}")
        self.p.advance(self.overall)


def review_cmd(
    source: str = typer.Argument(..., help=SOURCE_HELP),
    split: str = typer.Option("train", "--split", "-s", help="Split to review."),
    model: str | None = typer.Option(
        None,
        "--model",
        "-m",
        help=(
            "A run folder: train each fold with its settings (default: the cpu-demo preset);"
            " 'lexicon': a baseline that trains in milliseconds."
        ),
    ),
    folds: int = typer.Option(
        5, "--folds", "-k", min=2, help="Folds: each sentence is predicted by a model that never saw it."
    ),
    epochs: float = typer.Option(2.0, "--fold-epochs", min=0.01, help="Training epochs per fold (over its k-1 parts)."),
    max_steps: int | None = typer.Option(
        None, "--fold-steps", min=1, help="Training steps per fold (overrides --fold-epochs)."
    ),
    max_cpu: float | None = typer.Option(
        None, "--fold-cpu-seconds", min=1, help="Stop a fold's training after this much CPU time (a safety cap)."
    ),
    threads: int | None = typer.Option(
        None, "--threads", min=1, help="torch threads per fold (1 suits a crowded machine; default: torch's)."
    ),
    out: str | None = typer.Option(None, "--out", "-o", help="Review folder (default reviews/<source>-<split>)."),
    seed: int = typer.Option(42, "--seed", help="Seed of the fold split and the models."),
    top: int = typer.Option(10, "--top", min=0, help="Suspects to print."),
    limit: int | None = typer.Option(None, "--limit", min=10, help="Review only the first N sentences."),
    scheme: str = typer.Option("auto", "--scheme", help=SCHEME_HELP),
) -> None:
    """Rank likely label errors with out-of-fold predictions and cleanlab; writes REVIEW/suspects.jsonl (resumable)."""
    with _user_errors():
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
        from rich.table import Table

        from bnner_tui.core.review.find import run_review
        from bnner_tui.core.review.model import FoldBudget

        loaded = _load(source, scheme)
        target = Path(out) if out else Path("reviews") / f"{_slug(source)}-{split}"
        budget = FoldBudget(epochs=epochs, max_steps=max_steps, max_cpu_s=max_cpu, threads=threads)
        console = _console()
        console.print(f"[bold]{loaded.name}[/] · {split} · {folds} folds · review folder {target}", soft_wrap=True)
        with Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console
        ) as progress:
            result = run_review(
                loaded,
                split=split,
                out=target,
                folds=folds,
                seed=seed,
                budget=budget,
                model_run=model,
                progress=_Bars(progress, folds),
                limit=limit,
            )
        p = result.params
        console.print(
            f"{len(result.suspects)} suspect sentences ({result.n_flagged_words} words flagged) of {p['sentences']};"
            f" folds took {p['cpu_s']:.0f} CPU-s, {p['wall_s']:.0f} s wall",
            soft_wrap=True,
        )
        if top and result.suspects:
            table = Table(title=f"top {min(top, len(result.suspects))} suspects (lowest label quality first)")
            for col in ("rank", "sentence", "score", "word", "given", "suggested"):
                table.add_column(col)
            for s in result.suspects[:top]:
                diffs = [i for i, (g, n) in enumerate(zip(s["given"], s["suggested"], strict=True)) if g != n]
                shown = diffs or s["flagged"]
                table.add_row(
                    str(s["rank"]),
                    str(s["sentence"]),
                    f"{s['score']:.3f}",
                    " ".join(s["words"][i] for i in shown),
                    " ".join(s["given"][i] for i in shown),
                    " ".join(s["suggested"][i] for i in shown),
                )
            console.print(table)
        if result.common:
            table = Table(title="most common confusions (word, given label -> what the model says)")
            for col in ("word", "given", "model", "times"):
                table.add_column(col)
            for c in result.common[:10]:
                table.add_row(c["word"], c["given"], c["predicted"], str(c["count"]))
            console.print(table)
        console.print(
            f"next: open the app's Review screen (key 6) on {target}, or `bnner-tui data correct {target} --out DIR`"
        )
        _warn(loaded)


def correct_cmd(
    reviews: list[str] = typer.Argument(..., help="Review folder(s) of the same source, one per split."),
    out: str = typer.Option(
        ..., "--out", "-o", help="New folder for the corrected source (must not exist or be empty)."
    ),
    propagate: list[str] = typer.Option(
        [], "--propagate", help="Also correct this split's exact duplicates of corrected sentences (e.g. validation)."
    ),
) -> None:
    """Save the reviewed decisions as a NEW source: corrected JSONL splits, changelog.jsonl, correction.json."""
    with _user_errors():
        from bnner_tui.core.review.corrected import save_corrected

        doc = save_corrected(reviews, out, propagate=propagate)
        console = _console()
        console.print(
            f"wrote {out}: {doc['changes']} label changes in {doc['sentences_changed']} sentences"
            f" ({doc['propagated_changes']} propagated to exact duplicates)"
            f" (changelog.jsonl, correction.json); train on it with `bnner-tui train --data {out}`",
            soft_wrap=True,
        )


def diff_cmd(
    old: str = typer.Argument(..., help="The original source."),
    new: str = typer.Argument(..., help="The other source (e.g. a corrected one)."),
    limit: int = typer.Option(50, "--limit", min=0, help="Changes to list (0: only the counts)."),
    scheme: str = typer.Option("auto", "--scheme", help=SCHEME_HELP),
) -> None:
    """Word-level label differences between two sources, split by split."""
    with _user_errors():
        from collections import Counter

        from rich.table import Table

        from bnner_tui.core.review.corrected import diff_sources

        a, b = _load(old, scheme), _load(new, scheme)
        d = diff_sources(a, b)
        console = _console()
        per_split = Counter(c.split for c in d.changes)
        sentences = len({(c.split, c.sentence) for c in d.changes})
        console.print(
            f"{len(d.changes)} label changes in {sentences} sentences"
            + (" (" + ", ".join(f"{k} {v}" for k, v in per_split.items()) + ")" if per_split else ""),
            soft_wrap=True,
        )
        if limit and d.changes:
            table = Table()
            for col in ("split", "sentence", "word", "token", "old", "new"):
                table.add_column(col)
            for c in d.changes[:limit]:
                table.add_row(c.split, str(c.sentence), str(c.word), c.token, c.old, c.new)
            console.print(table)
            if len(d.changes) > limit:
                console.print(f"... and {len(d.changes) - limit} more (--limit 0 for counts only)")
        pairs = Counter(f"{c.old} -> {c.new}" for c in d.changes)
        if pairs:
            console.print("most common: " + ", ".join(f"{k} ({v})" for k, v in pairs.most_common(6)), soft_wrap=True)
        for split, (x, y) in d.size_mismatch.items():
            console.print(f"[yellow]{split}: {x} sentences in OLD, {y} in NEW: not compared[/]")
        for split, n in d.token_mismatch.items():
            console.print(f"[yellow]{split}: {n} sentences have different words: their labels are not compared[/]")
        for s in d.only_old:
            console.print(f"[yellow]split {s} only in OLD[/]")
        for s in d.only_new:
            console.print(f"[yellow]split {s} only in NEW[/]")


def register(app: typer.Typer) -> None:
    """Add `review`, `correct` and `diff` to the `data` group (the group itself is registered by tui.cli.data)."""
    data_app.command("review")(review_cmd)
    data_app.command("correct")(correct_cmd)
    data_app.command("diff")(diff_cmd)
