"""Which model a run trains, and why: the hub model when it can be had, else a small local BERT.

Users replacing a Colab notebook often sit on a machine with no network. Rather than fail, the
`auto` model falls back to a small BERT built here (random init) whose tokenizer is either the
mBERT files the user points at (vocabulary trimmed to the pieces the data uses, since a
119,547-row embedding makes every CPU step several times slower) or a WordPiece tokenizer
trained on the training split. Every decision is returned with a sentence saying why, which
the worker writes into the `started` event and train.log.

Heavy libraries (torch, transformers, huggingface_hub) are imported inside functions.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bnner_tui.core import hub
from bnner_tui.core.errors import BnnerError, HubUnavailableError, ModelNotFoundError

DEFAULT_HUB_MODEL = "bert-base-multilingual-cased"
SPECIAL_TOKENS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
_TRUTHY = {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class RandomInit:
    """`auto` could not have the pretrained model it stands for, so it became a random-init one.

    `expected` is the model the user was promised (mBERT), `why` the short reason the Hub could
    not supply it ("HF_HUB_OFFLINE is set", "huggingface.co: timed out").
    """

    expected: str
    why: str


@dataclass
class ModelChoice:
    """What the run will train: `kind` is 'hub', 'local' or 'offline'; `reason` is for the user.

    `fallback` is set when the user asked for a pretrained model (`auto`) and gets a randomly
    initialised one instead: the one case callers must tell the user about before training.
    """

    kind: str
    name: str
    reason: str
    fallback: RandomInit | None = None

    def describe(self) -> str:
        return f"{self.name}: {self.reason}"


def hub_reachable(timeout: float = 3.0) -> tuple[bool, str]:
    """Whether the hub answers now (bounded by `timeout`), and a reason a user can read."""
    if hub.offline():
        return False, "HF_HUB_OFFLINE is set"
    host = hub.host_of(hub.endpoint())
    why = hub.unreachable_reason(hub.endpoint(), timeout)
    if why is None:
        return True, f"{host} is reachable"
    return False, f"the hub ({host}) is unreachable ({why})"


def hub_unavailable(timeout: float = 3.0) -> str | None:
    """None when the Hub can be used now, else why not in a few words (for "the Hub is unreachable (...)")."""
    if hub.offline():
        return "HF_HUB_OFFLINE is set"
    why = hub.unreachable_reason(hub.endpoint(), timeout)
    return None if why is None else f"{hub.host_of(hub.endpoint())}: {why}"


def hub_model_cached(repo_id: str) -> bool:
    """True when the model's config and weights are already in the local HF cache."""
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:  # pragma: no cover
        return False
    config = try_to_load_from_cache(repo_id, "config.json")
    if not isinstance(config, str):
        return False
    return any(
        isinstance(try_to_load_from_cache(repo_id, name), str) for name in ("model.safetensors", "pytorch_model.bin")
    )


def _tokenizer_note(tokenizer: str | None) -> str:
    if tokenizer:
        return f" with the tokenizer from {tokenizer}"
    return " with a WordPiece tokenizer trained on the training split"


def resolve_auto(*, cached: bool, unavailable: str | None, tokenizer: str | None = None) -> ModelChoice:
    """What `auto` means given what the probes found; pure, so every caller decides alike.

    `cached`: mBERT is in the local HF cache; `unavailable`: None when the Hub answers, else why
    not. mBERT when it can be had, else the small BERT built here with random weights, marked as
    a `fallback` (the user asked for a pretrained model and is not getting one).
    """
    if cached:
        return ModelChoice("hub", DEFAULT_HUB_MODEL, "it is in the local Hugging Face cache")
    if unavailable is None:
        return ModelChoice("hub", DEFAULT_HUB_MODEL, "the hub is reachable")
    return ModelChoice(
        "offline",
        "offline small BERT",
        f"the Hugging Face Hub is unreachable ({unavailable}) and {DEFAULT_HUB_MODEL} is not cached,"
        " so a small BERT is built locally (random init)" + _tokenizer_note(tokenizer),
        fallback=RandomInit(DEFAULT_HUB_MODEL, unavailable),
    )


