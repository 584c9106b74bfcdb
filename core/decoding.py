"""The one decoding policy: word-level label probabilities in, valid IOB2 entities out.

Why one module: `tag`, `eval`, training-time evaluation, the Tag screen, the error browser and
the model card must all turn the model's per-word probabilities into entities the same way, or
two commands report different numbers for the same model (they did: the tagger turned a stray
I- into an entity, eval's strict seqeval dropped it). Everything that decodes calls `decode`.

The policy (`DEFAULT_POLICY`):
  - `viterbi`: the label sequence with the highest product of word probabilities among the
    sequences IOB2 allows (an I-X only after B-X or I-X; BIOES label sets get their own rules).
    Forbidden transitions get -inf, so the output is valid by construction; no training change.
    `argmax` (per word, then seqeval's strict reading: an orphan I- and its continuation are
    dropped) and `repair` (per word, an orphan I- opens an entity: conlleval's reading, the
    tagger's old behaviour) are kept for comparison (docs/benchmarks.md).
  - punctuation at entity edges is KEPT by default: whether an entity may start or end on
    punctuation is the data's decision (114 of the 1,107 WikiANN bn dev entities do), and a model
    trained on that data learns it. `trim_punctuation=True` removes punctuation-only words from
    both edges (except a closing bracket whose opener is inside), for data that never includes it.
Whatever the policy, eval applies exactly what the tagger applies.

Also here: the word-aligned windows that let a sentence longer than the model's window be
predicted whole (the tagger and evaluation share them, so they see the same context).

Only numpy and the standard library: the CLI imports this at start-up.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

DECODINGS = ("viterbi", "argmax", "repair")

# Words of these categories only are "punctuation".
_OPENERS = {"(": ")", "[": "]", "{": "}", "“": "”", "‘": "’", "«": "»", "‹": "›", '"': '"', "'": "'"}


class HasText(Protocol):
    @property
    def text(self) -> str: ...


@dataclass(frozen=True)
class DecodingPolicy:
    """How probabilities become entities; `describe()` is what metrics.json and the card say."""

    method: str = "viterbi"
    trim_punctuation: bool = False

    def __post_init__(self) -> None:
        if self.method not in DECODINGS:
            raise ValueError(f"decoding must be one of {DECODINGS}, not {self.method!r}")

    def describe(self) -> str:
        edges = "punctuation trimmed from entity edges" if self.trim_punctuation else "punctuation kept at entity edges"
        what = {
            "viterbi": "IOB2-constrained Viterbi over word-level label probabilities (first piece)",
            "argmax": "per-word argmax, orphan I- dropped (seqeval strict IOB2)",
            "repair": "per-word argmax, orphan I- starts an entity (conlleval)",
        }[self.method]
        return f"{what}; {edges}"

    def to_dict(self) -> dict[str, Any]:
        return {"method": self.method, "trim_punctuation": self.trim_punctuation, "description": self.describe()}


DEFAULT_POLICY = DecodingPolicy()


# --------------------------------------------------------------------------------------------
# Labels and transitions.


def split_label(label: str) -> tuple[str, str | None]:
    """('B', 'PER') for 'B-PER'; BIOES/BILOU: S/U -> 'S' (a one-word entity), E/L -> 'E'; unprefixed labels act as I."""
    if label == "O" or not label:
        return "O", None
    if len(label) > 2 and label[1] in "-_" and label[0] in "BIESLU":
        prefix, typ = label[0], label[2:]
        return {"S": "S", "U": "S", "B": "B", "E": "E", "L": "E"}.get(prefix, "I"), typ
    return "I", label


def transition_rules(label_names: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(allowed[prev, next], allowed at start, allowed at end) for the label set.

    IOB2: I-X only after B-X or I-X. With E-/S- labels present (BIOES), B-X and I-X must be
    followed by I-X or E-X and a sentence may not end inside an entity.
    """
    parts = [split_label(name) for name in label_names]
    bioes = any(p in ("E", "S") for p, _ in parts)
    n = len(parts)
    allowed = np.ones((n, n), dtype=bool)
    start = np.ones(n, dtype=bool)
    end = np.ones(n, dtype=bool)
    for j, (pj, tj) in enumerate(parts):
        continues = pj in ("I", "E")
        if continues:
            start[j] = False
        if bioes and pj in ("B", "I"):
            end[j] = False
        for i, (pi, ti) in enumerate(parts):
            if continues:
                allowed[i, j] = pi in ("B", "I") and ti == tj
            elif bioes and pi in ("B", "I"):
                allowed[i, j] = False  # an open BIOES entity must continue or end
    return allowed, start, end


