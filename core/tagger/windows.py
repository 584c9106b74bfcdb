"""Model rows for a batch of word lists: a whole sentence per row, or word windows for a sentence that is too long.

The windows themselves (`make_windows`, `assign_windows`) are the decoding module's, the same
evaluation uses, so a long sentence is cut and put back together the same way in `tag` and `eval`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from bnner_tui.core.decoding import assign_windows, make_windows


@dataclass
class Segment:
    """One model input row: words [lo, hi) of text `item`, encoded."""

    item: int
    lo: int
    hi: int
    encoding: Any
    window: int = 0


@dataclass
class SegmentPlan:
    """The rows for a batch of texts, and for each windowed text which window owns each of its words."""

    segments: list[Segment] = field(default_factory=list)
    owner: dict[int, np.ndarray] = field(default_factory=dict)

    def merge_into(self, out: list[np.ndarray], seg_probs: Sequence[np.ndarray]) -> None:
        """Each row's word probabilities into its text's array; a windowed word takes its owning window's."""
        for seg, sp in zip(self.segments, seg_probs, strict=True):
            probs = out[seg.item]
            if seg.item in self.owner:
                mine = self.owner[seg.item][seg.lo : seg.hi] == seg.window
                probs[seg.lo : seg.hi][mine] = sp[mine]
            else:
                probs[:] = sp


def plan_segments(
    backend: Any, word_lists: Sequence[Sequence[str]], *, max_length: int, budget: int, stride: int
) -> SegmentPlan:
    """Encode every non-empty text once; a text over `max_length` pieces is re-encoded as overlapping windows.

    `backend` is a `tokenizers.Tokenizer` without truncation or padding; `budget` is the pieces
    a window may hold besides the special tokens, `stride` the words windows advance by.
    """
    plan = SegmentPlan()
    todo = [i for i, ws in enumerate(word_lists) if len(ws) > 0]
    if not todo:
        return plan
    encs = backend.encode_batch([list(word_lists[i]) for i in todo], is_pretokenized=True, add_special_tokens=True)
    long_items: list[tuple[int, list[tuple[int, int]]]] = []
    window_words: list[list[str]] = []
    for i, enc in zip(todo, encs, strict=True):
        n = len(word_lists[i])
        if len(enc.ids) <= max_length:
            plan.segments.append(Segment(i, 0, n, enc))
            continue
        wid = np.array(enc.word_ids, dtype=np.float64)
        wid = wid[~np.isnan(wid)].astype(np.int64)
        counts = np.bincount(wid, minlength=n)
        windows = make_windows(counts.tolist(), budget, stride)
        long_items.append((i, windows))
        window_words.extend(list(word_lists[i][s:e]) for s, e in windows)
    if window_words:
        backend.enable_truncation(max_length)
        try:
            wencs = backend.encode_batch(window_words, is_pretokenized=True, add_special_tokens=True)
        finally:
            backend.no_truncation()
        k = 0
        for i, windows in long_items:
            plan.owner[i] = assign_windows(len(word_lists[i]), windows)
            for w, (s, e) in enumerate(windows):
                plan.segments.append(Segment(i, s, e, wencs[k], window=w))
                k += 1
    return plan
