"""The tagging engine: hand-computed output, aggregation, IOB2 repair, windows, batches, loading."""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from bnner_tui.core.decoding import (
    DEFAULT_POLICY,
    DecodingPolicy,
    assign_windows,
    build_spans,
    is_punctuation,
    make_windows,
)
from bnner_tui.core.errors import HubUnavailableError, ModelNotFoundError
from bnner_tui.core.tagger import SimpleWord, Tagger, find_latest_run_model
from bnner_tui.core.textnorm import split_words


def _ents(result) -> list[tuple[str, str, int, int]]:
    return [(e.text, e.label, e.start, e.end) for e in result.entities]


# ------------------------------------------------------------------ hand-computed expected output


LEGACY = DecodingPolicy(method="repair", trim_punctuation=True)  # the tagger's policy before core.decoding


@pytest.fixture
def legacy_tagger(forced_tagger: Tagger) -> Iterator[Tagger]:
    forced_tagger.set_decoding(LEGACY)
    yield forced_tagger
    forced_tagger.set_decoding(DEFAULT_POLICY)


def test_forced_model_matches_hand_computed_entities(forced_tagger: Tagger) -> None:
    raw = "রবীন্দ্রনাথ ঠাকুর ঢাকা শহর। x"
    result = forced_tagger.tag(raw)
    # The default policy keeps punctuation the model put inside an entity (WikiANN's entities do that).
    assert [(w.text, w.label) for w in result.words] == [
        ("রবীন্দ্রনাথ", "B-PER"),
        ("ঠাকুর", "I-PER"),
        ("ঢাকা", "B-LOC"),
        ("শহর", "I-LOC"),
        ("।", "I-LOC"),
        ("x", "O"),
    ]
    assert _ents(result) == [("রবীন্দ্রনাথ ঠাকুর", "PER", 0, 17), ("ঢাকা শহর।", "LOC", 18, 27)]
    assert all(e.score == pytest.approx(1.0, abs=1e-6) for e in result.entities)


def test_trimming_policy_drops_edge_punctuation(legacy_tagger: Tagger) -> None:
    result = legacy_tagger.tag("রবীন্দ্রনাথ ঠাকুর ঢাকা শহর। x")
    assert result.words[4].label == "O"  # the model said I-LOC; trimmed off the entity's edge
    assert _ents(result) == [("রবীন্দ্রনাথ ঠাকুর", "PER", 0, 17), ("ঢাকা শহর", "LOC", 18, 26)]


def test_viterbi_never_starts_an_entity_with_i(forced_tagger: Tagger) -> None:
    # ঠাকুর alone is I-PER after nothing: Viterbi may not choose it, so no orphan entity appears.
    result = forced_tagger.tag("ঠাকুর x ঢাকা , শহর")
    assert result.words[0].label in ("O", "B-PER")
    assert ("ঢাকা , শহর", "LOC", 8, 18) in _ents(result)
    labels = [w.label for w in result.words]
    for prev, cur in zip(["O", *labels[:-1]], labels, strict=True):
        if cur.startswith("I-"):
            assert prev[2:] == cur[2:]


def test_first_piece_vs_average(forced_tagger: Tagger) -> None:
    # বাংলাদেশের = বাংলা (B-ORG) ##দেশ (O) ##ের (O): first piece says ORG, the average says O.
    raw = "বাংলাদেশের বাংলা ব্যাংক"
    first = forced_tagger.tag(raw)
    avg = forced_tagger.tag(raw, aggregation="average")
    assert _ents(first) == [("বাংলাদেশের", "ORG", 0, 10), ("বাংলা ব্যাংক", "ORG", 11, 23)]
    assert _ents(avg) == [("বাংলা ব্যাংক", "ORG", 11, 23)]
    assert avg.words[0].label == "O"
    assert avg.words[0].score == pytest.approx(2 / 3, abs=1e-4)


