"""The Tagger: a model loaded once that tags raw text into words and entities with exact character offsets.

Why this exists instead of `transformers.pipeline("token-classification")`: the pipeline groups
pieces back into words with whitespace heuristics on the raw string (a word whose pieces get
different types is split, punctuation fuses into entities), truncates silently, and does all of
its aggregation in per-piece Python. Here the words come from the project's one splitting and
normalisation policy (`core/textnorm.py`, the same one training data goes through), the model sees
them pre-split (`is_pretokenized`), pieces are mapped back with `word_ids`, labels come from the
one decoding policy (`core.decoding`), and every offset is an offset into the text the user typed,
so `raw[e.start:e.end] == e.text` holds by construction.

Loading is `model.py`, the rows a batch becomes `windows.py`, the forward pass `infer.py`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from bnner_tui.core.decoding import DEFAULT_POLICY, ORPHAN_POLICIES, Decoded, Decoder, DecodingPolicy, window_stride
from bnner_tui.core.errors import BnnerError
from bnner_tui.core.tagger.infer import run_segments
from bnner_tui.core.tagger.model import hub_snapshot, load_for_inference, model_max_length, resolve_model_path
from bnner_tui.core.tagger.text import WordLike, check_text
from bnner_tui.core.tagger.windows import plan_segments

AGGREGATIONS = ("first", "average")
# Padded positions per batch for a transformer encoder on a CPU (core/tagger/infer.py says why).
CPU_BATCH_POSITIONS = 512
# bf16 autocast is the CPU default for a transformer encoder with at least this many weights in
# its Linear layers (mBERT-base: 85 M; 4 layers of its width: 28 M; cpu-demo's small BERT: 1.6 M).
AUTO_BF16_MIN_LINEAR_WEIGHTS = 10_000_000
# `Tagger.precision` when `load` chose bf16 by itself; the CLI tells the user so.
AUTO_BF16 = "bf16 (auto)"


def _has_attention(model: Any) -> bool:
    """A transformer encoder (its config has attention heads), not the word model (`bnner-charword`)."""
    return bool(getattr(getattr(model, "config", None), "num_attention_heads", None))


def position_cap(model: Any, device: str) -> int | None:
    """The batch cap in padded positions: `CPU_BATCH_POSITIONS` for an attention model on a CPU, else None.

    A GPU runs bigger batches for less per position, and the word model (`bnner-charword`, no
    attention heads) pays per batch for its LSTM and CRF steps, so neither is capped.
    """
    return CPU_BATCH_POSITIONS if device.split(":")[0] == "cpu" and _has_attention(model) else None


def native_bf16_cpu() -> bool:
    """Whether this CPU multiplies bf16 in hardware (AVX512-BF16 or AMX); without it autocast is emulated."""
    import torch

    try:
        return bool(torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported())
    except (AttributeError, RuntimeError):  # another build or platform: assume not, stay fp32
        return False


def auto_bf16(model: Any, device: str) -> bool:
    """The default precision rule: bf16 autocast for a big transformer encoder on a CPU with native bf16.

    Measured (docs/benchmarks.md, "Tagging speed"): on this kind of CPU bf16 tags an mBERT-size
    model 1.9x faster than fp32, and on the trained models checked its F1 stays within 0.002 of
    fp32 (mBERT-width 4-layer: +0.0018; the CPU word model: +0.0000). It is not the default where
    it does not pay: a GPU (not measured), the word model (its time is in the LSTM and CRF steps,
    1.02x), small encoders (the Linear layers are not where the time goes), or a CPU that would
    emulate bf16. `eval` always scores fp32, so its F1 is the training run's own.
    """
    import torch

    if device.split(":")[0] != "cpu" or not _has_attention(model):
        return False
    weights = sum(m.weight.numel() for m in model.modules() if isinstance(m, torch.nn.Linear))
    return weights >= AUTO_BF16_MIN_LINEAR_WEIGHTS and native_bf16_cpu()


@dataclass(frozen=True)
class TaggedWord:
    """One word with its final label: IOB2-repaired and consistent with the entities."""

    text: str
    start: int
    end: int
    label: str
    score: float


@dataclass(frozen=True)
class Entity:
    """An entity span; `text` is always `raw[start:end]`, `score` the mean of its words' scores."""

    text: str
    label: str
    start: int
    end: int
    score: float


