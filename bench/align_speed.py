"""Tokenize + align WikiANN bn train (10,000 sentences) with mBERT cased: bnner-tui vs the tutorial loop.

Runs everything in one process on the same sentences and prints best-of-N wall times and ratios:

- bnner-tui `align_batch` (strategy first), cold: its per-tokenizer word cache emptied before
  every repetition, so each run tokenizes every distinct word from scratch (the honest number
  for a first `Dataset.map`);
- bnner-tui `align_batch`, warm cache (a second map over the same data, e.g. another split
  sharing words or a re-run in the same session);
- `tokenizers` `encode_batch` alone (no labels), as a reference for the Rust tokenizer;
- the tutorial recipe: transformers `AutoTokenizer` from the same folder, called per sample with
  `is_split_into_words=True, truncation=True`, and a Python loop over `word_ids()` building
  first-piece labels (the baseline named in issue 2);
- the same tutorial loop but with one batched tokenizer call (what `Dataset.map(batched=True)`
  with the HF course's function does).

It also checks that bnner-tui's input_ids and labels equal the tutorial's for every sentence
except those where bnner-tui's normalisation deliberately changes a token, and prints that count.

    .venv/bin/python bench/align_speed.py [--data PATH] [--tokenizer DIR] [--repeat N] [--raw]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared" / "data"


def read_tsv(path: Path, label_names: list[str]) -> tuple[list[list[str]], list[list[int]]]:
    """Fallback reader for `token<TAB>tag` files (used when core.data cannot load the path)."""
    sents: list[list[str]] = []
    tags: list[list[int]] = []
    cur: list[str] = []
    cur_tags: list[int] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            if cur:
                sents.append(cur)
                tags.append(cur_tags)
                cur, cur_tags = [], []
            continue
        token, tag = line.split("\t")[0], line.split("\t")[-1]
        cur.append(token.removeprefix("bn:"))
        cur_tags.append(label_names.index(tag))
    if cur:
        sents.append(cur)
        tags.append(cur_tags)
    return sents, tags


def load(path: Path, raw: bool = False) -> tuple[list[list[str]], list[list[int]], list[str], str]:
    from bnner_tui.core.labels import WIKIANN_LABELS

    if raw:
        sents, tags = read_tsv(path, WIKIANN_LABELS)
        return sents, tags, WIKIANN_LABELS, "minimal tsv reader (raw tokens, --raw)"
    try:
        from bnner_tui.core.data import load_source

        src = load_source(str(path))
        split = src.dataset["train"]
        return list(split["tokens"]), list(split["ner_tags"]), list(src.label_names), "core.data.load_source"
    except Exception as err:  # the bench still runs on a bare tsv if the loader is unavailable or refuses
        print(f"(core.data.load_source unavailable for {path}: {err}; using the minimal tsv reader)")
        sents, tags = read_tsv(path, WIKIANN_LABELS)
        return sents, tags, WIKIANN_LABELS, "minimal tsv reader"


def best_of(fn: Callable[[], Any], repeat: int, before: Callable[[], None] | None = None) -> tuple[float, float, Any]:
    times = []
    result = None
    for _ in range(repeat):
        if before:
            before()
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return min(times), statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=SHARED / "wikiann-bn-xtreme-panx" / "train-bn.tsv")
    parser.add_argument("--tokenizer", type=Path, default=SHARED / "mbert-cased-tokenizer")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--max-length", type=int, default=512)
    parser.add_argument("--raw", action="store_true", help="read the tsv as is (no core.data normalisation)")
    args = parser.parse_args()

    from bnner_tui.core.align import align_batch, load_tokenizer
    from bnner_tui.core.align.cache import clear_word_caches
    from bnner_tui.core.labels import IGNORE_INDEX
    from bnner_tui.core.textnorm import normalize_token

    sents, tags, label_names, how = load(args.data, args.raw)
    tok = load_tokenizer(args.tokenizer)
    n_words = sum(len(s) for s in sents)
    n_distinct = len({w for s in sents for w in s})
    print(f"data: {args.data} via {how}: {len(sents)} sentences, {n_words} words, {n_distinct} distinct")
    print(f"tokenizer: {args.tokenizer}; max_length {args.max_length}; best of {args.repeat}")
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs; "
        f"TOKENIZERS_PARALLELISM={os.environ.get('TOKENIZERS_PARALLELISM', '(unset)')}"
    )

    batch = {"tokens": sents, "ner_tags": tags}

    def ours() -> dict[str, list[list[int]]]:
        return align_batch(batch, tokenizer=tok, label_names=label_names, strategy="first", max_length=args.max_length)

    cold, cold_med, out = best_of(ours, args.repeat, before=clear_word_caches)
    warm, warm_med, _ = best_of(ours, args.repeat)
    normed = [[normalize_token(w) for w in s] for s in sents]
    enc_only, enc_med, _ = best_of(lambda: tok.encode_batch(normed, is_pretokenized=True), args.repeat)

    t0 = time.perf_counter()
    from transformers import AutoTokenizer

    hf = AutoTokenizer.from_pretrained(str(args.tokenizer))
    hf_load = time.perf_counter() - t0

    def tutorial_labels(word_ids: list[int | None], word_tags: list[int]) -> list[int]:
        labels, prev = [], None
        for w in word_ids:
            if w is None or w == prev:
                labels.append(IGNORE_INDEX)
            else:
                labels.append(word_tags[w])
            prev = w
        return labels

    def tutorial_per_sample() -> tuple[list[list[int]], list[list[int]]]:
        all_ids, all_labels = [], []
        for words, word_tags in zip(sents, tags, strict=True):
            enc = hf(words, is_split_into_words=True, truncation=True, max_length=args.max_length)
            all_ids.append(enc["input_ids"])
            all_labels.append(tutorial_labels(enc.word_ids(), word_tags))
        return all_ids, all_labels

    def tutorial_batched() -> tuple[list[list[int]], list[list[int]]]:
        enc = hf(sents, is_split_into_words=True, truncation=True, max_length=args.max_length)
        return enc["input_ids"], [tutorial_labels(enc.word_ids(i), t) for i, t in enumerate(tags)]

    base, base_med, (base_ids, base_labels) = best_of(tutorial_per_sample, args.repeat)
    base_b, base_b_med, _ = best_of(tutorial_batched, args.repeat)

    differ = [i for i in range(len(sents)) if out["input_ids"][i] != base_ids[i] or out["labels"][i] != base_labels[i]]
    changed = {i for i, (s, n) in enumerate(zip(sents, normed, strict=True)) if s != n}
    unexplained = [i for i in differ if i not in changed]

    rows = [
        ("bnner-tui align_batch, cold cache", cold, cold_med),
        ("bnner-tui align_batch, warm cache", warm, warm_med),
        ("tokenizers encode_batch only (no labels)", enc_only, enc_med),
        ("tutorial: per-sample transformers call + word_ids() loop", base, base_med),
        ("tutorial: one batched transformers call + word_ids() loop", base_b, base_b_med),
    ]
    print()
    print(f"{'what':60} {'best s':>8} {'median s':>9}")
    for name, best, med in rows:
        print(f"{name:60} {best:8.3f} {med:9.3f}")
    print()
    print(f"ratio per-sample tutorial / bnner-tui cold: {base / cold:6.1f}x")
    print(f"ratio batched tutorial    / bnner-tui cold: {base_b / cold:6.1f}x")
    print(f"ratio encode_batch alone  / bnner-tui cold: {enc_only / cold:6.1f}x")
    print(f"target <= 1.0 s for all sentences: {'met' if cold <= 1.0 else 'NOT met'} ({cold:.3f} s cold)")
    print(f"(transformers AutoTokenizer load, not timed above: {hf_load:.2f} s)")
    print(
        f"agreement with the tutorial (input_ids and first-piece labels): {len(sents) - len(differ)}/{len(sents)} "
        f"sentences identical; {len(differ)} differ, all where normalisation changed a token: {not unexplained}"
    )
    if unexplained:
        raise SystemExit(f"unexplained differences in sentences {unexplained[:10]}")


if __name__ == "__main__":
    main()