def test_iob_repair_and_punctuation(legacy_tagger: Tagger) -> None:
    # repair: ঠাকুর alone is I-PER after nothing: a new PER entity. The comma inside LOC stays inside.
    forced_tagger = legacy_tagger
    result = forced_tagger.tag("ঠাকুর x ঢাকা , শহর")
    assert _ents(result) == [("ঠাকুর", "PER", 0, 5), ("ঢাকা , শহর", "LOC", 8, 18)]
    assert [w.label for w in result.words] == ["B-PER", "O", "B-LOC", "I-LOC", "I-LOC"]
    # a type change without B- starts a new entity
    result = forced_tagger.tag("রবীন্দ্রনাথ কলকাতা")
    assert _ents(result) == [("রবীন্দ্রনাথ", "PER", 0, 11), ("কলকাতা", "LOC", 12, 18)]


def test_balanced_bracket_kept_quotes_trimmed(legacy_tagger: Tagger) -> None:
    forced_tagger = legacy_tagger
    result = forced_tagger.tag("রবীন্দ্রনাথ ( ক্রিকেটার ) গেছেন")
    assert _ents(result) == [("রবীন্দ্রনাথ ( ক্রিকেটার )", "PER", 0, 25)]
    # “ is B-ORG and ” I-ORG for this model, but quotes never open or close an entity
    result = forced_tagger.tag("“বাংলা” x")
    assert _ents(result) == [("বাংলা", "ORG", 1, 6)]


def test_build_spans_rules() -> None:
    words = [SimpleWord(t, i, i + 1) for i, t in enumerate(["a", ",", "b", "।", "c", "(", "d", ")", ")"])]
    labels = ["B-X", "I-X", "I-X", "I-X", "I-Y", "I-Y", "I-Y", "I-Y", "I-Y"]
    spans = build_spans(words, labels)
    assert spans == [(0, 3, "X"), (4, 8, "Y")]
    # BIOES prefixes: S- is a one-word entity, E- continues
    abc = [SimpleWord(t, i, i + 1) for i, t in enumerate("abc")]
    assert build_spans(abc, ["S-X", "B-X", "E-X"]) == [(0, 1, "X"), (1, 3, "X")]
    assert build_spans(abc, ["S-X", "I-X", "S-X"]) == [(0, 1, "X"), (1, 2, "X"), (2, 3, "X")]
    # seqeval-strict reading: an orphan I- and the I- words continuing it are dropped
    assert build_spans(abc, ["I-X", "I-X", "B-Y"], orphan_i="drop") == [(2, 3, "Y")]
    assert build_spans(abc, ["B-X", "I-Y", "I-Y"], orphan_i="drop") == [(0, 1, "X")]
    assert build_spans(abc, ["B-X", "I-Y", "I-Y"]) == [(0, 1, "X"), (1, 3, "Y")]
    # a punctuation-only entity disappears
    assert build_spans(words[:2], ["O", "B-X"]) == []
    assert is_punctuation("।") and is_punctuation("“") and not is_punctuation("ঢাকা") and not is_punctuation("")


def test_emoji_and_symbols_never_end_up_inside_an_entity() -> None:
    """The model labelled 🎉 B-PER: the entity is "Sheikh Hasina", and a symbol inside splits it."""
    from bnner_tui.core.decoding import is_symbol

    raw = "আজ 🎉 Sheikh Hasina এলেন"
    words = split_words(raw)
    assert [w.text for w in words] == ["আজ", "🎉", "Sheikh", "Hasina", "এলেন"]
    for orphan_i in ("start", "drop"):
        spans = build_spans(words, ["O", "B-PER", "I-PER", "I-PER", "O"], orphan_i=orphan_i)
        assert [(raw[words[a].start : words[b - 1].end], t) for a, b, t in spans] == [("Sheikh Hasina", "PER")]
    raw = "Sheikh 👍🏽 Hasina ©"
    words = split_words(raw)
    spans = build_spans(words, ["B-PER", "I-PER", "I-PER", "I-PER"])
    assert [(raw[words[a].start : words[b - 1].end], t) for a, b, t in spans] == [("Sheikh", "PER"), ("Hasina", "PER")]
    assert is_symbol("🎉") and is_symbol("👍🏽") and is_symbol("©") and is_symbol("৳")
    assert not is_symbol("ঢাকা") and not is_symbol("।") and not is_symbol("C++") and not is_symbol("")


