"""CoNLL-style text files: one token per line, a blank line between sentences.

Accepted: ``token<TAB>tag`` or space-separated columns (extra middle columns are ignored,
the tag is the last column; every line has as many columns as the first), ``-DOCSTART-``
lines, a UTF-8 BOM, CRLF line ends, and the original WikiANN release format whose tokens
carry a language prefix (``bn:ঢাকা``).
A file whose lines hold a token only (the XTREME WikiANN test split) is read as
*unlabelled*: ``tags`` is None, never a column of made-up ``O`` tags.

Plain Python string handling on purpose: the 11,000 labelled WikiANN bn
sentences parse in about 0.1 s on a 2-core machine.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from bnner_tui.core.errors import DataFormatError

_LANG_PREFIX = re.compile(r"^([a-z]{2,3}):(?=.)")


@dataclass
class RawSplit:
    """Sentences read from one file, before normalisation and scheme conversion.

    ``lines[s][t]`` is the 1-based file line of token t of sentence s, kept so any later
    problem (a bad tag, an empty token after normalisation) can name its line.
    ``tags`` is None for an unlabelled file.
    """

    path: str
    tokens: list[list[str]]
    tags: list[list[str]] | None
    lines: list[list[int]] | None = None
    notes: list[str] = field(default_factory=list)
    tag_names: list[str] | None = None  # set when tags came as ints with names (parquet/hub)

    def error(self, sentence: int, token: int, problem: str) -> DataFormatError:
        """A DataFormatError at a sentence/token: the file line when known, else the row number."""
        if self.lines is not None:
            try:
                return DataFormatError(self.path, self.lines[sentence][token], problem)
            except IndexError:
                pass
        return DataFormatError(self.path, None, f"row {sentence + 1}: {problem}")


def read_text(path: Path) -> str:
    """UTF-8 text with BOM and CRLF accepted; invalid bytes -> DataFormatError naming the line."""
    try:
        data = path.read_bytes()
    except OSError as err:
        raise DataFormatError(path, None, f"cannot read the file ({err.strerror or err})") from None
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        raise DataFormatError(
            path, line, f"invalid UTF-8 (byte 0x{data[err.start]:02x}); save the file as UTF-8"
        ) from None


def parse_conll(path: str | Path) -> RawSplit:
    """Read one CoNLL-style file; see the module docstring for what is accepted."""
    path = Path(path)
    text = read_text(path)
    tokens: list[list[str]] = []
    tags: list[list[str]] = []
    lines: list[list[int]] = []
    cur_tok: list[str] = []
    cur_tag: list[str] = []
    cur_line: list[int] = []
    ncols: int | None = None  # every line has the first line's column count; 1 = tokens only (unlabelled)
    kind_line = 0
    prefix: str | None = None
    prefix_checked = False

    for lineno, raw in enumerate(text.split("\n"), start=1):
        line = raw.rstrip("\r")
        if not line.strip():
            if cur_tok:
                tokens.append(cur_tok)
                tags.append(cur_tag)
                lines.append(cur_line)
                cur_tok, cur_tag, cur_line = [], [], []
            continue
        cols = line.split("\t") if "\t" in line else line.split()
        if cols[0].startswith("-DOCSTART-"):
            continue
        labelled = len(cols) >= 2
        if ncols is None:
            ncols, kind_line = len(cols), lineno
        elif len(cols) != ncols:
            want = f"{ncols} columns" if ncols > 1 else "a token only"
            raise DataFormatError(
                path,
                lineno,
                f"wrong column count: {len(cols)} column(s), but line {kind_line} has {want}",
            )
        token = cols[0].strip() if labelled else line.strip()
        if not prefix_checked:
            prefix_checked = True
            m = _LANG_PREFIX.match(token)
            if m:
                prefix = m.group(0)
        if prefix is not None and token.startswith(prefix) and len(token) > len(prefix):
            token = token[len(prefix) :]
        if not token:
            raise DataFormatError(path, lineno, "empty token")
        cur_tok.append(token)
        cur_line.append(lineno)
        if labelled:
            tag = cols[-1].strip()
            if not tag:
                raise DataFormatError(path, lineno, "empty tag in the last column")
            cur_tag.append(tag)
    if cur_tok:
        tokens.append(cur_tok)
        tags.append(cur_tag)
        lines.append(cur_line)
    notes = []
    if prefix:
        notes.append(f"{path.name}: removed the language prefix {prefix!r} from tokens (WikiANN release format)")
    return RawSplit(path=str(path), tokens=tokens, tags=tags if (ncols or 0) > 1 else None, lines=lines, notes=notes)


def format_conll(tokens: list[list[str]], tags: list[list[str]] | None) -> str:
    """The inverse of parse_conll: ``token<TAB>tag`` lines (token only when unlabelled)."""
    parts: list[str] = []
    for s, sent in enumerate(tokens):
        if tags is None:
            parts.append("\n".join(sent))
        else:
            parts.append("\n".join(f"{tok}\t{tag}" for tok, tag in zip(sent, tags[s], strict=True)))
    return "\n\n".join(parts) + "\n" if parts else ""
