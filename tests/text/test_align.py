"""Subword alignment (core/align/) on the real mBERT tokenizer and on tiny tokenizers built here."""

from __future__ import annotations

import functools
import gc
import json
import shutil
import time
import weakref
from pathlib import Path

import pytest
from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

from bnner_tui.core.align import align, align_batch, load_tokenizer, tokenizer_max_length
from bnner_tui.core.align.cache import clear_word_caches, word_cache
from bnner_tui.core.errors import BnnerError, ConfigError, HubUnavailableError, ModelNotFoundError
from bnner_tui.core.labels import WIKIANN_LABELS
from bnner_tui.core.textnorm import normalize_token

L = WIKIANN_LABELS
I = -100  # noqa: E741

SYDNEY = ["সিডনি", "ক্রিকেট", "গ্রাউন্ড", ",", "সিডনি"]
SYDNEY_TAGS = ["B-LOC", "I-LOC", "I-LOC", "O", "B-LOC"]
SYDNEY_PIECES = "[CLS] স ##ি ##ড ##নি ক্রিকেট গ ##্র ##া ##উ ##ন্ড , স ##ি ##ড ##নি [SEP]".split()
SYDNEY_IDS = [101, 978, 12235, 38044, 40349, 52245, 950, 21790, 12079, 89362, 77045, 117, 978, 12235, 38044, 40349, 102]
N = None


def read_tsv(path: Path) -> tuple[list[list[str]], list[list[int]]]:
    """A minimal `token<TAB>tag` reader, independent of core.data."""
    sents, tags, cur, cur_tags = [], [], [], []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            if cur:
                sents.append(cur)
                tags.append(cur_tags)
                cur, cur_tags = [], []
            continue
        token, tag = line.split("\t")
        cur.append(token)
        cur_tags.append(L.index(tag))
    if cur:
        sents.append(cur)
        tags.append(cur_tags)
    return sents, tags


# --- tiny tokenizers built in the test ------------------------------------------------------------

TINY_VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "বাং", "##লা", "##দেশ", "ক্রিকেট", "করিকেট", "ঢাকা", "।",
              ",", "-", "Google", "google", "এ", "বো", "##র্ড"]  # fmt: skip


