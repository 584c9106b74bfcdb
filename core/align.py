"""Subword alignment: which pieces each word becomes, and which label each piece trains on.

The notebook recipe this project replaces copied every word's label onto every subword piece and
scored those pieces, which inflates F1. Here the default strategy is `first` (label on the first
piece of a word, -100 on the rest: the evaluation view), with the tutorial's `all` and run_ner.py's
`all-b2i` available for comparison.

Only the `tokenizers` library (fast to import, no torch) and numpy are used, so the data browser
can show alignments without importing transformers. Every word goes through
`textnorm.normalize_token` first: the same normalisation policy for datasets and typed text.

Speed (`align_batch`): in a pre-tokenized encoding every word is tokenized on its own (BERT-style
pre-tokenizers never look across word boundaries), so each distinct word is tokenized once, kept
in a per-tokenizer cache, and sentences are assembled with numpy. `tests/text` checks the result
is identical to `Tokenizer.encode_batch(..., is_pretokenized=True)`; `bench/align_speed.py`
measures it.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from tokenizers import Tokenizer

from bnner_tui.core import hub
from bnner_tui.core.errors import BnnerError, ConfigError, HubUnavailableError, ModelNotFoundError
from bnner_tui.core.labels import IGNORE_INDEX
from bnner_tui.core.textnorm import normalize_token

__all__ = [
    "STRATEGIES",
    "Alignment",
    "align",
    "align_batch",
    "load_tokenizer",
    "tokenizer_max_length",
]

STRATEGIES = ("first", "all", "all-b2i")

_HF_UNSET_MAX_LENGTH = 1_000_000  # transformers writes 1e30 when a tokenizer has no real limit


# --- loading ----------------------------------------------------------------------------------------


def _looks_like_hub_id(name: str) -> bool:
    parts = name.split("/")
    return (
        0 < len(parts) <= 2
        and all(parts)
        and not name.startswith((".", "~"))
        and not any(p in {".", ".."} for p in parts)
        and "\\" not in name
    )


def _build_wordpiece(folder: Path) -> Tokenizer:
    """A BERT WordPiece tokenizer from vocab.txt, configured like transformers' BertTokenizerFast.

    transformers' default is do_lower_case=True when tokenizer_config.json does not say otherwise;
    following it keeps our pieces identical to what that model was trained with (and an uncased
    model's damage to Bengali vowel signs shows up as decode mismatches instead of being hidden).
    """
    from tokenizers import decoders, models, normalizers, pre_tokenizers, processors

    cfg = _read_json(folder / "tokenizer_config.json") or {}
    lowercase = bool(cfg.get("do_lower_case", True))
    strip_accents = cfg.get("strip_accents")
    unk = str(cfg.get("unk_token", "[UNK]"))
    cls, sep = str(cfg.get("cls_token", "[CLS]")), str(cfg.get("sep_token", "[SEP]"))
    try:
        model = models.WordPiece.from_file(str(folder / "vocab.txt"), unk_token=unk)
    except Exception as err:  # tokenizers raises a bare Exception for unreadable vocab files
        raise ModelNotFoundError(f"{folder / 'vocab.txt'} is not a readable WordPiece vocabulary ({err}).") from None
    tok = Tokenizer(model)
    tok.normalizer = normalizers.BertNormalizer(
        clean_text=True,
        handle_chinese_chars=bool(cfg.get("tokenize_chinese_chars", True)),
        strip_accents=strip_accents,
        lowercase=lowercase,
    )
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    cls_id, sep_id = tok.token_to_id(cls), tok.token_to_id(sep)
    if cls_id is None or sep_id is None:
        raise ModelNotFoundError(f"{folder / 'vocab.txt'} has no {cls} / {sep} tokens, so it is not a BERT vocabulary.")
    tok.post_processor = processors.BertProcessing((sep, sep_id), (cls, cls_id))
    tok.decoder = decoders.WordPiece(prefix="##")
    return tok


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _hub_file(repo_id: str, filename: str) -> str:
    """Download (or find in the local cache) one file of a hub model, failing fast with one sentence."""
    from huggingface_hub import hf_hub_download
    from huggingface_hub.errors import (
        EntryNotFoundError,
        GatedRepoError,
        HFValidationError,
        LocalEntryNotFoundError,
        RepositoryNotFoundError,
    )

    offline = hub.offline()
    if not offline and (why := hub.unreachable_reason()) is not None:
        try:  # a file already in the local cache still works without the network
            return str(hf_hub_download(repo_id, filename, local_files_only=True))
        except (LocalEntryNotFoundError, EntryNotFoundError, HFValidationError, OSError):
            raise HubUnavailableError(
                f"The Hugging Face Hub cannot be reached to fetch {repo_id} ({why}): give a local model folder instead."
            ) from None
    try:
        return str(hf_hub_download(repo_id, filename, local_files_only=offline, etag_timeout=5))
    except GatedRepoError:
        raise ModelNotFoundError(f"{repo_id} is gated on the Hugging Face Hub: accept its terms and log in.") from None
    except RepositoryNotFoundError:
        raise ModelNotFoundError(f"{repo_id} is neither a local folder nor a model on the Hugging Face Hub.") from None
    except LocalEntryNotFoundError:
        if offline:
            raise HubUnavailableError(
                f"{repo_id} is not in the local Hugging Face cache and HF_HUB_OFFLINE is set: "
                "give a local model folder, or unset HF_HUB_OFFLINE on a connected machine."
            ) from None
        raise HubUnavailableError(
            f"The Hugging Face Hub cannot be reached to fetch {repo_id}: give a local model folder instead."
        ) from None
    except EntryNotFoundError:
        raise ModelNotFoundError(
            f"{repo_id} has no {filename}: bnner-tui needs a model with a fast tokenizer (tokenizer.json)."
        ) from None
    except HFValidationError:
        raise ModelNotFoundError(f"{repo_id} is neither a local folder nor a valid Hugging Face model id.") from None
    except OSError as err:  # connection errors, timeouts
        raise HubUnavailableError(
            f"The Hugging Face Hub cannot be reached to fetch {repo_id} ({type(err).__name__}): "
            "give a local model folder instead."
        ) from None


def load_tokenizer(name_or_path: str | os.PathLike[str]) -> Tokenizer:
    """A fast tokenizer from a model folder (tokenizer.json, else vocab.txt), a tokenizer.json file or a hub id.

    Truncation and padding stored in tokenizer.json are switched off: alignment needs the full
    piece count to report truncation honestly, and padding is the data collator's job.
    """
    name = os.fspath(name_or_path)
    path = Path(name).expanduser()
    if path.is_dir():
        if (path / "tokenizer.json").is_file():
            tok = _from_file(path / "tokenizer.json")
        elif (path / "vocab.txt").is_file():
            tok = _build_wordpiece(path)
        else:
            raise ModelNotFoundError(f"{path} has neither tokenizer.json nor vocab.txt, so no tokenizer can be loaded.")
    elif path.is_file():
        tok = _from_file(path)
    elif _looks_like_hub_id(name) and not name.endswith((".json", ".txt")):
        tok = _from_file(Path(_hub_file(name, "tokenizer.json")), shown=name)
    else:
        raise ModelNotFoundError(f"{name} does not exist.")
    tok.no_truncation()
    tok.no_padding()
    return tok


def _from_file(path: Path, shown: str | None = None) -> Tokenizer:
    try:
        return Tokenizer.from_file(str(path))
    except Exception as err:  # tokenizers raises a bare Exception with serde's message
        first = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise ModelNotFoundError(f"{shown or path} is not a readable tokenizer.json ({first}).") from None


def tokenizer_max_length(name_or_path: str | os.PathLike[str]) -> int | None:
    """The model's maximum sequence length: tokenizer_config.json's model_max_length, else
    config.json's max_position_embeddings; None when neither says (transformers' 'no limit' 1e30
    counts as not saying). Hub ids are looked up only in the local cache / when online."""
    name = os.fspath(name_or_path)
    path = Path(name).expanduser()
    folder = path.parent if path.is_file() else path
    candidates: list[tuple[str, str]] = [
        ("tokenizer_config.json", "model_max_length"),
        ("config.json", "max_position_embeddings"),
    ]
    for filename, key in candidates:
        cfg: dict[str, Any] | None
        if folder.is_dir():
            cfg = _read_json(folder / filename)
        elif _looks_like_hub_id(name):
            try:
                cfg = _read_json(Path(_hub_file(name, filename)))
            except BnnerError:
                cfg = None
        else:
            cfg = None
        value = (cfg or {}).get(key)
        if isinstance(value, (int, float)) and not isinstance(value, bool) and 0 < value < _HF_UNSET_MAX_LENGTH:
            return int(value)
    return None


# --- single sample ----------------------------------------------------------------------------------


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


def _check_strategy(strategy: str) -> None:
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


def _b_to_i(label_names: Sequence[str]) -> np.ndarray:
    """Label id -> the id continuation pieces get under all-b2i (B-X -> I-X; everything else unchanged)."""
    index = {name: i for i, name in enumerate(label_names)}
    table = np.arange(len(label_names), dtype=np.int64)
    for i, name in enumerate(label_names):
        if name.startswith("B-") and f"I-{name[2:]}" in index:
            table[i] = index[f"I-{name[2:]}"]
    return table


def _plain(tokenizer: Tokenizer) -> Tokenizer:
    """The tokenizer itself, or a copy without the truncation/padding a caller may have switched on."""
    if tokenizer.truncation is None and tokenizer.padding is None:
        return tokenizer
    copy = Tokenizer.from_str(tokenizer.to_str())
    copy.no_truncation()
    copy.no_padding()
    return copy


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
    _check_strategy(strategy)
    if tokenizer.truncation is not None or tokenizer.padding is not None:
        tokenizer = _cache_for(tokenizer).plain  # one untruncated copy per tokenizer, not one per call
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

    b2i = _b_to_i(label_names)
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


# --- batches ----------------------------------------------------------------------------------------


class _WordCache:
    """Piece ids of every distinct raw word seen with one tokenizer, stored flat (CSR style)."""

    def __init__(self, tokenizer: Tokenizer) -> None:
        self.tokenizer = tokenizer  # held so that id(tokenizer) cannot be reused while cached
        tokenizer = _plain(tokenizer)
        self.plain = tokenizer
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

    def add(self, new_words: list[str]) -> None:
        encs = self.plain.encode_batch_fast(
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


_CACHE_LOCK = threading.Lock()
_CACHES: dict[int, _WordCache] = {}
_MAX_CACHED_TOKENIZERS = 4
_MAX_CACHED_WORDS = 2_000_000


def _cache_for(tokenizer: Tokenizer) -> _WordCache:
    with _CACHE_LOCK:
        cache = _CACHES.get(id(tokenizer))
        if cache is None or cache.tokenizer is not tokenizer or len(cache.index) > _MAX_CACHED_WORDS:
            if len(_CACHES) >= _MAX_CACHED_TOKENIZERS:
                _CACHES.pop(next(iter(_CACHES)))
            cache = _CACHES[id(tokenizer)] = _WordCache(tokenizer)
        return cache


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
    _check_strategy(strategy)
    sentences: list[list[str]] = batch["tokens"]
    tags = batch.get("ner_tags")
    cache = _cache_for(tokenizer)
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
            cache.add(new)
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
        labels[mask] = _b_to_i(label_names)[labels[mask]]
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
