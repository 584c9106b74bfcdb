"""The tokenizer a run trains with: WordPiece learnt from the data, mBERT's trimmed to its pieces, or characters.

The offline small BERT cannot download mBERT's tokenizer and does not need its 119,547 rows:
with the mBERT files at hand their vocabulary is cut to the pieces the training data uses (every
CPU step is then several times faster); without them a WordPiece is trained on the training
split. The charword model reads characters. Words are normalised with the project's one
Bengali policy (`core.textnorm`) before any of these see them.

tokenizers and transformers are imported inside functions.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bnner_tui.core.errors import ModelNotFoundError

if TYPE_CHECKING:
    from bnner_tui.core.train.models import ModelChoice

SPECIAL_TOKENS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


def _normalize_word(word: str) -> str:
    try:
        from bnner_tui.core.textnorm import normalize_token
    except ImportError:  # textnorm not available: NFC is its first step anyway
        import unicodedata

        return unicodedata.normalize("NFC", word)
    return normalize_token(word)


def wrap_fast(tok: Any, max_length: int) -> Any:
    """A `tokenizers.Tokenizer` as the transformers tokenizer a BERT model is saved with."""
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


def set_bert_post_processor(tok: Any) -> None:
    """`[CLS] ... [SEP]` around every encoding, as BERT was trained to read it."""
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
    set_bert_post_processor(tok)
    return wrap_fast(tok, max_length)


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
    set_bert_post_processor(tok)
    return wrap_fast(tok, max_length)


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
    set_bert_post_processor(tok)
    return wrap_fast(tok, max_length)


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
