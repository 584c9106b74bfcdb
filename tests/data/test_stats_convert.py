"""Stats numbers and conversion round trips (jsonl / conll / parquet), with overwrite protection."""

from __future__ import annotations

import json

import pytest

from bnner_tui.core.data import load_source
from bnner_tui.core.data.convert import convert
from bnner_tui.core.data.stats import compute_stats
from bnner_tui.core.errors import BnnerError

SMALL = "শেখ\tB-PER\nহাসিনা\tI-PER\nঢাকায়\tB-LOC\n।\tO\n\nব্র্যাক\tB-ORG\n\nবাংলাদেশ\tB-LOC\nব্যাংক\tI-LOC\n"


def _tiny_tokenizer():
    from tokenizers import Tokenizer, models, pre_tokenizers, processors

    vocab = {"[UNK]": 0, "[CLS]": 1, "[SEP]": 2, "শেখ": 3, "হাসি": 4, "##না": 5, "।": 6}
    tok = Tokenizer(models.WordPiece(vocab=vocab, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]", special_tokens=[("[CLS]", 1), ("[SEP]", 2)]
    )
    tok.enable_truncation(4)  # stats must not be fooled by (or change) the caller's truncation
    return tok


def test_stats_counts_and_piece_lengths(write, tmp_path):
    write("d/train.conll", SMALL)
    write("d/test.conll", "ক\nখ\n")
    src = load_source(str(tmp_path / "d"))
    tok = _tiny_tokenizer()
    st = compute_stats(src, tokenizer=tok, max_length=5)
    train, test = st.splits
    assert (train.split, train.sentences, train.tokens, train.labelled) == ("train", 3, 7, True)
    assert train.entities == {"PER": 1, "ORG": 1, "LOC": 2} and train.total_entities == 4
    assert train.tags["I-PER"] == 1 and train.tags["O"] == 1
    # pieces: [CLS] শেখ হাসি ##না [UNK] । [SEP] = 7; [CLS] [UNK] [SEP] = 3; [CLS] [UNK] [UNK] [SEP] = 4
    assert train.pieces.max == 7 and train.pieces.p50 == 4 and train.pieces.over_max_length == 1
    assert (test.labelled, test.entities, test.pieces.max) == (False, {}, 4)
    assert tok.truncation is not None and tok.truncation["max_length"] == 4


@pytest.mark.shared
def test_stats_real_mbert_tokenizer(wikiann_dummy_dir, mbert_dir):
    from tokenizers import Tokenizer

    src = load_source(str(wikiann_dummy_dir))
    tok = Tokenizer.from_file(str(mbert_dir / "tokenizer.json"))
    st = compute_stats(src, tokenizer=tok, max_length=128)
    words = src.dataset["train"][0]["tokens"]
    expected = len(tok.encode(words, is_pretokenized=True).ids)
    assert st.splits[0].pieces.max == expected and expected > len(words) + 2


@pytest.mark.parametrize("fmt", ["conll", "jsonl", "parquet"])
def test_round_trip_folder(fmt, write, tmp_path):
    write("d/train.conll", SMALL)
    write("d/dev.conll", "গুগল\tB-ORG\n")
    write("d/test.conll", "ক\nখ\n\nগ\n")
    src = load_source(str(tmp_path / "d"))
    out = tmp_path / f"out-{fmt}"
    written = convert(src, out, fmt=fmt)
    assert sorted(p.name for p in written) == sorted(f"{s}.{fmt}" for s in ("train", "validation", "test"))
    back = load_source(str(out))
    assert back.label_names == src.label_names
    assert back.unlabelled_splits == {"test"}
    for split in src.dataset:
        assert back.dataset[split]["tokens"] == src.dataset[split]["tokens"]
        assert back.dataset[split]["ner_tags"] == src.dataset[split]["ner_tags"]


def test_jsonl_uses_tag_names_and_null_for_unlabelled(write, tmp_path):
    write("d/train.conll", SMALL)
    write("d/test.conll", "ক\n")
    convert(load_source(str(tmp_path / "d")), tmp_path / "o", fmt="jsonl")
    first = json.loads((tmp_path / "o" / "train.jsonl").read_text(encoding="utf-8").splitlines()[0])
    assert first == {"tokens": ["শেখ", "হাসিনা", "ঢাকায়", "।"], "ner_tags": ["B-PER", "I-PER", "B-LOC", "O"]}
    assert json.loads((tmp_path / "o" / "test.jsonl").read_text(encoding="utf-8")) == {
        "tokens": ["ক"],
        "ner_tags": None,
    }


def test_single_file_needs_a_split_and_never_overwrites_silently(tmp_path):
    src = load_source("demo")
    out = tmp_path / "demo-train.jsonl"
    with pytest.raises(BnnerError, match="--split"):
        convert(src, out)
    convert(src, out, split="train")
    first = out.read_bytes()
    with pytest.raises(BnnerError, match="already exists"):
        convert(src, out, split="validation")
    assert out.read_bytes() == first
    convert(src, out, split="validation", force=True)
    assert (tmp_path / "demo-train.jsonl.~1~").read_bytes() == first
    assert len(load_source(str(out)).dataset["train"]) == len(src.dataset["validation"])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["demo-train.jsonl", "demo-train.jsonl.~1~"]  # no temp left


def test_folder_refuses_before_writing_anything(tmp_path):
    src = load_source("demo")
    (tmp_path / "o").mkdir()
    (tmp_path / "o" / "test.conll").write_text("mine\n", encoding="utf-8")
    with pytest.raises(BnnerError, match="already exists"):
        convert(src, tmp_path / "o")
    assert sorted(p.name for p in (tmp_path / "o").iterdir()) == ["test.conll"]


def test_unknown_format(tmp_path):
    with pytest.raises(BnnerError, match="unknown format"):
        convert(load_source("demo"), tmp_path / "o", fmt="csv")


def test_the_data_screens_entity_counts_are_data_stats_counts() -> None:
    """One rule (an entity is a B- tag) for `bnner-tui data stats` and the Data screen's panel."""
    from bnner_tui.core.data import load_source
    from bnner_tui.core.data.browse import entity_counts
    from bnner_tui.core.data.stats import compute_stats

    source = load_source("demo")
    by_split = {st.split: st.entities for st in compute_stats(source).splits}
    for split, ds in source.dataset.items():
        counts = entity_counts(ds["ner_tags"], source.label_names)
        assert counts == by_split[split] and sum(counts.values()) > 0
