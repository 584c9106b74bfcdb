"""Find likely label errors: out-of-fold predictions, ranked with cleanlab's token-classification tools.

How: the split's sentences are dealt into k folds (a seeded shuffle); for each fold a model is
trained on the other k-1 folds and predicts the fold's sentences, so every sentence gets
word-level label probabilities from a model that never saw it. cleanlab then does what it is
the ecosystem's standard for (`token_classification.filter.find_label_issues`,
`rank.get_label_quality_scores`, `summary.common_label_issues`): flags words whose given label
the model confidently disagrees with, and scores each sentence (lower = more suspicious).

The review folder (`ReviewFiles`) holds everything, so an interrupted review resumes: a finished
fold's probabilities are written atomically (core.files) and never recomputed, and the
parameters in review.json must match or the review refuses to mix two settings.
"""

from __future__ import annotations

import hashlib
import io
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from bnner_tui.core.errors import BnnerError
from bnner_tui.core.files import atomic_write_bytes, atomic_write_json, atomic_write_text
from bnner_tui.core.review.model import FoldBudget, FoldStats, FoldTrainer, Sentence
from bnner_tui.core.review.spans import kinds_of, suggest_labels

FORMAT = "bnner-tui review 1"
REVIEW_JSON = "review.json"
SUSPECTS = "suspects.jsonl"
DECISIONS = "decisions.jsonl"
FOLDS_DIR = "folds"


@dataclass
class ReviewFiles:
    """The paths of one review folder."""

    root: Path

    @property
    def params(self) -> Path:
        return self.root / REVIEW_JSON

    @property
    def suspects(self) -> Path:
        return self.root / SUSPECTS

    @property
    def decisions(self) -> Path:
        return self.root / DECISIONS

    def fold(self, k: int) -> Path:
        return self.root / FOLDS_DIR / f"fold-{k}.npz"


def split_folds(n: int, k: int, seed: int = 42) -> list[np.ndarray]:
    """Sentence indices of each of `k` folds: a seeded shuffle dealt round-robin (sizes differ by at most 1)."""
    if k < 2:
        raise BnnerError(f"--folds must be at least 2 (got {k}): with one fold no sentence has an unseen model.")
    if n < k:
        raise BnnerError(f"The split has {n} sentences, fewer than the {k} folds asked for.")
    order = np.random.default_rng(seed).permutation(n)
    return [np.sort(order[f::k]) for f in range(k)]


def data_fingerprint(tokens: Sequence[Sequence[str]], tags: Sequence[Sequence[int]]) -> str:
    """A hash of the split's words and labels: a review only applies to exactly the data it saw."""
    h = hashlib.sha1()
    for words, labels in zip(tokens, tags, strict=True):
        h.update(json.dumps([list(words), list(labels)], ensure_ascii=False).encode("utf-8"))
    return h.hexdigest()[:16]


class ReviewProgress(Protocol):
    """What run_review reports; the CLI draws Rich progress bars from it."""

    def fold_started(self, fold: int, total_steps: int) -> None: ...

    def fold_step(self, fold: int, step: int) -> None: ...

    def fold_done(self, fold: int, stats: FoldStats, reused: bool) -> None: ...


class _FoldBridge:
    def __init__(self, progress: ReviewProgress | None, fold: int) -> None:
        self.progress, self.fold = progress, fold

    def fold_started(self, total_steps: int) -> None:
        if self.progress is not None:
            self.progress.fold_started(self.fold, total_steps)

    def fold_step(self, step: int) -> None:
        if self.progress is not None:
            self.progress.fold_step(self.fold, step)


@dataclass
class ReviewResult:
    """What a finished review found and what it cost."""

    files: ReviewFiles
    params: dict[str, Any]
    suspects: list[dict[str, Any]]
    common: list[dict[str, Any]] = field(default_factory=list)
    fold_stats: list[dict[str, Any]] = field(default_factory=list)
    n_flagged_words: int = 0


