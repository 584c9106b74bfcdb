"""Numbers that mean what they say: every word scored, one decoding, scores keyed by their source.

Real libraries and real files throughout: a tiny random-init BERT saved like a run's model, CoNLL
files on disk, the real `bnner-tui` commands; seqeval computes the reference scores independently.
"""

from __future__ import annotations

import itertools
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from bnner_tui.core.config import TrainConfig
from bnner_tui.core.decoding import Decoder, DecodingPolicy, transition_rules, viterbi
from bnner_tui.core.metrics import TrainMemory, entity_spans, error_breakdown, unseen_scores
from bnner_tui.core.train.outputs import metrics_document
from bnner_tui.tui.cli import app

# ---------------------------------------------------------------------------- decoding


def _valid_iob2(labels: list[str]) -> bool:
    prev = "O"
    for lab in labels:
        if lab.startswith("I-") and prev[2:] != lab[2:]:
            return False
        prev = lab
    return True


def test_viterbi_is_the_best_valid_path_by_brute_force() -> None:
    labels = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]
    allowed, start, end = transition_rules(labels)
    rng = np.random.default_rng(0)
    for _ in range(30):
        n = int(rng.integers(1, 5))
        logp = np.log(rng.dirichlet(np.ones(len(labels)), size=n))
        best, best_score = None, -np.inf
        for path in itertools.product(range(len(labels)), repeat=n):
            names = [labels[i] for i in path]
            if not _valid_iob2(names):
                continue
            score = sum(logp[t, path[t]] for t in range(n))
            if score > best_score:
                best, best_score = list(path), score
        assert viterbi(logp, allowed, start, end).tolist() == best


def test_decoder_output_is_valid_iob2_and_argmax_differs_on_orphans() -> None:
    words = ["a", "b", "c"]
    # word 0 is most likely I-PER (an orphan), then I-PER again
    probs = np.array([[0.1, 0.3, 0.5, 0.05, 0.05], [0.1, 0.1, 0.7, 0.05, 0.05], [0.9, 0.025, 0.025, 0.025, 0.025]])
    labels = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]
    viterbi_labels = Decoder(labels).decode(words, probs).labels
    assert viterbi_labels == ["B-PER", "I-PER", "O"]  # 0.3*0.7 beats O*0.1 and the forbidden orphan
    assert Decoder(labels, DecodingPolicy("argmax")).decode(words, probs).labels == ["O", "O", "O"]
    assert Decoder(labels, DecodingPolicy("repair")).decode(words, probs).labels == ["B-PER", "I-PER", "O"]
    # punctuation: kept by default (the data's convention), trimmed only when asked
    p2 = np.array([[0.0, 0.9, 0.1, 0, 0], [0.0, 0.1, 0.9, 0, 0]])
    assert Decoder(labels).decode(["ঢাকা", "।"], p2).labels == ["B-PER", "I-PER"]
    assert Decoder(labels, DecodingPolicy(trim_punctuation=True)).decode(["ঢাকা", "।"], p2).labels == ["B-PER", "O"]


# ---------------------------------------------------------------------------- generalisation and errors


def test_unseen_scores_and_error_breakdown_by_hand() -> None:
    train = TrainMemory.from_split([["ঢাকা", "শহর"], ["রহিম", "এল"]], [["B-LOC", "O"], ["B-PER", "O"]])
    assert train.surfaces == {"ঢাকা", "রহিম"}
    tokens = [["ঢাকা", "শহর"], ["করিম", "ও", "রহিম"]]
    gold = [["B-LOC", "O"], ["B-PER", "O", "B-PER"]]
    pred = [["B-LOC", "O"], ["B-LOC", "O", "B-PER"]]
    u = unseen_scores(gold, pred, tokens, train)
    # sentence 0 is a training sentence; sentence 1 is new: 1 of its 2 entities right
    assert u["sentences"]["sentences"] == 1 and u["sentences"]["support"] == 2
    assert u["sentences"]["f1"] == pytest.approx(0.5)
    # unseen surface forms: only করিম (gold PER, predicted LOC): support 1, nothing right
    assert u["entities"]["support"] == 1 and u["entities"]["predicted"] == 1 and u["entities"]["f1"] == 0.0
    b = error_breakdown(
        [["B-PER", "I-PER", "O", "B-LOC", "O", "B-ORG", "O", "B-PER", "O"]],
        [["B-PER", "I-PER", "O", "B-ORG", "O", "B-ORG", "I-ORG", "O", "B-LOC"]],
    )
    assert b["overall"] == {
        "exact": 1,
        "wrong_type": 1,
        "wrong_boundary": 1,
        "wrong_type_and_boundary": 0,
        "missed": 1,
        "spurious": 1,
    }
    assert b["per_type"]["LOC"]["wrong_type"] == 1 and b["per_type"]["LOC"]["spurious"] == 1
    assert b["per_type"]["PER"] == {**dict.fromkeys(b["overall"], 0), "exact": 1, "missed": 1}


