"""The model behind a review: `fold_model(train_sentences) -> predict_proba(words_batch)`.

Why an interface this small: out-of-fold review only needs *some* model that can be trained on
a part of the data and then give, for every word of unseen sentences, a probability per label.
Today that is the project's offline small BERT trained through the normal training path
(`core.train.pipeline.train_run`, the same code `--preset cpu-demo` runs); a better CPU model
can be swapped in by passing another `FoldTrainer` to `core.review.find.run_review`, and nothing
else in the review changes.

Each fold is bounded (`FoldBudget`): a number of optimiser steps (the plan: the learning-rate
schedule is laid out over it) and a CPU-time cap (a safety stop for a loaded machine).

Heavy imports (torch, transformers, datasets) happen inside functions.
"""

from __future__ import annotations

import math
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np


@dataclass(frozen=True)
class Sentence:
    """One training sentence: its words and its label ids (in the review's label order)."""

    words: list[str]
    labels: list[int]
    index: int = -1
    """Position in the reviewed split (lets a caller check which sentences a fold saw)."""


@dataclass(frozen=True)
class FoldBudget:
    """How much training one fold may use.

    `max_steps`: optimiser steps (None: `epochs` over the fold's training part). `max_cpu_s`:
    CPU seconds of this process (all threads) after which training stops at the next step,
    whatever the schedule says. Both are recorded in the review's parameters.
    """

    epochs: float = 2.0
    max_steps: int | None = None
    max_cpu_s: float | None = None
    threads: int | None = None
    """torch threads while a fold trains (None: torch's default). On a crowded machine 1 thread
    avoids OpenMP threads spinning for cores they do not get, which costs CPU time, not speed."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class WordProbModel(Protocol):
    """A trained fold model: word-level label probabilities for unseen sentences."""

    label_names: list[str]

    def predict_proba(self, words_batch: Sequence[Sequence[str]]) -> list[np.ndarray]:
        """Per sentence, an array (n_words, n_labels) of probabilities that sum to 1 per word."""
        ...


class FoldProgress(Protocol):
    """What a trainer reports while a fold trains (the CLI draws progress bars from it)."""

    def fold_started(self, total_steps: int) -> None: ...

    def fold_step(self, step: int) -> None: ...


FoldTrainer = Callable[..., WordProbModel]
"""`trainer(train_sentences, label_names=..., budget=..., workdir=..., seed=..., progress=...)`."""


@dataclass
class FoldStats:
    """What one fold cost, for review.json and docs/benchmarks.md."""

    steps: int = 0
    cpu_s: float = 0.0
    wall_s: float = 0.0
    stopped_by: str = "steps"  # steps | cpu


# ---- the offline model through the project's training path ------------------------------------


def _dataset_of(sentences: Sequence[Sentence], label_names: Sequence[str]) -> Any:
    import pyarrow as pa
    from datasets import ClassLabel, Dataset, DatasetDict, DatasetInfo, Features, Value
    from datasets import Sequence as HFSequence

    features = Features(
        {"tokens": HFSequence(Value("string")), "ner_tags": HFSequence(ClassLabel(names=list(label_names)))}
    )
    table = pa.table(
        {
            "tokens": pa.array([s.words for s in sentences], type=pa.list_(pa.string())),
            "ner_tags": pa.array([s.labels for s in sentences], type=pa.list_(pa.int64())),
        }
    )
    return DatasetDict({"train": Dataset(table, info=DatasetInfo(features=features))})


class TorchWordModel:
    """A token-classification model and its fast tokenizer, scored at the word level (first piece).

    Sentences longer than the model's window are cut into consecutive word windows
    (`core.decoding.make_windows`), so every word gets probabilities; nothing is truncated.
    """

    def __init__(self, model: Any, tokenizer: Any, label_names: Sequence[str], *, max_length: int = 128) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.label_names = list(label_names)
        self.max_length = int(max_length)

    def predict_proba(self, words_batch: Sequence[Sequence[str]], *, batch_size: int = 64) -> list[np.ndarray]:
        import torch

        from bnner_tui.core.decoding import make_windows

        backend = self.tokenizer.backend_tokenizer
        backend.no_padding()
        backend.no_truncation()
        n_special = int(self.tokenizer.num_special_tokens_to_add(pair=False))
        budget = max(1, self.max_length - n_special)
        n_labels = len(self.label_names)
        out = [np.full((len(ws), n_labels), 1.0 / n_labels, dtype=np.float32) for ws in words_batch]
        # segments: (sentence, first word, words)
        segments: list[tuple[int, int, list[str]]] = []
        todo = [i for i, ws in enumerate(words_batch) if ws]
        encs = backend.encode_batch([list(words_batch[i]) for i in todo], is_pretokenized=True)
        for i, enc in zip(todo, encs, strict=True):
            words = list(words_batch[i])
            if len(enc.ids) <= self.max_length:
                segments.append((i, 0, words))
                continue
            counts = np.bincount([w for w in enc.word_ids if w is not None], minlength=len(words))
            for s, e in make_windows(counts.tolist(), budget, 0):
                segments.append((i, s, words[s:e]))
        seg_encs = backend.encode_batch([seg[2] for seg in segments], is_pretokenized=True)
        order = sorted(range(len(segments)), key=lambda k: len(seg_encs[k].ids))
        pad = int(self.tokenizer.pad_token_id or 0)
        self.model.eval()
        with torch.inference_mode():
            for b0 in range(0, len(order), batch_size):
                rows = order[b0 : b0 + batch_size]
                width = min(self.max_length, max(len(seg_encs[k].ids) for k in rows))
                ids = np.full((len(rows), width), pad, dtype=np.int64)
                mask = np.zeros((len(rows), width), dtype=np.int64)
                for r, k in enumerate(rows):
                    piece_ids = seg_encs[k].ids[:width]
                    ids[r, : len(piece_ids)] = piece_ids
                    mask[r, : len(piece_ids)] = 1
                logits = self.model(input_ids=torch.from_numpy(ids), attention_mask=torch.from_numpy(mask)).logits
                probs = torch.softmax(logits.float(), dim=-1).numpy()
                for r, k in enumerate(rows):
                    sent, lo, _ = segments[k]
                    seen: set[int] = set()
                    for pos, wid in enumerate(seg_encs[k].word_ids[:width]):
                        if wid is None or wid in seen:
                            continue
                        seen.add(wid)
                        out[sent][lo + wid] = probs[r, pos]
        return out


def _budget_callbacks(budget: FoldBudget, stats: FoldStats, progress: FoldProgress | None) -> list[Any]:
    from transformers import TrainerCallback

    class BudgetCallback(TrainerCallback):
        """Stops at a step end once the fold's CPU time is spent, and reports steps for the progress bar."""

        def __init__(self) -> None:
            self.cpu0 = time.process_time()

        def on_train_begin(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
            if progress is not None:
                progress.fold_started(int(state.max_steps))

        def on_step_end(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
            stats.steps = int(state.global_step)
            if progress is not None:
                progress.fold_step(int(state.global_step))
            if budget.max_cpu_s is not None and time.process_time() - self.cpu0 >= budget.max_cpu_s:
                stats.stopped_by = "cpu"
                control.should_training_stop = True
                control.should_save = False

    return [BudgetCallback()]


def train_config_for(model_run: str | Path | None = None) -> Any:
    """The training settings a fold uses: `--preset cpu-demo`, or a run's own config.toml."""
    from bnner_tui.core.config import TrainConfig

    if model_run is None:
        return TrainConfig.from_preset("cpu-demo")
    from bnner_tui.core.runs import RunDir

    rd = RunDir(model_run)
    if not rd.config_path.exists():
        from bnner_tui.core.errors import BnnerError

        raise BnnerError(f"{model_run} is not a run folder (it has no config.toml): give --model a run.")
    return TrainConfig.from_toml(rd.config_path)


def offline_fold_model(
    train_sentences: Sequence[Sentence],
    *,
    label_names: Sequence[str],
    budget: FoldBudget,
    workdir: Path,
    seed: int = 42,
    progress: FoldProgress | None = None,
    config: Any = None,
    stats: FoldStats | None = None,
) -> TorchWordModel:
    """Train the project's model on `train_sentences` with the normal training path; return it in memory.

    `config` is a `TrainConfig` (default: the cpu-demo preset, i.e. the offline small BERT with
    its own WordPiece tokenizer; a run's config fine-tunes that run's base model instead). The
    fold's folder holds only the tokenized cache while it trains and is removed afterwards.
    """
    from bnner_tui.core.data.source import LoadedSource
    from bnner_tui.core.train import models as M
    from bnner_tui.core.train import tokenizers as T
    from bnner_tui.core.train.pipeline import train_run

    cfg = config if config is not None else train_config_for(None)
    steps_per_epoch = max(1, math.ceil(len(train_sentences) / max(1, int(cfg.batch_size) * int(cfg.grad_accum))))
    max_steps = budget.max_steps or max(1, round(budget.epochs * steps_per_epoch))
    cfg = cfg.with_overrides(
        max_steps=max_steps,
        seed=seed,
        eval_every="epoch",
        save_every=max_steps + 1,  # never reached, so no checkpoints: a fold that dies is simply redone
        logging_steps=max(1, max_steps),
        tracking="none",
        nproc=1,
        early_stopping_patience=None,
    )
    stats = stats if stats is not None else FoldStats()
    source = LoadedSource(
        dataset=_dataset_of(train_sentences, label_names),
        label_names=list(label_names),
        name="review fold",
        spec=f"review-fold:{workdir.name}",
    )
    choice = M.choose_model(cfg.model, tokenizer=cfg.tokenizer)
    words = [s.words for s in train_sentences]
    tokenizer = T.prepare_tokenizer(choice, cfg, words)
    names = list(label_names)
    model = M.build_model(choice, names, tokenizer=tokenizer, cfg=cfg, seed=seed, train_words=words)
    workdir.mkdir(parents=True, exist_ok=True)
    import torch

    threads_before = torch.get_num_threads()
    if budget.threads:
        torch.set_num_threads(int(budget.threads))
    cpu0, wall0 = time.process_time(), time.perf_counter()
    try:
        train_run(
            cfg,
            workdir,
            source=source,
            model=model,
            tokenizer=tokenizer,
            model_choice=choice,
            evaluate=False,
            save_model=False,
            extra_callbacks=_budget_callbacks(budget, stats, progress),
        )
    finally:
        torch.set_num_threads(threads_before)
        stats.cpu_s = time.process_time() - cpu0
        stats.wall_s = time.perf_counter() - wall0
        shutil.rmtree(workdir, ignore_errors=True)
    return TorchWordModel(model, tokenizer, names, max_length=int(cfg.max_length))


# ---- a baseline that trains in milliseconds -----------------------------------------------------


class LexiconModel:
    """Per word, how often the training sentences gave it each label (add-one smoothed toward the label prior).

    Not a good NER model; it is here because it shows how little the fold interface asks, runs
    in milliseconds (tests, a first look at a big corpus), and cannot know anything about a
    sentence it did not see: a word met only in held-out sentences gets the prior alone.
    """

    def __init__(self, train_sentences: Sequence[Sentence], label_names: Sequence[str], *, smoothing: float = 1.0):
        self.label_names = list(label_names)
        n = len(self.label_names)
        prior = np.full(n, smoothing, dtype=np.float64)
        counts: dict[str, np.ndarray] = {}
        for s in train_sentences:
            for w, lab in zip(s.words, s.labels, strict=True):
                counts.setdefault(w, np.zeros(n, dtype=np.float64))[lab] += 1
                prior[lab] += 1
        self.prior = prior / prior.sum()
        self.counts = counts
        self.smoothing = float(smoothing)

    def predict_proba(self, words_batch: Sequence[Sequence[str]]) -> list[np.ndarray]:
        out = []
        for words in words_batch:
            rows = []
            for w in words:
                c = self.counts.get(w)
                p = self.prior if c is None else (c + self.smoothing * self.prior) / (c.sum() + self.smoothing)
                rows.append(p)
            out.append(np.asarray(rows, dtype=np.float32).reshape(len(words), len(self.label_names)))
        return out


def lexicon_fold_model(
    train_sentences: Sequence[Sentence],
    *,
    label_names: Sequence[str],
    budget: FoldBudget | None = None,
    workdir: Path | None = None,
    seed: int = 42,
    progress: FoldProgress | None = None,
    stats: FoldStats | None = None,
) -> LexiconModel:
    """`FoldTrainer` for `LexiconModel` (budget, workdir and seed do not matter to it)."""
    cpu0, wall0 = time.process_time(), time.perf_counter()
    model = LexiconModel(train_sentences, label_names)
    if stats is not None:
        stats.cpu_s, stats.wall_s = time.process_time() - cpu0, time.perf_counter() - wall0
    return model
