"""Text files as they arrive: byte-order marks, UTF-16/32, CR-only line ends, and what a file holds.

- Encodings: UTF-8 (with or without a BOM), UTF-16 and UTF-32 with a BOM. A file without a
  BOM whose bytes look like UTF-16 (every other byte NUL) is named as probably UTF-16 instead
  of "invalid UTF-8".
- Line ends: ``\\n``, ``\\r\\n`` and old-Mac ``\\r`` alone (Python's universal newlines), and
  never U+2028 or U+0085, which can sit inside a token.
- `sniff` tells a JSON document, JSON lines and a CoNLL-style text apart by content, so a
  ``.txt`` or ``.data`` file of JSON lines is read as JSON lines.
"""

from __future__ import annotations

import codecs
import io
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bnner_tui.core.errors import DataFormatError

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_SNIFF_BYTES = 64 * 1024


def _head(path: Path, n: int = _SNIFF_BYTES) -> bytes:
    try:
        with open(path, "rb") as fh:
            return fh.read(n)
    except IsADirectoryError:
        raise DataFormatError(path, None, "is a folder, not a file") from None
    except OSError as err:
        raise DataFormatError(path, None, f"cannot read the file ({err.strerror or err})") from None


def detect_encoding(path: Path) -> str:
    """The codec to read ``path`` with; DataFormatError for an empty file or BOM-less UTF-16/32."""
    head = _head(path)
    if not head:
        raise DataFormatError(path, None, "the file is empty")
    for bom, codec in _BOMS:
        if head.startswith(bom):
            return codec
    sample = head[:4096]
    if len(sample) >= 4 and sample.count(0) * 4 >= len(sample):
        even = sample[0::2].count(0)
        odd = sample[1::2].count(0)
        guess = "UTF-16" if min(even, odd) * 4 < max(even, odd) else "UTF-32"
        order = "LE" if odd > even else "BE"
        raise DataFormatError(
            path,
            None,
            f"looks like {guess}-{order} without a byte-order mark (many NUL bytes); "
            f"save it as UTF-8, or as {guess} with a BOM",
        )
    return "utf-8"


@contextmanager
def open_text(path: str | Path) -> Iterator[io.TextIOWrapper]:
    """Open for reading lines: the right codec, universal newlines (``\\r`` alone is a line end)."""
    path = Path(path)
    codec = detect_encoding(path)
    with open(path, encoding=codec, newline=None) as fh:
        yield fh


_UNDECODED = re.compile("[\udc80-\udcff]")


def iter_lines(path: str | Path) -> Iterator[tuple[int, str]]:
    """(1-based line number, line without its end) for each line; a decoding error names its line.

    Bytes that do not decode are kept as lone surrogates (``surrogateescape``) so the line they
    are on is known exactly, then reported.
    """
    path = Path(path)
    codec = detect_encoding(path)
    with open(path, encoding=codec, newline=None, errors="surrogateescape") as fh:
        for lineno, line in enumerate(fh, start=1):
            bad = _UNDECODED.search(line)
            if bad:
                byte = ord(bad.group(0)) - 0xDC00
                name = codec.upper().replace("-SIG", "")
                raise DataFormatError(path, lineno, f"invalid {name} (byte 0x{byte:02x}); save the file as UTF-8")
            yield lineno, line.rstrip("\n")


def read_text(path: str | Path) -> str:
    """The whole text (for JSON documents); universal newlines, BOMs and UTF-16/32 as in `iter_lines`."""
    return "\n".join(line for _, line in iter_lines(path))


def sniff(path: Path) -> str:
    """What a text file holds, by content: ``json`` (one document), ``jsonl`` or ``conll``.

    A file whose first non-blank character is ``{`` or ``[`` is JSON if the whole file parses,
    JSON lines if its first non-blank line parses on its own; anything else is CoNLL-style text.
    """
    first = ""
    first_line = ""
    for _, line in iter_lines(path):
        if line.strip():
            first_line = line.strip()
            first = first_line[0]
            break
    if first not in "{[" or not first:
        return "conll"
    try:
        json.loads(first_line)
        one_line_ok = True
    except RecursionError:
        return "jsonl"  # JSON, nested too deeply: the JSON-lines reader says so with its line
    except json.JSONDecodeError:
        one_line_ok = False
    if one_line_ok:
        # One valid document per line: JSON lines, unless the whole file is that one line.
        count = 0
        for _, line in iter_lines(path):
            if line.strip():
                count += 1
                if count > 1:
                    return "jsonl"
        return "json"
    try:
        json.loads(read_text(path))
        return "json"
    except (json.JSONDecodeError, RecursionError):
        return "jsonl" if first == "{" else "conll"


def whitespace_name(token: str) -> str:
    """'\\u00a0' -> 'a no-break space'; '\\u00a0 ' -> 'whitespace (no-break space, space)'."""
    import unicodedata

    names = list(dict.fromkeys(unicodedata.name(ch, f"U+{ord(ch):04X}").lower() for ch in token))
    if len(names) == 1:
        name = names[0]
        if name == "character tabulation":
            name = "tab"
        return f"a {name}" if len(token) == 1 else f"{len(token)} × {name}"
    return f"whitespace ({', '.join(names)})"
