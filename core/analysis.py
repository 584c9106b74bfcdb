"""Error analysis of a finished run: gold vs predicted labels per word, and where they differ.

Why this exists: an F1 number says how often the model is wrong, not *how*. The Runs screen's
error browser shows each validation sentence the model got wrong, word by word, gold next to
predicted, and a confusion matrix of word labels. Everything here is word level (the first
piece's prediction speaks for the word, as in `core.metrics` and `core.tagger`), so what a
user browses is exactly what the reported F1 counted.

No Textual here, and nothing heavy at import time: the TUI calls this from a worker thread.
Predictions are cached in the run folder (`analysis/<split>.json`), keyed by the model
weights' size and mtime, so reopening a run's errors is instant and a retrained model is
never shown stale results.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bnner_tui.core.errors import BnnerError, ModelNotFoundError
from bnner_tui.core.files import atomic_write_text

CACHE_VERSION = 2  # 2: labels from the project's decoding policy (core.decoding), not the raw argmax


@dataclass
class SentencePrediction:
    """One sentence: its words, the gold label and the model's label for each word."""

    tokens: list[str]
    gold: list[str]
    pred: list[str]
    index: int = 0  # position in the split, so a user can find the sentence again
    scores: list[float] = field(default_factory=list)

    @property
    def wrong(self) -> list[int]:
        """Word positions where the prediction differs from the gold label."""
        return [i for i, (g, p) in enumerate(zip(self.gold, self.pred, strict=True)) if g != p]

    @property
    def has_errors(self) -> bool:
        return any(g != p for g, p in zip(self.gold, self.pred, strict=True))


def label_order(preds: Sequence[SentencePrediction]) -> list[str]:
    """The labels seen in gold or predictions: WikiANN's order first (O always), the rest sorted."""
    from bnner_tui.core.labels import WIKIANN_LABELS

    seen = {label for p in preds for label in (*p.gold, *p.pred)}
    names = [x for x in WIKIANN_LABELS if x in seen or x == "O"]
    return names + sorted(seen - set(names))


def errors_only(preds: Sequence[SentencePrediction]) -> list[SentencePrediction]:
    """The sentences with at least one wrong word, in split order."""
    return [p for p in preds if p.has_errors]


def confusion_matrix(preds: Sequence[SentencePrediction], label_names: Sequence[str]) -> dict[str, Any]:
    """Word-level label confusion counts `{"labels", "matrix"}`: rows gold, columns predicted.

    Same shape and rules as the `confusion` entry the trainer writes into metrics.json
    (`core.metrics.confusion_matrix`), so the screen draws both the same way.
    """
    from bnner_tui.core.metrics import confusion_matrix as _cm

    names = list(label_names)
    for p in preds:  # a label the names do not know must still be counted, not crash
        for label in (*p.gold, *p.pred):
            if label not in names:
                names.append(label)
    return _cm([p.gold for p in preds], [p.pred for p in preds], names)


def confusion_from_metrics(run_dir: str | Path, split: str = "validation") -> dict[str, Any] | None:
    """The confusion matrix the trainer stored in metrics.json, if there is one."""
    path = Path(run_dir) / "metrics.json"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError, UnicodeDecodeError):
        return None
    entry = (data.get("splits") or {}).get(split) or {}
    conf = entry.get("confusion")
    if isinstance(conf, dict) and isinstance(conf.get("labels"), list) and isinstance(conf.get("matrix"), list):
        return conf
    return None


def _model_stamp(model_dir: Path) -> str:
    """Size and mtime of the weights: changes whenever the model is re-saved."""
    parts = []
    for name in sorted(os.listdir(model_dir)):
        if name.endswith((".safetensors", ".bin")) or name == "config.json":
            st = (model_dir / name).stat()
            parts.append(f"{name}:{st.st_size}:{st.st_mtime_ns}")
    return "|".join(parts)


def _cache_path(run_dir: Path, split: str) -> Path:
    return run_dir / "analysis" / f"{split}.json"


def _read_cache(run_dir: Path, split: str, stamp: str) -> list[SentencePrediction] | None:
    try:
        data = json.loads(_cache_path(run_dir, split).read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError, UnicodeDecodeError, OSError):
        return None
    if data.get("version") != CACHE_VERSION or data.get("model_stamp") != stamp:
        return None
    try:
        return [SentencePrediction(**s) for s in data["sentences"]]
    except (KeyError, TypeError):
        return None


