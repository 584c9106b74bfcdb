"""Compare decodings of one trained run on one labelled split: argmax, the old repair, Viterbi.

Usage:
    .venv/bin/python bench/decoding_compare.py RUN_DIR [--data SPEC] [--split validation]

The word-level probabilities come from evaluation's own path (`core.train.evaluate`: every word,
long sentences in windows), so only the decoding differs between rows. Scores are seqeval strict
IOB2 at the word level on the data's own words; prints one row per decoding and punctuation policy.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run")
    ap.add_argument("--data", default=None)
    ap.add_argument("--split", default="validation")
    args = ap.parse_args()

    from transformers import AutoModelForTokenClassification, AutoTokenizer

    from bnner_tui.core.config import TrainConfig
    from bnner_tui.core.data import load_source
    from bnner_tui.core.decoding import Decoder, DecodingPolicy
    from bnner_tui.core.metrics import score_sequences, unseen_scores
    from bnner_tui.core.train.evaluate import predict_log_probs, tokenize_eval_split, train_memory, word_probabilities
    from bnner_tui.core.train.wordmodel import register_if_needed

    run = Path(args.run)
    register_if_needed(run / "model")  # the offline charword model loads from the installed code
    cfg = TrainConfig.from_toml(run / "config.toml")
    source = load_source(args.data or cfg.data)
    model = AutoModelForTokenClassification.from_pretrained(str(run / "model")).eval()
    tokenizer = AutoTokenizer.from_pretrained(str(run / "model"))
    labels = [model.config.id2label[i] for i in range(model.config.num_labels)]
    evalset = tokenize_eval_split(
        source.dataset[args.split],
        tokenizer=tokenizer,
        label_names=labels,
        source_label_names=list(source.label_names),
        strategy=cfg.strategy,
        max_length=int(cfg.max_length),
    )
    t0 = time.perf_counter()
    log_probs, _ = predict_log_probs(model, tokenizer, evalset, batch_size=64)
    probs = word_probabilities(evalset, log_probs)
    print(f"predicted {len(evalset.tokens)} sentences in {time.perf_counter() - t0:.1f}s")
    memory = train_memory(source.dataset, cfg.train_split)
    print("| decoding | punctuation at entity edges | P | R | F1 | F1 unseen sentences | F1 unseen entities |")
    print("|---|---|---|---|---|---|---|")
    for method in ("argmax", "repair", "viterbi"):
        for trim in (False, True):
            dec = Decoder(labels, DecodingPolicy(method=method, trim_punctuation=trim))
            t1 = time.perf_counter()
            pred = [dec.decode(toks, p).labels for toks, p in zip(evalset.tokens, probs, strict=True)]
            dt = time.perf_counter() - t1
            o = score_sequences(evalset.gold, pred)["overall"]
            u = unseen_scores(evalset.gold, pred, evalset.tokens, memory)
            print(
                f"| {method} | {'trimmed' if trim else 'kept'} | {o['precision']:.4f} | {o['recall']:.4f} |"
                f" {o['f1']:.4f} | {u['sentences']['f1']:.4f} | {u['entities']['f1']:.4f} | ({dt:.2f}s)"
            )


if __name__ == "__main__":
    main()