def tiny_wordpiece(*, lowercase: bool = False) -> Tokenizer:
    tok = Tokenizer(models.WordPiece({t: i for i, t in enumerate(TINY_VOCAB)}, unk_token="[UNK]"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=lowercase, strip_accents=None)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.post_processor = processors.BertProcessing(("[SEP]", 3), ("[CLS]", 2))
    tok.decoder = decoders.WordPiece()
    return tok


TINY_WORDS = ["বাংলাদেশ", "ক্রিকেট", "বোর্ড", "ঢাকা", "।"]
TINY_TAGS = ["B-ORG", "I-ORG", "I-ORG", "B-LOC", "O"]


def test_tiny_wordpiece_three_strategies_pinned() -> None:
    tok = tiny_wordpiece()
    first = align(tok, TINY_WORDS, TINY_TAGS, L, strategy="first")
    assert first.pieces == ["[CLS]", "বাং", "##লা", "##দেশ", "ক্রিকেট", "বো", "##র্ড", "ঢাকা", "।", "[SEP]"]
    assert first.piece_ids == [2, 5, 6, 7, 8, 17, 18, 10, 11, 3]
    assert first.word_ids == [N, 0, 0, 0, 1, 2, 2, 3, 4, N]
    assert first.offsets == [(0, 0), (0, 3), (3, 5), (5, 8), (0, 7), (0, 2), (2, 5), (0, 4), (0, 1), (0, 0)]
    assert first.labels == [I, 3, I, I, 4, 4, I, 5, 0, I]
    assert first.pieces_per_word == [3, 1, 2, 1, 1]
    assert not first.truncated and first.n_pieces_untruncated == 10
    assert first.unk_words == [] and first.mismatch_words == [] and first.dropped_words == []
    assert align(tok, TINY_WORDS, TINY_TAGS, L, strategy="all").labels == [I, 3, 3, 3, 4, 4, 4, 5, 0, I]
    assert align(tok, TINY_WORDS, TINY_TAGS, L, strategy="all-b2i").labels == [I, 3, 4, 4, 4, 4, 4, 5, 0, I]


def test_offsets_index_the_normalised_word() -> None:
    a = align(tiny_wordpiece(), TINY_WORDS, TINY_TAGS, L)
    rebuilt = ["" for _ in TINY_WORDS]
    for w, (s, e) in zip(a.word_ids, a.offsets, strict=True):
        if w is not None:
            rebuilt[w] += a.words_normalized[w][s:e]
    assert rebuilt == TINY_WORDS


def test_labels_accept_ids_names_and_missing() -> None:
    tok = tiny_wordpiece()
    by_name = align(tok, TINY_WORDS, TINY_TAGS, L)
    by_id = align(tok, TINY_WORDS, [L.index(t) for t in TINY_TAGS], L)
    assert by_name.labels == by_id.labels
    none = align(tok, TINY_WORDS, None, L, strategy="all")
    assert none.labels == [I] * 10
    assert align(tok, ["ঢাকা", "।"], [-1, 0], L, strategy="all").labels == [I, I, 0, I]


def test_unk_words_detected() -> None:
    a = align(tiny_wordpiece(), ["ঢাকা", "চট্টগ্রাম", "“ঢাকা”"], None, L)
    assert a.pieces == ["[CLS]", "ঢাকা", "[UNK]", "[UNK]", "ঢাকা", "[UNK]", "[SEP]"]
    assert a.unk_words == [1, 2] and a.mismatch_words == []


def test_uncased_tokenizer_reports_decode_mismatches() -> None:
    # lowercase implies strip_accents: the hasant (Mn) of ক্রিকেট is removed, Latin is lowercased
    a = align(tiny_wordpiece(lowercase=True), ["ক্রিকেট", "Google", "ঢাকা"], None, L)
    assert a.pieces == ["[CLS]", "করিকেট", "google", "ঢাকা", "[SEP]"]
    assert a.mismatch_words == [0, 1] and a.unk_words == []


def test_decode_check_without_a_saved_decoder() -> None:
    tok = tiny_wordpiece()
    tok.decoder = None
    a = align(tok, TINY_WORDS, None, L)
    assert a.mismatch_words == [] and a.unk_words == []


def test_hyphenated_word_first_piece_only() -> None:
    a = align(tiny_wordpiece(), ["Google-এ"], ["B-ORG"], L, strategy="first")
    assert a.pieces == ["[CLS]", "Google", "-", "এ", "[SEP]"] and a.labels == [I, 3, I, I, I]
    assert a.mismatch_words == []
    assert align(tiny_wordpiece(), ["Google-এ"], ["B-ORG"], L, strategy="all-b2i").labels == [I, 3, 4, 4, I]


def test_words_are_normalised_before_tokenizing() -> None:
    tok = tiny_wordpiece()
    a = align(tok, ["ঢা\u200cকা", "৷"], None, L)
    assert a.words_normalized == ["ঢাকা", "।"] and a.pieces == ["[CLS]", "ঢাকা", "।", "[SEP]"]


def test_word_that_vanishes_is_reported_dropped() -> None:
    a = align(tiny_wordpiece(), ["ঢাকা", "\u200c", "।"], ["B-LOC", "O", "O"], L)
    assert a.dropped_words == [1] and a.pieces_per_word == [1, 0, 1]
    assert a.word_ids == [N, 0, 2, N] and a.labels == [I, 5, 0, I]


def test_truncation_flag_and_counts() -> None:
    tok = tiny_wordpiece()
    a = align(tok, TINY_WORDS, TINY_TAGS, L, max_length=6)
    assert a.truncated and a.n_pieces_untruncated == 10
    assert a.pieces == ["[CLS]", "বাং", "##লা", "##দেশ", "ক্রিকেট", "[SEP]"]
    assert a.labels == [I, 3, I, I, 4, I]
    assert a.words_cut_by_truncation == [2, 3, 4]
    assert a.pieces_per_word == [3, 1, 2, 1, 1]  # of the untruncated sample
    exact = align(tok, TINY_WORDS, TINY_TAGS, L, max_length=10)
    assert not exact.truncated and exact.words_cut_by_truncation == []


def test_caller_truncation_setting_does_not_hide_the_real_length() -> None:
    tok = tiny_wordpiece()
    tok.enable_truncation(4)
    a = align(tok, TINY_WORDS, TINY_TAGS, L, max_length=512)
    assert not a.truncated and a.n_pieces_untruncated == 10 and len(a.pieces) == 10
    assert tok.truncation is not None  # the caller's object is left as it was


def test_bad_arguments_one_sentence() -> None:
    tok = tiny_wordpiece()
    with pytest.raises(ConfigError, match="Unknown alignment strategy"):
        align(tok, TINY_WORDS, TINY_TAGS, L, strategy="last")
    with pytest.raises(BnnerError, match="5 words but 2 labels"):
        align(tok, TINY_WORDS, TINY_TAGS[:2], L)
    with pytest.raises(BnnerError, match="not one of the label names"):
        align(tok, ["ঢাকা"], ["B-CITY"], L)
    with pytest.raises(ConfigError, match="leaves no room"):
        align(tok, TINY_WORDS, TINY_TAGS, L, max_length=2)
    with pytest.raises(ConfigError):
        align_batch({"tokens": [TINY_WORDS]}, tokenizer=tok, label_names=L, strategy="x", max_length=8)
    with pytest.raises(BnnerError, match="Sample 1 of the batch"):
        align_batch(
            {"tokens": [TINY_WORDS, TINY_WORDS], "ner_tags": [[0] * 5, [0] * 4]},
            tokenizer=tok,
            label_names=L,
            max_length=8,
        )


@pytest.mark.parametrize("strategy", ["first", "all", "all-b2i"])
@pytest.mark.parametrize("max_length", [6, 512])
def test_batch_equals_single_tiny(strategy: str, max_length: int) -> None:
    tok = tiny_wordpiece()
    sents = [TINY_WORDS, ["ঢাকা", "\u200c", "।"], [], ["Google-এ", "বোর্ড"] * 3, ["চট্টগ্রাম"]]
    tags = [[L.index(t) for t in TINY_TAGS], [5, 0, 0], [], [3, 4] * 3, [-1]]
    out = align_batch({"tokens": sents, "ner_tags": tags}, tokenizer=tok, label_names=L, strategy=strategy,
                      max_length=max_length)  # fmt: skip
    assert_batch_matches_single(out, tok, sents, tags, strategy, max_length)


def assert_batch_matches_single(out, tok, sents, tags, strategy, max_length) -> None:
    assert set(out) == {"input_ids", "attention_mask", "labels", "word_ids"}
    for i, words in enumerate(sents):
        a = align(tok, words, None if tags is None else tags[i], L, strategy=strategy, max_length=max_length)
        assert out["input_ids"][i] == a.piece_ids
        assert out["labels"][i] == a.labels
        assert out["word_ids"][i] == [-1 if w is None else w for w in a.word_ids]
        assert out["attention_mask"][i] == [1] * len(a.piece_ids)


def test_batch_without_tags_gives_ignored_labels() -> None:
    tok = tiny_wordpiece()
    out = align_batch({"tokens": [TINY_WORDS]}, tokenizer=tok, label_names=L, strategy="all", max_length=512)
    assert out["labels"] == [[I] * 10]


def test_batch_cache_is_per_tokenizer() -> None:
    """Two tokenizers that split the same word differently never share cached pieces."""
    cased, uncased = tiny_wordpiece(), tiny_wordpiece(lowercase=True)
    batch = {"tokens": [["Google", "ক্রিকেট"]]}
    a = align_batch(batch, tokenizer=cased, label_names=L, strategy="first", max_length=512)
    b = align_batch(batch, tokenizer=uncased, label_names=L, strategy="first", max_length=512)
    assert a["input_ids"] == [[2, 14, 8, 3]] and b["input_ids"] == [[2, 15, 9, 3]]


def test_batch_cache_lives_and_dies_with_its_tokenizer() -> None:
    """The cache is keyed on the tokenizer object, weakly: a dead tokenizer's pieces go with it, so a new
    tokenizer (even one at the same address, as id() keys allowed) starts from its own, and nothing is kept alive."""
    batch = {"tokens": [["Google", "ক্রিকেট"]]}
    seen = []
    for lowercase in (False, True, False, True):
        tok = tiny_wordpiece(lowercase=lowercase)
        out = align_batch(batch, tokenizer=tok, label_names=L, strategy="first", max_length=512)
        seen.append(out["input_ids"])
        assert word_cache(tok) is word_cache(tok)  # one cache per live tokenizer
        ref = weakref.ref(tok)
        del tok
        gc.collect()
        assert ref() is None  # the cache did not keep the tokenizer alive
    assert seen == [[[2, 14, 8, 3]], [[2, 15, 9, 3]]] * 2


def test_truncating_tokenizer_aligns_untruncated_through_one_copy() -> None:
    """A tokenizer a caller set to truncate or pad is aligned through one untruncated copy, made once."""
    tok = tiny_wordpiece()
    tok.enable_truncation(3)
    tok.enable_padding(length=16)
    first = align(tok, TINY_WORDS, TINY_TAGS, L, strategy="first", max_length=512)
    assert first.n_pieces_untruncated == 10 and not first.truncated
    assert word_cache(tok).plain(tok) is word_cache(tok).plain(tok) is not tok
    out = align_batch({"tokens": [TINY_WORDS]}, tokenizer=tok, label_names=L, strategy="first", max_length=512)
    assert out["input_ids"] == [first.piece_ids]


def test_batch_on_byte_level_bpe_and_position_dependent_pretokenizer() -> None:
    """Word caching is exact for byte-level BPE and Metaspace too (pre-tokenized words are independent);
    the per-sample fallback path (taken when the probe finds otherwise) gives the same answer."""
    from tokenizers import trainers

    text = ["ঢাকা বাংলাদেশের রাজধানী ।", "Dhaka University and Google in London ."] * 5
    bpe = Tokenizer(models.BPE(unk_token="<unk>"))
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=True)
    bpe.train_from_iterator(text, trainers.BpeTrainer(vocab_size=300, special_tokens=["<s>", "</s>", "<unk>"],
                                                      initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
                                                      show_progress=False))  # fmt: skip
    bpe.post_processor = processors.TemplateProcessing(single="<s> $A </s>", special_tokens=[("<s>", 0), ("</s>", 1)])
    bpe.decoder = decoders.ByteLevel()
    meta = Tokenizer(models.WordPiece({t: i for i, t in enumerate([*TINY_VOCAB, "▁ঢাকা", "▁", "##ঢাকা"])}))
    meta.pre_tokenizer = pre_tokenizers.Metaspace(prepend_scheme="first")
    meta.post_processor = processors.BertProcessing(("[SEP]", 3), ("[CLS]", 2))
    sents = [["ঢাকা", "বাংলাদেশের", "Google"], ["London", "ঢাকা"]]
    tags = [[5, 0, 3], [5, 5]]
    for tok in (bpe, meta):
        out = align_batch({"tokens": sents, "ner_tags": tags}, tokenizer=tok, label_names=L, strategy="all-b2i",
                          max_length=512)  # fmt: skip
        assert_batch_matches_single(out, tok, sents, tags, "all-b2i", 512)
        for i, words in enumerate(sents):
            assert out["input_ids"][i] == tok.encode(words, is_pretokenized=True).ids
    assert word_cache(bpe).template_ok and word_cache(meta).template_ok
    cache = word_cache(meta)
    cache.template_ok = False
    try:
        out = align_batch({"tokens": sents, "ner_tags": tags}, tokenizer=meta, label_names=L, strategy="all",
                          max_length=4)  # fmt: skip
        assert_batch_matches_single(out, meta, sents, tags, "all", 4)
    finally:
        cache.template_ok = True


