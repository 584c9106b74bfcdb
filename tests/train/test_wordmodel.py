"""The offline word-level model (charword): its tokenizer, word rebuilding, CRF decoding, and that
it stays a model the rest of the product handles as any other (save/load with and without
bnner-tui, the worker, the tagger, evaluation, publish)."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from bnner_tui.core.config import TrainConfig
from bnner_tui.core.labels import WIKIANN_LABELS
from bnner_tui.core.train import models as M
from bnner_tui.core.train import tokenizers as T

SENTS = [
    ["ঢাকা", "বাংলাদেশের", "রাজধানী", "।"],
    ["রবীন্দ্রনাথ", "ঠাকুর", "কলকাতায়", "জন্মগ্রহণ", "করেন", "।"],
    ["Dhaka", "University", "''", "(২০১৩)"],
]


def _cfg(**kw: object) -> SimpleNamespace:
    base = dict(
        offline_arch="charword", offline_hidden_size=32, offline_layers=1, offline_vocab_size=500, max_length=512
    )
    base.update(kw)
    return SimpleNamespace(**base)


def _tiny(seed: int = 0) -> tuple[object, object]:
    tok = T.train_char_tokenizer(SENTS)
    choice = M.ModelChoice("offline", "offline", "test")
    model = M.build_model(choice, WIKIANN_LABELS, tokenizer=tok, cfg=_cfg(), seed=seed, train_words=SENTS)
    return tok, model


def test_char_tokenizer_gives_one_piece_per_character_and_keeps_words_whole() -> None:
    tok = T.train_char_tokenizer(SENTS)
    enc = tok([["ঢাকার", "''", "Zürich"]], is_split_into_words=True)
    assert enc.tokens()[:7] == ["[CLS]", "ঢ", "##া", "##ক", "##া", "##র", "'"]
    # punctuation inside a word stays in it (whitespace-only pre-tokenizer): 2 pieces, 1 word
    assert enc.word_ids()[1:8] == [0, 0, 0, 0, 0, 1, 1]
    assert T.is_char_tokenizer(tok)
    # ü is neither in the data nor in the base alphabet: the whole word is one [UNK]
    assert enc.tokens()[8:] == ["[UNK]", "[SEP]"]


def test_words_are_rebuilt_from_piece_ids() -> None:
    import torch

    from bnner_tui.core.train.wordmodel.modeling_bnner_charword import words_from_pieces

    tok, model = _tiny()
    batch = tok([["ঢাকা", "x"], ["রাজধানী"]], is_split_into_words=True, padding=True, return_tensors="pt")
    chars, widx, starts, n_words = words_from_pieces(
        batch["input_ids"], batch["attention_mask"], model.piece_chars, model.piece_starts
    )
    assert n_words.tolist() == [2, 1]
    assert chars.shape[:2] == (2, 2)
    pc = model.piece_chars
    dhaka = [int(pc[tok.convert_tokens_to_ids(p)]) for p in ["ঢ", "##া", "##ক", "##া"]]
    assert chars[0, 0, :4].tolist() == dhaka and int(chars[0, 1, 0]) > 1 and int(chars[0, 1, 1]) == 0
    assert int(chars[1, 1].abs().sum()) == 0  # the second sentence has no second word
    assert widx[0].tolist()[:7] == [-1, 0, 0, 0, 0, 1, -1]
    assert bool(torch.equal(starts.sum(1), n_words))


def test_max_marginal_argmax_is_the_best_valid_iob2_path() -> None:
    import torch

    _, model = _tiny(seed=3)
    model.eval()
    k = len(WIKIANN_LABELS)
    with torch.no_grad():
        model.crf_transitions.copy_(torch.randn(k, k))
        model.crf_start.copy_(torch.randn(k))
        model.crf_end.copy_(torch.randn(k))
    em = torch.randn(2, 4, k)
    mask = torch.tensor([[True] * 4, [True, True, True, False]])
    torch.set_grad_enabled(False)
    try:
        _check_against_brute_force(model, em, mask, k)
    finally:
        torch.set_grad_enabled(True)


def _check_against_brute_force(model: object, em: object, mask: object, k: int) -> None:
    mm = model.max_marginals(em, mask)

    def valid(path: tuple[int, ...]) -> bool:
        names = [WIKIANN_LABELS[i] for i in path]
        prev = "O"
        for n in names:
            if n.startswith("I-") and prev[2:] != n[2:]:
                return False
            prev = n
        return True

    for b in range(2):
        n = int(mask[b].sum())
        best, best_path = -1e9, None
        for path in itertools.product(range(k), repeat=n):
            if not valid(path):
                continue
            s = model.crf_start[path[0]] + model.crf_end[path[-1]] + sum(em[b, t, path[t]] for t in range(n))
            s = s + sum(model.crf_transitions[path[t - 1], path[t]] for t in range(1, n))
            if float(s) > best:
                best, best_path = float(s), path
        assert tuple(mm[b, :n].argmax(-1).tolist()) == best_path
        assert float(mm[b, :n].max(-1).values[0]) == pytest.approx(best, abs=1e-4)


def test_saved_folder_loads_without_bnner_tui_through_auto_map(tmp_path: Path) -> None:
    import torch

    tok, model = _tiny()
    out = tmp_path / "model"
    model.save_pretrained(out)
    tok.save_pretrained(out)
    config = json.loads((out / "config.json").read_text(encoding="utf-8"))
    assert config["model_type"] == "bnner-charword" and "AutoModelForTokenClassification" in config["auto_map"]
    assert (out / "modeling_bnner_charword.py").is_file() and (out / "configuration_bnner_charword.py").is_file()
    model.eval()
    sentence = [*SENTS[1], "ঢাকায়"]  # the last word was not in training
    enc = tok([sentence], is_split_into_words=True, return_tensors="pt")
    with torch.no_grad():
        expected_logits = model(**enc).logits[0]
    expected = expected_logits.argmax(-1).tolist()
    assert config["known_words"] == len({w for s in SENTS for w in s})
    # A fresh interpreter that never imports bnner_tui (run from elsewhere, -I ignores the user site).
    code = (
        "import sys, json, torch\n"
        "from transformers import AutoModelForTokenClassification, AutoTokenizer\n"
        f"p = {str(out)!r}\n"
        "m = AutoModelForTokenClassification.from_pretrained(p, trust_remote_code=True).eval()\n"
        "t = AutoTokenizer.from_pretrained(p, trust_remote_code=True)\n"
        f"e = t([{sentence!r}], is_split_into_words=True, return_tensors='pt')\n"
        "assert 'bnner_tui' not in sys.modules\n"
        "print(json.dumps(m(**e).logits[0].tolist()))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "HF_HUB_OFFLINE": "1", "HF_MODULES_CACHE": str(tmp_path / "modules")},
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    loaded = torch.tensor(json.loads(proc.stdout.strip().splitlines()[-1]))
    assert loaded.argmax(-1).tolist() == expected
    assert torch.allclose(loaded, expected_logits, atol=1e-5)


def test_a_word_not_seen_in_training_is_read_as_the_unknown_word() -> None:
    """Its own hash rows were never trained (or belong to another word): outside training they are
    not used, so changing them changes nothing; a training word's rows are used."""
    import torch

    tok, model = _tiny()
    model.eval()
    enc = tok([["ঢাকা", "ঢাকায়"]], is_split_into_words=True, return_tensors="pt")  # known, unknown

    def word_logits() -> torch.Tensor:
        with torch.no_grad():
            return model(**enc).logits[0]

    from bnner_tui.core.train.wordmodel.modeling_bnner_charword import word_hashes, words_from_pieces

    chars, _, _, _ = words_from_pieces(enc["input_ids"], enc["attention_mask"], model.piece_chars, model.piece_starts)
    known_hash, unknown_hash = word_hashes(chars[0], [])[:, 0].tolist()
    assert known_hash in model.known_hashes.tolist() and unknown_hash not in model.known_hashes.tolist()
    before = word_logits()
    buckets = model.config.hash_buckets
    with torch.no_grad():
        model.word_emb_a.weight[unknown_hash % buckets] += 5.0
    assert torch.equal(word_logits(), before)  # the unknown word's own row is not read
    with torch.no_grad():
        model.word_emb_a.weight[known_hash % buckets] += 5.0
    assert not torch.allclose(word_logits(), before)  # a training word's row is