def choose_model(model: str, *, tokenizer: str | None = None, timeout: float = 3.0) -> ModelChoice:
    """Decide what `model` means here, cheaply (no weights loaded), with the reason."""
    tok_note = _tokenizer_note(tokenizer)
    if model == "offline":
        return ModelChoice("offline", "offline small BERT", "chosen explicitly (model = offline)" + tok_note)
    if model == "auto":
        cached = hub_model_cached(DEFAULT_HUB_MODEL)
        unavailable = None if cached else hub_unavailable(timeout)
        return resolve_auto(cached=cached, unavailable=unavailable, tokenizer=tokenizer)
    path = Path(model).expanduser()
    if path.exists():
        if not path.is_dir() or not (path / "config.json").exists():
            raise ModelNotFoundError(f"Model folder {model} has no config.json: point --model at a saved model folder.")
        return ModelChoice("local", str(path), "a local model folder")
    if model.startswith((".", "/", "~")) or model.count("/") > 1:
        raise ModelNotFoundError(f"Model path {model} does not exist.")
    if hub_model_cached(model):
        return ModelChoice("hub", model, "it is in the local Hugging Face cache")
    ok, why = hub_reachable(timeout)
    if not ok:
        raise HubUnavailableError(
            f"Model {model} is not in the local cache and {why}: connect, or use --model offline or a local folder."
        )
    return ModelChoice("hub", model, f"downloaded from the hub ({why})")


@dataclass(frozen=True)
class RandomInitNotice:
    """What to tell the user before training random weights they did not ask for (model `auto`).

    A notebook user expects mBERT; a small BERT trained from scratch at a fine-tuning learning
    rate scores F1 0.000, and without this they would only find out at the end. The CLI prints
    `headline()` as its first line, the Train screen asks with all four parts.
    """

    what: str
    expected: str
    why: str
    consequence: str

    def headline(self) -> str:
        """One line: what is trained, instead of what, and why."""
        return (
            f"training {self.what}, not {self.expected}, because the Hugging Face Hub is unreachable"
            f" ({self.why}) and {self.expected} is not in the local cache."
        )

    def remedy(self, *, cli: bool) -> str:
        """How to get the pretrained model instead, or to train from scratch on purpose."""
        where = "pass --model with" if cli else "set the model field to"
        offline = "--model offline" if cli else "model offline"
        return (
            f"To fine-tune {self.expected}, {where} a local copy of it (a folder with config.json and the"
            f" weights), or go online so it can be downloaded; to train from scratch on purpose, use {offline}"
            " (the cpu preset is tuned for that)."
        )


def random_init_notice(config: Any, choice: ModelChoice) -> RandomInitNotice | None:
    """The notice when `choice` fell back to random weights for `config`, else None; pure.

    Only a fallback counts: model `offline` (the cpu presets) is random-init by request.
    """
    if choice.fallback is None:
        return None
    hidden = int(getattr(config, "offline_hidden_size", 256))
    if getattr(config, "offline_arch", "bert") == "charword":
        what = f"a randomly initialised small word-level model (char CNN + BiLSTM, hidden size {hidden})"
    else:
        layers = int(getattr(config, "offline_layers", 2))
        what = f"a randomly initialised small BERT ({layers} layer{'s' if layers != 1 else ''}, hidden size {hidden})"
    expected = choice.fallback.expected
    consequence = f"It starts knowing no language at all, so expect scores far below {expected}'s"
    lr = float(getattr(config, "learning_rate", 0.0) or 0.0)
    if 0.0 < lr < 1e-4:
        consequence += (
            f"; at learning rate {lr:g}, a rate for fine-tuning a pretrained model, it learns next to"
            " nothing: expect word-level F1 near 0.000"
        )
    return RandomInitNotice(what=what, expected=expected, why=choice.fallback.why, consequence=consequence + ".")


def check_random_init(config: Any, *, timeout: float = 3.0) -> RandomInitNotice | None:
    """`random_init_notice` for what `config.model` resolves to now.

    Probes (the HF cache, then the Hub for up to `timeout` s) only for `auto`: any other model
    either is what the user asked for or is refused by `launch.preflight`.
    """
    if getattr(config, "model", None) != "auto":
        return None
    choice = choose_model("auto", tokenizer=getattr(config, "tokenizer", None), timeout=timeout)
    return random_init_notice(config, choice)


# ---- tokenizers ---------------------------------------------------------------------------------


def _normalize_word(word: str) -> str:
    try:
        from bnner_tui.core.textnorm import normalize_token
    except ImportError:  # textnorm not available: NFC is its first step anyway
        import unicodedata

        return unicodedata.normalize("NFC", word)
    return normalize_token(word)


