"""Metrics that mean what they say: entity-level seqeval at the WORD level.

Why word level: a NER dataset labels words, and a user tags words. The notebook recipe this
project replaces copied each word's label to every subword piece and scored the pieces, so a
long entity split into many pieces counted many times and F1 came out inflated. Here each
word is judged by the prediction of its FIRST piece (what a tagger shows a user), entities
are scored with seqeval's strict IOB2 mode, and the tutorial's piece-level number is only
ever reported next to it, labelled `piece_level`, so users can see the inflation.

seqeval imports scikit-learn (slow), so it is imported inside functions.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from bnner_tui.core.display import NO_VALUE, number
from bnner_tui.core.labels import IGNORE_INDEX

# A sequence of per-piece word indices (None for special tokens), as `align_batch` stores them.
WordIds = Sequence[int | None]


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


def first_piece_mask(word_ids: WordIds) -> list[bool]:
    """True at the first piece of each word: the one position that speaks for the word."""
    mask: list[bool] = []
    prev: int | None = None
    for w in word_ids:
        mask.append(w is not None and w != prev)
        if w is not None:
            prev = w
        else:
            prev = None
    return mask


def word_sequences(
    predictions: Any,
    labels: Any,
    label_names: Sequence[str],
    word_ids: Sequence[WordIds] | None = None,
) -> tuple[list[list[str]], list[list[str]]]:
    """Gold and predicted label sequences, one label per WORD.

    Without `word_ids` (the `first` strategy) the words are the positions whose gold label
    is not -100. With `word_ids` (strategies `all`/`all-b2i`, where every piece carries a
    label) the words are the first pieces found from the word ids, and the word's gold label
    is the label its first piece carries (for `all-b2i` that is the word's own B- or I-).
    """
    preds = _as_label_ids(predictions)
    y_true: list[list[str]] = []
    y_pred: list[list[str]] = []
    for i in range(len(labels)):
        lab = np.asarray(labels[i])
        pred = np.asarray(preds[i])
        if word_ids is None:
            positions = [j for j in range(len(lab)) if lab[j] != IGNORE_INDEX]
        else:
            mask = first_piece_mask(word_ids[i])
            positions = [j for j, m in enumerate(mask) if m and j < len(lab) and lab[j] != IGNORE_INDEX]
        y_true.append([label_names[int(lab[j])] for j in positions])
        y_pred.append([_safe_name(label_names, int(pred[j])) for j in positions])
    return y_true, y_pred


def piece_sequences(
    predictions: Any, labels: Any, label_names: Sequence[str]
) -> tuple[list[list[str]], list[list[str]]]:
    """Every labelled piece as if it were a word: the tutorial's (inflated) view."""
    return word_sequences(predictions, labels, label_names, word_ids=None)


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


def compute_word_metrics(
    predictions: Any,
    labels: Any,
    label_names: Sequence[str],
    word_ids: Sequence[WordIds] | None = None,
    *,
    with_confusion: bool = True,
) -> dict[str, Any]:
    """Word-level strict IOB2 entity scores: {'overall', 'per_type', 'confusion'}.

    `predictions` are logits (n, L, C) or ids (n, L) aligned with `labels` (n, L, -100 where
    ignored). Pass `word_ids` when every piece is labelled (strategies `all`/`all-b2i`).
    """
    y_true, y_pred = word_sequences(predictions, labels, label_names, word_ids)
    out = score_sequences(y_true, y_pred)
    out["words"] = sum(len(s) for s in y_true)
    if with_confusion:
        out["confusion"] = confusion_matrix(y_true, y_pred, label_names)
    return out


def compute_piece_metrics(predictions: Any, labels: Any, label_names: Sequence[str]) -> dict[str, Any]:
    """The tutorial's score over every labelled PIECE (inflated; report only as `piece_level`)."""
    y_true, y_pred = piece_sequences(predictions, labels, label_names)
    out = score_sequences(y_true, y_pred)
    out["level"] = "piece"
    out["pieces"] = sum(len(s) for s in y_true)
    return out


def split_metrics(
    predictions: Any,
    labels: Any,
    label_names: Sequence[str],
    *,
    strategy: str = "first",
    word_ids: Sequence[WordIds] | None = None,
    loss: float | None = None,
) -> dict[str, Any]:
    """One split's entry in metrics.json (docs/architecture.md), word level first."""
    uses_all = strategy != "first"
    if uses_all and word_ids is None:
        raise ValueError("strategies 'all'/'all-b2i' need the word_ids to find each word's first piece")
    words = compute_word_metrics(predictions, labels, label_names, word_ids if uses_all else None)
    entry: dict[str, Any] = {
        "loss": loss,
        "overall": words["overall"],
        "per_type": words["per_type"],
        "piece_level": compute_piece_metrics(predictions, labels, label_names) if uses_all else None,
        "confusion": words["confusion"],
        "words": words["words"],
    }
    return entry


def make_compute_metrics(
    label_names: Sequence[str],
    *,
    strategy: str = "first",
    word_ids: Sequence[WordIds] | None = None,
    sink: Callable[[dict[str, Any]], None] | None = None,
) -> Callable[[Any], dict[str, float]]:
    """A `compute_metrics` for the Trainer, flat (Trainer logs scalars only).

    The Trainer evaluates the eval dataset in order, so `word_ids` (that dataset's column)
    line up with the predictions row for row. `sink` receives the full nested result
    (per type, confusion, piece level) so the event callback can emit it.
    """

    def compute(eval_pred: Any) -> dict[str, float]:
        predictions, labels = eval_pred.predictions, eval_pred.label_ids
        if isinstance(predictions, tuple):
            predictions = predictions[0]
        full = split_metrics(predictions, labels, label_names, strategy=strategy, word_ids=word_ids)
        if sink is not None:
            sink(full)
        flat = {k: v for k, v in full["overall"].items()}
        for t, row in full["per_type"].items():
            flat[f"{t}_f1"] = row["f1"]
        if full["piece_level"] is not None:
            flat["piece_level_f1"] = full["piece_level"]["overall"]["f1"]
        return flat

    return compute


def preprocess_logits_for_metrics(logits: Any, labels: Any) -> Any:
    """Argmax on the device during evaluation: ships ids, not (n, L, C) logits, to the CPU."""
    if isinstance(logits, tuple):
        logits = logits[0]
    return logits.argmax(dim=-1)


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
