"""Every score a run's metrics.json holds, one row per (data source, split): what the Runs screen compares.

Why here and not in the screen: after a label review the question is "did the fix help the
model, or only the score?", which needs each run scored on the original and on the corrected
dev split, side by side, each row saying which data it is. metrics.json keeps the run's own
data under `splits` and any other data under `other_data` (core.train.outputs.metrics_document);
this flattens both, standard library only, so the Runs screen can import it at start-up.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Score:
    data: str  # the data spec the score was computed on
    own: bool  # the run's own training data (else: evaluated on other data)
    split: str
    f1: float | None
    precision: float | None
    recall: float | None
    support: int | None


def _score(data: str, own: bool, split: str, entry: dict[str, Any]) -> Score:
    overall = entry.get("overall") or {}
    per_type = entry.get("per_type") or {}
    support = sum(int(v.get("support") or 0) for v in per_type.values()) if per_type else None
    return Score(data, own, split, overall.get("f1"), overall.get("precision"), overall.get("recall"), support)


def scores_of(metrics: dict[str, Any]) -> list[Score]:
    """The run's own data first, then every other data source, splits in file order."""
    own_spec = str((metrics.get("data") or {}).get("spec") or "own data")
    out = [_score(str(e.get("data") or own_spec), True, s, e) for s, e in (metrics.get("splits") or {}).items()]
    for node in (metrics.get("other_data") or {}).values():
        spec = str(node.get("spec") or "?")
        out += [_score(spec, False, s, e) for s, e in (node.get("splits") or {}).items()]
    return out


def run_scores(run_dir: str | Path) -> list[Score]:
    """scores_of(run/metrics.json); empty when the run has none yet."""
    try:
        return scores_of(json.loads((Path(run_dir) / "metrics.json").read_text(encoding="utf-8")))
    except (OSError, ValueError):
        return []