def _wrap_fast(tok: Any, max_length: int) -> Any:
    from transformers import PreTrainedTokenizerFast

    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        unk_token="[UNK]",
        pad_token="[PAD]",
        cls_token="[CLS]",
        sep_token="[SEP]",
        mask_token="[MASK]",
        model_max_length=max_length,
    )


def _set_bert_post_processor(tok: Any) -> None:
    from tokenizers import processors

    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]",
        pair="[CLS] $A [SEP] $B [SEP]",
        special_tokens=[("[CLS]", tok.token_to_id("[CLS]")), ("[SEP]", tok.token_to_id("[SEP]"))],
    )


def train_wordpiece(sentences: Iterable[Sequence[str]], *, vocab_size: int = 8000, max_length: int = 128) -> Any:
    """A cased BERT WordPiece tokenizer trained on the (normalised) training words."""
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers

    tok = Tokenizer(models.WordPiece(unk_token="[UNK]", max_input_chars_per_word=100))
    tok.normalizer = normalizers.BertNormalizer(lowercase=False, strip_accents=False, clean_text=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.decoder = decoders.WordPiece(prefix="##")
    trainer = trainers.WordPieceTrainer(vocab_size=vocab_size, special_tokens=SPECIAL_TOKENS, show_progress=False)
    words = (" ".join(_normalize_word(w) for w in sent) for sent in sentences)
    tok.train_from_iterator(words, trainer=trainer)
    _set_bert_post_processor(tok)
    return _wrap_fast(tok, max_length)


def trimmed_tokenizer(tokenizer_dir: str | Path, sentences: Iterable[Sequence[str]], *, max_length: int = 128) -> Any:
    """The folder's WordPiece tokenizer with its vocabulary cut to the pieces `sentences` use.

    Tokenisation of those words is unchanged (same pieces, new ids); a word outside the data
    whose pieces were dropped becomes [UNK]. For a model trained from scratch the dropped rows
    would never be trained anyway, and the embedding shrinks from ~119k rows to a few thousand.
    """
    from tokenizers import Tokenizer, models

    folder = Path(tokenizer_dir).expanduser()
    tj = folder / "tokenizer.json"
    if tj.exists():
        full = Tokenizer.from_file(str(tj))
    elif (folder / "vocab.txt").exists():
        from tokenizers import normalizers, pre_tokenizers

        full = Tokenizer(models.WordPiece.from_file(str(folder / "vocab.txt"), unk_token="[UNK]"))
        full.normalizer = normalizers.BertNormalizer(lowercase=False, strip_accents=False, clean_text=True)
        full.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    else:
        raise ModelNotFoundError(f"Tokenizer folder {tokenizer_dir} has neither tokenizer.json nor vocab.txt.")
    model_json = json.loads(full.to_str())["model"]
    if model_json.get("type") != "WordPiece":
        raise ModelNotFoundError(f"Tokenizer in {tokenizer_dir} is {model_json.get('type')}, not WordPiece (BERT).")
    used: set[str] = set()
    batch: list[list[str]] = []

    def flush() -> None:
        for enc in full.encode_batch(batch, is_pretokenized=True, add_special_tokens=False):
            used.update(enc.tokens)
        batch.clear()

    for sent in sentences:
        batch.append([_normalize_word(w) for w in sent] or [""])
        if len(batch) >= 1024:
            flush()
    if batch:
        flush()
    vocab = {t: i for i, t in enumerate(SPECIAL_TOKENS)}
    for piece in sorted(used - set(SPECIAL_TOKENS), key=lambda p: full.token_to_id(p) or 0):
        vocab[piece] = len(vocab)
    tok = Tokenizer(
        models.WordPiece(
            vocab=vocab,
            unk_token="[UNK]",
            continuing_subword_prefix=model_json.get("continuing_subword_prefix", "##"),
            max_input_chars_per_word=model_json.get("max_input_chars_per_word", 100),
        )
    )
    tok.normalizer = full.normalizer
    tok.pre_tokenizer = full.pre_tokenizer
    if full.decoder is not None:
        tok.decoder = full.decoder
    _set_bert_post_processor(tok)
    return _wrap_fast(tok, max_length)


# Characters every char tokenizer knows even when the training data lacks them: the Bengali block,
# printable ASCII and the punctuation Bengali text uses, so a new word is rarely [UNK].
_BASE_CHARS = (
    [chr(c) for c in range(0x0980, 0x0A00)]
    + [chr(c) for c in range(0x21, 0x7F)]
    + list("\u0964\u0965\u2018\u2019\u201c\u201d\u2013\u2014\u2026\u200c\u200d")
)


def train_char_tokenizer(sentences: Iterable[Sequence[str]], *, max_length: int = 512) -> Any:
    """A WordPiece tokenizer over single characters, for the word-level `charword` model.

    `x` starts a word and `##x` continues it, so alignment, `word_ids` and the tagger treat it as
    any BERT tokenizer, and the model can rebuild every word's characters from the piece ids
    (`charword_piece_tables`). Pre-tokenised words are split on whitespace only, so a word's
    punctuation stays inside the word.
    """
    from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers

    chars: dict[str, None] = {}
    for sent in sentences:
        for word in sent:
            for ch in _normalize_word(word):
                if not ch.isspace():
                    chars.setdefault(ch, None)
    for ch in _BASE_CHARS:
        chars.setdefault(ch, None)
    vocab = {t: i for i, t in enumerate(SPECIAL_TOKENS)}
    for ch in chars:
        vocab.setdefault(ch, len(vocab))
        vocab.setdefault("##" + ch, len(vocab))
    tok = Tokenizer(models.WordPiece(vocab=vocab, unk_token="[UNK]", max_input_chars_per_word=100))
    tok.normalizer = normalizers.Sequence(
        [
            normalizers.NFC(),
            normalizers.BertNormalizer(
                clean_text=True, handle_chinese_chars=False, strip_accents=False, lowercase=False
            ),
        ]
    )
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tok.decoder = decoders.WordPiece(prefix="##")
    _set_bert_post_processor(tok)
    return _wrap_fast(tok, max_length)


def charword_piece_tables(tokenizer: Any) -> tuple[list[int], list[int], int]:
    """(piece -> char id, piece -> starts a word, char vocabulary size) for a char tokenizer.

    Char id 0 means "not part of a word" (special tokens), 1 is [UNK] (a whole unknown word).
    """
    vocab: dict[str, int] = tokenizer.get_vocab()
    size = max(vocab.values()) + 1
    piece_chars = [0] * size
    piece_starts = [0] * size
    char_ids: dict[str, int] = {}
    specials = set(SPECIAL_TOKENS) - {"[UNK]"}
    for piece, idx in sorted(vocab.items(), key=lambda kv: kv[1]):
        if piece in specials:
            continue
        if piece == "[UNK]":
            piece_chars[idx], piece_starts[idx] = 1, 1
            continue
        ch = piece[2:] if piece.startswith("##") else piece
        piece_chars[idx] = char_ids.setdefault(ch, len(char_ids) + 2)
        piece_starts[idx] = 0 if piece.startswith("##") else 1
    return piece_chars, piece_starts, len(char_ids) + 2


def is_char_tokenizer(tokenizer: Any) -> bool:
    """True when every non-special piece is one character (`x` or `##x`): what `charword` needs."""
    specials = set(SPECIAL_TOKENS)
    return all(len(p[2:] if p.startswith("##") else p) == 1 for p in tokenizer.get_vocab() if p not in specials)


def load_fast_tokenizer(name_or_path: str, *, max_length: int | None = None) -> Any:
    """A transformers fast tokenizer from a model folder or hub id; one sentence when impossible."""
    from transformers import AutoTokenizer

    try:
        tok = AutoTokenizer.from_pretrained(name_or_path)
    except (OSError, ValueError) as err:
        raise ModelNotFoundError(f"Cannot load a tokenizer from {name_or_path}: {str(err).splitlines()[0]}") from err
    if not getattr(tok, "is_fast", False):
        raise ModelNotFoundError(f"The tokenizer of {name_or_path} is not a fast tokenizer; word alignment needs one.")
    if max_length and (not tok.model_max_length or tok.model_max_length > 100_000):
        tok.model_max_length = max_length
    return tok


# ---- models -------------------------------------------------------------------------------------


def _generic_labels(id2label: dict[Any, str]) -> bool:
    return all(str(v) == f"LABEL_{k}" for k, v in id2label.items())


def label_order_for(model_name: str, data_labels: Sequence[str]) -> list[str]:
    """The label order to train with: the model's own when it already is a NER model.

    A base model (LABEL_0..N or no head) takes the data's labels. A fine-tuned NER model keeps
    its order so its head stays meaningful; if it does not know one of the data's labels,
    fine-tuning would silently mis-train, so we stop with one sentence instead.
    """
    from transformers import AutoConfig

    try:
        config = AutoConfig.from_pretrained(model_name)
    except (OSError, ValueError) as err:
        raise ModelNotFoundError(f"Cannot load the config of {model_name}: {str(err).splitlines()[0]}") from err
    id2label = getattr(config, "id2label", None) or {}
    archs = getattr(config, "architectures", None) or []
    is_token_head = any("TokenClassification" in a for a in archs)
    if not id2label or _generic_labels(id2label) or not is_token_head:
        return list(data_labels)
    model_labels = [id2label[k] for k in sorted(id2label, key=int)]
    missing = [lab for lab in data_labels if lab not in model_labels]
    if missing:
        raise BnnerError(
            f"The data has labels {', '.join(missing)} that model {model_name} does not know "
            f"(it knows {', '.join(model_labels)}): use a base model or data with the same labels."
        )
    return model_labels


def build_model(choice: ModelChoice, label_names: Sequence[str], *, tokenizer: Any, cfg: Any, seed: int = 42) -> Any:
    """The token-classification model with the REAL label names in its config."""
    import torch
    from transformers import AutoModelForTokenClassification, BertConfig, BertForTokenClassification

    id2label = dict(enumerate(label_names))
    label2id = {name: i for i, name in enumerate(label_names)}
    if choice.kind == "offline" and getattr(cfg, "offline_arch", "bert") == "charword":
        from bnner_tui.core.train.wordmodel import register
        from bnner_tui.core.train.wordmodel.configuration_bnner_charword import BnnerCharWordConfig
        from bnner_tui.core.train.wordmodel.modeling_bnner_charword import BnnerCharWordForTokenClassification

        register()
        if not is_char_tokenizer(tokenizer):
            raise BnnerError(
                "offline_arch charword needs its own character tokenizer: leave tokenizer unset"
                " (it is built from the training words)."
            )
        piece_chars, piece_starts, n_chars = charword_piece_tables(tokenizer)
        hidden = int(cfg.offline_hidden_size)
        word_config = BnnerCharWordConfig(
            vocab_size=len(piece_chars),
            piece_chars=piece_chars,
            piece_starts=piece_starts,
            char_vocab_size=n_chars,
            hidden_size=hidden,
            num_layers=int(cfg.offline_layers),
            hash_buckets=int(cfg.offline_vocab_size),
            max_position_embeddings=max(512, int(cfg.max_length)),
            pad_token_id=tokenizer.pad_token_id,
            num_labels=len(label_names),
            id2label=id2label,
            label2id=label2id,
        )
        torch.manual_seed(seed)
        return BnnerCharWordForTokenClassification(word_config)
    if choice.kind == "offline":
        hidden = int(cfg.offline_hidden_size)
        config = BertConfig(
            vocab_size=len(tokenizer),
            hidden_size=hidden,
            num_hidden_layers=int(cfg.offline_layers),
            num_attention_heads=int(cfg.offline_heads),
            intermediate_size=4 * hidden,
            max_position_embeddings=max(512, int(cfg.max_length)),
            pad_token_id=tokenizer.pad_token_id,
            id2label=id2label,
            label2id=label2id,
        )
        torch.manual_seed(seed)
        return BertForTokenClassification(config)
    try:
        return AutoModelForTokenClassification.from_pretrained(
            choice.name,
            num_labels=len(label_names),
            id2label=id2label,
            label2id=label2id,
            ignore_mismatched_sizes=True,
        )
    except (OSError, ValueError) as err:
        raise ModelNotFoundError(f"Cannot load model {choice.name}: {str(err).splitlines()[0]}") from err


def prepare_tokenizer(
    choice: ModelChoice,
    cfg: Any,
    train_sentences: Iterable[Sequence[str]],
    *,
    saved_dir: Path | None = None,
) -> Any:
    """The run's tokenizer. `saved_dir` (the run's own copy) wins, so a resume uses the same one."""
    if saved_dir is not None and (saved_dir / "tokenizer.json").exists():
        return load_fast_tokenizer(str(saved_dir), max_length=cfg.max_length)
    if choice.kind == "offline" and getattr(cfg, "offline_arch", "bert") == "charword":
        return train_char_tokenizer(train_sentences, max_length=cfg.max_length)
    if choice.kind == "offline":
        if cfg.tokenizer:
            return trimmed_tokenizer(cfg.tokenizer, train_sentences, max_length=cfg.max_length)
        return train_wordpiece(train_sentences, vocab_size=int(cfg.offline_vocab_size), max_length=cfg.max_length)
    return load_fast_tokenizer(cfg.tokenizer or choice.name, max_length=cfg.max_length)