def test_scores_on_other_data_never_overwrite_the_training_data() -> None:
    own = {"overall": {"f1": 0.8}, "per_type": {}}
    doc = metrics_document("validation", own, data_spec="wikiann", data_name="WikiANN", best_step=10, best_f1=0.8)
    doc = metrics_document(
        "train",
        {"overall": {"f1": 0.3}},
        data_spec="/x/other",
        data_name="other",
        own_data=False,
        train_data="wikiann",
        existing=doc,
    )
    doc = metrics_document(
        "validation",
        {"overall": {"f1": 0.1}},
        data_spec="/x/other",
        data_name="other",
        own_data=False,
        train_data="wikiann",
        existing=doc,
    )
    assert doc["data"] == {"spec": "wikiann", "name": "WikiANN"}
    assert list(doc["splits"]) == ["validation"] and doc["splits"]["validation"]["overall"]["f1"] == 0.8
    other = doc["other_data"]["/x/other"]
    assert other["splits"]["train"]["overall"]["f1"] == 0.3 and other["splits"]["validation"]["data"] == "/x/other"
    assert doc["splits"]["validation"]["level"] == "word" and doc["decoding"]["method"] == "viterbi"
    assert doc["best"] == {"step": 10, "f1": 0.8}


# ---------------------------------------------------------------------------- every word, tag == eval

# Words the tiny model's tokenizer was trained on (tests/conftest.py), so pieces are known words.
_SENTS = [
    ("ঢাকা বাংলাদেশের রাজধানী ।", "B-LOC O O O"),
    ("রবীন্দ্রনাথ ঠাকুর কলকাতায় জন্মগ্রহণ করেন ।", "B-PER I-PER B-LOC O O O"),
    ("বাংলাদেশ ক্রিকেট বোর্ড মিরপুরে অবস্থিত ।", "B-ORG I-ORG I-ORG B-LOC O O"),
    ("শেখ হাসিনা , সিডনি ক্রিকেট গ্রাউন্ড , জাতীয় উদ্যান", "B-PER I-PER O B-LOC I-LOC I-LOC I-LOC O O"),
    ("Dhaka University and Google in London .", "B-ORG I-ORG O B-ORG O B-LOC I-LOC"),
]
MAX_LENGTH = 24
TINY_FLAGS = ["--preset", "cpu-demo", "--set", "offline_hidden_size=32", "--set", "offline_layers=1"]
TINY_FLAGS += ["--set", "offline_heads=2", "--set", "offline_vocab_size=500", "--set", "logging_steps=1"]


def _conll(sentences: list[tuple[list[str], list[str]]]) -> str:
    return "\n\n".join("\n".join(f"{w}\t{t}" for w, t in zip(ws, ts, strict=True)) for ws, ts in sentences) + "\n"


def _long_data(root: Path) -> tuple[Path, list[tuple[list[str], list[str]]]]:
    """train = the five sentences; validation = them plus three sentences far longer than MAX_LENGTH pieces."""
    base = [(s.split(), t.split()) for s, t in _SENTS]
    long = []
    for k in range(3):
        words: list[str] = []
        tags: list[str] = []
        for s, t in itertools.islice(itertools.cycle(base[k:] + base[:k]), 9):
            words += s
            tags += t
        long.append((words, tags))
    dev = base[1:] + long
    d = root / "data"
    d.mkdir()
    (d / "train.conll").write_text(_conll(base), encoding="utf-8")
    (d / "validation.conll").write_text(_conll(dev), encoding="utf-8")
    return d, dev


