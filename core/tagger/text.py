"""What the tagger takes in: words with raw spans, text checks, long texts cut at sentence ends, streams in chunks."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from bnner_tui.core.errors import BnnerError

_SURROGATE = re.compile("[\ud800-\udfff]")
_SENTENCE_END = re.compile(r"[।॥.!?;:\n]\s+")


class WordLike(Protocol):
    """What the tagger needs of a word: normalised text and its raw character span."""

    @property
    def text(self) -> str: ...
    @property
    def start(self) -> int: ...
    @property
    def end(self) -> int: ...


@dataclass(frozen=True)
class SimpleWord:
    """A pre-split word (for callers that already have tokens and their raw offsets)."""

    text: str
    start: int
    end: int


def check_text(text: str, *, where: str = "the text") -> None:
    """Refuses what the tokenizer would crash on with a TypeError: a str that is not Unicode text.

    A lone surrogate is what Python makes of bytes that were not UTF-8 (argv, a surrogateescape
    stream) or what a broken JSON "\\udcff" escape gives.
    """
    if not isinstance(text, str):
        raise BnnerError(f"{where} is a {type(text).__name__}, not a string.")
    m = _SURROGATE.search(text)
    if m is not None:
        raise BnnerError(
            f"{where} is not valid Unicode: a lone surrogate U+{ord(m.group()):04X} at character {m.start()}"
            " (bytes that were not UTF-8?)."
        )


def split_long_text(text: str, max_chars: int) -> Iterable[tuple[int, str]]:
    """(offset, piece) pieces of `text` of at most `max_chars` characters, in order, covering it exactly.

    Why: a whole 5 MB line tokenised and windowed at once held ~1 GB. A piece ends after the last
    sentence end (danda, full stop, newline...) plus its space inside the limit, else after the
    last whitespace, else at the limit, so an entity is cut only where no sentence or word break
    was found in `max_chars` characters.
    """
    n = len(text)
    pos = 0
    floor = max(1, max_chars // 4)
    while n - pos > max_chars:
        window = text[pos : pos + max_chars]
        cut = 0
        for m in _SENTENCE_END.finditer(window):
            cut = m.end()
        if cut < floor:
            ws = max(window.rfind(" "), window.rfind("\t"), window.rfind("\n"))
            cut = ws + 1 if ws + 1 >= floor else max_chars
        yield pos, text[pos : pos + cut]
        pos += cut
    yield pos, text[pos:]


def iter_chunks(items: Iterable[Any], size: int) -> Iterable[list[Any]]:
    """Lists of up to `size` items, so a stream can be tagged batch by batch as it arrives."""
    chunk: list[Any] = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
