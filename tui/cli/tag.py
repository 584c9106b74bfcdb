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
from bnner_tui.tui.cli.errors import user_errors, warn

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

# A line longer than this (in characters) is tagged piece by piece (`split_long_text`), so
# memory follows the piece, not the line: one 5 MB line once took 1.06 GB.
LONG_LINE_CHARS = 20_000


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
    except RecursionError:
        raise DataFormatError(where, lineno, "is JSON nested too deeply to read") from None
    if not isinstance(obj, dict) or not isinstance(obj.get("text"), str):
        raise DataFormatError(where, lineno, 'is not a JSON object with a "text" string')
    return _Item(obj["text"], obj)


def _read_items(stream: IO[bytes] | IO[str], where: str, jsonl: bool | None) -> Iterator[_Item]:
    """Items from a stream: one per line, or one per jsonl record (blank jsonl lines skipped).

    A binary stream is decoded line by line with strict UTF-8, so a bad byte names its exact
    line whatever the locale (under C.UTF-8 Python's own stdin would let it through as a lone
    surrogate). `jsonl=None` decides from the first non-blank line (for stdin, which has no file
    extension).
    """
    lineno = 0
    try:
        for raw_line in stream:
            lineno += 1
            if isinstance(raw_line, bytes):
                raw_line = raw_line.decode("utf-8")
            line = raw_line.rstrip("\r\n")
            if jsonl is None and line.strip():
                jsonl = line.lstrip().startswith("{") and line.rstrip().endswith("}")
            if jsonl:
                if line.strip():
                    yield _parse_jsonl(line, where, lineno)
            else:
                yield _Item(line)
    except UnicodeDecodeError:
        raise DataFormatError(where, lineno, "is not UTF-8 text") from None
    except OSError as err:
        raise DataFormatError(where, None, f"cannot be read ({err.strerror or err})") from None


CHUNK_ITEMS = 256


def _chunks_as_they_come(items: Iterator[_Item], most: int) -> Iterator[list[_Item]]:
    """Lists of the items read so far (1 to `most`), never waiting for more than one.

    A reader thread runs ahead into a bounded queue, so a piped file fills whole chunks (the
    model sees full batches) while an interactive stdin gets each line tagged as it is typed.
    A reading error (a bad line) is raised here, in order, after the items before it.
    """
    import queue
    import threading

    q: queue.Queue[Any] = queue.Queue(maxsize=2 * most)
    done = object()

    def read() -> None:
        try:
            for item in items:
                q.put(item)
        except BaseException as err:
            q.put(err)
        q.put(done)

    threading.Thread(target=read, daemon=True, name="tag-reader").start()
    while True:
        first = q.get()
        chunk: list[_Item] = []
        finished = False
        for got in _drain(q, first, most):
            if got is done:
                finished = True
                break
            if isinstance(got, BaseException):
                if chunk:
                    yield chunk
                raise got
            chunk.append(got)
        if chunk:
            yield chunk
        if finished:
            return


def _drain(q: Any, first: Any, most: int) -> Iterator[Any]:
    import queue

    yield first
    for _ in range(most - 1):
        try:
            yield q.get_nowait()
        except queue.Empty:
            return


def _open_file(path: Path) -> IO[bytes]:
    try:
        if path.is_dir():
            raise IsADirectoryError(path)
        return open(path, "rb")
    except FileNotFoundError:
        raise DataFormatError(path, None, "does not exist") from None
    except IsADirectoryError:
        raise DataFormatError(path, None, "is a folder, not a text file") from None
    except OSError as err:
        raise DataFormatError(path, None, f"cannot be read ({err.strerror or err})") from None


def _count_lines(path: Path) -> int | None:
    try:
        if not path.is_file():
            return None
        with open(path, "rb") as fh:
            return sum(1 for _ in fh)
    except OSError:
        return None


def _check_argument_text(text: str) -> None:
    """The TEXT argument: Python decodes bad argv bytes to lone surrogates; name the byte instead."""
    for i, ch in enumerate(text):
        if "\udc80" <= ch <= "\udcff":
            raise BnnerError(
                f"The text argument is not valid UTF-8 (byte 0x{ord(ch) - 0xDC00:02x} at character {i}):"
                " pass UTF-8 text, or a file with --file."
            )


# ------------------------------------------------------------------------------------ output


def _write_jsonl(out: IO[str], item: _Item, result: Any) -> None:
    from bnner_tui.core.tagoutput import dumps

    out.write(dumps(result, item.fields) + "\n")


def _write_conll(out: IO[str], result: Any, *, end: bool = True) -> None:
    for w in result.words:
        out.write(f"{w.text}\t{w.label}\n")
    if end:
        out.write("\n")


