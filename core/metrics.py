"""Metrics that mean what they say: entity-level seqeval at the WORD level, and how to show them.

Why word level: a NER dataset labels words, and a user tags words. The notebook recipe this
project replaces copied each word's label to every subword piece and scored the pieces, so a
long entity split into many pieces counted many times and F1 came out inflated. Here evaluation
(`core.train.evaluate`) judges each word by its FIRST piece's probabilities (what a tagger shows
a user) decoded by `core.decoding`, `word_scores` scores those labels with seqeval's strict IOB2
mode, and the tutorial's piece-level number (`compute_piece_metrics`) is only ever reported next
to it, labelled `piece_level`, so users can see the inflation.

seqeval imports scikit-learn (slow), so it is imported inside functions.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from bnner_tui.core.display import NO_VALUE, number
from bnner_tui.core.labels import IGNORE_INDEX


def _as_label_ids(predictions: Any) -> np.ndarray | list:
    """Accept logits (n, L, C) or label ids (n, L); ragged lists pass through unchanged."""
    if isinstance(predictions, (list, tuple)) and predictions and not np.isscalar(predictions[0]):
        lengths = {len(p) for p in predictions}
        if len(lengths) > 1:
            return [np.asarray(p) for p in predictions]
    arr = np.asarray(predictions)
    if arr.ndim == 3:
        arr = arr.argmax(-1)
    return arr


def piece_sequences(
    predictions: Any, labels: Any, label_names: Sequence[str]
) -> tuple[list[list[str]], list[list[str]]]:
    """Gold and predicted labels of every labelled piece (gold not -100) as if it were a word: the tutorial's view."""
    preds = _as_label_ids(predictions)
    y_true: list[list[str]] = []
    y_pred: list[list[str]] = []
    for i in range(len(labels)):
        lab = np.asarray(labels[i])
        pred = np.asarray(preds[i])
        positions = [j for j in range(len(lab)) if lab[j] != IGNORE_INDEX]
        y_true.append([label_names[int(lab[j])] for j in positions])
        y_pred.append([_safe_name(label_names, int(pred[j])) for j in positions])
    return y_true, y_pred


def _safe_name(label_names: Sequence[str], idx: int) -> str:
    """A padded prediction (-100) or an id beyond the label set counts as 'O', never a crash."""
    return label_names[idx] if 0 <= idx < len(label_names) else "O"


def score_sequences(y_true: list[list[str]], y_pred: list[list[str]]) -> dict[str, Any]:
    """seqeval strict IOB2 entity scores, overall and per type, plus label accuracy."""
    from seqeval.metrics import accuracy_score, classification_report
    from seqeval.scheme import IOB2

    n_labels = sum(len(s) for s in y_true)
    accuracy = float(accuracy_score(y_true, y_pred)) if n_labels else 0.0
    report = classification_report(y_true, y_pred, mode="strict", scheme=IOB2, output_dict=True, zero_division=0)
    per_type: dict[str, dict[str, float | int]] = {}
    for name, row in report.items():
        if name in ("micro avg", "macro avg", "weighted avg"):
            continue
        per_type[name] = {
            "precision": float(row["precision"]),
            "recall": float(row["recall"]),
            "f1": float(row["f1-score"]),
            "support": int(row["support"]),
        }
    micro = report.get("micro avg", {"precision": 0.0, "recall": 0.0, "f1-score": 0.0})
    overall = {
        "precision": float(micro["precision"]),
        "recall": float(micro["recall"]),
        "f1": float(micro["f1-score"]),
        "accuracy": accuracy,
    }
    return {"overall": overall, "per_type": dict(sorted(per_type.items()))}


def confusion_matrix(y_true: list[list[str]], y_pred: list[list[str]], label_names: Sequence[str]) -> dict[str, Any]:
    """Per-label confusion counts at the word level: rows = gold, columns = predicted."""
    index = {name: i for i, name in enumerate(label_names)}
    matrix = [[0] * len(label_names) for _ in label_names]
    for t_seq, p_seq in zip(y_true, y_pred, strict=True):
        for t, p in zip(t_seq, p_seq, strict=True):
            matrix[index[t]][index.get(p, index.get("O", 0))] += 1
    return {"labels": list(label_names), "matrix": matrix}


