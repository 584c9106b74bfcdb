"""A model whose output is known by hand, for the tagger tests and the Tag screen's snapshot.

The "forced" model is a real BertForTokenClassification with no transformer layers: its output
for a piece depends only on that piece's id (position and segment embeddings are zero), and the
embedding/classifier weights are set so each vocabulary piece gets one chosen label with
probability ~1. Its tokenizer is a real WordPiece tokenizer with a hand-written vocabulary, so
the pieces of every test word are known too. Everything the tagger does after the forward pass
(first/average aggregation, IOB2 repair, punctuation trimming, windows, offsets) can then be
checked against expected output written by hand.
"""

from __future__ import annotations

from pathlib import Path

from bnner_tui.core.labels import WIKIANN_LABELS

# piece -> the label the forced model gives it; every other piece gets O.
FORCED_VOCAB: dict[str, str] = {
    "[PAD]": "O",
    "[UNK]": "O",
    "[CLS]": "O",
    "[SEP]": "O",
    "[MASK]": "O",
    "ঢাকা": "B-LOC",
    "শহর": "I-LOC",
    "রবীন্দ্রনাথ": "B-PER",
    "ঠাকুর": "I-PER",
    "ক্রিকেটার": "I-PER",
    "বাংলা": "B-ORG",
    "##দেশ": "O",
    "##ের": "O",
    "ব্যাংক": "I-ORG",
    "কলকাতা": "I-LOC",
    "##য়": "O",
    "গেছেন": "O",
    "এবং": "O",
    "।": "I-LOC",
    ",": "I-LOC",
    "(": "I-PER",
    ")": "I-PER",
    "“": "B-ORG",
    "”": "I-ORG",
    "Dhaka": "B-LOC",
    "London": "B-LOC",
    "in": "O",
    "x": "O",
}


def build_forced_model(out_dir: Path, *, max_length: int = 512) -> Path:
    """Save the forced model + its WordPiece tokenizer (see the module docstring)."""
    import torch
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers
    from transformers import BertConfig, BertForTokenClassification

    from bnner_tui.core.train.tokenizers import set_bert_post_processor, wrap_fast

    vocab = {piece: i for i, piece in enumerate(FORCED_VOCAB)}
    tok = Tokenizer(models.WordPiece(vocab=vocab, unk_token="[UNK]", max_input_chars_per_word=100))
    tok.normalizer = normalizers.BertNormalizer(lowercase=False, strip_accents=False, clean_text=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    set_bert_post_processor(tok)
    fast = wrap_fast(tok, max_length)
    n_labels = len(WIKIANN_LABELS)
    hidden = n_labels + 1
    config = BertConfig(
        vocab_size=len(vocab),
        hidden_size=hidden,
        num_hidden_layers=0,
        num_attention_heads=1,
        intermediate_size=4,
        max_position_embeddings=max_length,
        num_labels=n_labels,
        id2label=dict(enumerate(WIKIANN_LABELS)),
        label2id={label: i for i, label in enumerate(WIKIANN_LABELS)},
    )
    model = BertForTokenClassification(config)
    with torch.no_grad():
        emb = model.bert.embeddings
        emb.position_embeddings.weight.zero_()
        emb.token_type_embeddings.weight.zero_()
        emb.LayerNorm.weight.fill_(1.0)
        emb.LayerNorm.bias.zero_()
        emb.word_embeddings.weight.zero_()
        for piece, i in vocab.items():
            k = WIKIANN_LABELS.index(FORCED_VOCAB[piece])
            emb.word_embeddings.weight[i, k] = 1.0
            emb.word_embeddings.weight[i, hidden - 1] = -1.0
        # after LayerNorm a piece is +2 on its label's dimension, -2 on the last, 0 elsewhere
        model.classifier.weight.zero_()
        model.classifier.bias.zero_()
        for k in range(n_labels):
            model.classifier.weight[k, k] = 10.0
    out_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out_dir)
    fast.save_pretrained(out_dir)
    return out_dir
