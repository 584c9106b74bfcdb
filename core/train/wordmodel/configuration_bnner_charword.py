"""Configuration of the offline word-level NER model (char CNN + hashed word/affix embeddings + BiLSTM).

This file ships inside every saved model folder (config.json's `auto_map` names it), so it
imports nothing but transformers: `AutoConfig.from_pretrained(folder, trust_remote_code=True)`
must work on a machine without bnner-tui.
"""

from __future__ import annotations

from typing import Any

from transformers import PretrainedConfig


class BnnerCharWordConfig(PretrainedConfig):
    """Sizes of the model, and the map from tokenizer pieces to characters.

    The tokenizer is a WordPiece over single characters (`x` starts a word, `##x` continues
    one), so the pipeline, alignment and tagger treat it as any BERT tokenizer. The model needs
    to know, for each piece id, which character it is (`piece_chars`, 0 = not part of a word,
    1 = unknown) and whether it starts a word (`piece_starts`), to rebuild the words from ids.
    """

    model_type = "bnner-charword"

    def __init__(
        self,
        vocab_size: int = 6,
        piece_chars: list[int] | None = None,
        piece_starts: list[int] | None = None,
        char_vocab_size: int = 2,
        char_dim: int = 32,
        char_channels: int = 64,
        char_kernel: int = 3,
        hash_buckets: int = 20000,
        hash_dim: int = 64,
        affix_lengths: list[int] | None = None,
        hidden_size: int = 200,
        num_layers: int = 1,
        dropout: float = 0.4,
        word_dropout: float = 0.1,
        crf: bool = True,
        known_words: int = 0,
        max_position_embeddings: int = 512,
        pad_token_id: int = 0,
        **kwargs: Any,
    ) -> None:
        self.vocab_size = vocab_size
        self.piece_chars = list(piece_chars) if piece_chars is not None else [0] * vocab_size
        self.piece_starts = list(piece_starts) if piece_starts is not None else [0] * vocab_size
        self.char_vocab_size = char_vocab_size
        self.char_dim = char_dim
        self.char_channels = char_channels
        self.char_kernel = char_kernel
        self.hash_buckets = hash_buckets
        self.hash_dim = hash_dim
        self.affix_lengths = list(affix_lengths) if affix_lengths is not None else [1, 2, 3]
        self.hidden_size = hidden_size
        self.num_layers = num_layers
        self.dropout = dropout
        self.word_dropout = word_dropout
        self.crf = crf
        # How many whole-word hashes the model saw in training (the `known_hashes` buffer); 0 =
        # no list, as in folders saved before it existed: every word then keeps its own hash.
        self.known_words = known_words
        self.max_position_embeddings = max_position_embeddings
        kwargs["pad_token_id"] = pad_token_id
        super().__init__(**kwargs)
