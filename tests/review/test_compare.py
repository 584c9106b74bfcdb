"""Scores by data: a run scored on its own dev split and on a corrected one keeps both, each named."""

from __future__ import annotations

from bnner_tui.core.review.compare import scores_of
from bnner_tui.core.train.outputs import metrics_document


def _entry(f1: float) -> dict:
    return {"overall": {"f1": f1, "precision": f1, "recall": f1}, "per_type": {"PER": {"support": 7}}}


def test_own_and_corrected_dev_scores_are_both_listed() -> None:
    doc = metrics_document("validation", _entry(0.886), data_spec="orig", data_name="orig", own_data=True)
    doc = metrics_document(
        "validation", _entry(0.885), data_spec="fixed/", data_name="fixed/", own_data=False, existing=doc
    )
    rows = scores_of(doc)
    assert [(r.data, r.own, r.split, r.f1, r.support) for r in rows] == [
        ("orig", True, "validation", 0.886, 7),
        ("fixed/", False, "validation", 0.885, 7),
    ]
    assert scores_of({}) == []
