"""The forward pass: rows batched by length (padded only to each batch's longest), piece probabilities to words.

Speed comes from batching: segments sorted by piece count into batches padded only to their own
longest row, `torch.inference_mode`, and numpy aggregation over a whole batch at once.

A batch can also be capped in padded positions (rows x width, `max_positions`). Why: on a CPU a
transformer encoder costs the same per padded position whatever the batch shape (1,000-1,100
positions/s for mBERT on 2 threads, batches of 512 to 2,048 positions alike), so what counts is
how many positions are padding. Sorted batches of 32 rows still pad the few long rows' batch
heavily; with a 512-position cap the long rows go in small batches and the 1,000 WikiANN bn dev
sentences in chunks of 256 (the CLI's) run 1.12x their real pieces instead of 1.40x
(docs/benchmarks.md, Tagging speed).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from bnner_tui.core.tagger.windows import Segment


def run_segments(
    model: Any,
    segments: Sequence[Segment],
    *,
    n_labels: int,
    o_id: int,
    pad_id: int,
    device: str,
    bf16: bool,
    batch_size: int,
    aggregation: str,
    progress: Callable[[int], None] | None,
    forward: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None,
    max_positions: int | None = None,
) -> list[np.ndarray]:
    """Per segment, (n_words, n_labels) word probabilities, in the segments' order.

    `progress`, if given, is called with the number of rows finished after each batch.
    `forward`, if given, replaces the torch model: numpy (input_ids, attention_mask) to logits
    (the ONNX Runtime backend, `core/tag_backends.py`). `max_positions`, if given, caps a batch's
    rows x width (a row longer than the cap still runs, alone).
    """
    import torch

    n_seg = len(segments)
    lengths = np.array([len(s.encoding.ids) for s in segments], dtype=np.int64)
    order = np.argsort(-lengths, kind="stable")
    seg_probs: list[np.ndarray] = [np.empty((0, n_labels), np.float32)] * n_seg
    bs = max(1, int(batch_size))
    autocast = torch.autocast(device.split(":")[0], dtype=torch.bfloat16, enabled=bf16)
    with torch.inference_mode(), autocast:
        for rows in _batches(order, lengths, bs, max_positions):
            width = int(lengths[rows].max())
            ids = np.full((len(rows), width), pad_id, dtype=np.int64)
            wid = np.full((len(rows), width), np.nan, dtype=np.float64)
            for r, si in enumerate(rows):
                enc = segments[si].encoding
                n = len(enc.ids)
                ids[r, :n] = enc.ids
                wid[r, :n] = np.array(enc.word_ids, dtype=np.float64)
            mask = (np.arange(width)[None, :] < lengths[rows][:, None]).astype(np.int64)
            if forward is not None:
                probs = torch.softmax(torch.from_numpy(forward(ids, mask)), dim=-1).numpy()
            else:
                logits = model(
                    input_ids=torch.from_numpy(ids).to(device),
                    attention_mask=torch.from_numpy(mask).to(device),
                ).logits
                probs = torch.softmax(logits.float(), dim=-1).cpu().numpy()
            n_words = np.array([segments[si].hi - segments[si].lo for si in rows], dtype=np.int64)
            word_probs = aggregate(probs, wid, n_words, aggregation, o_id)
            offsets = np.concatenate([[0], np.cumsum(n_words)])
            for r, si in enumerate(rows):
                seg_probs[si] = word_probs[offsets[r] : offsets[r + 1]]
            if progress is not None:
                progress(len(rows))
    return seg_probs


def _batches(order: np.ndarray, lengths: np.ndarray, rows: int, max_positions: int | None) -> list[np.ndarray]:
    """`order` (longest first) cut into batches of at most `rows` rows and `max_positions` positions."""
    out: list[np.ndarray] = []
    b0 = 0
    while b0 < len(order):
        n = rows
        if max_positions:
            n = max(1, min(rows, int(max_positions) // max(1, int(lengths[order[b0]]))))
        out.append(order[b0 : b0 + n])
        b0 += n
    return out


def aggregate(probs: np.ndarray, wid: np.ndarray, n_words: np.ndarray, aggregation: str, o_id: int) -> np.ndarray:
    """Word-level label probabilities (n_words_total, C) for every word of every row of a batch, rows concatenated.

    probs: (B, L, C) piece probabilities; wid: (B, L) word index per piece, NaN for special/pad.
    Words with no piece at all (their characters were all removed by the tokenizer's normaliser)
    get O with probability 1.
    """
    n_labels = probs.shape[-1]
    offsets = np.concatenate([[0], np.cumsum(n_words)[:-1]])
    valid = ~np.isnan(wid)
    gidx = np.where(valid, wid, 0).astype(np.int64) + offsets[:, None]
    total = int(n_words.sum())
    flat_valid = valid.reshape(-1)
    g = gidx.reshape(-1)[flat_valid]
    p = probs.reshape(-1, n_labels)[flat_valid]
    word_probs = np.zeros((total, n_labels), dtype=np.float32)
    seen = np.zeros(total, dtype=bool)
    if aggregation == "first":
        first = np.ones(len(g), dtype=bool)
        first[1:] = g[1:] != g[:-1]
        word_probs[g[first]] = p[first]
        seen[g[first]] = True
    else:
        np.add.at(word_probs, g, p)
        counts = np.bincount(g, minlength=total)
        seen = counts > 0
        word_probs[seen] /= counts[seen, None]
    word_probs[~seen] = 0.0
    word_probs[~seen, o_id] = 1.0
    return word_probs
