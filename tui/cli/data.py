"""`bnner-tui data ...`: look at a dataset before training on it (stats, one sample, conversion).

Only typer and rich at module level: `datasets` and the tokenizer load inside the commands,
so `bnner-tui --help` stays fast. User errors (a bad file, an unreachable hub) print one
line on stderr and exit with code 2, also when the commands run in-process (tests, the TUI).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import typer
from rich.markup import escape

from bnner_tui.core.errors import BnnerError

data_app = typer.Typer(
    name="data",
    help="Inspect and convert NER datasets: the bundled demo set, WikiANN bn, hub datasets or your own files.",
    no_args_is_help=True,
)

SOURCE_HELP = (
    "'demo' (bundled synthetic sample, offline), 'wikiann' (hub unimelb-nlp/wikiann, bn), "
    "'hub:ID[:CONFIG]', or a file/folder (CoNLL, jsonl, json, parquet, save_to_disk)."
)
SCHEME_HELP = "Tag scheme of the input: auto, iob2 (bio), iob1, bioes (iobes), bilou, io. Output is always IOB2."
ON_ERROR_HELP = "stop (default): stop at a problem, naming it; skip: drop each bad sentence whole and report them."
MAP_HELP = "Rename an entity type at load time, TYPE=NEW (repeatable): --map PERSON=PER --map GPE=LOC."
DROP_HELP = "Read an entity type as O (repeatable): --drop DATE."
SPLIT_HELP = "Divide a one-file source into train/validation/test by percentages, e.g. 80/10/10 (see --seed)."
SEED_HELP = "Shuffle seed for --split."


def _options(
    scheme: str = "auto",
    on_error: str = "stop",
    label_map: list[str] | None = None,
    drop: list[str] | None = None,
    split: str | None = None,
    seed: int | None = None,
) -> Any:
    from bnner_tui.core.data import LoadOptions

    return LoadOptions.make(scheme=scheme, on_error=on_error, label_map=label_map, drop=drop, split=split, seed=seed)


@contextmanager
def _user_errors() -> Iterator[None]:
    """BnnerError -> one line on stderr, exit code 2 (same as the console-script entry point)."""
    try:
        yield
    except BnnerError as err:
        from bnner_tui.tui.cli.errors import report_user_error

        report_user_error(err)
        raise typer.Exit(2) from None


def _console() -> Any:
    from rich.console import Console

    return Console(highlight=False)


def _warn(source: Any) -> None:
    _print_warnings(source.warnings)


def _print_warnings(warnings: list[str]) -> None:
    from rich.console import Console

    err = Console(stderr=True, highlight=False)
    for w in warnings:
        err.print(f"[yellow]warning:[/] {escape(w)}", soft_wrap=True)


def _load(spec: str, scheme: str = "auto", options: Any = None) -> Any:
    from bnner_tui.core.data import load_source

    return load_source(spec, scheme=scheme, options=options)


def _load_tokenizer(path: str) -> Any:
    from bnner_tui.core.align import load_tokenizer

    return load_tokenizer(path)


@data_app.command("stats")
def stats_cmd(
    source: str = typer.Argument("demo", help=SOURCE_HELP),
    tokenizer: str | None = typer.Option(
        None, "--tokenizer", "-t", help="Tokenizer folder or hub id: adds subword-length percentiles."
    ),
    max_length: int = typer.Option(128, "--max-length", min=2, help="Count sentences longer than this in pieces."),
    scheme: str = typer.Option("auto", "--scheme", help=SCHEME_HELP),
    on_error: str = typer.Option("stop", "--on-error", help=ON_ERROR_HELP),
    label_map: list[str] = typer.Option([], "--map", help=MAP_HELP),
    drop: list[str] = typer.Option([], "--drop", help=DROP_HELP),
) -> None:
    """Sentences, tokens and entities per split; with --tokenizer, piece lengths and how many exceed --max-length.

    Reads the source as a stream (twice: check, then count), so a large file needs memory for
    one sentence, not the file.
    """
    with _user_errors():
        from rich.table import Table

        from bnner_tui.core.data import check_source
        from bnner_tui.core.data.problems import DataProblemsError
        from bnner_tui.core.data.stats import stats_from_stream

        opts = _options(scheme, on_error, label_map, drop)
        tok = _load_tokenizer(tokenizer) if tokenizer else None
        report = check_source(source, options=opts, tokenizer=tok, max_length=max_length)
        if report.errors and opts.on_error != "skip":
            raise DataProblemsError(report.spec, report.problems)
        if not report.loads:
            raise BnnerError(report.verdict())
        st = stats_from_stream(report.result, report.name, max_length=max_length)
        console = _console()
        console.print(f"[bold]{escape(report.name)}[/] · {report.scheme} tags", soft_wrap=True)
        table = Table()
        table.add_column("split")
        table.add_column("sentences", justify="right")
        table.add_column("tokens", justify="right")
        for t in st.types:
            table.add_column(t, justify="right")
        table.add_column("entities", justify="right")
        for sp in st.splits:
            if sp.labelled:
                ents = [str(sp.entities.get(t, 0)) for t in st.types] + [str(sp.total_entities)]
            else:
                ents = ["-"] * len(st.types) + ["no labels"]
            table.add_row(escape(sp.split), str(sp.sentences), str(sp.tokens), *ents)
        console.print(table)
        if tok is not None:
            what = escape(str(tokenizer))
            console.print(f"subword pieces per sentence with {what} (special tokens included)", soft_wrap=True)
            pt = Table()
            for col in ("split", "p50", "p95", "max", f"> {max_length}"):
                pt.add_column(col, justify="left" if col == "split" else "right")
            for sp in st.splits:
                p = sp.pieces
                assert p is not None
                pt.add_row(escape(sp.split), f"{p.p50:g}", f"{p.p95:g}", str(p.max), str(p.over_max_length))
            console.print(pt)
        warnings = list(dict.fromkeys(report.result.notes))
        if report.errors:
            warnings += _skip_lines(report)
        warnings += [str(p) for p in report.problems.warnings]
        _print_warnings(warnings)


def _skip_lines(report: Any) -> list[str]:
    """The --on-error skip report of a streamed read: per file, how many sentences and why."""
    from collections import Counter

    from bnner_tui.core.data.problems import lines_text

    out = []
    for split, c in report.result.splits.items():
        errs = [p for p in report.problems.errors if p.split == split]
        if not c.bad and not errs:
            continue
        kinds = Counter(p.kind for p in errs)
        lines = sorted({p.line for p in errs if p.line is not None})
        out.append(
            f"{c.path}: skipped {len(c.bad):,} of {c.read:,} sentence(s) with problems "
            f"({', '.join(f'{k}: {n}' for k, n in kinds.most_common())})"
            + (f" at {lines_text(lines, 12)}" if lines else "")
        )
    return out


@data_app.command("show")
def show_cmd(
    source: str = typer.Argument("demo", help=SOURCE_HELP),
    split: str = typer.Option("train", "--split", "-s", help="Split to read."),
    index: int = typer.Option(0, "--index", "-i", min=0, help="Sentence index within the split."),
    tokenizer: str | None = typer.Option(
        None, "--tokenizer", "-t", help="Tokenizer folder or hub id: also show the pieces and their labels."
    ),
    strategy: str = typer.Option("first", "--strategy", help="Piece labelling: first, all or all-b2i."),
    max_length: int = typer.Option(128, "--max-length", min=2, help="Max pieces (marks truncation)."),
    scheme: str = typer.Option("auto", "--scheme", help=SCHEME_HELP),
    on_error: str = typer.Option("stop", "--on-error", help=ON_ERROR_HELP),
    label_map: list[str] = typer.Option([], "--map", help=MAP_HELP),
    drop: list[str] = typer.Option([], "--drop", help=DROP_HELP),
    resplit: str | None = typer.Option(None, "--resplit", help=SPLIT_HELP),
    seed: int | None = typer.Option(None, "--seed", help=SEED_HELP),
) -> None:
    """One sentence: its words and tags, and with --tokenizer how each word maps to pieces and labels."""
    with _user_errors():
        from rich.table import Table

        if strategy not in ("first", "all", "all-b2i"):
            raise BnnerError(f"unknown strategy {strategy!r}: use first, all or all-b2i")
        loaded = _load(source, options=_options(scheme, on_error, label_map, drop, resplit, seed))
        if split not in loaded.dataset:
            raise BnnerError(f"{loaded.name} has no split {split!r} (it has {', '.join(loaded.splits)})")
        ds = loaded.dataset[split]
        if index >= len(ds):
            raise BnnerError(f"{split} has {len(ds)} sentences: --index must be below {len(ds)}")
        row = ds[index]
        words, ids = row["tokens"], row["ner_tags"]
        labelled = loaded.is_labelled(split)
        names = loaded.label_names
        console = _console()
        console.print(f"[bold]{escape(loaded.name)}[/] · {escape(split)} #{index} of {len(ds)}", soft_wrap=True)
        console.print(" ".join(words), soft_wrap=True, markup=False)
        table = Table()
        for col in ("#", "word", "tag"):
            table.add_column(col)
        for i, w in enumerate(words):
            table.add_row(str(i), escape(w), escape(names[ids[i]]) if labelled else "(no label)")
        console.print(table)
        if tokenizer:
            _show_pieces(
                console, _load_tokenizer(tokenizer), words, ids if labelled else None, names, strategy, max_length
            )
        _warn(loaded)


def _show_pieces(
    console: Any, tok: Any, words: list[str], ids: list[int] | None, names: list[str], strategy: str, max_length: int
) -> None:
    from rich.table import Table

    from bnner_tui.core.align import align
    from bnner_tui.core.labels import IGNORE_INDEX

    al = align(tok, words, ids, names, strategy=strategy, max_length=max_length)
    console.print(f"pieces (strategy {strategy})")
    table = Table()
    for col in ("piece", "word", "label"):
        table.add_column(col)
    for piece, wid, lab in zip(al.pieces, al.word_ids, al.labels, strict=False):
        shown = "-100" if lab == IGNORE_INDEX else names[lab]
        table.add_row(escape(piece), "-" if wid is None else escape(f"{wid} {words[wid]}"), escape(shown))
    console.print(table)
    if ids is None:
        console.print("(unlabelled split: every piece is -100, nothing to learn or score)")
    for label, found in (("[UNK] words", al.unk_words), ("words whose pieces do not decode back", al.mismatch_words)):
        if found:
            console.print(f"[yellow]{label}:[/] {escape(', '.join(words[i] for i in found))}", soft_wrap=True)
    if al.truncated:
        console.print(
            f"[yellow]this sentence has {al.n_pieces_untruncated} pieces, "
            f"more than --max-length {max_length}: truncated[/]"
        )


@data_app.command("convert")
def convert_cmd(
    source: str = typer.Argument(..., help=SOURCE_HELP),
    out: str = typer.Argument(
        ..., help="Output file (.conll/.tsv/.jsonl/.parquet: one split) or folder (one file per split)."
    ),
    fmt: str | None = typer.Option(
        None,
        "--format",
        "-f",
        help="conll, jsonl, parquet, spacy, doccano, labelstudio or docbin (default: from OUT, else conll).",
    ),
    split: str | None = typer.Option(None, "--split", "-s", help="Write only this split."),
    force: bool = typer.Option(False, "--force", help="Replace existing files, keeping each old one as NAME.~N~."),
    scheme: str = typer.Option("auto", "--scheme", help=SCHEME_HELP),
    on_error: str = typer.Option("stop", "--on-error", help=ON_ERROR_HELP),
    label_map: list[str] = typer.Option([], "--map", help=MAP_HELP),
    drop: list[str] = typer.Option([], "--drop", help=DROP_HELP),
    resplit: str | None = typer.Option(None, "--resplit", help=SPLIT_HELP),
    seed: int | None = typer.Option(None, "--seed", help=SEED_HELP),
) -> None:
    """Write SOURCE as IOB2 CoNLL, jsonl or parquet, or for an annotation tool: spacy (spaCy/Prodigy JSONL),
    doccano (JSONL), labelstudio (JSON), docbin (.spacy, needs bnner-tui[spacy]). Atomic; never overwrites
    without --force."""
    with _user_errors():
        from bnner_tui.core.data.convert import convert

        loaded = _load(source, options=_options(scheme, on_error, label_map, drop, resplit, seed))
        written = convert(loaded, out, fmt=fmt, split=split, force=force)
        console = _console()
        for path in written:
            console.print(f"wrote {path}", markup=False)
        _warn(loaded)


@data_app.command("check")
def check_cmd(
    source: str = typer.Argument("demo", help=SOURCE_HELP),
    show_all: bool = typer.Option(False, "--all", help="List every problem (the screen shows 5 per kind)."),
    fmt: str = typer.Option(
        "text", "--format", "-f", help="text (grouped by kind) or jsonl (one problem per line, all)."
    ),
    tokenizer: str | None = typer.Option(
        None, "--tokenizer", "-t", help="Tokenizer folder or hub id: count sentence lengths in pieces."
    ),
    max_length: int = typer.Option(128, "--max-length", min=2, help="Warn about sentences longer than this."),
    scheme: str = typer.Option("auto", "--scheme", help=SCHEME_HELP),
    on_error: str = typer.Option("stop", "--on-error", help="With skip, the exit status says whether the rest loads."),
    label_map: list[str] = typer.Option([], "--map", help=MAP_HELP),
    drop: list[str] = typer.Option([], "--drop", help=DROP_HELP),
) -> None:
    """Read the whole source and list every problem with file and line, grouped by kind, plus warnings.

    Exit status: 0 when the source loads as given (warnings allowed), 1 when it does not, 2 for
    a usage error or a source that cannot be opened at all.
    """
    with _user_errors():

        from bnner_tui.core.data import check_source

        if fmt not in ("text", "jsonl"):
            raise BnnerError(f"--format {fmt!r}: use text or jsonl")
        opts = _options(scheme, on_error, label_map, drop)
        tok = _load_tokenizer(tokenizer) if tokenizer else None
        report = check_source(source, options=opts, tokenizer=tok, max_length=max_length)
        if fmt == "jsonl":
            import sys

            for line in report.jsonl_lines():
                sys.stdout.write(line + "\n")
            sys.stdout.flush()
        else:
            console = _console()
            styles = {"error": "bold red", "warning": "bold yellow", "more": "dim", "item": ""}
            for style, text in report.summary_lines(show_all=show_all):
                console.print(f"[{styles[style]}]{escape(text)}[/]" if styles[style] else escape(text), soft_wrap=True)
            console.print(("[green]" if report.loads else "[red]") + escape(report.verdict()) + "[/]", soft_wrap=True)
    if not report.loads:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add the `data` command group to the root app."""
    app.add_typer(data_app, name="data")