def _seqeval_reference(gold: list[list[str]]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for sent in entity_spans(gold):
        for typ, _, _ in sent:
            counts[typ] = counts.get(typ, 0) + 1
    return counts


@pytest.fixture
def long_run(tmp_path: Path) -> tuple[Path, list[tuple[list[str], list[str]]]]:
    from conftest import build_tiny_model

    data, dev = _long_data(tmp_path)
    run = tmp_path / "runs" / "long"
    run.mkdir(parents=True)
    TrainConfig(data=str(data), max_length=MAX_LENGTH, run_name="long").to_toml(run / "config.toml")
    build_tiny_model(run / "model", seed=3, max_length=MAX_LENGTH)
    return run, dev


@pytest.mark.slow
def test_eval_scores_every_word_and_tag_jsonl_gives_the_same_f1(long_run, tmp_path: Path) -> None:
    from seqeval.metrics import f1_score
    from seqeval.scheme import IOB2

    run, dev = long_run
    runner = CliRunner()
    result = runner.invoke(app, ["eval", "long", "--root", str(run.parent), "--split", "validation"])
    assert result.exit_code == 0, result.output
    entry = json.loads((run / "metrics.json").read_text(encoding="utf-8"))["splits"]["validation"]
    gold = [t for _, t in dev]
    # The data's own counts, although three sentences are far longer than the model's window.
    assert entry["windowed_sentences"] == 3
    assert entry["words"] == sum(len(w) for w, _ in dev) and entry["sentences"] == len(dev)
    ref = _seqeval_reference(gold)
    assert {t: v["support"] for t, v in entry["per_type"].items()} == ref
    assert entry["entities"] == sum(ref.values())
    assert "windows" in result.output and "missed" in result.output  # counts and error table printed

    # `tag --format jsonl` on the same sentences (words joined by spaces), scored independently.
    lines = [" ".join(w) for w, _ in dev]
    text_file = tmp_path / "dev.txt"
    text_file.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = runner.invoke(app, ["tag", "--model", str(run), "--file", str(text_file), "--format", "jsonl"])
    assert result.exit_code == 0, result.output
    records = [json.loads(x) for x in result.output.splitlines() if x.startswith("{")]
    assert len(records) == len(dev)
    pred: list[list[str]] = []
    for (words, _), rec in zip(dev, records, strict=True):
        starts, pos = {}, 0
        for i, w in enumerate(words):
            starts[pos] = i
            pos += len(w) + 1
        labels = ["O"] * len(words)
        for e in rec["entities"]:
            first = starts[e["start"]]
            last = starts[[s for s in starts if s < e["end"]][-1]]
            labels[first] = f"B-{e['label']}"
            for k in range(first + 1, last + 1):
                labels[k] = f"I-{e['label']}"
        pred.append(labels)
    assert sum(len(r["entities"]) for r in records) > 0
    tag_f1 = f1_score(gold, pred, mode="strict", scheme=IOB2)
    assert tag_f1 == pytest.approx(entry["overall"]["f1"], abs=1e-9)


@pytest.mark.slow
def test_eval_on_other_data_keeps_the_runs_own_scores(long_run, tmp_path: Path) -> None:
    run, _ = long_run
    other = tmp_path / "other"
    other.mkdir()
    shutil.copy(run.parent.parent / "data" / "validation.conll", other / "train.conll")
    runner = CliRunner()
    assert runner.invoke(app, ["eval", "long", "--root", str(run.parent)]).exit_code == 0
    before = json.loads((run / "metrics.json").read_text(encoding="utf-8"))
    result = runner.invoke(app, ["eval", "long", "--root", str(run.parent), "--data", str(other), "--split", "train"])
    assert result.exit_code == 0, result.output
    after = json.loads((run / "metrics.json").read_text(encoding="utf-8"))
    assert after["splits"] == before["splits"] and "train" not in after["splits"]
    (node,) = after["other_data"].values()
    assert node["splits"]["train"]["data"] == str(other)

    # The card lists the run's own data; other data only when asked, each with its own dataset.
    from bnner_tui.core.card.facts import load_run
    from bnner_tui.core.card.render import card_text
    from bnner_tui.core.card.validate import validate_card

    text = card_text(run)
    assert "other`" not in text and "local data `data`, validation split" in text
    with_other = card_text(load_run(run), include_other_data=True)
    assert "local data `other`, train split" in with_other
    assert "viterbi decoding" in with_other and "word-level" in with_other
    assert validate_card(with_other, run=run) == []


@pytest.mark.slow
def test_a_run_without_validation_split_writes_complete_metrics_and_no_lock(tmp_path: Path) -> None:
    data, _ = _long_data(tmp_path)
    (data / "validation.conll").unlink()
    root = tmp_path / "runs"
    args = [
        "train",
        *TINY_FLAGS,
        "--data",
        str(data),
        "--max-steps",
        "2",
        "--run-name",
        "nv",
        "--output-root",
        str(root),
    ]
    result = CliRunner().invoke(app, args, env={"COLUMNS": "160"})
    assert result.exit_code == 0, result.output
    out = result.output
    warn = out.index("no scores for this run")
    assert warn < out.index("Finished at step 2")  # warned at the start, not only at the end
    doc = json.loads((root / "nv" / "metrics.json").read_text(encoding="utf-8"))
    assert doc["splits"] == {} and "validation" in doc["not_scored"] and doc["level"] == "word"
    assert f"Metrics: {root / 'nv' / 'metrics.json'}" in out.replace("\n", "")
    assert not (root / "nv" / "run.lock").exists()