def compute_piece_metrics(predictions: Any, labels: Any, label_names: Sequence[str]) -> dict[str, Any]:
    """The tutorial's score over every labelled PIECE (inflated; report only as `piece_level`)."""
    y_true, y_pred = piece_sequences(predictions, labels, label_names)
    out = score_sequences(y_true, y_pred)
    out["level"] = "piece"
    out["pieces"] = sum(len(s) for s in y_true)
    return out


# ---- every word, decoded: the scores evaluation reports ------------------------------------------


def data_key(spec: str) -> str:
    """A data source's identity for metrics.json: local paths resolved, Hub/demo specs as written."""
    s = str(spec or "").strip()
    if not s or s == "demo" or s == "wikiann" or s.startswith("hub:"):
        return s or "demo"
    from pathlib import Path

    try:
        return str(Path(s).expanduser().resolve())
    except OSError:
        return s


class TrainMemory:
    """What the training split contains, to score generalisation instead of memory.

    `sentences`: the training sentences as word tuples; `surfaces`: the surface forms (words
    joined by a space) of the training split's gold entities, of any type.
    """

    def __init__(self, sentences: set[tuple[str, ...]], surfaces: set[str]) -> None:
        self.sentences = sentences
        self.surfaces = surfaces

    @classmethod
    def from_split(cls, tokens: Sequence[Sequence[str]], tags: Sequence[Sequence[str]]) -> TrainMemory:
        sentences = {tuple(t) for t in tokens}
        surfaces: set[str] = set()
        for toks, ents in zip(tokens, entity_spans(tags), strict=True):
            surfaces.update(" ".join(toks[s:e]) for _, s, e in ents)
        return cls(sentences, surfaces)


def entity_spans(sequences: Sequence[Sequence[str]]) -> list[list[tuple[str, int, int]]]:
    """Per sentence, `(type, start, end_exclusive)` of each entity, read by seqeval's strict IOB2 rules.

    seqeval's own extractor (`seqeval.scheme.Entities`), so the spans are exactly the ones its
    strict score counts: no second hand-rolled entity reader.
    """
    from seqeval.scheme import IOB2, Entities

    seqs = [list(s) for s in sequences]
    if not any(seqs):
        return [[] for _ in seqs]
    ents = Entities(seqs, IOB2, suffix=False, delimiter="-")
    out: list[list[tuple[str, int, int]]] = [[] for _ in seqs]
    for e in (x for sent in ents.entities for x in sent):
        out[e.sent_id].append((e.tag, e.start, e.end))
    return out


def _prf(tp: int, n_pred: int, n_gold: int) -> dict[str, float | int]:
    p = tp / n_pred if n_pred else 0.0
    r = tp / n_gold if n_gold else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"precision": p, "recall": r, "f1": f, "support": n_gold, "predicted": n_pred}


def unseen_scores(
    y_true: Sequence[Sequence[str]],
    y_pred: Sequence[Sequence[str]],
    tokens: Sequence[Sequence[str]],
    memory: TrainMemory,
) -> dict[str, Any]:
    """F1 on what training could not have taught by heart.

    `sentences`: strict IOB2 scores on the sentences whose words do not occur as a training
    sentence (support: gold entities in them; `sentences`: how many). `entities`: exact-match
    precision/recall/F1 restricted to entities whose surface form never is a training entity:
    gold entities with an unseen surface form (support) against predicted entities with an
    unseen surface form.
    """
    keep = [i for i, t in enumerate(tokens) if tuple(t) not in memory.sentences]
    sent = score_sequences([list(y_true[i]) for i in keep], [list(y_pred[i]) for i in keep]) if keep else None
    gold_spans, pred_spans = entity_spans(y_true), entity_spans(y_pred)
    tp = n_gold = n_pred = 0
    for toks, g, p in zip(tokens, gold_spans, pred_spans, strict=True):
        g_new = {x for x in g if " ".join(toks[x[1] : x[2]]) not in memory.surfaces}
        p_new = {x for x in p if " ".join(toks[x[1] : x[2]]) not in memory.surfaces}
        n_gold += len(g_new)
        n_pred += len(p_new)
        tp += len(g_new & p_new)
    sentences: dict[str, Any] = {"sentences": len(keep), "of_sentences": len(tokens)}
    if sent is not None:
        sentences.update(sent["overall"])
        sentences["support"] = sum(int(v["support"]) for v in sent["per_type"].values())
    else:
        sentences.update({"precision": None, "recall": None, "f1": None, "support": 0})
    entities = _prf(tp, n_pred, n_gold)
    entities["of_entities"] = sum(len(g) for g in gold_spans)
    return {"sentences": sentences, "entities": entities}