def _write_cache(run_dir: Path, split: str, stamp: str, preds: list[SentencePrediction]) -> None:
    """Atomic (temp file + os.replace); a read-only run folder just means no cache."""
    path = _cache_path(run_dir, split)
    payload = {"version": CACHE_VERSION, "model_stamp": stamp, "sentences": [asdict(p) for p in preds]}
    try:
        atomic_write_text(path, json.dumps(payload, ensure_ascii=False))
    except OSError:
        return


def _load_split(run_dir: Path, split: str) -> tuple[list[list[str]], list[list[str]], int | None]:
    """The split's words and gold labels, from the run's own data source and settings."""
    from bnner_tui.core.config import TrainConfig
    from bnner_tui.core.data import load_source

    config_path = run_dir / "config.toml"
    if not config_path.exists():
        raise BnnerError(f"{run_dir} has no config.toml, so its data source is unknown.")
    config = TrainConfig.from_toml(config_path)
    from bnner_tui.core.data import LoadOptions

    source = load_source(config.data, options=LoadOptions.from_config(config))
    if split not in source.dataset:
        raise BnnerError(
            f"The data of run {run_dir.name} ({source.name}) has no {split!r} split"
            f" (it has {', '.join(source.splits) or 'none'})."
        )
    if not source.is_labelled(split):
        raise BnnerError(f"The {split!r} split of {source.name} has no labels, so there are no errors to show.")
    ds = source.dataset[split]
    names = ds.features["ner_tags"].feature.names
    tokens = [list(t) for t in ds["tokens"]]
    gold = [[names[i] for i in tags] for tags in ds["ner_tags"]]
    return tokens, gold, config.max_length


def predict_split(
    run_dir: str | Path,
    split: str = "validation",
    *,
    batch_size: int = 32,
    use_cache: bool = True,
    progress: Callable[[int, int], None] | None = None,
) -> list[SentencePrediction]:
    """Word-level predictions of a run's saved model on one split of the run's own data.

    The model loads once (`core.tagger.Tagger`, first-piece aggregation); a sentence longer
    than the model's window is tagged in overlapping windows rather than cut, so every word
    gets a prediction, and the labels are decoded with the project's one policy
    (`core.decoding`), so the errors browsed are the errors `eval` counted.
    `progress(done, total)` is called with sentence counts.
    """
    run = Path(run_dir)
    model_dir = run / "model"
    if not (model_dir / "config.json").exists():
        raise ModelNotFoundError(f"Run {run.name} has no saved model yet (model/ is written when training finishes).")
    stamp = _model_stamp(model_dir)
    if use_cache:
        cached = _read_cache(run, split, stamp)
        if cached is not None:
            if progress is not None:
                progress(len(cached), len(cached))
            return cached

    tokens, gold, max_length = _load_split(run, split)
    from bnner_tui.core.tagger import Tagger
    from bnner_tui.core.textnorm import normalize_token

    # fp32 always (not the tagger's bf16 default): these must be the predictions eval scored
    tagger = Tagger.load(model_dir, aggregation="first", max_length=max_length, bf16=False)
    total = len(tokens)
    preds: list[SentencePrediction] = []
    for start in range(0, total, 256):
        chunk = tokens[start : start + 256]
        normalised = [[normalize_token(w) for w in words] for words in chunk]
        results = tagger.decode_words(normalised, batch_size=batch_size, aggregation="first")
        for offset, decoded in enumerate(results):
            i = start + offset
            preds.append(
                SentencePrediction(
                    tokens=tokens[i],
                    gold=gold[i],
                    pred=decoded.labels,
                    index=i,
                    scores=[round(float(s), 4) for s in decoded.scores],
                )
            )
        if progress is not None:
            progress(len(preds), total)
    if use_cache:
        _write_cache(run, split, stamp, preds)
    return preds


def word_accuracy(preds: Sequence[SentencePrediction]) -> float | None:
    """Share of words whose predicted label equals the gold label (None for no words)."""
    words = sum(len(p.gold) for p in preds)
    if not words:
        return None
    right = sum(g == q for p in preds for g, q in zip(p.gold, p.pred, strict=True))
    return right / words
