"""Whole batches aligned at once, for `Dataset.map(batched=True)`: `align` on each sample, much faster.

Speed: each distinct word's pieces come from the tokenizer's word cache (`cache.py`) and the
sentences are assembled with numpy. `tests/text` checks the result is identical to
`Tokenizer.encode_batch(..., is_pretokenized=True)` and to `align`; `bench/align_speed.py`
measures it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from tokenizers import Tokenizer

from bnner_tui.core.align.cache import word_cache
from bnner_tui.core.align.single import align, b_to_i, check_strategy
from bnner_tui.core.errors import BnnerError, ConfigError
from bnner_tui.core.labels import IGNORE_INDEX


def align_batch(
    batch: dict[str, list[Any]],
    *,
    tokenizer: Tokenizer,
    label_names: Sequence[str],
    strategy: str = "first",
    max_length: int = 512,
) -> dict[str, list[list[int]]]:
    """Tokenize and align a batch for `Dataset.map(batched=True)`.

    Reads `tokens` and (optional) `ner_tags` (label ids; -1/None = no label); returns `input_ids`,
    `attention_mask`, `labels` and `word_ids` (-1 for special tokens), truncated to `max_length`
    and unpadded (DataCollatorForTokenClassification pads). Identical to calling `align` on each
    sample, much faster. The tokenizer must not be mutated between calls (its pieces are cached).
    """
    check_strategy(strategy)
    sentences: list[list[str]] = batch["tokens"]
    tags = batch.get("ner_tags")
    cache = word_cache(tokenizer)
    n_special = len(cache.prefix) + len(cache.suffix)
    if not cache.template_ok:
        return _align_batch_reference(sentences, tags, tokenizer, label_names, strategy, max_length)
    if max_length <= n_special:
        raise ConfigError(f"max_length {max_length} leaves no room for any piece besides {n_special} special tokens.")

    flat_words = [w for s in sentences for w in s]
    with cache.lock:
        index = cache.index
        new = list(dict.fromkeys(w for w in flat_words if w not in index))
        if new:
            cache.add(tokenizer, new)
        uid = np.fromiter((index[w] for w in flat_words), dtype=np.int64, count=len(flat_words))
        table_flat, table_starts, table_lengths = cache.flat, cache.starts, cache.lengths
    words_per_sent = np.fromiter((len(s) for s in sentences), dtype=np.int64, count=len(sentences))

    if tags is None:
        word_labels = np.full(len(flat_words), IGNORE_INDEX, dtype=np.int64)
    else:
        if any(len(t) != len(s) for s, t in zip(sentences, tags, strict=True)):
            bad = next(i for i, (s, t) in enumerate(zip(sentences, tags, strict=True)) if len(t) != len(s))
            raise BnnerError(f"Sample {bad} of the batch has {len(sentences[bad])} words but {len(tags[bad])} labels.")
        word_labels = np.fromiter(
            (IGNORE_INDEX if t is None or t < 0 else t for ts in tags for t in ts),
            dtype=np.int64,
            count=len(flat_words),
        )
        if len(word_labels) and word_labels.max(initial=-1) >= len(label_names):
            raise BnnerError(f"A label id is out of range for {len(label_names)} label names.")

    # one row per piece, over the whole batch
    lengths = table_lengths[uid]
    total = int(lengths.sum())
    word_piece_start = np.cumsum(lengths) - lengths
    piece_word = np.repeat(np.arange(len(flat_words)), lengths)
    within = np.arange(total) - word_piece_start[piece_word]
    ids = table_flat[table_starts[uid][piece_word] + within]
    labels = word_labels[piece_word]
    rest = within > 0
    if strategy == "first":
        labels[rest] = IGNORE_INDEX
    elif strategy == "all-b2i":
        mask = rest & (labels >= 0)
        labels[mask] = b_to_i(label_names)[labels[mask]]
    sent_first_word = np.cumsum(words_per_sent) - words_per_sent
    piece_sent = np.repeat(np.arange(len(sentences)), words_per_sent)[piece_word]
    local_word = piece_word - sent_first_word[piece_sent]

    pieces_per_sent = np.bincount(piece_sent, minlength=len(sentences))
    sent_start = np.cumsum(pieces_per_sent) - pieces_per_sent
    keep = np.minimum(pieces_per_sent, max_length - n_special)

    pre, suf = cache.prefix.tolist(), cache.suffix.tolist()
    pre_none, suf_none = [-1] * len(pre), [-1] * len(suf)
    pre_ign, suf_ign = [IGNORE_INDEX] * len(pre), [IGNORE_INDEX] * len(suf)
    ids_l, labels_l, words_l = ids.tolist(), labels.tolist(), local_word.tolist()
    out_ids, out_labels, out_words, out_mask = [], [], [], []
    for a, k in zip(sent_start.tolist(), keep.tolist(), strict=True):
        b = a + k
        out_ids.append(pre + ids_l[a:b] + suf)
        out_labels.append(pre_ign + labels_l[a:b] + suf_ign)
        out_words.append(pre_none + words_l[a:b] + suf_none)
        out_mask.append([1] * (k + n_special))
    return {"input_ids": out_ids, "attention_mask": out_mask, "labels": out_labels, "word_ids": out_words}


def _align_batch_reference(
    sentences: list[list[str]],
    tags: list[list[int | None]] | None,
    tokenizer: Tokenizer,
    label_names: Sequence[str],
    strategy: str,
    max_length: int,
) -> dict[str, list[list[int]]]:
    """Sample-by-sample `align`: the fallback for post-processors that are not prefix + words + suffix."""
    out: dict[str, list[list[int]]] = {"input_ids": [], "attention_mask": [], "labels": [], "word_ids": []}
    for i, words in enumerate(sentences):
        labels = None if tags is None else tags[i]
        a = align(tokenizer, words, labels, label_names, strategy=strategy, max_length=max_length)
        out["input_ids"].append(a.piece_ids)
        out["attention_mask"].append([1] * len(a.piece_ids))
        out["labels"].append(a.labels)
        out["word_ids"].append([-1 if w is None else w for w in a.word_ids])
    return out