def test_batch_in_dataset_map() -> None:
    from datasets import ClassLabel, Dataset, Features, Sequence, Value

    features = Features({"tokens": Sequence(Value("string")), "ner_tags": Sequence(ClassLabel(names=L))})
    ds = Dataset.from_dict({"tokens": [TINY_WORDS, ["ঢাকা", "।"]], "ner_tags": [[3, 4, 4, 5, 0], [5, 0]]},
                           features=features)  # fmt: skip
    tok = tiny_wordpiece()
    mapped = ds.map(
        align_batch,
        batched=True,
        fn_kwargs={"tokenizer": tok, "label_names": L, "strategy": "first", "max_length": 512},
        remove_columns=["tokens", "ner_tags"],
    )
    assert mapped[0]["labels"] == [I, 3, I, I, 4, 4, I, 5, 0, I]
    assert mapped[1]["input_ids"] == [2, 10, 11, 3]
    assert mapped[1]["word_ids"] == [-1, 0, 1, -1]


# --- loading --------------------------------------------------------------------------------------


def test_load_tokenizer_from_tokenizer_json_folder_and_file(tmp_path: Path) -> None:
    tok = tiny_wordpiece()
    tok.enable_truncation(3)
    tok.save(str(tmp_path / "tokenizer.json"))
    for where in (tmp_path, tmp_path / "tokenizer.json", str(tmp_path)):
        loaded = load_tokenizer(where)
        assert loaded.truncation is None  # switched off: alignment counts every piece itself
        expected = align(tiny_wordpiece(), TINY_WORDS, TINY_TAGS, L).pieces
        assert align(loaded, TINY_WORDS, TINY_TAGS, L).pieces == expected