def _pretty(console: Any, result: Any, extra: dict[str, str], *, show_table: bool) -> None:
    from rich.text import Text

    text = Text(result.text)
    for e in result.entities:
        text.stylize(_style(e.label, extra), e.start, e.end)
    console.print(text)
    if show_table:
        if not result.entities:
            console.print(Text("(no entities)", style="dim"))
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


class _Ticker:
    """Progress on stderr: a live bar on a terminal, else a plain line every few seconds (a pipe
    or a log file still shows that a 5 MB input is moving), then nothing once it is done."""

    def __init__(self, console: Any, *, total: int | None, every_s: float = 10.0) -> None:
        import time

        self._time = time.monotonic
        self.console = console
        self.items = 0
        self.words = 0
        self._every = every_s
        self._t0 = self._last = self._time()
        self._progress: Any = None
        if console.is_terminal:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self._progress = Progress(
                TextColumn("tagging"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("items · {task.fields[words]} words"),
                TimeElapsedColumn(),
                console=console,
                transient=True,
            )
            self._task = self._progress.add_task("tag", total=total, words=0)
            self._progress.start()

    def advance(self, items: int, words: int) -> None:
        self.items += items
        self.words += words
        if self._progress is not None:
            self._progress.update(self._task, advance=items, words=self.words)
            return
        now = self._time()
        if now - self._last >= self._every:
            self._last = now
            rate = self.words / max(now - self._t0, 1e-9)
            self.console.print(f"tagging: {self.items} items, {self.words} words ({rate:.0f} words/s)")

    def close(self) -> None:
        if self._progress is not None:
            self._progress.stop()


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
    bf16: bool | None = typer.Option(
        None,
        "--bf16/--fp32",
        help="bfloat16 autocast or plain fp32. Default: bf16 for a BERT-size model on a CPU with native bf16 "
        "(1.9x fp32's speed on mBERT-base; F1 within 0.002 where measured), else fp32.",
        show_default=False,
    ),
    backend: str = typer.Option(
        "torch",
        "--backend",
        help="torch | onnx (ONNX Runtime, fp32 on CPU, same labels; needs bnner-tui[fast]; exported once to a cache).",
    ),
    runs_dir: Path = typer.Option(Path("runs"), "--runs-dir", help="Where runs live."),
) -> None:
    """Tag Bengali (or any) text; offsets point exactly into the text as given."""
    with user_errors():
        _tag(text, model, file, fmt, average, decoding, trim_punctuation, batch_size, quantize, bf16, runs_dir, backend)


def _tag(
    text: str | None,
    model: str | None,
    file: str | None,
    fmt: str,
    average: bool,
    decoding: str,
    trim_punctuation: bool,
    batch_size: int,
    quantize: bool,
    bf16: bool | None,
    runs_dir: Path,
    backend: str = "torch",
) -> None:
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
    if source is None and text is not None:
        _check_argument_text(text)

    stream: IO[bytes] | IO[str] | None = None
    total: int | None = None
    where = "<text>"
    jsonl: bool | None = None
    if source == "-":
        stream = getattr(sys.stdin, "buffer", None) or sys.stdin
        where = "<stdin>"
    elif source is not None:
        path = Path(source)
        stream = _open_file(path)
        where = str(path)
        jsonl = path.suffix.lower() in {".jsonl", ".ndjson"}
        total = _count_lines(path)

    from rich.console import Console
    from rich.text import Text

    err_console = Console(stderr=True, highlight=False, markup=False)
    out_console = Console(highlight=False, soft_wrap=True, markup=False)
    model_spec = model if model is not None else _default_model(runs_dir)

    from bnner_tui.core.tagger import Tagger
    from bnner_tui.core.tagger.engine import AUTO_BF16

    try:
        with err_console.status(Text(f"Loading model {model_spec} …"), spinner="dots"):
            tagger = Tagger.load(
                model_spec,
                aggregation="average" if average else "first",
                quantize=quantize,
                bf16=bf16,
                decoding=_decoding_policy(decoding, trim_punctuation),
                runs_dir=runs_dir,
                backend=backend,
            )
        for warning in tagger.warnings:
            warn(warning, console=err_console)
        if tagger.precision == AUTO_BF16:
            note = "Tagging in bf16, this CPU's fast path; --fp32 for plain fp32."
            err_console.print(Text(note, style="dim"))
        extra: dict[str, str] = {}
        out = sys.stdout

        if stream is None:
            assert text is not None
            result = tagger.tag(text)
            if fmt == "jsonl":
                _write_jsonl(out, _Item(text), result)
            elif fmt == "conll":
                _write_conll(out, result)
            else:
                _legend(out_console, tagger.labels, extra)
                _pretty(out_console, result, extra, show_table=True)
            return

        if fmt == "pretty":
            _legend(out_console, tagger.labels, extra)
        ticker = _Ticker(err_console, total=total)
        n_entities = 0

        def emit(item: _Item, result: Any) -> None:
            if fmt == "jsonl":
                _write_jsonl(out, item, result)
            elif fmt == "conll":
                _write_conll(out, result)
            else:
                _pretty(out_console, result, extra, show_table=False)

        try:
            # Chunks of what has arrived (at most CHUNK_ITEMS): output is written and flushed chunk
            # by chunk, so memory follows the chunk and a consumer sees results while the input
            # still flows; a line typed by hand is tagged at once.
            for chunk in _chunks_as_they_come(_read_items(stream, where, jsonl), max(CHUNK_ITEMS, batch_size)):
                short = [it for it in chunk if len(it.text) <= LONG_LINE_CHARS]
                results = iter(tagger.tag_batch([it.text for it in short], batch_size=batch_size))
                for item in chunk:
                    if len(item.text) > LONG_LINE_CHARS:
                        n_words, n_ents = _tag_long(tagger, item, fmt, out, out_console, extra, batch_size)
                    else:
                        result = next(results)
                        emit(item, result)
                        n_words, n_ents = len(result.words), len(result.entities)
                    n_entities += n_ents
                    ticker.advance(1, n_words)
                out.flush()
        finally:
            ticker.close()
        if fmt == "pretty" or out.isatty():
            err_console.print(Text(f"{ticker.items} items, {n_entities} entities ({tagger.source})", style="dim"))
    except BrokenPipeError:
        sys.stderr.close()  # e.g. `| head`: stop quietly
    finally:
        if stream is not None and stream not in (sys.stdin, getattr(sys.stdin, "buffer", None)):
            stream.close()