# ------------------------------------------------------------------ windows


def test_make_windows_cover_every_word_within_budget() -> None:
    counts = [3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5]
    windows = make_windows(counts, budget=10, stride=4)
    covered = set()
    for s, e in windows:
        assert e > s
        assert sum(counts[s:e]) <= 10 or e - s == 1
        covered.update(range(s, e))
    assert covered == set(range(len(counts)))
    assert all(b[0] > a[0] for a, b in itertools.pairwise(windows))  # always progresses
    owner = assign_windows(len(counts), windows)
    assert (owner >= 0).all()
    # a word longer than the budget gets a window of its own
    assert (1, 2) in make_windows([2, 50, 2], budget=10, stride=4)


def test_windowed_equals_unwindowed_for_context_free_model(forced_model_dir: Path, forced_tagger: Tagger) -> None:
    raw = " ".join(["রবীন্দ্রনাথ ঠাকুর ঢাকা শহর। বাংলাদেশের বাংলা ব্যাংক , x"] * 12)
    short = Tagger.load(forced_model_dir, max_length=9, stride=3, device="cpu")
    assert short.budget == 7
    full = forced_tagger.tag(raw)
    windowed = short.tag(raw)
    assert len(windowed.words) == len(split_words(raw)) == len(full.words)
    assert [(w.label, round(w.score, 5)) for w in windowed.words] == [(w.label, round(w.score, 5)) for w in full.words]
    assert _ents(windowed) == _ents(full)


def test_long_text_every_word_labelled_no_truncation(tiny_model_dir: Path, tiny_tagger: Tagger) -> None:
    raw = "\n".join(["ঢাকা বাংলাদেশের রাজধানী। রবীন্দ্রনাথ ঠাকুর কলকাতায় জন্মগ্রহণ করেন।"] * 40)
    n_words = len(split_words(raw))
    short = Tagger.load(tiny_model_dir, max_length=16, stride=4, device="cpu")
    result = short.tag(raw)
    assert len(result.words) == n_words
    assert all(w.score > 0 for w in result.words)  # every word got a real prediction
    # the default tagger (max 128 pieces) also needs windows for this text and labels every word
    assert len(tiny_tagger.tag(raw).words) == n_words


def test_text_that_fits_is_not_changed_by_windowing(tiny_model_dir: Path, tiny_tagger: Tagger) -> None:
    raw = "রবীন্দ্রনাথ ঠাকুর কলকাতায় জন্মগ্রহণ করেন।"
    n_pieces = len(tiny_tagger.tokenizer(raw)["input_ids"])
    just_enough = Tagger.load(tiny_model_dir, max_length=n_pieces + 2, device="cpu")
    a, b = tiny_tagger.tag(raw), just_enough.tag(raw)
    assert [(w.label, w.score) for w in a.words] == pytest.approx([(w.label, w.score) for w in b.words])
    assert _ents(a) == _ents(b)


# ------------------------------------------------------------------ batches, edge inputs


def test_batch_equals_single_in_input_order(tiny_tagger: Tagger) -> None:
    texts = [
        "ঢাকা বাংলাদেশের রাজধানী।",
        "",
        "Dhaka University and Google in London .",
        "শেখ হাসিনা , সিডনি ক্রিকেট গ্রাউন্ড , জাতীয় উদ্যান " * 30,  # needs windows
        "   \n ",
        "বাংলাদেশ ক্রিকেট বোর্ড মিরপুরে অবস্থিত ।",
    ]
    batch = tiny_tagger.tag_batch(texts, batch_size=2)
    assert [r.text for r in batch] == texts
    for text, got in zip(texts, batch, strict=True):
        single = tiny_tagger.tag(text)
        assert [w.label for w in got.words] == [w.label for w in single.words]
        assert [w.score for w in got.words] == pytest.approx([w.score for w in single.words], abs=1e-5)
        assert _ents(got) == _ents(single)


