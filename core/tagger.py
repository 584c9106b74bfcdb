"""Tagging raw text with a token-classification model: exact character offsets, one label per word.

Why this exists instead of `transformers.pipeline("token-classification")`: the pipeline groups
pieces back into words with whitespace heuristics on the raw string (a word whose pieces get
different types is split, punctuation fuses into entities), truncates silently, and does all of
its aggregation in per-piece Python. Here the words come from the project's one splitting and
normalisation policy (`core/textnorm.py`, the same one training data goes through), the model sees
them pre-split (`is_pretokenized`), pieces are mapped back with `word_ids`, and every offset is an
offset into the text the user typed, so `raw[e.start:e.end] == e.text` holds by construction.

Speed comes from batching: one tokenizer call for everything, segments sorted by piece count into
batches padded only to their own longest row, `torch.inference_mode`, and numpy aggregation over a
whole batch at once.

Heavy libraries (torch, transformers, huggingface_hub) are imported inside functions so the CLI
can import this module at start-up.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from bnner_tui.core import hub
from bnner_tui.core.decoding import (  # re-exported: the tagger's helpers live in the one decoding module
    DEFAULT_POLICY,
    ORPHAN_POLICIES,
    Decoded,
    Decoder,
    DecodingPolicy,
    assign_windows,
    build_spans,
    is_punctuation,
    make_windows,
    split_label,
    window_stride,
)
from bnner_tui.core.errors import BnnerError, HubUnavailableError, ModelNotFoundError

__all__ = [
    "AGGREGATIONS",
    "Decoded",
    "DecodingPolicy",
    "Entity",
    "SimpleWord",
    "TagResult",
    "TaggedWord",
    "Tagger",
    "assign_windows",
    "build_spans",
    "find_latest_run_model",
    "is_punctuation",
    "iter_chunks",
    "make_windows",
    "resolve_model_path",
    "split_label",
]

AGGREGATIONS = ("first", "average")

_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*(/[\w.-]+)?$")
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


# --------------------------------------------------------------------------------------------
# Model resolution and loading.


def resolve_model_path(model: str | Path, *, runs_dir: str | Path = "runs") -> tuple[Path | None, str]:
    """(local folder, description) or (None, hub id). Run folders resolve to their `model/`."""
    text = str(model).strip()
    if not text:
        raise ModelNotFoundError("No model given: pass a run folder, a model folder or a hub id.")
    candidates = [Path(text).expanduser()]
    if not Path(text).is_absolute():
        candidates.append(Path(runs_dir) / text)
    for p in candidates:
        if p.is_dir():
            if (p / "model" / "config.json").is_file():
                return p / "model", f"run {p}"
            if (p / "config.json").is_file():
                return p, f"folder {p}"
            if (p / "model").is_dir() or (p / "events.jsonl").is_file():
                raise ModelNotFoundError(
                    f"{p} is a run without a finished model (no model/config.json): "
                    "wait for it to finish or pick another run."
                )
            raise ModelNotFoundError(f"{p} is not a model folder: it has no config.json.")
        if p.exists():
            raise ModelNotFoundError(
                f"{p} is a file, not a model folder: pass a run folder, a model folder or a hub id."
            )
    looks_like_path = text.startswith((".", "/", "~")) or "\\" in text or text.count("/") > 1
    if looks_like_path or not _HUB_ID.match(text):
        raise ModelNotFoundError(f"{text} does not exist: pass a run folder, a model folder or a hub id.")
    return None, text


def _hub_snapshot(repo_id: str) -> Path:
    """A local snapshot of a hub model; fails in seconds, with one sentence, when the hub is unreachable."""
    from huggingface_hub import HfApi, snapshot_download
    from huggingface_hub.errors import GatedRepoError, RepositoryNotFoundError

    patterns = ["*.json", "*.safetensors", "*.txt", "*.model", "*.bin"]
    try:
        return Path(snapshot_download(repo_id, local_files_only=True, allow_patterns=patterns))
    except Exception:
        pass
    if hub.offline():
        raise HubUnavailableError(
            f"{repo_id} is not in the local Hugging Face cache and HF_HUB_OFFLINE is set: "
            "pass a local model folder or go online."
        )
    try:
        info = HfApi().model_info(repo_id, timeout=5)
    except (RepositoryNotFoundError, GatedRepoError):
        raise ModelNotFoundError(
            f"{repo_id} is not a model on the Hugging Face Hub (or it is private or gated)."
        ) from None
    except Exception as err:
        raise HubUnavailableError(
            f"The Hugging Face Hub cannot be reached to fetch {repo_id} ({type(err).__name__}): "
            "check the network or pass a local model folder."
        ) from None
    files = {s.rfilename for s in (info.siblings or [])}
    if files and any(f.endswith(".safetensors") for f in files):
        patterns = [p for p in patterns if p != "*.bin"]
    try:
        return Path(snapshot_download(repo_id, allow_patterns=patterns))
    except Exception as err:
        raise HubUnavailableError(
            f"Downloading {repo_id} failed ({type(err).__name__}): check the network or pass a local model folder."
        ) from None


def _max_length(model: Any, tokenizer: Any) -> int:
    """The longest piece sequence the model takes, from the tokenizer and the position table."""
    limits = [512]
    tml = getattr(tokenizer, "model_max_length", None)
    if isinstance(tml, int) and 0 < tml < 100_000:
        limits.append(tml)
    mpe = getattr(model.config, "max_position_embeddings", None)
    if isinstance(mpe, int) and mpe > 0:
        offset = (
            2 if getattr(model.config, "model_type", "") in {"roberta", "xlm-roberta", "camembert", "longformer"} else 0
        )
        limits.append(mpe - offset)
    return min(limits)


# --------------------------------------------------------------------------------------------
# The tagger.


@dataclass
class _Segment:
    """One model input row: words [lo, hi) of text `item`, encoded."""

    item: int
    lo: int
    hi: int
    encoding: Any
    window: int = 0


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
        self.forward = forward  # numpy (input_ids, attention_mask) -> logits, e.g. ONNX Runtime; None: torch
        self.policy = _policy(decoding, orphan_i)
        self.max_length = int(max_length or _max_length(model, tokenizer))
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
        bf16: bool = False,
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

        `quantize=True` applies int8 dynamic quantisation to the Linear layers (CPU only) and
        `bf16=True` runs the forward pass under bfloat16 autocast. Both are opt-in: faster, but
        their labels can differ from fp32's, and the F1 change must be measured on a trained model.
        `backend="onnx"` runs the fp32 forward pass in ONNX Runtime (CPU; `core/tag_backends.py`).
        """
        from bnner_tui.core.tag_backends import BACKENDS

        if backend not in BACKENDS:
            raise BnnerError(f"backend must be one of {', '.join(BACKENDS)}, not {backend!r}.")
        if backend == "onnx" and (quantize or bf16 or (device or "cpu") != "cpu"):
            raise BnnerError("The onnx backend runs fp32 on the CPU: drop --quantize, --bf16 and any GPU device.")
        path, desc = resolve_model_path(model, runs_dir=runs_dir)
        if path is None:
            path = _hub_snapshot(desc)
            desc = f"hub {desc}"

        import torch
        from transformers import AutoModelForTokenClassification, AutoTokenizer
        from transformers.utils import logging as hf_logging

        from bnner_tui.core.train.wordmodel import register_if_needed

        register_if_needed(path)  # our own model types load from the installed code, no remote code

        if num_threads:
            torch.set_num_threads(int(num_threads))
        verbosity = hf_logging.get_verbosity()
        bars = hf_logging.is_progress_bar_enabled()
        hf_logging.set_verbosity_error()
        hf_logging.disable_progress_bar()
        try:
            try:
                tokenizer = AutoTokenizer.from_pretrained(str(path), local_files_only=True)
            except Exception as err:
                raise ModelNotFoundError(
                    f"{path} has no usable tokenizer ({type(err).__name__}: {_first_line(err)})."
                ) from None
            if not getattr(tokenizer, "is_fast", False):
                raise ModelNotFoundError(
                    f"{path} has only a slow tokenizer: the tagger needs a fast one (tokenizer.json)."
                )
            try:
                net = AutoModelForTokenClassification.from_pretrained(str(path), local_files_only=True)
            except Exception as err:
                raise ModelNotFoundError(
                    f"{path} is not a loadable token-classification model ({type(err).__name__}: {_first_line(err)})."
                ) from None
        finally:
            hf_logging.set_verbosity(verbosity)
            if bars:
                hf_logging.enable_progress_bar()
        if device is None:
            device = "cuda" if torch.cuda.is_available() and not quantize and backend == "torch" else "cpu"
        net.eval()
        if quantize:
            device = "cpu"
            import warnings

            with warnings.catch_warnings():  # deprecated in favour of torchao, which is not a dependency
                warnings.simplefilter("ignore")
                net = torch.ao.quantization.quantize_dynamic(net, {torch.nn.Linear}, dtype=torch.qint8)
        net.to(device)
        forward = None
        if backend == "onnx":
            from bnner_tui.core.tag_backends import load_onnx

            forward = load_onnx(net, path, num_threads=num_threads)
        return cls(
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
        """
        n_labels = len(self.labels)
        out: list[np.ndarray] = []
        for ws in word_lists:
            p = np.zeros((len(ws), n_labels), dtype=np.float32)
            p[:, self._o_id] = 1.0
            out.append(p)
        todo = [i for i, ws in enumerate(word_lists) if len(ws) > 0]
        if not todo:
            return out
        encs = self._backend.encode_batch(
            [list(word_lists[i]) for i in todo], is_pretokenized=True, add_special_tokens=True
        )
        segments: list[_Segment] = []
        long_items: list[tuple[int, list[tuple[int, int]]]] = []
        window_words: list[list[str]] = []
        for i, enc in zip(todo, encs, strict=True):
            n = len(word_lists[i])
            if len(enc.ids) <= self.max_length:
                segments.append(_Segment(i, 0, n, enc))
                continue
            wid = np.array(enc.word_ids, dtype=np.float64)
            wid = wid[~np.isnan(wid)].astype(np.int64)
            counts = np.bincount(wid, minlength=n)
            windows = make_windows(counts.tolist(), self.budget, self.stride)
            long_items.append((i, windows))
            window_words.extend(list(word_lists[i][s:e]) for s, e in windows)
        owner: dict[int, np.ndarray] = {}
        if window_words:
            self._backend.enable_truncation(self.max_length)
            try:
                wencs = self._backend.encode_batch(window_words, is_pretokenized=True, add_special_tokens=True)
            finally:
                self._backend.no_truncation()
            k = 0
            for i, windows in long_items:
                owner[i] = assign_windows(len(word_lists[i]), windows)
                for w, (s, e) in enumerate(windows):
                    segments.append(_Segment(i, s, e, wencs[k], window=w))
                    k += 1

        seg_probs = self._run_segments(segments, batch_size=batch_size, aggregation=aggregation, progress=progress)
        for seg, sp in zip(segments, seg_probs, strict=True):
            probs = out[seg.item]
            if seg.item in owner:
                mine = owner[seg.item][seg.lo : seg.hi] == seg.window
                probs[seg.lo : seg.hi][mine] = sp[mine]
            else:
                probs[:] = sp
        return out

    def _run_segments(
        self,
        segments: Sequence[_Segment],
        *,
        batch_size: int,
        aggregation: str,
        progress: Callable[[int], None] | None,
    ) -> list[np.ndarray]:
        import torch

        n_seg = len(segments)
        lengths = np.array([len(s.encoding.ids) for s in segments], dtype=np.int64)
        order = np.argsort(-lengths, kind="stable")
        seg_probs: list[np.ndarray] = [np.empty((0, len(self.labels)), np.float32)] * n_seg
        bs = max(1, int(batch_size))
        autocast = torch.autocast(self.device.split(":")[0], dtype=torch.bfloat16, enabled=self.bf16)
        with torch.inference_mode(), autocast:
            for b0 in range(0, n_seg, bs):
                rows = order[b0 : b0 + bs]
                width = int(lengths[rows].max())
                ids = np.full((len(rows), width), self._pad_id, dtype=np.int64)
                wid = np.full((len(rows), width), np.nan, dtype=np.float64)
                for r, si in enumerate(rows):
                    enc = segments[si].encoding
                    n = len(enc.ids)
                    ids[r, :n] = enc.ids
                    wid[r, :n] = np.array(enc.word_ids, dtype=np.float64)
                mask = (np.arange(width)[None, :] < lengths[rows][:, None]).astype(np.int64)
                if self.forward is not None:
                    probs = torch.softmax(torch.from_numpy(self.forward(ids, mask)), dim=-1).numpy()
                else:
                    logits = self.model(
                        input_ids=torch.from_numpy(ids).to(self.device),
                        attention_mask=torch.from_numpy(mask).to(self.device),
                    ).logits
                    probs = torch.softmax(logits.float(), dim=-1).cpu().numpy()
                n_words = np.array([segments[si].hi - segments[si].lo for si in rows], dtype=np.int64)
                word_probs = _aggregate(probs, wid, n_words, aggregation, self._o_id)
                offsets = np.concatenate([[0], np.cumsum(n_words)])
                for r, si in enumerate(rows):
                    seg_probs[si] = word_probs[offsets[r] : offsets[r + 1]]
                if progress is not None:
                    progress(len(rows))
        return seg_probs

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


def _aggregate(probs: np.ndarray, wid: np.ndarray, n_words: np.ndarray, aggregation: str, o_id: int) -> np.ndarray:
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


def _first_line(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return text[0][:200] if text else type(err).__name__


def find_latest_run_model(runs_dir: str | Path = "runs") -> Path | None:
    """The `model/` folder of the newest finished run under `runs_dir`, or None."""
    from bnner_tui.core.runs import list_runs

    runs = list_runs(runs_dir, finished=True, has_model=True)  # newest first
    return runs[0].model_dir if runs else None


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