BREAKDOWN_KEYS = ("exact", "wrong_type", "wrong_boundary", "wrong_type_and_boundary", "missed", "spurious")


def error_breakdown(y_true: Sequence[Sequence[str]], y_pred: Sequence[Sequence[str]]) -> dict[str, Any]:
    """SemEval-2013 error categories (nervaluate), overall and per type.

    exact: span and type right; wrong_type: span right, type wrong; wrong_boundary: type right,
    span overlaps but differs; wrong_type_and_boundary: overlaps, both wrong; missed: a gold
    entity no prediction overlaps; spurious: a prediction no gold entity overlaps.
    Per type, the first five count the gold entities of that type (nervaluate run with only
    that type's gold entities against all predictions), `spurious` the predictions of that type.
    nervaluate's own per-type view filters predictions too, which turns every wrong type into a
    miss plus a spurious entity; that is not the question "what goes wrong with PER?".
    """
    from nervaluate import Evaluator
    from nervaluate.loaders import ListLoader

    true = [list(s) for s in y_true]
    pred = [list(s) for s in y_pred]
    types = sorted({lab.split("-", 1)[-1] for seq in (*true, *pred) for lab in seq if lab != "O"})
    if not types:
        return {"overall": dict.fromkeys(BREAKDOWN_KEYS, 0), "per_type": {}}

    def run(gold: list[list[str]]) -> dict[str, Any]:
        return Evaluator(gold, pred, tags=types, loader="list").evaluate()

    def cats(r: dict[str, Any]) -> dict[str, int]:
        strict, exact, ent_type = r["strict"], r["exact"], r["ent_type"]
        wrong_type = int(exact.correct - strict.correct)
        wrong_boundary = int(ent_type.correct - strict.correct)
        return {
            "exact": int(strict.correct),
            "wrong_type": wrong_type,
            "wrong_boundary": wrong_boundary,
            "wrong_type_and_boundary": int(strict.incorrect) - wrong_type - wrong_boundary,
            "missed": int(strict.missed),
            "spurious": int(strict.spurious),
        }

    full = run(true)
    overall = cats(full["overall"])
    pred_entities = ListLoader().load(pred)  # the same reading (and order) the Evaluator used
    spurious_by_type: dict[str, int] = dict.fromkeys(types, 0)
    for sent, idx in full["overall_indices"]["strict"].spurious_indices:
        spurious_by_type[pred_entities[sent][idx].label] += 1
    per_type: dict[str, dict[str, int]] = {}
    for t in types:
        only_t = [[lab if lab != "O" and lab.split("-", 1)[-1] == t else "O" for lab in seq] for seq in true]
        row = cats(run(only_t)["overall"])
        row["spurious"] = spurious_by_type[t]
        per_type[t] = row
    return {"overall": overall, "per_type": per_type}


def word_scores(
    y_true: list[list[str]],
    y_pred: list[list[str]],
    label_names: Sequence[str],
    *,
    tokens: Sequence[Sequence[str]] | None = None,
    memory: TrainMemory | None = None,
) -> dict[str, Any]:
    """Everything a split's entry reports about decoded word labels: scores, counts, errors, generalisation."""
    out = score_sequences(y_true, y_pred)
    out["words"] = sum(len(s) for s in y_true)
    out["sentences"] = len(y_true)
    out["entities"] = sum(len(s) for s in entity_spans(y_true))
    out["confusion"] = confusion_matrix(y_true, y_pred, label_names)
    out["errors"] = error_breakdown(y_true, y_pred)
    out["unseen"] = unseen_scores(y_true, y_pred, tokens, memory) if tokens is not None and memory else None
    return out