def test_batches_keep_to_the_row_and_position_caps() -> None:
    import numpy as np

    from bnner_tui.core.tagger.infer import _batches

    lengths = np.array([3, 110, 7, 40, 40, 9, 2, 600, 12, 5])
    order = np.argsort(-lengths, kind="stable")
    capped = _batches(order, lengths, 4, 80)
    assert np.concatenate(capped).tolist() == order.tolist()  # every row once, longest first
    for rows in capped:
        assert len(rows) <= 4
        assert len(rows) == 1 or len(rows) * int(lengths[rows].max()) <= 80
    assert [len(b) for b in capped] == [1, 1, 2, 4, 2]  # 600 and 110 alone, then 2 x 40, ...
    assert [len(b) for b in _batches(order, lengths, 4, None)] == [4, 4, 2]


def test_position_cap_changes_batches_not_results(tiny_tagger: Tagger) -> None:
    texts = ["ঢাকা বাংলাদেশের রাজধানী।", "শেখ হাসিনা , সিডনি ক্রিকেট গ্রাউন্ড , জাতীয় উদ্যান " * 6, "Dhaka ."] * 3
    assert tiny_tagger.max_positions == 512  # a BERT on a CPU
    saved = tiny_tagger.max_positions
    try:
        tiny_tagger.max_positions = None
        plain = tiny_tagger.tag_batch(texts, batch_size=8)
        tiny_tagger.max_positions = 24  # every batch of the long texts becomes one row
        capped = tiny_tagger.tag_batch(texts, batch_size=8)
    finally:
        tiny_tagger.max_positions = saved
    for a, b in zip(plain, capped, strict=True):
        assert [w.label for w in a.words] == [w.label for w in b.words]
        assert [w.score for w in a.words] == pytest.approx([w.score for w in b.words], abs=1e-5)


def test_position_cap_only_for_attention_models_on_a_cpu(tiny_tagger: Tagger) -> None:
    from bnner_tui.core.tagger.engine import CPU_BATCH_POSITIONS, position_cap
    from bnner_tui.core.train.wordmodel.configuration_bnner_charword import BnnerCharWordConfig

    class WordModel:
        config = BnnerCharWordConfig()

    assert position_cap(tiny_tagger.model, "cpu") == CPU_BATCH_POSITIONS
    assert position_cap(tiny_tagger.model, "cuda:0") is None
    assert position_cap(WordModel(), "cpu") is None


def _linear_weights(**shape: int) -> int:
    """Weights in the Linear layers of a BERT token classifier of this shape, built on the meta device."""
    import torch
    from transformers import BertConfig, BertForTokenClassification

    with torch.device("meta"):
        model = BertForTokenClassification(BertConfig(num_labels=7, **shape))
    return sum(m.weight.numel() for m in model.modules() if isinstance(m, torch.nn.Linear))


def test_auto_bf16_rule_picks_big_encoders_on_a_cpu_with_native_bf16(tiny_tagger: Tagger) -> None:
    """mBERT's shape (and 4 layers of it) get bf16 where the CPU has it; cpu-demo's small BERT, the
    tiny test model, the word model and any GPU stay fp32."""
    import torch

    from bnner_tui.core.tagger.engine import AUTO_BF16_MIN_LINEAR_WEIGHTS, auto_bf16, native_bf16_cpu
    from bnner_tui.core.train.wordmodel.configuration_bnner_charword import BnnerCharWordConfig

    mbert = {"vocab_size": 1000, "hidden_size": 768, "num_attention_heads": 12, "intermediate_size": 3072}
    assert _linear_weights(num_hidden_layers=12, **mbert) > _linear_weights(num_hidden_layers=4, **mbert)
    assert _linear_weights(num_hidden_layers=4, **mbert) >= AUTO_BF16_MIN_LINEAR_WEIGHTS
    small = {"hidden_size": 256, "num_hidden_layers": 2, "num_attention_heads": 4, "intermediate_size": 1024}
    assert _linear_weights(vocab_size=1000, **small) < AUTO_BF16_MIN_LINEAR_WEIGHTS

    from transformers import BertConfig, BertForTokenClassification

    big = BertForTokenClassification(BertConfig(num_labels=7, num_hidden_layers=2, **mbert))
    assert auto_bf16(big, "cpu") is native_bf16_cpu()
    assert auto_bf16(big, "cuda:0") is False
    assert auto_bf16(tiny_tagger.model, "cpu") is False

    class WordModel(torch.nn.Module):
        config = BnnerCharWordConfig()

    assert auto_bf16(WordModel(), "cpu") is False


