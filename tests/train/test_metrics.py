"""Word-level metrics against hand-computed values, and the tutorial's piece-level inflation."""

from __future__ import annotations

import numpy as np
import pytest

from bnner_tui.core.labels import WIKIANN_LABELS
from bnner_tui.core.metrics import (
    compute_piece_metrics,
    compute_word_metrics,
    first_piece_mask,
    make_compute_metrics,
    split_metrics,
)

L = {name: i for i, name in enumerate(WIKIANN_LABELS)}
X = -100


def test_first_strategy_scores_words_not_pieces() -> None:
    # [CLS] w0(2 pieces) w1 w2(2 pieces) [SEP]; only first pieces carry labels.
    labels = [[X, L["B-PER"], X, L["O"], L["B-LOC"], X, X]]
    # Predictions at non-first pieces are garbage on purpose: they must not count.
    preds = [[0, L["B-PER"], L["B-ORG"], L["O"], L["B-LOC"], L["B-ORG"], 0]]
    m = compute_word_metrics(np.array(preds), np.array(labels), WIKIANN_LABELS)
    assert m["overall"] == {"precision": 1.0, "recall": 1.0, "f1": 1.0, "accuracy": 1.0}
    assert m["words"] == 3
    assert m["per_type"]["PER"]["support"] == 1 and m["per_type"]["LOC"]["support"] == 1


def test_hand_computed_precision_recall() -> None:
    # gold: PER(w0-w1), O, LOC(w3); pred: PER(w0) only (w1 predicted O), O, ORG(w3)
    labels = [[X, L["B-PER"], L["I-PER"], L["O"], L["B-LOC"], X]]
    preds = [[0, L["B-PER"], L["O"], L["O"], L["B-ORG"], 0]]
    m = compute_word_metrics(preds, labels, WIKIANN_LABELS)
    # strict: predicted entities PER(0-0), ORG(3) -> 0 correct; gold PER(0-1), LOC(3)
    assert m["overall"]["precision"] == 0.0
    assert m["overall"]["recall"] == 0.0
    assert m["overall"]["accuracy"] == pytest.approx(2 / 4)
    cm = m["confusion"]
    assert cm["labels"] == WIKIANN_LABELS
    assert cm["matrix"][L["I-PER"]][L["O"]] == 1
    assert cm["matrix"][L["B-LOC"]][L["B-ORG"]] == 1
    assert cm["matrix"][L["B-PER"]][L["B-PER"]] == 1
    assert sum(map(sum, cm["matrix"])) == 4


def test_strict_mode_rejects_orphan_inside_tags() -> None:
    labels = [[L["B-PER"], L["I-PER"]]]
    preds = [[L["I-PER"], L["I-PER"]]]  # lenient conlleval would count an entity; strict IOB2 does not
    m = compute_word_metrics(preds, labels, WIKIANN_LABELS)
    assert m["overall"]["f1"] == 0.0
    assert m["overall"]["accuracy"] == pytest.approx(0.5)


def test_all_strategy_piece_level_is_inflated_word_level_is_not() -> None:
    # words: w0 = 3 pieces (B-PER copied to every piece, as the tutorial does), w1 O, w2 B-LOC
    word_ids = [[None, 0, 0, 0, 1, 2, None]]
    labels = [[X, L["B-PER"], L["B-PER"], L["B-PER"], L["O"], L["B-LOC"], X]]
    preds = [[0, L["B-PER"], L["B-PER"], L["B-PER"], L["O"], L["O"], 0]]  # LOC missed
    entry = split_metrics(preds, labels, WIKIANN_LABELS, strategy="all", word_ids=word_ids)
    # word level: gold PER, LOC; predicted PER -> P=1, R=1/2, F1=2/3
    assert entry["overall"]["precision"] == 1.0
    assert entry["overall"]["recall"] == pytest.approx(0.5)
    assert entry["overall"]["f1"] == pytest.approx(2 / 3)
    # piece level: three PER "entities" all right + LOC missed -> R=3/4, F1=6/7 (inflated)
    piece = entry["piece_level"]
    assert piece["level"] == "piece"
    assert piece["overall"]["recall"] == pytest.approx(0.75)
    assert piece["overall"]["f1"] == pytest.approx(6 / 7)
    assert piece["overall"]["f1"] > entry["overall"]["f1"]


def test_all_b2i_uses_first_piece_label() -> None:
    word_ids = [[None, 0, 0, 1, None]]
    labels = [[X, L["B-ORG"], L["I-ORG"], L["I-ORG"], X]]
    preds = [[0, L["B-ORG"], L["O"], L["I-ORG"], 0]]  # second piece wrong: irrelevant at word level
    words = compute_word_metrics(preds, labels, WIKIANN_LABELS, word_ids)
    assert words["overall"]["f1"] == 1.0
    pieces = compute_piece_metrics(preds, labels, WIKIANN_LABELS)
    assert pieces["overall"]["f1"] == 0.0


def test_logits_and_first_strategy_has_no_piece_level() -> None:
    labels = np.array([[X, L["B-LOC"], L["O"], X]])
    logits = np.zeros((1, 4, len(WIKIANN_LABELS)))
    logits[0, 1, L["B-LOC"]] = 5.0
    logits[0, 2, L["O"]] = 5.0
    entry = split_metrics(logits, labels, WIKIANN_LABELS, strategy="first", loss=0.5)
    assert entry["piece_level"] is None and entry["loss"] == 0.5
    assert entry["overall"]["f1"] == 1.0
    with pytest.raises(ValueError):
        split_metrics(logits, labels, WIKIANN_LABELS, strategy="all")


def test_first_piece_mask() -> None:
    assert first_piece_mask([None, 0, 0, 1, 2, 2, None]) == [False, True, False, True, True, False, False]


def test_trainer_compute_metrics_is_flat_and_sinks_full_result() -> None:
    seen: list[dict] = []
    compute = make_compute_metrics(WIKIANN_LABELS, sink=seen.append)

    class EvalPred:
        predictions = np.array([[0, L["B-PER"], L["I-PER"], 0]])
        label_ids = np.array([[X, L["B-PER"], L["I-PER"], X]])

    flat = compute(EvalPred())
    assert flat["f1"] == 1.0 and flat["PER_f1"] == 1.0
    assert all(isinstance(v, float) for v in flat.values())
    assert seen and seen[0]["per_type"]["PER"]["support"] == 1