def _save_fold(path: Path, indices: np.ndarray, probs: list[np.ndarray], stats: FoldStats) -> None:
    lengths = np.array([len(p) for p in probs], dtype=np.int64)
    flat = np.concatenate(probs) if probs else np.zeros((0, 0), dtype=np.float32)
    buf = io.BytesIO()
    meta = json.dumps(
        {"steps": stats.steps, "cpu_s": stats.cpu_s, "wall_s": stats.wall_s, "stopped_by": stats.stopped_by}
    )
    np.savez(buf, indices=indices, lengths=lengths, probs=flat.astype(np.float32), meta=np.array(meta))
    atomic_write_bytes(path, buf.getvalue())


def load_fold(path: Path) -> tuple[np.ndarray, list[np.ndarray], dict[str, Any]]:
    """(sentence indices, per-sentence probabilities, fold stats) of a finished fold."""
    with np.load(path, allow_pickle=False) as z:
        indices, lengths, flat, meta = z["indices"], z["lengths"], z["probs"], str(z["meta"])
    bounds = np.concatenate([[0], np.cumsum(lengths)])
    return indices, [flat[bounds[i] : bounds[i + 1]] for i in range(len(lengths))], json.loads(meta)


def _check_params(files: ReviewFiles, params: dict[str, Any]) -> None:
    if not files.params.exists():
        return
    try:
        old = json.loads(files.params.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise BnnerError(f"{files.params} is damaged: remove the folder or review into another --out.") from None
    keys = ("source", "split", "folds", "seed", "budget", "model", "data_sha", "label_names")
    diff = [k for k in keys if old.get(k) != params.get(k)]
    if diff:
        what = ", ".join(f"{k} {old.get(k)!r} -> {params.get(k)!r}" for k in diff[:3])
        raise BnnerError(
            f"{files.root} holds a review with other settings ({what}): use another --out, or delete it to start over."
        )


def run_review(
    source: Any,
    *,
    split: str = "train",
    out: str | Path,
    folds: int = 5,
    seed: int = 42,
    budget: FoldBudget | None = None,
    trainer: FoldTrainer | None = None,
    model_run: str | Path | None = None,
    progress: ReviewProgress | None = None,
    limit: int | None = None,
) -> ReviewResult:
    """Out-of-fold predictions for `split` of a loaded `source`, ranked; writes the review folder `out`.

    `trainer` defaults to `core.review.model.offline_fold_model` (with `model_run`'s config when
    given; `model_run="lexicon"` picks the millisecond baseline). `limit` reviews only the first
    N sentences (for a quick look; recorded).
    """
    if split not in source.dataset:
        raise BnnerError(f"{source.name} has no {split!r} split (it has: {', '.join(source.dataset)}).")
    if not source.is_labelled(split):
        raise BnnerError(f"The {split!r} split of {source.name} has no labels, so there is nothing to review.")
    budget = budget or FoldBudget()
    ds = source.dataset[split]
    tokens: list[list[str]] = ds["tokens"]
    tags: list[list[int]] = ds["ner_tags"]
    if limit is not None:
        tokens, tags = tokens[:limit], tags[:limit]
    names = list(source.label_names)
    files = ReviewFiles(Path(out))
    config = None
    if trainer is None and str(model_run) == "lexicon":
        from bnner_tui.core.review.model import lexicon_fold_model

        trainer, model_run = lexicon_fold_model, None
    if trainer is None:
        from bnner_tui.core.review.model import offline_fold_model, train_config_for

        config = train_config_for(model_run)
        trainer = offline_fold_model
    params: dict[str, Any] = {
        "format": FORMAT,
        "source": source.spec,
        "source_name": source.name,
        "split": split,
        "sentences": len(tokens),
        "limit": limit,
        "folds": folds,
        "seed": seed,
        "budget": budget.to_dict(),
        "model": str(model_run) if model_run else ("cpu-demo preset" if config is not None else _name_of(trainer)),
        "label_names": names,
        "data_sha": data_fingerprint(tokens, tags),
    }
    _check_params(files, params)
    started = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    if not files.params.exists():
        atomic_write_json(files.params, {**params, "created": started, "status": "running"})
    fold_sets = split_folds(len(tokens), folds, seed)
    all_probs: list[np.ndarray | None] = [None] * len(tokens)
    fold_stats: list[dict[str, Any]] = []
    for k, held_out in enumerate(fold_sets):
        path = files.fold(k)
        if path.exists():
            indices, probs, meta = load_fold(path)
            if not np.array_equal(indices, held_out):
                raise BnnerError(f"{path} belongs to another fold split: delete {files.root} to start over.")
            if progress is not None:
                progress.fold_done(k, FoldStats(**meta), True)
        else:
            held = set(held_out.tolist())
            train = [Sentence(tokens[i], tags[i], i) for i in range(len(tokens)) if i not in held]
            stats = FoldStats()
            kwargs: dict[str, Any] = {"config": config, "stats": stats} if config is not None else {"stats": stats}
            model = trainer(
                train,
                label_names=names,
                budget=budget,
                workdir=files.root / FOLDS_DIR / f"fold-{k}.work",
                seed=seed + k,
                progress=_FoldBridge(progress, k),
                **kwargs,
            )
            cpu0, wall0 = time.process_time(), time.perf_counter()
            probs = model.predict_proba([tokens[i] for i in held_out])
            stats.cpu_s += time.process_time() - cpu0
            stats.wall_s += time.perf_counter() - wall0
            _check_probs(probs, [tokens[i] for i in held_out], len(names))
            _save_fold(path, held_out, probs, stats)
            meta = {"steps": stats.steps, "cpu_s": stats.cpu_s, "wall_s": stats.wall_s, "stopped_by": stats.stopped_by}
            if progress is not None:
                progress.fold_done(k, stats, False)
        fold_stats.append({"fold": k, "sentences": len(held_out), **meta})
        for i, p in zip(held_out.tolist(), probs, strict=True):
            all_probs[i] = p
    pred_probs = [p for p in all_probs if p is not None]
    assert len(pred_probs) == len(tokens)
    suspects, common, n_flagged = rank_issues(tokens, tags, pred_probs, names)
    lines = "".join(json.dumps(s, ensure_ascii=False) + "\n" for s in suspects)
    atomic_write_text(files.suspects, lines)
    done = {
        **params,
        "created": _created(files) or started,
        "finished": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "status": "finished",
        "suspects": len(suspects),
        "flagged_words": n_flagged,
        "fold_stats": fold_stats,
        "cpu_s": round(sum(f["cpu_s"] for f in fold_stats), 1),
        "wall_s": round(sum(f["wall_s"] for f in fold_stats), 1),
        "cleanlab": _cleanlab_version(),
        "common_issues": common,
    }
    atomic_write_json(files.params, done)
    return ReviewResult(files, done, suspects, common, fold_stats, n_flagged)


def _name_of(trainer: Any) -> str:
    return str(getattr(trainer, "__name__", type(trainer).__name__))


def _created(files: ReviewFiles) -> str | None:
    try:
        return json.loads(files.params.read_text(encoding="utf-8")).get("created")
    except (OSError, ValueError):
        return None


def _cleanlab_version() -> str:
    import cleanlab

    return str(cleanlab.__version__)


def _check_probs(probs: list[np.ndarray], words: list[list[str]], n_labels: int) -> None:
    if len(probs) != len(words) or any(p.shape != (len(w), n_labels) for p, w in zip(probs, words, strict=False)):
        raise BnnerError("The fold model returned probabilities of the wrong shape (one row per word expected).")


def rank_issues(
    tokens: Sequence[Sequence[str]],
    tags: Sequence[Sequence[int]],
    pred_probs: Sequence[np.ndarray],
    label_names: Sequence[str],
    *,
    top_common: int = 20,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], int]:
    """cleanlab's verdicts as review records, most suspicious sentence first.

    Returns (suspects, most common confusions, number of flagged words). A suspect is a
    sentence with at least one flagged word; its score is cleanlab's sentence label-quality
    score (0..1, low = likely wrong), and its suggestion is the model's labels over the flagged
    words' entity spans, made valid IOB2 (core.review.spans).
    """
    from cleanlab.token_classification.filter import find_label_issues
    from cleanlab.token_classification.rank import get_label_quality_scores
    from cleanlab.token_classification.summary import common_label_issues

    labels = [np.asarray(t, dtype=np.int64) for t in tags]
    probs = [np.asarray(p, dtype=np.float32) for p in pred_probs]
    # cleanlab's sentence-level issue finding needs every class present; say so in one sentence.
    present = set(np.concatenate(labels).tolist()) if labels else set()
    missing = [label_names[i] for i in range(len(label_names)) if i not in present]
    if missing:
        raise BnnerError(
            f"The split never uses the label(s) {', '.join(missing)}:"
            " cleanlab needs every label present to rank issues."
        )
    issues = find_label_issues(labels, probs)
    sentence_scores, token_scores = get_label_quality_scores(labels, probs)
    flagged: dict[int, list[int]] = {}
    for s, w in issues:
        flagged.setdefault(int(s), []).append(int(w))
    names = list(label_names)
    suspects: list[dict[str, Any]] = []
    for s, words in flagged.items():
        given = [names[t] for t in labels[s]]
        predicted = [names[int(i)] for i in probs[s].argmax(axis=1)]
        suggested = suggest_labels(given, predicted, sorted(words))
        tscores = np.asarray(token_scores[s]).tolist()
        suspects.append(
            {
                "sentence": s,
                "score": round(float(sentence_scores[s]), 6),
                "words": list(tokens[s]),
                "given": given,
                "suggested": suggested,
                "flagged": sorted(words),
                "word_scores": [round(float(tscores[w]), 4) for w in sorted(words)],
                "kinds": kinds_of(given, suggested),
            }
        )
    suspects.sort(key=lambda r: (r["score"], r["sentence"]))
    for rank, rec in enumerate(suspects, start=1):
        rec["rank"] = rank
    common: list[dict[str, Any]] = []
    if issues:
        import contextlib

        with contextlib.redirect_stdout(io.StringIO()):  # it prints a report of its own; we show the table
            df = common_label_issues(
                issues,
                [list(t) for t in tokens],
                labels=labels,
                pred_probs=probs,
                class_names=names,
                top=top_common,
                verbose=False,
            )
        for row in df.head(top_common).to_dict("records"):
            common.append(
                {
                    "word": str(row["token"]),
                    "given": str(row["given_label"]),
                    "predicted": str(row["predicted_label"]),
                    "count": int(row["num_label_issues"]),
                }
            )
    return suspects, common, len(issues)


def read_suspects(review_dir: str | Path) -> list[dict[str, Any]]:
    """The ranked suspects of a finished review (one sentence naming the file when it is unreadable)."""
    files = ReviewFiles(Path(review_dir))
    if not files.suspects.exists():
        raise BnnerError(f"{files.root} has no {SUSPECTS}: run `bnner-tui data review` into it first.")
    out = []
    for n, line in enumerate(files.suspects.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            out.append(json.loads(line))
        except ValueError:
            from bnner_tui.core.errors import DataFormatError

            raise DataFormatError(files.suspects, n, "not valid JSON") from None
    return out


def read_params(review_dir: str | Path) -> dict[str, Any]:
    files = ReviewFiles(Path(review_dir))
    try:
        return dict(json.loads(files.params.read_text(encoding="utf-8")))
    except FileNotFoundError:
        raise BnnerError(f"{files.root} is not a review folder (it has no {REVIEW_JSON}).") from None
    except ValueError:
        raise BnnerError(f"{files.params} is damaged (not valid JSON).") from None
