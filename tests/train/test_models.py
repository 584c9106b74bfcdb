"""Model resolution online/offline, the offline small BERT and its tokenizers, label checks."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from bnner_tui.core.errors import BnnerError, HubUnavailableError, ModelNotFoundError
from bnner_tui.core.labels import WIKIANN_LABELS
from bnner_tui.core.train import models as M
from bnner_tui.core.train import tokenizers as T

SENTS = [
    ["ঢাকা", "বাংলাদেশের", "রাজধানী", "।"],
    ["রবীন্দ্রনাথ", "ঠাকুর", "কলকাতায়", "জন্মগ্রহণ", "করেন", "।"],
    ["Dhaka", "University", "and", "Google", "in", "London", "."],
]


def _cfg(**kw: object) -> SimpleNamespace:
    base = dict(
        tokenizer=None, max_length=64, offline_hidden_size=32, offline_layers=1, offline_heads=2, offline_vocab_size=300
    )
    base.update(kw)
    return SimpleNamespace(**base)


@pytest.fixture
def empty_hf_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_CACHE", str(tmp_path / "hub"))
    return tmp_path / "hub"


def test_auto_offline_falls_back_to_small_bert_and_says_why(empty_hf_cache: Path) -> None:
    choice = M.choose_model("auto")
    assert choice.kind == "offline"
    assert "HF_HUB_OFFLINE" in choice.reason and "not cached" in choice.reason
    assert "WordPiece" in choice.describe()


def test_unreachable_hub_is_detected_quickly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HF_HUB_OFFLINE")
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # discard port: connection refused at once
    ok, why = M.hub_reachable(timeout=1.0)
    assert not ok and "127.0.0.1" in why


def test_missing_path_and_uncached_hub_id_are_one_sentence(empty_hf_cache: Path, tmp_path: Path) -> None:
    with pytest.raises(ModelNotFoundError, match="does not exist"):
        M.choose_model(str(tmp_path / "nope" / "model"))
    with pytest.raises(HubUnavailableError, match="not in the local cache"):
        M.choose_model("someone/some-model")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelNotFoundError, match=r"no config\.json"):
        M.choose_model(str(tmp_path / "empty"))


def test_local_folder_is_used(tiny_model_dir: Path) -> None:
    choice = M.choose_model(str(tiny_model_dir))
    assert choice.kind == "local" and choice.name == str(tiny_model_dir)


def test_offline_model_with_trained_wordpiece_saves_and_reloads(tmp_path: Path) -> None:
    from transformers import AutoModelForTokenClassification, AutoTokenizer

    cfg = _cfg()
    choice = M.choose_model("offline")
    tok = T.prepare_tokenizer(choice, cfg, SENTS)
    model = M.build_model(choice, WIKIANN_LABELS, tokenizer=tok, cfg=cfg)
    assert model.config.hidden_size == 32 and model.config.vocab_size == len(tok)
    model.save_pretrained(tmp_path / "m")
    tok.save_pretrained(tmp_path / "m")
    again = AutoModelForTokenClassification.from_pretrained(tmp_path / "m")
    assert [again.config.id2label[i] for i in range(7)] == WIKIANN_LABELS
    tok2 = AutoTokenizer.from_pretrained(tmp_path / "m")
    enc = tok2(SENTS[0], is_split_into_words=True)
    assert enc.input_ids[0] == tok2.cls_token_id and enc.input_ids[-1] == tok2.sep_token_id
    assert tok2.unk_token_id not in enc.input_ids


def test_trimmed_mbert_tokenizer_keeps_pieces(mbert_dir: Path) -> None:
    from tokenizers import Tokenizer

    full = Tokenizer.from_file(str(mbert_dir / "tokenizer.json"))
    trimmed = T.trimmed_tokenizer(mbert_dir, SENTS)
    assert len(trimmed) < 200  # from 119,547 rows
    for sent in SENTS:
        a = full.encode(sent, is_pretokenized=True).tokens
        b = trimmed.backend_tokenizer.encode(sent, is_pretokenized=True).tokens
        assert a == b


def test_label_order_refuses_unknown_labels(tiny_model_dir: Path) -> None:
    assert M.label_order_for(str(tiny_model_dir), ["O", "B-PER", "I-PER"]) == WIKIANN_LABELS
    with pytest.raises(BnnerError, match="B-MISC"):
        M.label_order_for(str(tiny_model_dir), [*WIKIANN_LABELS, "B-MISC", "I-MISC"])


# ---- model `auto` without the Hub: decided in core, asked about by the CLI and the Train screen ---


def test_auto_resolution_is_pure_and_marks_only_the_random_init_fallback() -> None:
    cached = M.resolve_auto(cached=True, unavailable="HF_HUB_OFFLINE is set")
    online = M.resolve_auto(cached=False, unavailable=None)
    assert (cached.kind, cached.name, cached.fallback) == ("hub", M.DEFAULT_HUB_MODEL, None)
    assert (online.kind, online.fallback) == ("hub", None)
    offline = M.resolve_auto(cached=False, unavailable="huggingface.co: timed out")
    assert offline.kind == "offline"
    assert offline.fallback == M.RandomInit(M.DEFAULT_HUB_MODEL, "huggingface.co: timed out")
    assert "unreachable (huggingface.co: timed out)" in offline.reason and "random init" in offline.reason
    # Model `offline` is random-init on request: never a fallback.
    assert M.choose_model("offline").fallback is None


def test_random_init_notice_says_what_why_consequence_and_remedy() -> None:
    from bnner_tui.core.config import TrainConfig

    tutorial = TrainConfig.from_preset("tutorial")
    fallback = M.resolve_auto(cached=False, unavailable="HF_HUB_OFFLINE is set")
    notice = M.random_init_notice(tutorial, fallback)
    assert notice is not None
    assert notice.what == "a randomly initialised small BERT (2 layers, hidden size 256)"
    assert notice.headline() == (
        "training a randomly initialised small BERT (2 layers, hidden size 256), not bert-base-multilingual-cased,"
        " because the Hugging Face Hub is unreachable (HF_HUB_OFFLINE is set) and bert-base-multilingual-cased"
        " is not in the local cache."
    )
    assert "learning rate 2e-05" in notice.consequence and "F1 near 0.000" in notice.consequence
    assert "--model" in notice.remedy(cli=True) and "go online" in notice.remedy(cli=True)
    assert "model field" in notice.remedy(cli=False)
    # A from-scratch learning rate: no F1-near-0 claim, the honest "far below" stays.
    fast = M.random_init_notice(tutorial.with_overrides(learning_rate=1e-3), fallback)
    assert fast is not None and "0.000" not in fast.consequence and "far below" in fast.consequence
    assert M.random_init_notice(tutorial, M.resolve_auto(cached=True, unavailable=None)) is None


def test_check_random_init_probes_only_for_auto(empty_hf_cache: Path) -> None:
    from bnner_tui.core.config import TrainConfig

    notice = M.check_random_init(TrainConfig.from_preset("tutorial"))  # HF_HUB_OFFLINE=1, empty cache
    assert notice is not None and notice.why == "HF_HUB_OFFLINE is set"
    assert M.check_random_init(TrainConfig.from_preset("cpu")) is None  # model offline: asked for
