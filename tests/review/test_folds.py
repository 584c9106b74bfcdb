"""Out-of-fold predictions: no sentence is predicted by a model that saw it; finished folds are not redone."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from bnner_tui.core.errors import BnnerError
from bnner_tui.core.review.find import load_fold, read_suspects, run_review, split_folds
from bnner_tui.core.review.model import FoldBudget, LexiconModel, lexicon_fold_model, offline_fold_model


def test_split_folds_is_a_seeded_partition() -> None:
    folds = split_folds(103, 5, seed=7)
    flat = np.concatenate(folds)
    assert sorted(flat.tolist()) == list(range(103))
    assert {len(f) for f in folds} <= {20, 21}
    assert all(np.array_equal(a, b) for a, b in zip(folds, split_folds(103, 5, seed=7), strict=True))
    assert not all(np.array_equal(a, b) for a, b in zip(folds, split_folds(103, 5, seed=8), strict=True))
    with pytest.raises(BnnerError):
        split_folds(10, 1)


class Recording:
    """Wraps a real fold trainer and records which sentences each fold trained on and predicted."""

    def __init__(self, inner):
        self.inner = inner
        self.trained: list[set[int]] = []
        self.predicted: list[list[list[str]]] = []

    def __call__(self, train, **kw):
        self.trained.append({s.index for s in train})
        model = self.inner(train, **kw)
        outer = self

        class Spy:
            label_names = model.label_names

            def predict_proba(self, words_batch):
                outer.predicted.append([list(w) for w in words_batch])
                return model.predict_proba(words_batch)

        return Spy()


@pytest.mark.slow
def test_no_sentence_is_predicted_by_a_model_that_saw_it(tmp_path: Path, demo_source) -> None:
    """With the real offline model (a few steps): each fold trains on exactly the other folds' sentences."""
    rec = Recording(offline_fold_model)
    out = tmp_path / "rev"
    n = 90
    result = run_review(demo_source, out=out, folds=3, limit=n, trainer=rec, budget=FoldBudget(max_steps=2, threads=1))
    tokens = demo_source.dataset["train"]["tokens"][:n]
    seen_predicted: set[int] = set()
    for k in range(3):
        indices, probs, _ = load_fold(out / "folds" / f"fold-{k}.npz")
        held = set(indices.tolist())
        assert not held & rec.trained[k], "a fold's model trained on a sentence it then predicted"
        assert held | rec.trained[k] == set(range(n))
        assert rec.predicted[k] == [tokens[i] for i in indices]
        assert [p.shape[0] for p in probs] == [len(tokens[i]) for i in indices]
        assert all(np.allclose(p.sum(axis=1), 1.0, atol=1e-4) for p in probs)
        seen_predicted |= held
    assert seen_predicted == set(range(n))
    assert result.params["status"] == "finished"


def test_lexicon_model_knows_nothing_of_unseen_sentences(demo_source) -> None:
    """The property the folds rely on, made visible: a word met only in held-out data gets the prior."""
    from bnner_tui.core.review.model import Sentence

    names = demo_source.label_names
    train = [Sentence(["Rahim", "Uddin"], [1, 2], 0)]
    model = LexiconModel(train, names)
    seen, unseen = model.predict_proba([["Rahim", "Zebra"]])[0]
    assert names[int(seen.argmax())] == "B-PER"
    assert np.allclose(unseen, model.prior)


def test_review_writes_ranked_suspects_and_resumes(tmp_path: Path, demo_source) -> None:
    rec = Recording(lexicon_fold_model)
    out = tmp_path / "rev"
    first = run_review(demo_source, out=out, folds=4, trainer=rec)
    assert len(rec.trained) == 4
    suspects = read_suspects(out)
    assert suspects and [s["rank"] for s in suspects] == list(range(1, len(suspects) + 1))
    assert [s["score"] for s in suspects] == sorted(s["score"] for s in suspects)
    for s in suspects[:20]:
        assert len(s["words"]) == len(s["given"]) == len(s["suggested"])
        assert s["flagged"]
    params = json.loads((out / "review.json").read_text(encoding="utf-8"))
    assert params["suspects"] == len(first.suspects) and params["folds"] == 4

    # A finished review reruns without training anything; a lost fold is the only one redone.
    again = Recording(lexicon_fold_model)
    run_review(demo_source, out=out, folds=4, trainer=again)
    assert again.trained == []
    (out / "folds" / "fold-2.npz").unlink()
    run_review(demo_source, out=out, folds=4, trainer=again)
    assert len(again.trained) == 1 and again.trained[0] == rec.trained[2]
    assert read_suspects(out) == suspects

    with pytest.raises(BnnerError, match="other settings"):
        run_review(demo_source, out=out, folds=3, trainer=again)


def test_cli_review_prints_suspects_and_confusions(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from bnner_tui.tui.cli import app

    out = tmp_path / "r"
    res = CliRunner().invoke(app, ["data", "review", "demo", "--model", "lexicon", "--folds", "3", "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "suspect sentences" in res.output and "most common confusions" in res.output
    assert (out / "suspects.jsonl").exists()
    bad = CliRunner().invoke(app, ["data", "review", "demo", "--split", "nope", "--out", str(out)])
    assert bad.exit_code == 2 and "no 'nope' split" in bad.output
