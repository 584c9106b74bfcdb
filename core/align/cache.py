"""Piece ids of every distinct word, per tokenizer object: what makes `align_batch` fast.

Why a cache: in a pre-tokenized encoding every word is tokenized on its own (BERT-style
pre-tokenizers never look across word boundaries), so each distinct word needs tokenizing once.

Why weak keys: the caches are keyed on the tokenizer object itself (`tokenizers.Tokenizer`
hashes and compares by identity) in a `WeakKeyDictionary`. An entry lives exactly as long as
its tokenizer, so a new tokenizer can never be handed the pieces of a dead one that happened
to sit at the same address (an `id()` key can be reused), and no cache keeps a tokenizer alive.
A cache therefore never holds its tokenizer strongly, only a weak reference to it.
"""

from __future__ import annotations

import threading
import weakref

import numpy as np
from tokenizers import Tokenizer

from bnner_tui.core.textnorm import normalize_token

_MAX_CACHED_WORDS = 2_000_000  # a cache past this many words starts again empty


def plain(tokenizer: Tokenizer) -> Tokenizer:
    """The tokenizer itself, or a copy without the truncation/padding a caller may have switched on."""
    if tokenizer.truncation is None and tokenizer.padding is None:
        return tokenizer
    copy = Tokenizer.from_str(tokenizer.to_str())
    copy.no_truncation()
    copy.no_padding()
    return copy


class WordCache:
    """Piece ids of every distinct raw word seen with one tokenizer, stored flat (CSR style)."""

    def __init__(self, tokenizer: Tokenizer) -> None:
        self._copy: Tokenizer | None = None  # an untruncated copy, made once when the tokenizer truncates or pads
        tokenizer = self.plain(tokenizer)
        self.index: dict[str, int] = {}
        self.flat = np.zeros(0, dtype=np.int64)
        self.starts = np.zeros(0, dtype=np.int64)
        self.lengths = np.zeros(0, dtype=np.int64)
        self.lock = threading.Lock()  # TUI workers may align from several threads
        # Word-by-word caching is exact only if the post-processor is prefix + words + suffix and a
        # word's pieces do not depend on its neighbours (true for WordPiece, byte-level BPE and
        # Metaspace on pre-tokenized input). Probe once; otherwise align_batch falls back to align().
        empty = tokenizer.encode([], is_pretokenized=True, add_special_tokens=True).ids
        self.prefix = np.zeros(0, dtype=np.int64)
        self.suffix = np.asarray(empty, dtype=np.int64)
        self.template_ok = False
        probe = ["x", "a", "ক", "Bb"]
        enc = tokenizer.encode(probe, is_pretokenized=True, add_special_tokens=True)
        content = [k for k, w in enumerate(enc.word_ids) if w is not None]
        if content and content == list(range(content[0], content[-1] + 1)):
            self.prefix = np.asarray(enc.ids[: content[0]], dtype=np.int64)
            self.suffix = np.asarray(enc.ids[content[-1] + 1 :], dtype=np.int64)
            parts = [tokenizer.encode([w], is_pretokenized=True, add_special_tokens=False).ids for w in probe]
            rebuilt = [*self.prefix.tolist(), *(i for p in parts for i in p), *self.suffix.tolist()]
            self.template_ok = enc.ids == rebuilt and empty == [*self.prefix.tolist(), *self.suffix.tolist()]

    def plain(self, tokenizer: Tokenizer) -> Tokenizer:
        """`tokenizer` without truncation or padding: itself, or this cache's one copy of it (not one per call)."""
        if tokenizer.truncation is None and tokenizer.padding is None:
            return tokenizer
        if self._copy is None:
            self._copy = plain(tokenizer)
        return self._copy

    def add(self, tokenizer: Tokenizer, new_words: list[str]) -> None:
        """Tokenize words not seen yet (each normalised, on its own) and append their pieces."""
        encs = self.plain(tokenizer).encode_batch_fast(
            [[normalize_token(w)] for w in new_words], is_pretokenized=True, add_special_tokens=False
        )
        lengths = np.fromiter((len(e.ids) for e in encs), dtype=np.int64, count=len(encs))
        flat = np.fromiter((i for e in encs for i in e.ids), dtype=np.int64, count=int(lengths.sum()))
        starts = len(self.flat) + np.cumsum(lengths) - lengths
        self.flat = np.concatenate((self.flat, flat))
        self.starts = np.concatenate((self.starts, starts))
        self.lengths = np.concatenate((self.lengths, lengths))
        n0 = len(self.index)  # the index last: an entry never points past the arrays
        for k, w in enumerate(new_words):
            self.index[w] = n0 + k


_LOCK = threading.Lock()
_CACHES: weakref.WeakKeyDictionary[Tokenizer, WordCache] = weakref.WeakKeyDictionary()


def word_cache(tokenizer: Tokenizer) -> WordCache:
    """The cache of this tokenizer object, made on first use; a cache past `_MAX_CACHED_WORDS` starts again."""
    with _LOCK:
        cache = _CACHES.get(tokenizer)
        if cache is None or len(cache.index) > _MAX_CACHED_WORDS:
            cache = _CACHES[tokenizer] = WordCache(tokenizer)
        return cache


def clear_word_caches() -> None:
    """Forget every cached piece (benchmarks measure a cold cache; tests start from one)."""
    with _LOCK:
        _CACHES.clear()