def test_load_reports_the_precision_it_runs_in(tiny_model_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from bnner_tui.core.tagger import engine

    assert Tagger.load(tiny_model_dir).precision == "fp32"  # too small for the bf16 default
    assert Tagger.load(tiny_model_dir, bf16=True).precision == "bf16"
    assert Tagger.load(tiny_model_dir, quantize=True).precision == "int8"
    monkeypatch.setattr(engine, "AUTO_BF16_MIN_LINEAR_WEIGHTS", 0)  # the tiny model now counts as big
    auto = Tagger.load(tiny_model_dir)
    assert auto.bf16 is engine.native_bf16_cpu()
    assert auto.precision == ("bf16 (auto)" if engine.native_bf16_cpu() else "fp32")
    assert Tagger.load(tiny_model_dir, bf16=False).precision == "fp32"
    assert Tagger.load(tiny_model_dir, quantize=True).bf16 is False  # int8 is never combined with the default
    raw = "ঢাকা বাংলাদেশের রাজধানী।"
    assert len(auto.tag(raw).words) == len(split_words(raw))


@pytest.mark.parametrize("raw", ["", " ", "\n\t  \n", "\u200c\u200d"])
def test_empty_and_whitespace(tiny_tagger: Tagger, raw: str) -> None:
    result = tiny_tagger.tag(raw)
    assert result.entities == []
    assert result.text == raw


def test_non_bengali_text(forced_tagger: Tagger) -> None:
    result = forced_tagger.tag("Visited Dhaka in 2024, then London.")
    assert _ents(result) == [("Dhaka", "LOC", 8, 13), ("London", "LOC", 28, 34)]


def test_result_serialises(tiny_tagger: Tagger) -> None:
    d = tiny_tagger.tag("ঢাকা বাংলাদেশের রাজধানী।").to_dict()
    assert set(d) == {"text", "entities", "words"}
    assert all(set(e) == {"text", "label", "start", "end", "score"} for e in d["entities"])


def test_quantized_tagger_runs(tiny_model_dir: Path) -> None:
    q = Tagger.load(tiny_model_dir, quantize=True)
    raw = "ঢাকা বাংলাদেশের রাজধানী।"
    result = q.tag(raw)
    assert len(result.words) == len(split_words(raw))
    assert all(raw[e.start : e.end] == e.text for e in result.entities)


# ------------------------------------------------------------------ loading


def test_load_run_folder_uses_its_model(tmp_path: Path, forced_model_dir: Path) -> None:
    import shutil

    run = tmp_path / "runs" / "r1"
    shutil.copytree(forced_model_dir, run / "model")
    tagger = Tagger.load(run)
    assert tagger.source == f"run {run}"
    assert Tagger.load("r1", runs_dir=tmp_path / "runs").source == f"run {run}"


def test_bad_model_paths(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFoundError, match="does not exist"):
        Tagger.load(tmp_path / "nope")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelNotFoundError, match=r"no config\.json"):
        Tagger.load(tmp_path / "empty")
    (tmp_path / "run" / "checkpoints").mkdir(parents=True)
    (tmp_path / "run" / "events.jsonl").write_text("")
    with pytest.raises(ModelNotFoundError, match="without a finished model"):
        Tagger.load(tmp_path / "run")
    (tmp_path / "f.txt").write_text("x")
    with pytest.raises(ModelNotFoundError, match="is a file"):
        Tagger.load(tmp_path / "f.txt")
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "config.json").write_text("{not json")
    with pytest.raises(ModelNotFoundError):
        Tagger.load(broken)