def _tag_long(
    tagger: Any, item: _Item, fmt: str, out: IO[str], console: Any, extra: dict[str, str], batch_size: int
) -> tuple[int, int]:
    """One very long line, tagged piece by piece (cut after a sentence end where possible) and
    written as it goes; offsets stay offsets into the whole line. Returns (words, entities).

    jsonl keeps the one schema (core.tagoutput): entities are written as they come, the words
    wait in a spooled temporary file (memory up to 1 MB, then disk) and follow them.
    """
    import tempfile

    from bnner_tui.core.tagger import split_long_text
    from bnner_tui.core.tagoutput import record

    n_words = n_ents = 0
    words_buf: Any = None
    if fmt == "jsonl":
        head = dict(item.fields) if item.fields else {"text": item.text}
        head.pop("entities", None)
        head.pop("words", None)
        out.write(json.dumps(head, ensure_ascii=False)[:-1] + ', "entities": [')
        words_buf = tempfile.SpooledTemporaryFile(max_size=1_000_000, mode="w+", encoding="utf-8")
    sep_e = sep_w = ""
    for offset, piece in split_long_text(item.text, LONG_LINE_CHARS):
        result = tagger.tag(piece)
        n_words += len(result.words)
        n_ents += len(result.entities)
        if fmt == "jsonl":
            rec = record(result)
            for key, sink in (("entities", out), ("words", words_buf)):
                for span in rec[key]:
                    span["start"] += offset
                    span["end"] += offset
                    if key == "entities":
                        sink.write(sep_e + json.dumps(span, ensure_ascii=False))
                        sep_e = ", "
                    else:
                        sink.write(sep_w + json.dumps(span, ensure_ascii=False))
                        sep_w = ", "
        elif fmt == "conll":
            _write_conll(out, result, end=False)
        else:
            _pretty(console, result, extra, show_table=False)
        out.flush()
    if fmt == "jsonl":
        out.write('], "words": [')
        words_buf.seek(0)
        while block := words_buf.read(1 << 16):
            out.write(block)
        words_buf.close()
        out.write("]}\n")
    elif fmt == "conll":
        out.write("\n")
    return n_words, n_ents


def _decoding_policy(method: str, trim: bool) -> Any:
    from bnner_tui.core.decoding import DECODINGS, DecodingPolicy

    if method not in DECODINGS:
        raise BnnerError(f"--decoding must be one of {', '.join(DECODINGS)}, not {method!r}.")
    return DecodingPolicy(method=method, trim_punctuation=trim)


def register(app: typer.Typer) -> None:
    """Add `tag` to the root app."""
    app.command("tag")(tag_command)
