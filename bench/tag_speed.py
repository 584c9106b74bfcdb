"""Tagging speed: our batch tagger vs `transformers.pipeline("token-classification")`, one process.

The model is bert-base-multilingual-cased's architecture (config from the shared data) with a
random-init token-classification head and body (fixed seed, WikiANN's 7 labels) and mBERT's real
tokenizer, saved once to a temporary folder; both sides load that same folder. The texts are the
WikiANN bn validation sentences (dev-bn.tsv), tokens joined by spaces, one text per sentence.

With random weights the entities are arbitrary but deterministic, so where the two disagree the
difference comes from how each turns piece predictions into word spans (the pipeline regroups
pieces with whitespace heuristics on the raw string; we aggregate by word_ids over the project's
word split). The script prints a few disagreements so a reader can judge.

Usage (from the repo root):
    .venv/bin/python bench/tag_speed.py                 # all 1000 sentences
    .venv/bin/python bench/tag_speed.py --n 300 --repeats 2 --quantize --bf16
    .venv/bin/python bench/tag_speed.py --onnx          # also ONNX Runtime fp32 (needs bnner-tui[fast])
    .venv/bin/python bench/tag_speed.py --distinct      # each sentence once: no repeats for ours to skip

With --onnx, the exported graph goes to a cache inside the temporary folder (BNNER_CACHE_DIR), so
its export time is printed and the user's cache is left alone.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import unicodedata
from pathlib import Path

# The CLI tags a file in chunks of CLI_CHUNK lines and our tagger sorts by length within a call,
# so chunks of that size time what a user gets (a smaller chunk sorts less and pads more).
from bnner_tui.tui.cli.tag import CHUNK_ITEMS as CLI_CHUNK

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("BNNER_SHARED_DATA", REPO.parent / "shared" / "data"))


def read_sentences(path: Path) -> list[list[str]]:
    sents: list[list[str]] = []
    cur: list[str] = []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            line = line.rstrip("\n")
            if not line.strip():
                if cur:
                    sents.append(cur)
                    cur = []
                continue
            cur.append(line.split("\t")[0])
    if cur:
        sents.append(cur)
    return sents


def build_model(out_dir: Path, mbert_dir: Path, seed: int, layers: int | None = None) -> None:
    import torch
    from transformers import AutoTokenizer, BertConfig, BertForTokenClassification

    from bnner_tui.core.labels import WIKIANN_LABELS

    config = BertConfig.from_pretrained(
        str(mbert_dir),
        num_labels=len(WIKIANN_LABELS),
        id2label=dict(enumerate(WIKIANN_LABELS)),
        label2id={label: i for i, label in enumerate(WIKIANN_LABELS)},
        architectures=["BertForTokenClassification"],
    )
    if layers is not None:  # the smoke test's shortcut; the measurements use mBERT's 12
        config.num_hidden_layers = layers
    torch.manual_seed(seed)
    model = BertForTokenClassification(config)
    model.save_pretrained(out_dir)
    AutoTokenizer.from_pretrained(str(mbert_dir)).save_pretrained(out_dir)


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    k = (len(values) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


def is_punct(s: str) -> bool:
    return bool(s) and all(unicodedata.category(c).startswith("P") for c in s)


def read_labelled(path: Path) -> list[tuple[list[str], list[str]]]:
    out: list[tuple[list[str], list[str]]] = []
    toks: list[str] = []
    tags: list[str] = []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            line = line.rstrip("\n")
            if not line.strip():
                if toks:
                    out.append((toks, tags))
                    toks, tags = [], []
                continue
            tok, tag = line.split("\t")[:2]
            toks.append(tok)
            tags.append(tag)
    if toks:
        out.append((toks, tags))
    return out


def f1_report(model: str, dev: Path, batch_size: int, onnx: bool = False) -> None:
    """Word-level seqeval F1 on WikiANN bn dev of a trained model: fp32 vs int8 (opt-in) and bf16.

    Two label sets per variant: the model's own per-word argmax (what training's metrics.json
    scores), and the tagger's final labels (IOB2-repaired, punctuation trimmed off entity edges).
    """
    from seqeval.metrics import f1_score
    from seqeval.scheme import IOB2

    from bnner_tui.core.tagger import SimpleWord, Tagger
    from bnner_tui.core.textnorm import normalize_token

    data = read_labelled(dev)
    items = []
    for toks, _ in data:
        words, pos = [], 0
        for tok in toks:
            words.append(SimpleWord(normalize_token(tok), pos, pos + len(tok)))
            pos += len(tok) + 1
        items.append((" ".join(toks), words))
    gold = [tags for _, tags in data]
    print(f"\n## F1 on {len(data)} WikiANN bn dev sentences, trained model {model}")
    base: float | None = None
    base_flat: list[str] = []
    variants: list[tuple[str, dict]] = [("fp32", {"device": "cpu", "bf16": False}), ("int8", {"quantize": True})]
    variants.append(("bf16", {"device": "cpu", "bf16": True}))
    if onnx:
        variants.append(("onnx fp32", {"backend": "onnx"}))
    for name, kwargs in variants:
        tagger = Tagger.load(model, **kwargs)
        t0 = time.perf_counter()
        raw_pred = tagger.predict_words([[w.text for w in ws] for _, ws in items], batch_size=batch_size)
        secs = time.perf_counter() - t0
        raw_labels = [[tagger.labels[int(i)] for i in lab] for lab, _ in raw_pred]
        final = [[w.label for w in r.words] for r in tagger.tag_words_batch(items, batch_size=batch_size)]
        tagger.set_decoding("argmax")
        final_drop = [[w.label for w in r.words] for r in tagger.tag_words_batch(items, batch_size=batch_size)]
        f_drop = f1_score(gold, final_drop, mode="strict", scheme=IOB2)
        f_raw = f1_score(gold, raw_labels, mode="strict", scheme=IOB2)
        f_final = f1_score(gold, final, mode="strict", scheme=IOB2)
        f_lenient = f1_score(gold, raw_labels)
        flat = [lab for sent in raw_labels for lab in sent]
        if base is None:
            base, base_flat = f_raw, flat
        same = sum(a == b for a, b in zip(flat, base_flat, strict=True))
        print(
            f"{name}: F1 model labels {f_raw:.4f} (conlleval-style {f_lenient:.4f}), "
            f"tagger final labels {f_final:.4f} (orphan I- dropped: {f_drop:.4f}), change vs fp32 {f_raw - base:+.4f}, "
            f"word labels equal to fp32 {same}/{len(flat)}; {len(data) / secs:.0f} sentences/s"
        )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=1000, help="validation sentences to tag (max 1000)")
    ap.add_argument("--batch-size", type=int, default=32, help="our tag_batch batch size")
    ap.add_argument("--pipeline-batch-sizes", default="1,16", help="pipeline batch sizes to time, comma-separated")
    ap.add_argument("--repeats", type=int, default=2, help="timed passes per chunk and contender (best counts)")
    ap.add_argument(
        "--chunk",
        type=int,
        default=CLI_CHUNK,
        help=f"sentences per interleaved chunk (default {CLI_CHUNK}: what `bnner-tui tag FILE` tags at once)",
    )
    ap.add_argument("--latency-n", type=int, default=50, help="single-sentence calls for p50/p95")
    ap.add_argument("--examples", type=int, default=5, help="disagreements to print")
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--distinct", action="store_true", help="drop repeated sentences first (no repeats to save)")
    ap.add_argument("--layers", type=int, default=None, help="fewer encoder layers (the smoke test only)")
    ap.add_argument("--quantize", action="store_true", help="also time our tagger with int8 dynamic quantisation")
    ap.add_argument(
        "--bf16", action="store_true", help="also time bf16 autocast where it is not already our default here"
    )
    ap.add_argument("--onnx", action="store_true", help="also time our tagger with the ONNX Runtime fp32 backend")
    ap.add_argument("--f1-model", default=None, help="a trained run/model: report dev F1 for fp32, int8, bf16")
    ap.add_argument("--f1-only", action="store_true", help="only the --f1-model report, no speed comparison")
    args = ap.parse_args()

    mbert = SHARED / "mbert-cased-tokenizer"
    dev = SHARED / "wikiann-bn-xtreme-panx" / "dev-bn.tsv"
    for p in (mbert, dev):
        if not p.exists():
            print(f"missing {p}: this benchmark needs ../shared/data", file=sys.stderr)
            return 2

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    import numpy as np
    import torch
    import transformers
    from transformers import AutoModelForTokenClassification, AutoTokenizer, pipeline
    from transformers.utils import logging as hf_logging

    from bnner_tui.core.tagger import Tagger
    from bnner_tui.core.textnorm import split_words

    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    if args.threads:
        torch.set_num_threads(args.threads)

    if args.f1_model:
        f1_report(args.f1_model, dev, args.batch_size, onnx=args.onnx)
        if args.f1_only:
            return 0

    sents = read_sentences(dev)[: args.n]
    if args.distinct:  # WikiANN repeats sentences; ours tags a repeat within a call once, the pipeline does not
        kept: dict[str, list[str]] = {}
        for s in sents:
            kept.setdefault(" ".join(s), s)
        sents = list(kept.values())
    texts = [" ".join(s) for s in sents]
    n = len(texts)
    print(f"# tag_speed: {n} WikiANN bn validation sentences, {sum(map(len, sents))} words")
    print(f"load average at start (1/5/15 min): {'/'.join(f'{x:.1f}' for x in os.getloadavg())}")
    print(
        f"machine: {platform.processor() or platform.machine()}, os.cpu_count()={os.cpu_count()}, "
        f"torch threads={torch.get_num_threads()}, torch {torch.__version__}, transformers {transformers.__version__}"
    )

    with tempfile.TemporaryDirectory() as tmp:
        model_dir = Path(tmp) / "mbert-random-ner"
        t0 = time.perf_counter()
        build_model(model_dir, mbert, args.seed, args.layers)
        shape = f", {args.layers} layers instead of 12" if args.layers is not None else ""
        print(f"built random-init mBERT token classifier (seed {args.seed}{shape}) in {time.perf_counter() - t0:.1f} s")

        t0 = time.perf_counter()
        tagger = Tagger.load(model_dir, device="cpu", bf16=False)
        ours_load = time.perf_counter() - t0
        t0 = time.perf_counter()
        pipe = pipeline(
            "token-classification",
            model=AutoModelForTokenClassification.from_pretrained(str(model_dir)),
            tokenizer=AutoTokenizer.from_pretrained(str(model_dir)),
            aggregation_strategy="first",
            device="cpu",
        )
        pipe_load = time.perf_counter() - t0
        print(f"load (torch/transformers already imported): ours {ours_load:.2f} s, pipeline {pipe_load:.2f} s")
        cold = subprocess.run(
            [
                sys.executable,
                "-c",
                "import time; t = time.perf_counter(); from bnner_tui.core.tagger import Tagger; "
                f"Tagger.load({str(model_dir)!r}, device='cpu'); print(time.perf_counter() - t)",
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if cold.returncode == 0:
            print(f"cold load in a fresh process (imports included, as the CLI does): ours {float(cold.stdout):.2f} s")

        variants: list[tuple[str, Tagger]] = [("ours fp32", tagger)]
        default = Tagger.load(model_dir, device="cpu")  # what `bnner-tui tag` and the Tag screen use
        print(f"our default precision on this machine: {default.precision}")
        if default.precision != "fp32":
            variants.append((f"ours default, {default.precision}", default))
        if args.quantize:
            variants.append(("ours int8 (opt-in)", Tagger.load(model_dir, device="cpu", quantize=True)))
        if args.bf16 and not default.bf16:
            variants.append(("ours bf16", Tagger.load(model_dir, device="cpu", bf16=True)))
        if args.onnx:
            os.environ["BNNER_CACHE_DIR"] = str(Path(tmp) / "cache")
            t0 = time.perf_counter()
            Tagger.load(model_dir, backend="onnx")
            export_secs = time.perf_counter() - t0
            t0 = time.perf_counter()
            variants.append(("ours onnx fp32", Tagger.load(model_dir, backend="onnx")))
            print(
                f"onnx backend: first load (export + session) {export_secs:.1f} s, "
                f"cached load {time.perf_counter() - t0:.1f} s"
            )

        # warm-up
        for _, tg in variants:
            tg.tag_batch(texts[:16], batch_size=args.batch_size)
        pipe(texts[:16], batch_size=8)

        pipe_sizes = [int(x) for x in args.pipeline_batch_sizes.split(",") if x.strip()]
        # Interleaved in chunks: other processes on a shared machine change the speed minute by
        # minute, so every contender runs each chunk back to back (order rotating) and each
        # contender's time is the sum over chunks of its best repeat.
        contenders: list[tuple[str, object]] = [(name, tg) for name, tg in variants]
        contenders += [(f"pipeline batch_size={bs}", bs) for bs in pipe_sizes]
        chunks = [list(range(i, min(i + args.chunk, n))) for i in range(0, n, args.chunk)]
        distinct = sum(len({texts[i] for i in idx}) for idx in chunks)
        print(f"distinct texts within the chunks: {distinct}/{n} (ours runs a repeated text once per call)")
        best: dict[tuple[str, int], float] = {}
        results: dict[str, list] = {name: [None] * n for name, _ in contenders}
        for rep in range(max(1, args.repeats)):
            for c, idx in enumerate(chunks):
                chunk_texts = [texts[i] for i in idx]
                k = (rep + c) % len(contenders)
                for name, who in contenders[k:] + contenders[:k]:
                    t0 = time.perf_counter()
                    if isinstance(who, Tagger):
                        out = who.tag_batch(chunk_texts, batch_size=args.batch_size)
                    else:
                        out = pipe(chunk_texts, batch_size=who)
                    secs = time.perf_counter() - t0
                    best[(name, c)] = min(best.get((name, c), float("inf")), secs)
                    for i, r in zip(idx, out, strict=True):
                        results[name][i] = r
        timings = {name: sum(best[(name, c)] for c in range(len(chunks))) for name, _ in contenders}

        print(
            f"\n## throughput ({len(chunks)} chunks of <= {args.chunk} sentences, interleaved, best of "
            f"{max(1, args.repeats)} per chunk; load average now {os.getloadavg()[0]:.1f})"
        )
        base = timings["ours fp32"]
        for name, secs in timings.items():
            print(f"{name:28s} {n / secs:8.1f} sentences/s   ({secs:.1f} s)")
        for bs in pipe_sizes:
            name = f"pipeline batch_size={bs}"
            print(f"ratio ours fp32 / {name}: {timings[name] / base:.2f}x")
        for name, _ in variants[1:]:
            for bs in pipe_sizes:
                ratio = timings[f"pipeline batch_size={bs}"] / timings[name]
                print(f"ratio {name} / pipeline batch_size={bs}: {ratio:.2f}x")
            same = total = 0
            for a, b in zip(results["ours fp32"], results[name], strict=True):
                same += sum(wa.label == wb.label for wa, wb in zip(a.words, b.words, strict=True))
                total += len(a.words)
            print(f"{name}: word labels equal to fp32 on {same}/{total} words ({same / max(total, 1):.2%})")
            ent_same = sum(
                [(e.start, e.end, e.label) for e in a.entities] == [(e.start, e.end, e.label) for e in b.entities]
                for a, b in zip(results["ours fp32"], results[name], strict=True)
            )
            print(f"{name}: entities identical to fp32 in {ent_same}/{n} sentences")
            for text, a, b in zip(texts, results["ours fp32"], results[name], strict=True):
                ea, eb = [(e.text, e.label) for e in a.entities], [(e.text, e.label) for e in b.entities]
                if ea != eb and args.examples:
                    print(f"  first difference: {text}\n    fp32: {ea}\n    {name}: {eb}")
                    break

        # disagreements with the pipeline
        ours = results["ours fp32"]
        theirs = results[f"pipeline batch_size={pipe_sizes[-1]}"]
        differ = []
        pipe_punct_edge = pipe_mid_word = pipe_total = 0
        for text, r, p in zip(texts, ours, theirs, strict=True):
            a = {(e.start, e.end, e.label) for e in r.entities}
            b = {(int(e["start"]), int(e["end"]), e["entity_group"]) for e in p}
            bounds_s = {w.start for w in split_words(text)}
            bounds_e = {w.end for w in split_words(text)}
            for s, e, _ in b:
                pipe_total += 1
                span = text[s:e].split()
                if span and (is_punct(span[0]) or is_punct(span[-1])):
                    pipe_punct_edge += 1
                if s not in bounds_s or e not in bounds_e:
                    pipe_mid_word += 1
            if a != b:
                differ.append((text, r, p))
        print(f"\n## disagreements: {len(differ)}/{n} sentences have different entities (ours vs pipeline)")
        print(
            f"pipeline entities: {pipe_total}; starting/ending on a punctuation-only word: {pipe_punct_edge}; "
            f"starting/ending inside a word: {pipe_mid_word}"
        )
        for text, r, p in differ[: args.examples]:
            print(f"- text: {text}")
            print(f"  ours:     {[(e.text, e.label) for e in r.entities]}")
            print(f"  pipeline: {[(text[int(e['start']) : int(e['end'])], e['entity_group']) for e in p]}")

        # single-sentence latency after load
        rng = np.random.default_rng(args.seed)
        sample = [texts[i] for i in rng.choice(n, size=min(args.latency_n, n), replace=False)]
        lat_ours, lat_pipe = [], []
        for text in sample:
            t0 = time.perf_counter()
            tagger.tag(text)
            lat_ours.append((time.perf_counter() - t0) * 1000)
            t0 = time.perf_counter()
            pipe(text)
            lat_pipe.append((time.perf_counter() - t0) * 1000)
        print(f"\n## single-sentence latency over {len(sample)} sentences (ms)")
        print(f"ours:     p50 {statistics.median(lat_ours):.1f}  p95 {pct(lat_ours, 0.95):.1f}")
        print(f"pipeline: p50 {statistics.median(lat_pipe):.1f}  p95 {pct(lat_pipe, 0.95):.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