def viterbi(log_probs: np.ndarray, allowed: np.ndarray, start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """The best label-id path through (n_words, n_labels) log-probabilities under the rules."""
    n, c = log_probs.shape
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    trans = np.where(allowed, 0.0, -np.inf)
    score = log_probs[0] + np.where(start, 0.0, -np.inf)
    back = np.zeros((n, c), dtype=np.int64)
    for t in range(1, n):
        cand = score[:, None] + trans  # (prev, next)
        back[t] = cand.argmax(axis=0)
        score = cand[back[t], np.arange(c)] + log_probs[t]
    score = score + np.where(end, 0.0, -np.inf)
    path = np.zeros(n, dtype=np.int64)
    path[-1] = int(score.argmax())
    for t in range(n - 1, 0, -1):
        path[t - 1] = back[t, path[t]]
    return path


# --------------------------------------------------------------------------------------------
# Spans.


def is_punctuation(word: str) -> bool:
    """A punctuation-only word (danda, comma, quotes, brackets)."""
    return bool(word) and all(unicodedata.category(ch).startswith("P") for ch in word)


def _closes_open_bracket(closer: str, inner: list[str]) -> bool:
    """Whether `closer` closes a bracket or quote left open by the words before it in the span."""
    openers = [o for o, c in _OPENERS.items() if c == closer]
    if not openers:
        return False
    if closer in openers:  # symmetric quote: open when an odd number precede it
        return inner.count(closer) % 2 == 1
    return sum(inner.count(o) for o in openers) > inner.count(closer)


ORPHAN_POLICIES = ("start", "drop")


def build_spans(
    words: Sequence[HasText],
    labels: Sequence[str],
    *,
    orphan_i: str = "start",
    trim_punctuation: bool = True,
) -> list[tuple[int, int, str]]:
    """Word-index spans `(first, last_exclusive, type)` from per-word labels.

    An I- after O or after another type opens a new entity (`orphan_i="start"`, conlleval's
    reading) or is dropped with the I- words that continue it (`"drop"`, seqeval's strict IOB2
    reading). Labels from Viterbi decoding have no orphans, so both readings agree on them.
    Symbol words (emoji, ©, ...) split a span and never belong to one, whatever the policy.
    With `trim_punctuation`, punctuation-only words leave both edges of a span, except a closing
    bracket or quote whose opener lies inside the span ("সাঈদ আনোয়ার ( ক্রিকেটার )" keeps its ")").
    """
    if orphan_i not in ORPHAN_POLICIES:
        raise ValueError(f"orphan_i must be one of {ORPHAN_POLICIES}, not {orphan_i!r}")
    raw_spans: list[list[Any]] = []
    cur: list[Any] | None = None
    for i, label in enumerate(labels):
        prefix, typ = split_label(label)
        if typ is None:
            cur = None
            continue
        if prefix in "BS" or cur is None or cur[2] != typ:
            cur = [i, i + 1, typ, prefix in "IE" and orphan_i == "drop"]
            raw_spans.append(cur)
        else:
            cur[1] = i + 1
        if prefix in "SE":
            cur = None
    spans: list[tuple[int, int, str]] = []
    for span_first, span_last, typ, dropped in raw_spans:
        if dropped:
            continue
        for first, last in _without_symbols(words, span_first, span_last):
            if trim_punctuation:
                while first < last and is_punctuation(words[first].text):
                    first += 1
                while first < last and is_punctuation(words[last - 1].text):
                    if _closes_open_bracket(words[last - 1].text, [words[k].text for k in range(first, last - 1)]):
                        break
                    last -= 1
            if first < last:
                spans.append((first, last, typ))
    return spans


def is_symbol(word: str) -> bool:
    """An emoji or other symbol word (🎉, 👍🏽, ©, ৳): never part of an entity, whatever the model says.

    Symbols (category S*) with their joiners, variation selectors and modifiers (M*, C*), and no
    letter, digit or punctuation mark. Unlike punctuation this is not the data's decision:
    WikiANN bn has 58 symbol tokens in train and dev, none inside an entity.
    """
    cats = [unicodedata.category(ch) for ch in word]
    return any(c[0] == "S" for c in cats) and all(c[0] in "SMC" for c in cats)


def _without_symbols(words: Sequence[HasText], first: int, last: int) -> list[tuple[int, int]]:
    """The runs of `words[first:last]` between symbol words: a symbol splits a span, never joins one."""
    runs: list[tuple[int, int]] = []
    start = first
    for k in range(first, last):
        if is_symbol(words[k].text):
            if start < k:
                runs.append((start, k))
            start = k + 1
    if start < last:
        runs.append((start, last))
    return runs


def spans_to_iob2(n_words: int, spans: Sequence[tuple[int, int, str]]) -> list[str]:
    """Per-word IOB2 labels for word spans."""
    out = ["O"] * n_words
    for first, last, typ in spans:
        out[first] = f"B-{typ}"
        for k in range(first + 1, last):
            out[k] = f"I-{typ}"
    return out


@dataclass(frozen=True)
class _W:
    text: str


@dataclass
class Decoded:
    """One sentence decoded: final IOB2 labels, entity spans, each word's score (probability of its label)."""

    labels: list[str]
    spans: list[tuple[int, int, str]]
    scores: np.ndarray


class Decoder:
    """The policy bound to one label set (the transition rules are built once)."""

    def __init__(self, label_names: Sequence[str], policy: DecodingPolicy = DEFAULT_POLICY) -> None:
        self.labels = list(label_names)
        self.policy = policy
        self.allowed, self.start, self.end = transition_rules(self.labels)

    def label_ids(self, word_probs: np.ndarray) -> np.ndarray:
        """The chosen label id per word (before span reading and trimming)."""
        probs = np.asarray(word_probs, dtype=np.float64)
        if self.policy.method == "viterbi":
            # a floor keeps a word with probability 0 everywhere but O (a word without pieces) finite
            return viterbi(np.log(np.clip(probs, 1e-30, None)), self.allowed, self.start, self.end)
        return probs.argmax(axis=-1).astype(np.int64) if len(probs) else np.zeros(0, dtype=np.int64)

    def decode(self, words: Sequence[str | HasText], word_probs: np.ndarray) -> Decoded:
        """Final labels, spans and scores for one sentence: `words` are texts (or objects with `.text`)."""
        probs = np.asarray(word_probs, dtype=np.float64)
        ids = self.label_ids(probs)
        raw = [self.labels[int(i)] for i in ids]
        ws: list[HasText] = [w if not isinstance(w, str) else _W(w) for w in words]
        spans = build_spans(
            ws,
            raw,
            orphan_i="drop" if self.policy.method == "argmax" else "start",
            trim_punctuation=self.policy.trim_punctuation,
        )
        scores = probs[np.arange(len(ids)), ids].astype(np.float32) if len(ids) else np.zeros(0, np.float32)
        return Decoded(spans_to_iob2(len(ws), spans), spans, scores)


def decode_labels(
    words: Sequence[str | HasText],
    word_probs: np.ndarray,
    label_names: Sequence[str],
    policy: DecodingPolicy = DEFAULT_POLICY,
) -> list[str]:
    """Final IOB2 labels of one sentence under `policy` (build a `Decoder` to decode many)."""
    return Decoder(label_names, policy).decode(words, word_probs).labels


# --------------------------------------------------------------------------------------------
# Word-aligned windows (shared by the tagger and evaluation).


def window_stride(budget: int, stride: int | None = None) -> int:
    """The overlap between consecutive windows: about a quarter of the budget, at most 128 pieces."""
    s = int(stride if stride is not None else min(128, budget // 4))
    return max(0, min(s, budget // 2))


def make_windows(pieces_per_word: Sequence[int], budget: int, stride: int) -> list[tuple[int, int]]:
    """Overlapping word windows `[start, end)` each holding at most `budget` pieces.

    Consecutive windows share about `stride` pieces of context. A single word longer than the
    budget gets a window of its own (its first pieces decide its label). Every word is covered.
    """
    n = len(pieces_per_word)
    if n == 0:
        return []
    counts = np.asarray(pieces_per_word, dtype=np.int64)
    windows: list[tuple[int, int]] = []
    start = 0
    while True:
        end = start
        total = 0
        while end < n and total + counts[end] <= budget:
            total += counts[end]
            end += 1
        if end == start:  # one word alone exceeds the budget
            end = start + 1
        windows.append((start, end))
        if end >= n:
            return windows
        # next window: step back from `end` while the overlap stays within `stride` pieces
        nxt = end
        overlap = 0
        while nxt - 1 > start and overlap + counts[nxt - 1] <= stride:
            overlap += counts[nxt - 1]
            nxt -= 1
        start = max(nxt, start + 1)


def assign_windows(n_words: int, windows: Sequence[tuple[int, int]]) -> np.ndarray:
    """For each word, the window where it is most central (most context on its shorter side)."""
    best = np.full(n_words, -1, dtype=np.int64)
    best_score = np.full(n_words, -1, dtype=np.int64)
    for w, (s, e) in enumerate(windows):
        idx = np.arange(s, e)
        score = np.minimum(idx - s, e - 1 - idx)
        better = score > best_score[s:e]
        best[s:e][better] = w
        best_score[s:e][better] = score[better]
    return best