def test_hub_id_offline_fails_fast(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf" / "hub"))
    t0 = time.monotonic()
    with pytest.raises(HubUnavailableError, match="HF_HUB_OFFLINE"):
        Tagger.load("someone/bengali-ner-model", runs_dir=tmp_path)
    assert time.monotonic() - t0 < 5


def test_find_latest_finished_run(tmp_path: Path, forced_model_dir: Path) -> None:
    import shutil

    from bnner_tui.core.events import EventWriter

    root = tmp_path / "runs"
    assert find_latest_run_model(root) is None
    for name, final in [("old", "finished"), ("new", "finished"), ("newest", "failed")]:
        run = root / name
        run.mkdir(parents=True)
        (run / "config.toml").write_text("")
        w = EventWriter(run / "events.jsonl")
        w.emit("started")
        w.emit(final, **({"reason": "boom"} if final == "failed" else {}))
        w.close()
        shutil.copytree(forced_model_dir, run / "model")
        time.sleep(0.02)
    assert find_latest_run_model(root) == root / "new" / "model"


def test_progress_reports_every_model_row(forced_model_dir: Path) -> None:
    short = Tagger.load(forced_model_dir, max_length=9, stride=3, device="cpu")
    texts = ["ঢাকা শহর", "x " * 20, "", "রবীন্দ্রনাথ ঠাকুর"]
    done: list[int] = []
    results = short.tag_batch(texts, batch_size=2, progress=done.append)
    assert [len(r.words) for r in results] == [2, 20, 0, 2]
    assert sum(done) > 3  # the long text became several windows, each a model row
    assert all(n <= 2 for n in done)


def test_repeated_texts_run_through_the_model_once(tiny_tagger: Tagger) -> None:
    """Each distinct word list is one model row; every repeat gets the same result, in its own array."""
    texts = ["ঢাকা বাংলাদেশের রাজধানী।", "রবীন্দ্রনাথ ঠাকুর", "ঢাকা বাংলাদেশের রাজধানী।", "ঢাকা  বাংলাদেশের রাজধানী।"]
    done: list[int] = []
    results = tiny_tagger.tag_batch(texts, batch_size=8, progress=done.append)
    assert sum(done) == 2  # the third and fourth texts split into the first one's words
    for text, result in zip(texts, results, strict=True):
        single = tiny_tagger.tag(text)
        assert [(w.label, w.start, w.end) for w in result.words] == [(w.label, w.start, w.end) for w in single.words]
        assert [w.score for w in result.words] == pytest.approx([w.score for w in single.words], abs=1e-5)
        assert all(text[e.start : e.end] == e.text for e in result.entities)
    probs = tiny_tagger.predict_word_probs([["ঢাকা", "শহর"], ["ঢাকা", "শহর"]])
    assert probs[0] is not probs[1] and np.array_equal(probs[0], probs[1])
    probs[0][:] = 0  # a caller changing one result does not change the other
    assert probs[1].sum() > 0


@pytest.mark.shared
def test_word_longer_than_window_with_real_mbert_tokenizer(mbert_dir: Path, tmp_path: Path) -> None:
    """A 17-piece word with room for 8 pieces per window: it gets a window of its own, nothing is lost."""
    import torch
    from transformers import AutoTokenizer, BertConfig, BertForTokenClassification

    from bnner_tui.core.labels import WIKIANN_LABELS

    config = BertConfig(
        vocab_size=119547,
        hidden_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=64,
        num_labels=7,
        id2label=dict(enumerate(WIKIANN_LABELS)),
        label2id={label: i for i, label in enumerate(WIKIANN_LABELS)},
    )
    torch.manual_seed(0)
    BertForTokenClassification(config).save_pretrained(tmp_path / "m")
    AutoTokenizer.from_pretrained(str(mbert_dir)).save_pretrained(tmp_path / "m")
    tagger = Tagger.load(tmp_path / "m", max_length=10, stride=2, device="cpu")
    giant = "রবীন্দ্রনাথঠাকুরকলকাতায়জন্মগ্রহণ"
    assert len(tagger.tokenizer.tokenize(giant)) > tagger.budget
    raw = f"ঢাকা {giant} শহর ঢাকা। “বড়” কিট্\u200cস"
    result = tagger.tag(raw)
    assert len(result.words) == len(split_words(raw))
    assert all(w.score > 0 for w in result.words)
    assert all(raw[e.start : e.end] == e.text for e in result.entities)
