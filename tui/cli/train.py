"""`bnner-tui train`, `eval`, `runs`, `follow`, `cancel`: headless run control.

The CLI never trains in its own process: it launches the training process (core.train.launch)
and then only reads the run's events.jsonl, exactly like the TUI does (tui/cli/follow.py shows
it). So a closed terminal does not kill a run, `bnner-tui follow RUN` re-attaches to it, and
what the CLI shows is what the run folder records. Ctrl-C asks the run to checkpoint and stop (a second Ctrl-C stops
waiting and leaves the run to finish its checkpoint in the background).

Only typer, rich and light core modules are imported at top level (start-up time rule).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from bnner_tui.core.display import NO_VALUE, number
from bnner_tui.core.errors import BnnerError
from bnner_tui.tui.cli.errors import esc
from bnner_tui.tui.cli.follow import console, follow_run, print_scores
from bnner_tui.tui.presentation import STATUS_STYLE, format_duration

EXIT_FAILED = 1
EXIT_CANCELLED = 130


_EXIT = {"finished": 0, "cancelled": EXIT_CANCELLED, "detached": 0}


# ---- commands ----------------------------------------------------------------------------------


def _parse_set(items: list[str] | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for item in items or []:
        if "=" not in item:
            raise BnnerError(f"--set takes KEY=VALUE (got {item!r}).")
        key, value = item.split("=", 1)
        key = key.strip().replace("-", "_")
        out[key] = value.strip()
    return out


def train_command(
    config_file: Path | None = typer.Option(None, "--config", "-c", help="A TOML file of TrainConfig keys."),
    preset: str | None = typer.Option(None, "--preset", "-p", help="tutorial | gpu-fast | cpu-demo | cpu."),
    set_: list[str] | None = typer.Option(None, "--set", help="Any other TrainConfig key: --set warmup_ratio=0.1."),
    resume: str | None = typer.Option(None, "--resume", help="Continue this run (name or folder) from its checkpoint."),
    detach: bool = typer.Option(False, "--detach", help="Start the run and return; follow it later."),
    allow_random_init: bool = typer.Option(
        False,
        "--allow-random-init",
        help="With model auto and no Hub (and mBERT not cached), train the small random-init model without asking.",
    ),
    **config_flags: Any,
) -> None:
    """Fine-tune a token classifier: launches the training process and follows its progress."""
    from bnner_tui.core.config import resolve_config
    from bnner_tui.core.runs import find_run
    from bnner_tui.core.train.launch import launch, preflight, resume_run

    flags: dict[str, Any] = dict(config_flags)  # one option per TrainConfig field with `cli` names
    output_root = flags.get("output_root")
    extra = _parse_set(set_)
    if resume is not None:
        given = sorted(k for k, v in {**flags, **extra}.items() if v is not None and k != "output_root")
        if given or config_file or preset:
            console.print(
                "[yellow]note:[/] a resumed run keeps its saved config;"
                f" ignoring {esc(', '.join(given) or 'the config')}."
            )
        run = find_run(resume, root=output_root or "runs")
        # Where the new process's events start: the launcher closes a half-written last line
        # before the worker writes, so the size now is a line boundary once that is done.
        offset = run.events_path.stat().st_size if run.events_path.exists() else 0
        proc = resume_run(run)
    else:
        overrides = {**extra, **{k: v for k, v in flags.items() if v is not None}}
        cfg = resolve_config(config_file=config_file, preset=preset, overrides=overrides)
        preflight(cfg)  # its one-sentence refusals come before the question below
        _confirm_random_init(cfg, allow=allow_random_init)
        proc = launch(cfg)
        run = proc.run_dir
        offset = 0
    console.print(f"Run [bold]{esc(run.name)}[/] in {esc(run.path)} (pid {proc.pid}; log {esc(run.log_path)})")
    if detach:
        console.print(
            esc(
                f"Running in the background. Follow: bnner-tui follow {run.name} --root {run.path.parent}"
                f" · cancel: bnner-tui cancel {run.name} --root {run.path.parent}"
                f" · raw events: tail -f {run.events_path}"
            )
        )
        return
    status = follow_run(run, proc=proc, offset=offset)
    code = _EXIT.get(status, EXIT_FAILED)
    if code:
        raise typer.Exit(code)


def _confirm_random_init(cfg: Any, *, allow: bool) -> None:
    """Model `auto` without mBERT (no Hub, not cached) trains random weights: say so FIRST, then
    go on (`--allow-random-init`), ask (a terminal), or refuse (a script: nobody would see it
    before the F1 0.000 at the end). Prints nothing when the pretrained model is what will train."""
    from rich.text import Text

    from bnner_tui.core.train.models import check_random_init

    notice = check_random_init(cfg)
    if notice is None:
        return
    if not allow and not sys.stdin.isatty():
        raise BnnerError(
            f"Not started: model auto means {notice.what}, not {notice.expected}, because the Hugging Face Hub is"
            f" unreachable ({notice.why}) and {notice.expected} is not in the local cache."
            f" {notice.consequence} {notice.remedy(cli=True)} To train it anyway, add --allow-random-init."
        )
    # One line (soft_wrap: never broken at the terminal width) with what, why and what to do.
    console.print(
        Text.assemble(("warning: ", "bold yellow"), f"{notice.headline()} {notice.remedy(cli=True)}"), soft_wrap=True
    )
    console.print(Text(f"  {notice.consequence}"), soft_wrap=True)
    if allow:
        return
    if not typer.confirm("Train this random-init model anyway?", default=False):
        console.print("Not started.")
        raise typer.Exit(EXIT_FAILED)


def _with_config_options(command: Any) -> Any:
    """Gives `train_command` one option per TrainConfig field that has CLI names (`Spec.cli`), so an
    option, its type and its help are written once, in core.config, next to the field."""
    import inspect

    from bnner_tui.core.config import SPECS

    py_types: dict[str, type] = {"int": int, "float": float}
    sig = inspect.signature(command)
    fixed = [p for p in sig.parameters.values() if p.kind is not inspect.Parameter.VAR_KEYWORD]
    generated = [
        inspect.Parameter(
            name,
            inspect.Parameter.KEYWORD_ONLY,
            default=typer.Option(None, *spec.cli, help=spec.help),
            annotation=py_types.get(spec.kind, str) | None,
        )
        for name, spec in SPECS.items()
        if spec.cli
    ]
    command.__signature__ = sig.replace(parameters=[*fixed, *generated])
    return command


train_command = _with_config_options(train_command)


def follow_command(
    run_name: str = typer.Argument(..., help="Run name (under --root) or run folder."),
    root: str = typer.Option("runs", "--root", help="Folder holding the runs."),
) -> None:
    """Attach to a run: replay its events and follow it live (Ctrl-C stops following, not the run)."""
    from bnner_tui.core.runs import find_run

    run = find_run(run_name, root=root)
    status = follow_run(run, offset=0, cancel_on_interrupt=False)
    code = _EXIT.get(status, EXIT_FAILED)
    if code:
        raise typer.Exit(code)


def cancel_command(
    run_name: str = typer.Argument(..., help="Run name (under --root) or run folder."),
    root: str = typer.Option("runs", "--root", help="Folder holding the runs."),
    wait: bool = typer.Option(True, "--wait/--no-wait", help="Wait until the run has saved and stopped."),
    timeout: float = typer.Option(600.0, "--timeout", help="Seconds to wait."),
) -> None:
    """Ask a running run to save a checkpoint and stop (resume it later with train --resume)."""
    from bnner_tui.core.runs import find_run, run_status
    from bnner_tui.core.train.launch import cancel, wait_for_exit

    run = find_run(run_name, root=root)
    pid = cancel(run)
    console.print(f"Asked run {run.name} (pid {pid}) to save a checkpoint and stop.")
    if not wait:
        return
    if not wait_for_exit(run, timeout):
        raise BnnerError(f"Run {run.name} is still running after {timeout:.0f} s; it may be saving a large checkpoint.")
    console.print(f"Run {run.name}: {run_status(run)}.")


def runs_command(
    root: str = typer.Option("runs", "--root", help="Folder holding the runs."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON lines instead of a table."),
) -> None:
    """List runs: status, best word-level F1, duration, model, data."""
    from bnner_tui.core.runs import list_runs

    runs = list_runs(root)
    if as_json:
        for r in runs:
            typer.echo(json.dumps(r.as_dict(), ensure_ascii=False))
        return
    if not runs:
        console.print(f"No runs in {root}. Start one with: bnner-tui train --preset cpu-demo")
        return
    table = Table(title=f"Runs in {root}", title_justify="left", caption="F1: best word-level validation F1")
    for col in ("name", "status", "best F1", "duration", "steps", "model", "data", "started"):
        table.add_column(col, justify="right" if col in ("best F1", "duration", "steps") else "left")
    for r in runs:
        style = STATUS_STYLE.get(r.status, "")
        steps = f"{r.last_step if r.last_step is not None else NO_VALUE}/{r.total_steps or NO_VALUE}"
        started = time.strftime("%Y-%m-%d %H:%M", time.localtime(r.started_at)) if r.started_at else NO_VALUE
        table.add_row(
            r.name,
            f"[{style}]{r.status}[/]",
            number(r.best_f1),
            format_duration(r.duration_s),
            steps,
            r.model,
            r.data,
            started,
        )
    console.print(table)
    for r in runs:
        if r.status == "failed" and r.reason:
            console.print(f"[red]{r.name}[/] failed: {r.reason}", soft_wrap=True)


def eval_command(
    run_name: str = typer.Argument(..., help="Run name (under --root) or run folder."),
    split: str = typer.Option("validation", "--split", "-s", help="Split of the run's data to score."),
    root: str = typer.Option("runs", "--root", help="Folder holding the runs."),
    data: str | None = typer.Option(None, "--data", help="Score on another source (default: the run's data)."),
    label_map: list[str] = typer.Option([], "--map", help="Rename a type of the data, e.g. PERSON=PER (repeatable)."),
    drop: list[str] = typer.Option([], "--drop", help="Read a type of the data as O, e.g. DATE (repeatable)."),
    on_error: str | None = typer.Option(None, "--on-error", help="stop (default) or skip bad sentences."),
) -> None:
    """Score a finished run's model on a split (word level, seqeval strict IOB2); saved into metrics.json."""
    from bnner_tui.core.runs import find_run

    run = find_run(run_name, root=root)
    if not (run.model_dir / "config.json").is_file():
        raise BnnerError(f"Run {run.name} has no saved model yet ({run.model_dir}): it has not finished.")
    from bnner_tui.core.train.evaluate import evaluate_run

    _quiet_library_progress()
    with console.status(f"Scoring {run.name} on {split}…"):
        if label_map or drop or on_error:
            result = evaluate_run(run.path, split, data=data, label_map=label_map, drop=drop, on_error=on_error)
        else:
            result = evaluate_run(run.path, split, data=data) if data else evaluate_run(run.path, split)
    entry = result
    if isinstance(result, dict) and "splits" in result:
        entry = (result.get("splits") or {}).get(split, result)
    title = split if not data else f"{split} of {entry.get('data_name') or data}"
    print_scores(entry, split=title)
    where = "" if not data else " (under other_data: the run's own scores are kept)"
    console.print(f"Saved into {run.metrics_path}{where}")


def _quiet_library_progress() -> None:
    """Our spinner says what is happening; the libraries' own tqdm bars would only clutter it."""
    try:
        import datasets
        import transformers

        datasets.disable_progress_bars()
        transformers.utils.logging.disable_progress_bar()
        transformers.utils.logging.set_verbosity_error()
    except ImportError:  # pragma: no cover
        pass


def register(app: typer.Typer) -> None:
    """Add train, eval, runs, follow and cancel to the root app."""
    app.command("train")(train_command)
    app.command("eval")(eval_command)
    app.command("runs")(runs_command)
    app.command("follow")(follow_command)
    app.command("cancel")(cancel_command)