def test_load_tokenizer_from_vocab_txt_follows_do_lower_case(tmp_path: Path) -> None:
    (tmp_path / "vocab.txt").write_text("\n".join(TINY_VOCAB) + "\n", encoding="utf-8")
    # transformers' default for a bare vocab.txt is do_lower_case=True
    assert load_tokenizer(tmp_path).encode(["Google"], is_pretokenized=True).tokens == ["[CLS]", "google", "[SEP]"]
    (tmp_path / "tokenizer_config.json").write_text(json.dumps({"do_lower_case": False}), encoding="utf-8")
    tok = load_tokenizer(tmp_path)
    assert tok.encode(["Google"], is_pretokenized=True).tokens == ["[CLS]", "Google", "[SEP]"]
    assert tok.decode([14, 16]) == "Google এ"


def test_load_tokenizer_errors_are_one_sentence(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFoundError, match=r"neither tokenizer\.json nor vocab\.txt"):
        load_tokenizer(tmp_path)
    (tmp_path / "tokenizer.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(ModelNotFoundError, match=r"not a readable tokenizer\.json"):
        load_tokenizer(tmp_path)
    with pytest.raises(ModelNotFoundError, match="does not exist"):
        load_tokenizer(str(tmp_path / "missing" / "x.json"))


def test_hub_id_offline_fails_fast() -> None:
    start = time.monotonic()
    with pytest.raises(HubUnavailableError, match="HF_HUB_OFFLINE is set"):
        load_tokenizer("google-bert/bert-base-multilingual-cased")
    assert time.monotonic() - start < 5


def test_hub_id_unreachable_fails_fast(monkeypatch: pytest.MonkeyPatch) -> None:
    from huggingface_hub import constants

    monkeypatch.delenv("HF_HUB_OFFLINE")
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(constants, "ENDPOINT", "http://127.0.0.1:9")  # the discard port: connection refused
    start = time.monotonic()
    with pytest.raises(HubUnavailableError, match="cannot be reached"):
        load_tokenizer("google-bert/bert-base-multilingual-cased")
    assert time.monotonic() - start < 5


def test_tokenizer_max_length(tmp_path: Path) -> None:
    assert tokenizer_max_length(tmp_path) is None
    (tmp_path / "config.json").write_text(json.dumps({"max_position_embeddings": 128}), encoding="utf-8")
    assert tokenizer_max_length(tmp_path) == 128
    (tmp_path / "tokenizer_config.json").write_text(json.dumps({"model_max_length": 1e30}), encoding="utf-8")
    assert tokenizer_max_length(tmp_path) == 128  # transformers' "no limit" does not count
    (tmp_path / "tokenizer_config.json").write_text(json.dumps({"model_max_length": 256}), encoding="utf-8")
    assert tokenizer_max_length(tmp_path) == 256
    assert tokenizer_max_length("google-bert/bert-base-multilingual-cased") is None  # offline, not cached


# --- the real mBERT tokenizer ---------------------------------------------------------------------


@functools.cache
def _load_cached(path: Path) -> Tokenizer:
    return load_tokenizer(path)


@pytest.fixture
def mbert_tok(mbert_dir: Path) -> Tokenizer:
    return _load_cached(mbert_dir)


def test_mbert_sydney_pinned_all_strategies(mbert_tok: Tokenizer) -> None:
    first = align(mbert_tok, SYDNEY, SYDNEY_TAGS, L, strategy="first")
    assert first.pieces == SYDNEY_PIECES
    assert first.piece_ids == SYDNEY_IDS
    assert first.word_ids == [N, 0, 0, 0, 0, 1, 2, 2, 2, 2, 2, 3, 4, 4, 4, 4, N]
    assert first.offsets == [(0, 0), (0, 1), (1, 2), (2, 3), (3, 5), (0, 7), (0, 1), (1, 3), (3, 4), (4, 5), (5, 8),
                             (0, 1), (0, 1), (1, 2), (2, 3), (3, 5), (0, 0)]  # fmt: skip
    assert first.labels == [I, 5, I, I, I, 6, 6, I, I, I, I, 0, 5, I, I, I, I]
    assert first.pieces_per_word == [4, 1, 5, 1, 4]
    assert first.unk_words == [] and first.mismatch_words == [] and not first.truncated
    assert first.n_pieces_untruncated == 17
    assert align(mbert_tok, SYDNEY, SYDNEY_TAGS, L, strategy="all").labels == [
        I, 5, 5, 5, 5, 6, 6, 6, 6, 6, 6, 0, 5, 5, 5, 5, I,
    ]  # fmt: skip
    assert align(mbert_tok, SYDNEY, SYDNEY_TAGS, L, strategy="all-b2i").labels == [
        I, 5, 6, 6, 6, 6, 6, 6, 6, 6, 6, 0, 5, 6, 6, 6, I,
    ]  # fmt: skip


def test_mbert_nukta_and_quotes(mbert_tok: Tokenizer) -> None:
    a = align(mbert_tok, ["ব\u09dc", "“ঢাকা”", "উত্\u200dসব"], None, L)
    assert a.pieces == ["[CLS]", "বড়", "[UNK]", "ঢাকা", "[UNK]", "উ", "##ৎ", "##সব", "[SEP]"]
    assert a.unk_words == [1] and a.mismatch_words == []


def test_mbert_vocab_txt_matches_tokenizer_json(mbert_dir: Path, tmp_path: Path) -> None:
    shutil.copy(mbert_dir / "vocab.txt", tmp_path / "vocab.txt")
    shutil.copy(mbert_dir / "tokenizer_config.json", tmp_path / "tokenizer_config.json")  # do_lower_case false
    from_vocab = load_tokenizer(tmp_path)
    assert align(from_vocab, SYDNEY, SYDNEY_TAGS, L).piece_ids == SYDNEY_IDS


def test_mbert_uncased_build_destroys_vowel_signs(mbert_dir: Path, tmp_path: Path) -> None:
    shutil.copy(mbert_dir / "vocab.txt", tmp_path / "vocab.txt")
    (tmp_path / "tokenizer_config.json").write_text(json.dumps({"do_lower_case": True}), encoding="utf-8")
    uncased = load_tokenizer(tmp_path)
    a = align(uncased, ["ক্রিকেট", "সুন্দর", "Google"], None, L)
    assert a.mismatch_words == [0, 1, 2]


def test_mbert_max_length(mbert_dir: Path) -> None:
    assert tokenizer_max_length(mbert_dir) == 512


@functools.cache
def _read_cached(path: Path) -> tuple[list[list[str]], list[list[int]]]:
    return read_tsv(path)


@pytest.fixture
def wikiann_train(wikiann_dir: Path) -> tuple[list[list[str]], list[list[int]]]:
    return _read_cached(wikiann_dir / "train-bn.tsv")


def test_wikiann_train_batch_equals_encode_batch_and_single(
    mbert_tok: Tokenizer, wikiann_train: tuple[list[list[str]], list[list[int]]]
) -> None:
    sents, tags = wikiann_train
    assert len(sents) == 10000
    for strategy in ("first", "all-b2i"):
        out = align_batch({"tokens": sents, "ner_tags": tags}, tokenizer=mbert_tok, label_names=L, strategy=strategy,
                          max_length=512)  # fmt: skip
        encs = mbert_tok.encode_batch([[normalize_token(w) for w in s] for s in sents], is_pretokenized=True)
        assert out["input_ids"] == [e.ids for e in encs]
        assert out["word_ids"] == [[-1 if w is None else w for w in e.word_ids] for e in encs]
        assert_batch_matches_single(out, mbert_tok, sents[:1500], tags, strategy, 512)
    short = align_batch({"tokens": sents[:2000], "ner_tags": tags[:2000]}, tokenizer=mbert_tok, label_names=L,
                        strategy="all", max_length=12)  # fmt: skip
    assert_batch_matches_single(short, mbert_tok, sents[:2000], tags, "all", 12)
    assert max(len(x) for x in short["input_ids"]) == 12


@pytest.mark.slow
def test_wikiann_train_agrees_with_transformers_word_ids(
    mbert_dir: Path, mbert_tok: Tokenizer, wikiann_train: tuple[list[list[str]], list[list[int]]]
) -> None:
    """transformers' fast BERT tokenizer + the tutorial's word_ids() loop give the same pieces and labels,
    except where our normalisation deliberately differs (the danda look-alike ৷ -> ।, 2 sentences)."""
    from transformers import AutoTokenizer

    hf = AutoTokenizer.from_pretrained(str(mbert_dir))
    sents, tags = wikiann_train
    enc = hf(sents, is_split_into_words=True, truncation=True)
    ours = {s: align_batch({"tokens": sents, "ner_tags": tags}, tokenizer=mbert_tok, label_names=L, strategy=s,
                           max_length=512) for s in ("first", "all")}  # fmt: skip
    differing = []
    for i in range(len(sents)):
        word_ids = enc.word_ids(i)
        assert [-1 if w is None else w for w in word_ids] == ours["first"]["word_ids"][i]
        tutorial_all, tutorial_first, prev = [], [], None
        for w in word_ids:
            tutorial_all.append(I if w is None else tags[i][w])
            tutorial_first.append(I if w is None or w == prev else tags[i][w])
            prev = w
        assert ours["first"]["labels"][i] == tutorial_first
        assert ours["all"]["labels"][i] == tutorial_all
        if enc["input_ids"][i] != ours["first"]["input_ids"][i]:
            differing.append(i)
    assert [sents[i][-1] for i in differing] == ["৷", "৷"]


def test_wikiann_train_unk_and_mismatch_counts(
    mbert_tok: Tokenizer, wikiann_train: tuple[list[list[str]], list[list[int]]]
) -> None:
    """Counted independently of align(): words with an [UNK] piece, and (cased mBERT) no decode damage."""
    sents, _ = wikiann_train
    unk_expected = 0
    unk_got = mismatches = 0
    for words in sents[:3000]:
        for w in words:
            if "[UNK]" in mbert_tok.encode([normalize_token(w)], is_pretokenized=True, add_special_tokens=False).tokens:
                unk_expected += 1
        a = align(mbert_tok, words, None, L)
        unk_got += len(a.unk_words)
        mismatches += len(a.mismatch_words)
    assert unk_got == unk_expected > 0
    assert mismatches == 0


def test_hub_id_offline_uses_the_local_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """HF_HUB_OFFLINE with the tokenizer already in the Hugging Face cache: loads without any network."""
    from huggingface_hub import constants

    commit = "0" * 40
    repo = tmp_path / "models--someone--tiny-bn"
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(commit, encoding="utf-8")
    snapshot = repo / "snapshots" / commit
    snapshot.mkdir(parents=True)
    tiny_wordpiece().save(str(snapshot / "tokenizer.json"))
    (snapshot / "tokenizer_config.json").write_text(json.dumps({"model_max_length": 64}), encoding="utf-8")
    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path))
    tok = load_tokenizer("someone/tiny-bn")
    assert align(tok, TINY_WORDS, TINY_TAGS, L).piece_ids == [2, 5, 6, 7, 8, 17, 18, 10, 11, 3]
    assert tokenizer_max_length("someone/tiny-bn") == 64


def test_batch_from_threads_matches_serial(
    mbert_dir: Path, wikiann_train: tuple[list[list[str]], list[list[int]]]
) -> None:
    """The TUI aligns from worker threads; a shared, growing word cache must not mix them up."""
    from concurrent.futures import ThreadPoolExecutor

    sents, tags = wikiann_train
    tok = load_tokenizer(mbert_dir)  # a fresh tokenizer object: an empty cache that all threads fill at once
    chunks = [(sents[i : i + 500], tags[i : i + 500]) for i in range(0, 4000, 500)]

    def run(chunk: tuple[list[list[str]], list[list[int]]]) -> dict[str, list[list[int]]]:
        return align_batch({"tokens": chunk[0], "ner_tags": chunk[1]}, tokenizer=tok, label_names=L,
                           strategy="all", max_length=64)  # fmt: skip

    with ThreadPoolExecutor(4) as pool:
        parallel = list(pool.map(run, chunks))
    clear_word_caches()
    serial = [run(c) for c in chunks]
    assert parallel == serial