@dataclass
class TagResult:
    """The tagging of one raw text."""

    text: str
    entities: list[Entity] = field(default_factory=list)
    words: list[TaggedWord] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The record of core.tagoutput, the one schema both the CLI and the Tag screen write."""
        from bnner_tui.core.tagoutput import record

        return record(self)


class Tagger:
    """A loaded token-classification model that tags raw text; load once, tag many times."""

    def __init__(
        self,
        model: Any,
        tokenizer: Any,
        *,
        source: str = "",
        aggregation: str = "first",
        max_length: int | None = None,
        stride: int | None = None,
        device: str = "cpu",
        bf16: bool = False,
        orphan_i: str | None = None,
        decoding: DecodingPolicy | str | None = None,
        forward: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None,
    ) -> None:
        if aggregation not in AGGREGATIONS:
            raise ValueError(f"aggregation must be one of {AGGREGATIONS}, not {aggregation!r}")
        self.model = model
        self.tokenizer = tokenizer
        self.source = source
        self.aggregation = aggregation
        self.device = device
        self.bf16 = bool(bf16)
        # What the forward pass computes in, for the CLI and the Tag screen to show; `load` marks
        # a precision it chose by itself (`auto_bf16`) as AUTO_BF16.
        self.precision = "bf16" if self.bf16 else "fp32"
        self.forward = forward  # numpy (input_ids, attention_mask) -> logits, e.g. ONNX Runtime; None: torch
        self.max_positions = position_cap(model, device)
        self.policy = _policy(decoding, orphan_i)
        self.max_length = int(max_length or model_max_length(model, tokenizer))
        self._backend = tokenizer.backend_tokenizer
        self._backend.no_padding()
        self._backend.no_truncation()
        self._n_special = int(tokenizer.num_special_tokens_to_add(pair=False))
        self.budget = self.max_length - self._n_special
        if self.budget < 1:
            raise ValueError(f"max_length {self.max_length} leaves no room for words")
        self.stride = window_stride(self.budget, stride)
        self._pad_id = int(tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0)
        id2label = {int(k): v for k, v in model.config.id2label.items()}
        self.labels: list[str] = [id2label[i] for i in range(len(id2label))]
        self._o_id = self.labels.index("O") if "O" in self.labels else 0
        self.decoder = Decoder(self.labels, self.policy)
        self.warnings: list[str] = []
        if all(re.fullmatch(r"LABEL_\d+", lab) for lab in self.labels):
            self.warnings.append(
                "The model's label names are LABEL_0..LABEL_n (no id2label was saved), so entity types are meaningless."
            )

    # ---------------------------------------------------------------- loading

    @classmethod
    def load(
        cls,
        model: str | Path,
        *,
        aggregation: str = "first",
        quantize: bool = False,
        bf16: bool | None = None,
        orphan_i: str | None = None,
        decoding: DecodingPolicy | str | None = None,
        device: str | None = None,
        num_threads: int | None = None,
        max_length: int | None = None,
        stride: int | None = None,
        runs_dir: str | Path = "runs",
        backend: str = "torch",
    ) -> Tagger:
        """Load a run folder (its `model/`), a local model folder or a hub id.

        `bf16=True` runs the forward pass under bfloat16 autocast, `bf16=False` in fp32, and the
        default `None` lets `auto_bf16` choose: bf16 for a big transformer encoder on a CPU with
        native bf16, fp32 otherwise. `quantize=True` applies int8 dynamic quantisation to the
        Linear layers (CPU only, opt-in: on an mBERT-width model its final labels moved F1 by
        +0.0033, outside the 0.002 that bf16 holds). `backend="onnx"` runs the fp32 forward pass
        in ONNX Runtime (CPU; `core/tag_backends.py`).
        """
        from bnner_tui.core.tag_backends import BACKENDS

        if backend not in BACKENDS:
            raise BnnerError(f"backend must be one of {', '.join(BACKENDS)}, not {backend!r}.")
        if backend == "onnx":
            if quantize or bf16 or (device or "cpu") != "cpu":  # bf16=None: auto, which is fp32 here
                raise BnnerError("The onnx backend runs fp32 on the CPU: drop --quantize, --bf16 and any GPU device.")
            device = "cpu"  # the session runs on the CPU: the torch model it is exported from must too
        path, desc = resolve_model_path(model, runs_dir=runs_dir)
        if path is None:
            path = hub_snapshot(desc)
            desc = f"hub {desc}"
        net, tokenizer, device = load_for_inference(path, quantize=quantize, device=device, num_threads=num_threads)
        forward = None
        if backend == "onnx":
            from bnner_tui.core.tag_backends import load_onnx

            forward = load_onnx(net, path, num_threads=num_threads)
        chosen = bf16 is None
        if bf16 is None:
            bf16 = not quantize and forward is None and auto_bf16(net, device)
        tagger = cls(
            net,
            tokenizer,
            source=desc,
            aggregation=aggregation,
            max_length=max_length,
            stride=stride,
            device=device,
            bf16=bf16,
            orphan_i=orphan_i,
            decoding=decoding,
            forward=forward,
        )
        if quantize:
            tagger.precision = "int8"
        elif forward is not None:
            tagger.precision = "fp32 (onnx)"
        elif chosen and bf16:
            tagger.precision = AUTO_BF16
        return tagger

    # ---------------------------------------------------------------- public API

    def set_decoding(self, decoding: DecodingPolicy | str) -> None:
        """Switch the decoding policy (a method name keeps the default punctuation rule)."""
        self.policy = _policy(decoding, None)
        self.decoder = Decoder(self.labels, self.policy)

    def tag(self, text: str, *, aggregation: str | None = None) -> TagResult:
        """Tag one raw text."""
        return self.tag_batch([text], aggregation=aggregation)[0]

    def tag_batch(
        self,
        texts: Sequence[str],
        *,
        batch_size: int = 32,
        aggregation: str | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> list[TagResult]:
        """Tag many raw texts at once; results come back in input order.

        `progress`, if given, is called with the number of model rows finished after each batch.
        """
        from bnner_tui.core.textnorm import split_words

        for i, t in enumerate(texts):
            check_text(t, where="the text" if len(texts) == 1 else f"text {i + 1}")
        return self.tag_words_batch(
            [(t, split_words(t)) for t in texts], batch_size=batch_size, aggregation=aggregation, progress=progress
        )

    def tag_words(self, raw: str, words: Sequence[WordLike], *, aggregation: str | None = None) -> TagResult:
        """Tag pre-split words (each with its raw span); `tag` is this after `split_words`."""
        return self.tag_words_batch([(raw, words)], aggregation=aggregation)[0]

    def tag_words_batch(
        self,
        items: Sequence[tuple[str, Sequence[WordLike]]],
        *,
        batch_size: int = 32,
        aggregation: str | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> list[TagResult]:
        """The engine: `(raw, words)` pairs in, one `TagResult` each out, in input order."""
        agg = aggregation or self.aggregation
        if agg not in AGGREGATIONS:
            raise ValueError(f"aggregation must be one of {AGGREGATIONS}, not {agg!r}")
        probs = self.predict_word_probs(
            [[w.text for w in words] for _, words in items], batch_size=batch_size, aggregation=agg, progress=progress
        )
        return [self._result(raw, words, p) for (raw, words), p in zip(items, probs, strict=True)]

    # ---------------------------------------------------------------- model side

    def predict_words(
        self,
        word_lists: Sequence[Sequence[str]],
        *,
        batch_size: int = 32,
        aggregation: str = "first",
        progress: Callable[[int], None] | None = None,
    ) -> list[tuple[np.ndarray, np.ndarray]]:
        """Per text, the per-word argmax (label ids, scores), one entry per word: the model's raw view."""
        probs = self.predict_word_probs(word_lists, batch_size=batch_size, aggregation=aggregation, progress=progress)
        return [(p.argmax(-1).astype(np.int64), p.max(-1).astype(np.float32)) for p in probs]

    def decode_words(
        self,
        word_lists: Sequence[Sequence[str]],
        *,
        batch_size: int = 32,
        aggregation: str | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> list[Decoded]:
        """Per text, the final labels under the project's decoding policy (what `tag` shows and `eval` scores)."""
        probs = self.predict_word_probs(
            word_lists, batch_size=batch_size, aggregation=aggregation or self.aggregation, progress=progress
        )
        return [self.decoder.decode(ws, p) for ws, p in zip(word_lists, probs, strict=True)]

    def predict_word_probs(
        self,
        word_lists: Sequence[Sequence[str]],
        *,
        batch_size: int = 32,
        aggregation: str = "first",
        progress: Callable[[int], None] | None = None,
    ) -> list[np.ndarray]:
        """Per text, (n_words, n_labels) word-level label probabilities; no truncation.

        A sentence longer than the model's window is predicted in overlapping word windows and
        each word takes the window where it is most central; a word without pieces is O.
        A word list that occurs more than once in the call runs through the model once (corpora
        repeat lines: WikiANN bn dev has 761 distinct sentences in 1,000, train 4,003 in 10,000);
        every occurrence gets its own copy of the result.
        """
        first: dict[tuple[str, ...], int] = {}
        slot = [first.setdefault(tuple(ws), len(first)) for ws in word_lists]
        if len(first) < len(word_lists):
            distinct = [list(key) for key in first]
            probs = self._word_probs(distinct, batch_size=batch_size, aggregation=aggregation, progress=progress)
            seen: set[int] = set()
            out: list[np.ndarray] = []
            for k in slot:
                out.append(probs[k] if k not in seen else probs[k].copy())
                seen.add(k)
            return out
        return self._word_probs(word_lists, batch_size=batch_size, aggregation=aggregation, progress=progress)

    def _word_probs(
        self,
        word_lists: Sequence[Sequence[str]],
        *,
        batch_size: int,
        aggregation: str,
        progress: Callable[[int], None] | None,
    ) -> list[np.ndarray]:
        """`predict_word_probs` for word lists that are all distinct."""
        n_labels = len(self.labels)
        out: list[np.ndarray] = []
        for ws in word_lists:
            p = np.zeros((len(ws), n_labels), dtype=np.float32)
            p[:, self._o_id] = 1.0
            out.append(p)
        plan = plan_segments(
            self._backend, word_lists, max_length=self.max_length, budget=self.budget, stride=self.stride
        )
        if not plan.segments:
            return out
        seg_probs = run_segments(
            self.model,
            plan.segments,
            n_labels=n_labels,
            o_id=self._o_id,
            pad_id=self._pad_id,
            device=self.device,
            bf16=self.bf16,
            batch_size=batch_size,
            aggregation=aggregation,
            progress=progress,
            forward=self.forward,
            max_positions=self.max_positions,
        )
        plan.merge_into(out, seg_probs)
        return out

    # ---------------------------------------------------------------- result building

    def _result(self, raw: str, words: Sequence[WordLike], word_probs: np.ndarray) -> TagResult:
        decoded = self.decoder.decode(words, word_probs)
        final, scores = decoded.labels, decoded.scores
        entities: list[Entity] = []
        for first, last, typ in decoded.spans:
            start, end = words[first].start, words[last - 1].end
            entities.append(Entity(raw[start:end], typ, start, end, float(np.mean(scores[first:last]))))
        tagged = [
            TaggedWord(raw[w.start : w.end], w.start, w.end, final[k], float(scores[k])) for k, w in enumerate(words)
        ]
        return TagResult(raw, entities, tagged)


def _policy(decoding: DecodingPolicy | str | None, orphan_i: str | None) -> DecodingPolicy:
    """The decoding policy from the new `decoding` argument or the old `orphan_i` one ("drop" = strict argmax)."""
    if isinstance(decoding, DecodingPolicy):
        return decoding
    if decoding is not None:
        return DecodingPolicy(method=decoding, trim_punctuation=DEFAULT_POLICY.trim_punctuation)
    if orphan_i is not None:
        if orphan_i not in ORPHAN_POLICIES:
            raise ValueError(f"orphan_i must be one of {ORPHAN_POLICIES}, not {orphan_i!r}")
        return DecodingPolicy(method="argmax" if orphan_i == "drop" else "repair", trim_punctuation=True)
    return DEFAULT_POLICY