def test_charword_refuses_a_non_character_tokenizer() -> None:
    wp = T.train_wordpiece(SENTS, vocab_size=200)
    with pytest.raises(Exception, match="character tokenizer"):
        M.build_model(M.ModelChoice("offline", "offline", "t"), WIKIANN_LABELS, tokenizer=wp, cfg=_cfg())


def test_cpu_preset_is_valid_and_uses_the_word_model() -> None:
    cfg = TrainConfig.from_preset("cpu")
    assert cfg.offline_arch == "charword" and cfg.model == "offline"
    assert cfg.early_stopping_patience is not None and cfg.eval_every == cfg.save_every
    with pytest.raises(Exception, match="offline_arch must be one of"):
        TrainConfig.from_preset("cpu", offline_arch="lstm")


@pytest.mark.slow
def test_cpu_preset_trains_tags_evaluates_and_publishes_on_demo(tmp_path: Path) -> None:
    from bnner_tui.core import publish
    from bnner_tui.core.tagger import Tagger
    from bnner_tui.core.train.evaluate import evaluate_run
    from bnner_tui.core.train.worker import run_worker

    run = tmp_path / "run"
    run.mkdir()
    values = dict(max_steps=6, eval_every=3, save_every=3, run_name="run", offline_vocab_size=2000)
    TrainConfig.from_preset("cpu", **values).to_toml(run / "config.toml")
    assert run_worker(run) == 0
    model_dir = run / "model"
    assert json.loads((model_dir / "config.json").read_text(encoding="utf-8"))["model_type"] == "bnner-charword"
    tagger = Tagger.load(str(model_dir))
    text = "রবীন্দ্রনাথ ঠাকুর কলকাতায় জন্মগ্রহণ করেন।"
    result = tagger.tag(text)
    assert [w.text for w in result.words][:2] == ["রবীন্দ্রনাথ", "ঠাকুর"]
    assert all(text[e.start : e.end] == e.text for e in result.entities)
    metrics = evaluate_run(run, "test")
    assert 0.0 <= metrics["overall"]["f1"] <= 1.0
    from transformers import pipeline

    from bnner_tui.core.card.render import card_text

    card = card_text(run)
    assert "trust_remote_code=True" in card and "`modeling_bnner_charword.py`" in card
    ner = pipeline("token-classification", model=str(model_dir), aggregation_strategy="first", trust_remote_code=True)
    assert isinstance(ner(text), list)
    files = {f.path_in_repo for f in publish.plan(run, "someone/charword").files}
    assert {"modeling_bnner_charword.py", "configuration_bnner_charword.py", "model.safetensors"} <= files
