"""`bnner-tui tag`: tag text, a file or a stream with exact character offsets.

Only typer and rich at module level: the tagger (torch, transformers) loads inside the command.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import typer

from bnner_tui.core.errors import BnnerError, DataFormatError, ModelNotFoundError

FORMATS = ("pretty", "jsonl", "conll")
_TYPE_STYLES = {"PER": "bold magenta", "ORG": "bold cyan", "LOC": "bold green", "MISC": "bold yellow"}
_EXTRA_STYLES = ["bold blue", "bold red", "bold bright_yellow", "bold bright_magenta", "bold bright_cyan"]


def _style(label: str, extra: dict[str, str]) -> str:
    if label in _TYPE_STYLES:
        return _TYPE_STYLES[label]
    if label not in extra:
        extra[label] = _EXTRA_STYLES[len(extra) % len(_EXTRA_STYLES)]
    return extra[label]


# ------------------------------------------------------------------------------------ input


class _Item:
    """One thing to tag, with the extra jsonl fields it came with (passed through to jsonl output)."""

    __slots__ = ("fields", "text")

    def __init__(self, text: str, fields: dict[str, Any] | None = None) -> None:
        self.text = text
        self.fields = fields


def _parse_jsonl(line: str, where: str, lineno: int) -> _Item:
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as err:
        raise DataFormatError(where, lineno, f"is not valid JSON ({err.msg})") from None
    if not isinstance(obj, dict) or not isinstance(obj.get("text"), str):
        raise DataFormatError(where, lineno, 'is not a JSON object with a "text" string')
    return _Item(obj["text"], obj)


def _read_items(stream: IO[str], where: str, jsonl: bool | None) -> Iterator[_Item]:
    """Items from a text stream: one per line, or one per jsonl record (blank jsonl lines skipped).

    `jsonl=None` decides from the first non-blank line (for stdin, which has no file extension).
    """
    lineno = 0
    try:
        for raw_line in stream:
            lineno += 1
            line = raw_line.rstrip("\r\n")
            if jsonl is None and line.strip():
                jsonl = line.lstrip().startswith("{") and line.rstrip().endswith("}")
            if jsonl:
                if line.strip():
                    yield _parse_jsonl(line, where, lineno)
            else:
                yield _Item(line)
    except UnicodeDecodeError:
        raise DataFormatError(where, lineno + 1, "is not UTF-8 text") from None
    except OSError as err:
        raise DataFormatError(where, None, f"cannot be read ({err.strerror or err})") from None


def _open_file(path: Path) -> IO[str]:
    try:
        return open(path, encoding="utf-8", newline="")
    except FileNotFoundError:
        raise DataFormatError(path, None, "does not exist") from None
    except IsADirectoryError:
        raise DataFormatError(path, None, "is a folder, not a text file") from None
    except OSError as err:
        raise DataFormatError(path, None, f"cannot be read ({err.strerror or err})") from None


def _count_lines(path: Path) -> int | None:
    try:
        with open(path, "rb") as fh:
            return sum(1 for _ in fh)
    except OSError:
        return None


# ------------------------------------------------------------------------------------ output


def _write_jsonl(out: IO[str], item: _Item, result: Any) -> None:
    from bnner_tui.core.tagoutput import dumps

    out.write(dumps(result, item.fields) + "\n")


def _write_conll(out: IO[str], result: Any) -> None:
    for w in result.words:
        out.write(f"{w.text}\t{w.label}\n")
    out.write("\n")


def _pretty(console: Any, result: Any, extra: dict[str, str], *, show_table: bool) -> None:
    from rich.text import Text

    text = Text(result.text)
    for e in result.entities:
        text.stylize(_style(e.label, extra), e.start, e.end)
    console.print(text)
    if show_table:
        if not result.entities:
            console.print("[dim](no entities)[/]")
        for e in result.entities:
            console.print(
                Text.assemble(
                    "  ",
                    (e.label.ljust(5), _style(e.label, extra)),
                    f" {e.text}  ",
                    (f"[{e.start}:{e.end}] {e.score:.2f}", "dim"),
                )
            )


def _legend(console: Any, labels: list[str], extra: dict[str, str]) -> None:
    from rich.text import Text

    types: list[str] = []
    for lab in labels:
        if lab == "O":
            continue
        typ = lab.split("-", 1)[1] if len(lab) > 2 and lab[1] in "-_" else lab
        if typ not in types:
            types.append(typ)
    parts: list[Any] = [("legend:", "dim")]
    for typ in types:
        parts += ["  ", (f"■ {typ}", _style(typ, extra))]
    console.print(Text.assemble(*parts))


# ------------------------------------------------------------------------------------ command


def _default_model(runs_dir: Path) -> str:
    from bnner_tui.core.tagger import find_latest_run_model

    found = find_latest_run_model(runs_dir)
    if found is None:
        raise ModelNotFoundError(
            f"No finished run under {runs_dir}/: train one with `bnner-tui train --preset cpu-demo` or pass --model."
        )
    return str(found.parent)


def tag_command(
    text: str | None = typer.Argument(None, help="Text to tag. '-' reads items from stdin, one per line."),
    model: str | None = typer.Option(
        None, "--model", "-m", help="Run folder or name, model folder, or hub id. Default: the newest finished run."
    ),
    file: str | None = typer.Option(
        None, "--file", "-f", help="Plain text (one item per line) or .jsonl with a 'text' field; '-' for stdin."
    ),
    fmt: str = typer.Option("pretty", "--format", help="pretty | jsonl | conll"),
    average: bool = typer.Option(False, "--average", help="Word label from the average of its pieces' probabilities."),
    decoding: str = typer.Option(
        "viterbi",
        "--decoding",
        help="viterbi (valid IOB2, what eval scores) | argmax (orphan I- dropped) | repair (orphan I- starts one).",
    ),
    trim_punctuation: bool = typer.Option(
        False, "--trim-punctuation", help="Cut punctuation off entity edges (eval does not: its F1 then differs)."
    ),
    batch_size: int = typer.Option(32, "--batch-size", min=1, help="Texts per model batch."),
    quantize: bool = typer.Option(
        False, "--quantize", help="int8 dynamic quantisation (CPU; faster, labels may shift)."
    ),
    bf16: bool = typer.Option(False, "--bf16", help="bfloat16 autocast (fast on CPUs with bf16; labels may shift)."),
    runs_dir: Path = typer.Option(Path("runs"), "--runs-dir", help="Where runs live."),
) -> None:
    """Tag Bengali (or any) text; offsets point exactly into the text as given."""
    if fmt not in FORMATS:
        raise BnnerError(f"--format must be one of {', '.join(FORMATS)}, not {fmt!r}.")
    source: str | None = None  # None: the single TEXT argument
    if file is not None:
        source = file
    elif text == "-" or (text is None and not sys.stdin.isatty()):
        source = "-"
    elif text is None:
        raise BnnerError("Nothing to tag: give the text, --file FILE, or pipe text on stdin.")
    if file is not None and text is not None:
        raise BnnerError("Give either the text or --file, not both.")

    stream: IO[str] | None = None
    total: int | None = None
    where = "<text>"
    if source == "-":
        stream = sys.stdin
        where = "<stdin>"
        jsonl: bool | None = None
    elif source is not None:
        path = Path(source)
        stream = _open_file(path)
        where = str(path)
        jsonl = path.suffix.lower() in {".jsonl", ".ndjson"}
        total = _count_lines(path)

    from rich.console import Console

    err_console = Console(stderr=True, highlight=False)
    out_console = Console(highlight=False, soft_wrap=True)
    model_spec = model if model is not None else _default_model(runs_dir)

    from bnner_tui.core.tagger import Tagger, iter_chunks

    with err_console.status(f"Loading model {model_spec} …", spinner="dots"):
        tagger = Tagger.load(
            model_spec,
            aggregation="average" if average else "first",
            quantize=quantize,
            bf16=bf16,
            decoding=_decoding_policy(decoding, trim_punctuation),
            runs_dir=runs_dir,
        )
    for warning in tagger.warnings:
        err_console.print(f"[yellow]warning:[/] {warning}")
    extra: dict[str, str] = {}

    try:
        if stream is None:
            assert text is not None
            result = tagger.tag(text)
            if fmt == "jsonl":
                _write_jsonl(sys.stdout, _Item(text), result)
            elif fmt == "conll":
                _write_conll(sys.stdout, result)
            else:
                _legend(out_console, tagger.labels, extra)
                _pretty(out_console, result, extra, show_table=True)
            return

        items = _read_items(stream, where, jsonl)
        chunk_size = batch_size if source == "-" else max(256, batch_size * 8)
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        progress = Progress(
            TextColumn("tagging"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeRemainingColumn(),
            console=err_console,
            transient=True,
            disable=source == "-" or not err_console.is_terminal,
        )
        if fmt == "pretty":
            _legend(out_console, tagger.labels, extra)
        n_entities = 0
        n_items = 0
        with progress:
            task = progress.add_task("tag", total=total)
            for chunk in iter_chunks(items, chunk_size):
                results = tagger.tag_batch([it.text for it in chunk], batch_size=batch_size)
                for item, result in zip(chunk, results, strict=True):
                    n_entities += len(result.entities)
                    if fmt == "jsonl":
                        _write_jsonl(sys.stdout, item, result)
                    elif fmt == "conll":
                        _write_conll(sys.stdout, result)
                    else:
                        _pretty(out_console, result, extra, show_table=False)
                sys.stdout.flush()
                n_items += len(chunk)
                progress.update(task, advance=len(chunk))
        if fmt == "pretty" or sys.stdout.isatty():
            err_console.print(f"[dim]{n_items} items, {n_entities} entities ({tagger.source})[/]")
    except BrokenPipeError:
        sys.stderr.close()  # e.g. `| head`: stop quietly
    finally:
        if stream is not None and stream is not sys.stdin:
            stream.close()


def _decoding_policy(method: str, trim: bool) -> Any:
    from bnner_tui.core.decoding import DECODINGS, DecodingPolicy

    if method not in DECODINGS:
        raise BnnerError(f"--decoding must be one of {', '.join(DECODINGS)}, not {method!r}.")
    return DecodingPolicy(method=method, trim_punctuation=trim)


def register(app: typer.Typer) -> None:
    """Add `tag` to the root app."""
    app.command("tag")(tag_command)
