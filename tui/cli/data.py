"""`bnner-tui data ...`: look at a dataset before training on it (stats, one sample, conversion).

Only typer and rich at module level: `datasets` and the tokenizer load inside the commands,
so `bnner-tui --help` stays fast. User errors (a bad file, an unreachable hub) print one
line on stderr and exit with code 2, also when the commands run in-process (tests, the TUI).
"""

from __future__ import annotations

from typing import Any

import typer
from rich.text import Text

from bnner_tui.core.errors import BnnerError
from bnner_tui.tui.cli.errors import user_errors, warn

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


_user_errors = user_errors  # BnnerError -> one sentence on stderr, exit status 2


def _console() -> Any:
    """markup=False: words, tags, paths and names printed here are user data, never markup."""
    from rich.console import Console

    return Console(highlight=False, markup=False)


def _warn(source: Any) -> None:
    for w in source.warnings:
        warn(w)


def _load(spec: str, scheme: str) -> Any:
    from bnner_tui.core.data import load_source

    return load_source(spec, scheme=scheme)


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
) -> None:
    """Sentences, tokens and entities per split; with --tokenizer, piece lengths and how many exceed --max-length."""
    with _user_errors():
        from rich.table import Table

        from bnner_tui.core.data.stats import compute_stats

        loaded = _load(source, scheme)
        tok = _load_tokenizer(tokenizer) if tokenizer else None
        st = compute_stats(loaded, tokenizer=tok, max_length=max_length)
        console = _console()
        console.print(Text.assemble((loaded.name, "bold"), f" · {loaded.scheme} tags"), soft_wrap=True)
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
            table.add_row(sp.split, str(sp.sentences), str(sp.tokens), *ents)
        console.print(table)
        if tok is not None:
            console.print(f"subword pieces per sentence with {tokenizer} (special tokens included)", soft_wrap=True)
            pt = Table()
            for col in ("split", "p50", "p95", "max", f"> {max_length}"):
                pt.add_column(col, justify="left" if col == "split" else "right")
            for sp in st.splits:
                p = sp.pieces
                assert p is not None
                pt.add_row(sp.split, f"{p.p50:g}", f"{p.p95:g}", str(p.max), str(p.over_max_length))
            console.print(pt)
        _warn(loaded)


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
) -> None:
    """One sentence: its words and tags, and with --tokenizer how each word maps to pieces and labels."""
    with _user_errors():
        from rich.table import Table

        if strategy not in ("first", "all", "all-b2i"):
            raise BnnerError(f"unknown strategy {strategy!r}: use first, all or all-b2i")
        loaded = _load(source, scheme)
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
        console.print(Text.assemble((loaded.name, "bold"), f" · {split} #{index} of {len(ds)}"), soft_wrap=True)
        console.print(" ".join(words), soft_wrap=True)
        table = Table()
        for col in ("#", "word", "tag"):
            table.add_column(col)
        for i, w in enumerate(words):
            table.add_row(str(i), w, names[ids[i]] if labelled else "(no label)")
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
        table.add_row(piece, "-" if wid is None else f"{wid} {words[wid]}", shown)
    console.print(table)
    if ids is None:
        console.print("(unlabelled split: every piece is -100, nothing to learn or score)")
    for label, found in (("[UNK] words", al.unk_words), ("words whose pieces do not decode back", al.mismatch_words)):
        if found:
            console.print(
                Text.assemble((f"{label}:", "yellow"), " ", ", ".join(words[i] for i in found)), soft_wrap=True
            )
    if al.truncated:
        console.print(
            Text(
                f"this sentence has {al.n_pieces_untruncated} pieces, more than --max-length {max_length}: truncated",
                style="yellow",
            )
        )


@data_app.command("convert")
def convert_cmd(
    source: str = typer.Argument(..., help=SOURCE_HELP),
    out: str = typer.Argument(
        ..., help="Output file (.conll/.tsv/.jsonl/.parquet: one split) or folder (one file per split)."
    ),
    fmt: str | None = typer.Option(
        None, "--format", "-f", help="conll, jsonl or parquet (default: from OUT, else conll)."
    ),
    split: str | None = typer.Option(None, "--split", "-s", help="Write only this split."),
    force: bool = typer.Option(False, "--force", help="Replace existing files, keeping each old one as NAME.~N~."),
    scheme: str = typer.Option("auto", "--scheme", help=SCHEME_HELP),
) -> None:
    """Write SOURCE as IOB2 jsonl, CoNLL or parquet (atomic; never overwrites without --force)."""
    with _user_errors():
        from bnner_tui.core.data.convert import convert

        loaded = _load(source, scheme)
        written = convert(loaded, out, fmt=fmt, split=split, force=force)
        console = _console()
        for path in written:
            console.print(f"wrote {path}")
        _warn(loaded)


def register(app: typer.Typer) -> None:
    """Add the `data` command group to the root app."""
    app.add_typer(data_app, name="data")
