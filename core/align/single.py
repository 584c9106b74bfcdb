"""One sample's alignment: which pieces each word becomes, and which label each piece trains on.

The notebook recipe this project replaces copied every word's label onto every subword piece and
scored those pieces, which inflates F1. Here the default strategy is `first` (label on the first
piece of a word, -100 on the rest: the evaluation view), with the tutorial's `all` and run_ner.py's
`all-b2i` available for comparison (`core.config.STRATEGIES`, the one list). Every word goes
through `textnorm.normalize_token` first: the same normalisation policy for datasets and typed text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from tokenizers import Tokenizer

from bnner_tui.core.align.cache import word_cache
from bnner_tui.core.config import STRATEGIES
from bnner_tui.core.errors import BnnerError, ConfigError
from bnner_tui.core.labels import IGNORE_INDEX
from bnner_tui.core.textnorm import normalize_token


@dataclass
class Alignment:
    """How one sample's words became pieces and piece labels.

    `offsets` are character offsets of each piece *within its own normalised word*
    (`words_normalized[word_ids[i]][start:end]`); special tokens have (0, 0). `pieces_per_word`,
    `unk_words`, `mismatch_words` and `dropped_words` describe the untruncated encoding; the other
    per-piece lists describe the (possibly truncated) model input.
    """

    pieces: list[str]
    piece_ids: list[int]
    word_ids: list[int | None]
    offsets: list[tuple[int, int]]
    labels: list[int]
    words_normalized: list[str]
    unk_words: list[int]
    mismatch_words: list[int]
    pieces_per_word: list[int]
    truncated: bool
    n_pieces_untruncated: int
    dropped_words: list[int] = field(default_factory=list)
    strategy: str = "first"

    @property
    def words_cut_by_truncation(self) -> list[int]:
        """Word indices that lost all or some of their pieces to truncation."""
        if not self.truncated:
            return []
        kept: dict[int, int] = {}
        for w in self.word_ids:
            if w is not None:
                kept[w] = kept.get(w, 0) + 1
        return [i for i, n in enumerate(self.pieces_per_word) if n and kept.get(i, 0) < n]


def check_strategy(strategy: str) -> None:
    if strategy not in STRATEGIES:
        raise ConfigError(f"Unknown alignment strategy {strategy!r}: choose one of {', '.join(STRATEGIES)}.")


def _label_ids(labels: Sequence[int | str | None] | None, n_words: int, label_names: Sequence[str]) -> list[int]:
    if labels is None:
        return [IGNORE_INDEX] * n_words
    if len(labels) != n_words:
        raise BnnerError(f"A sample has {n_words} words but {len(labels)} labels; they must match one to one.")
    index = {name: i for i, name in enumerate(label_names)}
    out: list[int] = []
    for label in labels:
        if label is None:
            out.append(IGNORE_INDEX)
        elif isinstance(label, str):
            if label not in index:
                raise BnnerError(f"Label {label!r} is not one of the label names ({', '.join(label_names)}).")
            out.append(index[label])
        else:
            lid = int(label)
            if lid < 0:
                out.append(IGNORE_INDEX)
            elif lid >= len(label_names):
                raise BnnerError(f"Label id {lid} is out of range for {len(label_names)} label names.")
            else:
                out.append(lid)
    return out


def b_to_i(label_names: Sequence[str]) -> np.ndarray:
    """Label id -> the id continuation pieces get under all-b2i (B-X -> I-X; everything else unchanged)."""
    index = {name: i for i, name in enumerate(label_names)}
    table = np.arange(len(label_names), dtype=np.int64)
    for i, name in enumerate(label_names):
        if name.startswith("B-") and f"I-{name[2:]}" in index:
            table[i] = index[f"I-{name[2:]}"]
    return table


def _decode_word(tokenizer: Tokenizer, ids: list[int]) -> str:
    """A word's pieces decoded back to text, whitespace removed (decoders join pre-tokens with spaces)."""
    if tokenizer.decoder is None:  # no decoder saved: undo WordPiece's continuation prefix ourselves
        prefix = getattr(tokenizer.model, "continuing_subword_prefix", None) or ""
        pieces = [tokenizer.id_to_token(i) or "" for i in ids]
        text = "".join(p[len(prefix) :] if prefix and k and p.startswith(prefix) else p for k, p in enumerate(pieces))
    else:
        text = tokenizer.decode(ids, skip_special_tokens=False)
    return "".join(text.split())