def generalisation_rows(entry: dict[str, Any]) -> list[tuple[str, str, str, str, str]]:
    """(what, precision, recall, F1, support) rows for a split entry: all, unseen sentences, unseen entities.

    For the CLI and the Runs screen alike; empty when the entry predates these numbers.
    """
    rows: list[tuple[str, str, str, str, str]] = []
    overall = entry.get("overall") or {}
    if not overall:
        return rows
    n_ent = entry.get("entities")
    rows.append(
        (
            "all",
            number(overall.get("precision")),
            number(overall.get("recall")),
            number(overall.get("f1")),
            str(n_ent) if n_ent is not None else NO_VALUE,
        )
    )
    unseen = entry.get("unseen") or {}
    s, e = unseen.get("sentences"), unseen.get("entities")
    if isinstance(s, dict):
        rows.append(
            (
                f"sentences not in train ({s.get('sentences')} of {s.get('of_sentences')})",
                number(s.get("precision")),
                number(s.get("recall")),
                number(s.get("f1")),
                str(s.get("support", NO_VALUE)),
            )
        )
    if isinstance(e, dict):
        rows.append(
            (
                f"entities unseen in train ({e.get('support')} of {e.get('of_entities')})",
                number(e.get("precision")),
                number(e.get("recall")),
                number(e.get("f1")),
                str(e.get("support", NO_VALUE)),
            )
        )
    return rows


BREAKDOWN_TITLES = {
    "exact": "exact",
    "wrong_type": "wrong type",
    "wrong_boundary": "wrong boundary",
    "wrong_type_and_boundary": "both wrong",
    "missed": "missed",
    "spurious": "spurious",
}


def breakdown_rows(entry: dict[str, Any]) -> list[tuple[str, ...]]:
    """(type, exact, wrong type, wrong boundary, both wrong, missed, spurious) rows, overall last."""
    errors = entry.get("errors") or {}
    if not errors:
        return []
    rows = [(t, *(str(v.get(k, 0)) for k in BREAKDOWN_KEYS)) for t, v in sorted((errors.get("per_type") or {}).items())]
    overall = errors.get("overall") or {}
    rows.append(("overall", *(str(overall.get(k, 0)) for k in BREAKDOWN_KEYS)))
    return rows


def counts_line(entry: dict[str, Any]) -> str | None:
    """'1,000 sentences · 7,200 words · 1,107 entities · 3 long sentences in windows · decoding viterbi'."""
    if entry.get("words") is None:
        return None
    parts = []
    for key, name in (("sentences", "sentences"), ("words", "words"), ("entities", "gold entities")):
        if isinstance(entry.get(key), int):
            parts.append(f"{entry[key]:,} {name}")
    if entry.get("windowed_sentences"):
        parts.append(f"{entry['windowed_sentences']} long sentences predicted in windows")
    if entry.get("decoding"):
        parts.append(f"decoding {entry['decoding']}")
    if entry.get("data_name"):
        parts.append(f"data {entry['data_name']}")
    return " · ".join(parts)


def run_summary_lines(run_dir: Any, split: str = "validation") -> list[str]:
    """Plain-text lines about a run's scored split for the Runs screen: counts, unseen F1, error breakdown.

    Read from metrics.json with the standard library only (the screen calls it from a worker);
    empty when the run has no such score yet; the reason when the run scored nothing.
    """
    import json
    from pathlib import Path

    try:
        doc = json.loads((Path(run_dir) / "metrics.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    entry = (doc.get("splits") or {}).get(split) if isinstance(doc, dict) else None
    if not isinstance(entry, dict):
        why = doc.get("not_scored") if isinstance(doc, dict) else None
        return [f"Nothing scored: {why}."] if why else []
    lines: list[str] = []
    counts = counts_line(entry)
    if counts:
        lines.append(f"{split}: {counts}")
    gen = generalisation_rows(entry)
    if len(gen) > 1:
        width = max(len(r[0]) for r in gen)
        lines.append(f"{'F1 on':<{width}}  {'P':>5}  {'R':>5}  {'F1':>5}  support")
        lines += [f"{r[0]:<{width}}  {r[1]:>5}  {r[2]:>5}  {r[3]:>5}  {r[4]}" for r in gen]
    rows = breakdown_rows(entry)
    if rows:
        heads = ["entity", *(BREAKDOWN_TITLES[k] for k in BREAKDOWN_KEYS)]
        widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(heads)]
        lines.append("entity errors (SemEval-2013 categories, nervaluate):")
        lines.append("  ".join(h.rjust(w) for h, w in zip(heads, widths, strict=True)))
        lines += ["  ".join(c.rjust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    return lines