def _unk_id(tokenizer: Tokenizer) -> int | None:
    unk = getattr(tokenizer.model, "unk_token", None)
    return tokenizer.token_to_id(unk) if unk else None


def align(
    tokenizer: Tokenizer,
    words: Sequence[str],
    labels: Sequence[int | str | None] | None,
    label_names: Sequence[str],
    strategy: str = "first",
    max_length: int = 512,
) -> Alignment:
    """Align one sample. `labels` are label ids or names (None / negative: no label, e.g. a test split).

    `unk_words`: words with at least one `[UNK]` piece. `mismatch_words`: other words whose pieces
    do not decode back to the normalised word (an uncased tokenizer lowercases Latin and strips
    Bengali vowel signs and hasant). `dropped_words`: words that produced no piece at all (their
    label cannot be learnt).
    """
    check_strategy(strategy)
    if tokenizer.truncation is not None or tokenizer.padding is not None:
        tokenizer = word_cache(tokenizer).plain(tokenizer)  # one untruncated copy per tokenizer, not one per call
    label_ids = _label_ids(labels, len(words), label_names)
    norm = [normalize_token(w) for w in words]
    n_special = tokenizer.num_special_tokens_to_add(False)
    if max_length <= n_special:
        raise ConfigError(f"max_length {max_length} leaves no room for any piece besides {n_special} special tokens.")

    content = tokenizer.encode(norm, is_pretokenized=True, add_special_tokens=False)
    n_untruncated = len(content.ids) + n_special
    pieces_per_word = [0] * len(words)
    for w in content.word_ids:
        if w is not None:
            pieces_per_word[w] += 1

    unk_id = _unk_id(tokenizer)
    unk_words: list[int] = []
    mismatch_words: list[int] = []
    start = 0
    ids = content.ids
    for i, n in enumerate(pieces_per_word):
        word_ids_i = ids[start : start + n]
        start += n
        if n == 0:
            continue
        if unk_id is not None and unk_id in word_ids_i:
            unk_words.append(i)
        elif _decode_word(tokenizer, word_ids_i) != "".join(norm[i].split()):
            mismatch_words.append(i)
    dropped = [i for i, n in enumerate(pieces_per_word) if n == 0]

    truncated = n_untruncated > max_length
    if truncated:
        content.truncate(max_length - n_special)
    enc = tokenizer.post_process(content, None, True)

    b2i = b_to_i(label_names)
    piece_labels: list[int] = []
    prev: int | None = None
    for w in enc.word_ids:
        if w is None:
            piece_labels.append(IGNORE_INDEX)
        elif w != prev:
            piece_labels.append(label_ids[w])
        elif strategy == "first" or label_ids[w] == IGNORE_INDEX:
            piece_labels.append(IGNORE_INDEX)
        elif strategy == "all":
            piece_labels.append(label_ids[w])
        else:
            piece_labels.append(int(b2i[label_ids[w]]))
        prev = w

    return Alignment(
        pieces=list(enc.tokens),
        piece_ids=list(enc.ids),
        word_ids=list(enc.word_ids),
        offsets=[(int(o[0]), int(o[1])) for o in enc.offsets],
        labels=piece_labels,
        words_normalized=norm,
        unk_words=unk_words,
        mismatch_words=mismatch_words,
        pieces_per_word=pieces_per_word,
        truncated=truncated,
        n_pieces_untruncated=n_untruncated,
        dropped_words=dropped,
        strategy=strategy,
    )
