"""Our offline preset against spaCy's efficiency NER pipeline, on the same CPU data, by CPU time.

Both systems train from scratch (no pretrained vectors; nothing can be downloaded here) on the
same train split and are scored on the same dev split by one scorer (seqeval strict IOB2 on the
data's own words, `core.metrics.score_sequences`). Each runs in its own process with the same
thread settings (one thread each by default, both processes at once: one per core on a 2-core
machine, as the issue's peers were measured), and its clock is the process's CPU time,
start-up (imports, data loading, tokenisation) included, so a loaded machine slows the wall
clock but not the numbers much.

- spaCy: `spacy init config --lang bn --pipeline ner --optimize efficiency` (built through the
  same Python API the CLI uses), trained with that config's own optimizer, batcher, dropout and
  eval frequency; the best dev F1 so far is what a run keeping its best model would have.
- ours: the `cpu` preset through the project's real pipeline (`core.train.pipeline.train_run`:
  the tokenizer, the Trainer, its evaluation and best-model keeping), then the saved model
  loaded back by the Tagger for the unseen-sentence F1 and the tagging throughput.

Printed: dev F1 at 1, 2, 5 and 10 CPU-minutes for both, the CPU time to 0.90 and 0.93, the
final F1 on all dev sentences and on those not in train, tagging sentences per CPU-second, and
the ratios ours / spaCy.

    python bench/peer_cpu.py                            # WikiANN bn, 10 CPU-minutes each
    python bench/peer_cpu.py --quick                    # CI smoke run: tiny data, seconds
    python bench/peer_cpu.py --only ours --budget-min 3

spaCy is the optional extra `bnner-tui[bench]` (`pip install -e '.[bench]'`).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("BNNER_SHARED_DATA", REPO.parent / "shared" / "data"))
MARKS_MIN = (1, 2, 5, 10)
SYSTEMS = ("spacy", "ours")


def cpu_seconds() -> float:
    """This process's CPU time (user + system, its children included), start-up included."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


_LOG: list[Path] = []


def emit(record: dict[str, Any]) -> None:
    """One result line to the parent, and to the child's log file (so a cut run still reports)."""
    line = json.dumps(record, ensure_ascii=False)
    print("@@" + line, flush=True)
    for path in _LOG:
        with path.open("a", encoding="utf-8") as fh:
            fh.write(line + "\n")


def load_words(data: str) -> tuple[list[list[str]], list[list[str]], list[list[str]], list[list[str]]]:
    """(train words, train tags, dev words, dev tags) through the project's one loader."""
    from bnner_tui.core.data import load_source

    src = load_source(data)
    names = src.label_names

    def split(name: str) -> tuple[list[list[str]], list[list[str]]]:
        ds = src.dataset[name]
        return [list(t) for t in ds["tokens"]], [[names[i] for i in tags] for tags in ds["ner_tags"]]

    tw, tt = split("train")
    dw, dt = split("validation")
    return tw, tt, dw, dt


def unseen_index(train_words: list[list[str]], dev_words: list[list[str]]) -> list[int]:
    seen = {tuple(s) for s in train_words}
    return [i for i, s in enumerate(dev_words) if tuple(s) not in seen]


def scores(gold: list[list[str]], pred: list[list[str]], unseen: list[int]) -> tuple[float, float]:
    from bnner_tui.core.metrics import score_sequences

    f1 = score_sequences(gold, pred)["overall"]["f1"]
    f1u = score_sequences([gold[i] for i in unseen], [pred[i] for i in unseen])["overall"]["f1"] if unseen else 0.0
    return float(f1), float(f1u)


# ---- spaCy ---------------------------------------------------------------------------------------


def child_spacy(args: argparse.Namespace) -> None:
    import random

    import spacy
    from spacy.cli.init_config import init_config
    from spacy.schemas import ConfigSchemaTraining
    from spacy.tokens import Doc
    from spacy.training import Example
    from spacy.util import load_model_from_config, registry

    tw, tt, dw, dt = load_words(args.data)
    unseen = unseen_index(tw, dw)
    config = init_config(lang="bn", pipeline=["ner"], optimize="efficiency", gpu=False)
    nlp = load_model_from_config(config, auto_fill=True, validate=True)
    training = registry.resolve(nlp.config.interpolate()["training"], schema=ConfigSchemaTraining)
    random.seed(args.seed)
    spacy.util.fix_random_seed(args.seed)

    def doc(words: list[str], tags: list[str] | None = None) -> Doc:
        return Doc(nlp.vocab, words=words, spaces=[True] * len(words), ents=tags)

    examples = [Example(doc(w), doc(w, t)) for w, t in zip(tw, tt, strict=True)]
    optimizer = nlp.initialize(lambda: examples)
    batcher, dropout = training["batcher"], training["dropout"]
    eval_every = 20 if args.quick else int(training["eval_frequency"])
    emit({"event": "start", "cpu": cpu_seconds(), "eval_every": eval_every, "n_train": len(tw), "n_dev": len(dw)})

    def predict() -> list[list[str]]:
        out = []
        for d in nlp.pipe([doc(w) for w in dw], batch_size=256):
            out.append([f"{t.ent_iob_}-{t.ent_type_}" if t.ent_iob_ in ("B", "I") else "O" for t in d])
        return out

    step, best, done = 0, 0.0, False
    while not done:
        random.shuffle(examples)
        for batch in batcher(examples):
            nlp.update(batch, drop=dropout, sgd=optimizer)
            step += 1
            if step % eval_every == 0:
                f1, f1u = scores(dt, predict(), unseen)
                best = max(best, f1)
                emit({"event": "eval", "cpu": cpu_seconds(), "step": step, "f1": f1, "unseen_f1": f1u})
            if cpu_seconds() > args.budget_s or (args.max_steps and step >= args.max_steps):
                done = True
                break
    f1, f1u = scores(dt, predict(), unseen)
    emit({"event": "eval", "cpu": cpu_seconds(), "step": step, "f1": f1, "unseen_f1": f1u})
    emit({"event": "final", "f1": f1, "unseen_f1": f1u, "kept_best_f1": max(best, f1)})
    docs = [doc(w) for w in dw]
    t0, n = cpu_seconds(), 0
    while n == 0 or cpu_seconds() - t0 < args.tag_cpu_s:
        for _ in nlp.pipe(docs, batch_size=256):
            n += 1
    emit({"event": "tag", "sentences_per_cpu_s": n / (cpu_seconds() - t0)})


# ---- ours ----------------------------------------------------------------------------------------


def child_ours(args: argparse.Namespace) -> None:
    import torch

    torch.set_num_threads(args.threads)
    from transformers import TrainerCallback

    from bnner_tui.core.config import TrainConfig
    from bnner_tui.core.tagger import Tagger
    from bnner_tui.core.train.pipeline import train_run

    tw, _, dw, dt = load_words(args.data)
    unseen = unseen_index(tw, dw)
    emit({"event": "start", "cpu": cpu_seconds(), "n_train": len(tw), "n_dev": len(dw)})

    class CpuClock(TrainerCallback):  # type: ignore[misc]
        """Each evaluation's F1 with the CPU time it was reached at; stops at the CPU budget."""

        def on_evaluate(
            self, a: Any, state: Any, control: Any, metrics: dict[str, Any] | None = None, **kw: Any
        ) -> None:
            if metrics and "eval_f1" in metrics:
                emit({"event": "eval", "cpu": cpu_seconds(), "step": state.global_step, "f1": metrics["eval_f1"]})

        def on_step_end(self, a: Any, state: Any, control: Any, **kw: Any) -> None:
            if cpu_seconds() > args.budget_s:
                control.should_training_stop = True

    overrides: dict[str, Any] = {"data": args.data, "seed": args.seed}
    for item in args.set or []:
        key, _, value = item.partition("=")
        overrides[key.strip()] = value.strip()
    if args.quick:
        overrides.update(max_steps=args.max_steps or 30, eval_every=10, save_every=10)
    with tempfile.TemporaryDirectory(prefix="peer-cpu-") as tmp:
        cfg = TrainConfig.from_preset(args.preset, output_root=tmp, run_name="ours", **overrides)
        result = train_run(cfg, Path(tmp) / "ours", extra_callbacks=[CpuClock()])
        model_dir = Path(tmp) / "ours" / "model"
        tagger = Tagger.load(str(model_dir), num_threads=args.threads)
        id2label = tagger.model.config.id2label
        preds = [[id2label[int(i)] for i in ids] for ids, _ in tagger.predict_words(dw, batch_size=64)]
        f1, f1u = scores(dt, preds, unseen)
        emit({"event": "final", "f1": f1, "unseen_f1": f1u, "kept_best_f1": f1, "status": str(result.status)})
        t0, n = cpu_seconds(), 0
        while n == 0 or cpu_seconds() - t0 < args.tag_cpu_s:
            n += len(tagger.predict_words(dw, batch_size=64))
        emit({"event": "tag", "sentences_per_cpu_s": n / (cpu_seconds() - t0)})


# ---- parent --------------------------------------------------------------------------------------


def f1_at(evals: list[dict[str, Any]], cpu_s: float) -> float | None:
    """Best dev F1 reached within `cpu_s` (what a run keeping its best model has then).

    A run that ended before `cpu_s` keeps its best: that is what its user has at that time.
    """
    within = [e["f1"] for e in evals if e["cpu"] <= cpu_s]
    return max(within) if within else None


def time_to(evals: list[dict[str, Any]], target: float) -> float | None:
    return next((e["cpu"] for e in evals if e["f1"] >= target), None)


def run_children(args: argparse.Namespace, systems: list[str]) -> dict[str, dict[str, Any]]:
    env = dict(os.environ, PYTHONUNBUFFERED="1", TOKENIZERS_PARALLELISM="false")
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        env[var] = str(args.threads)
    base = [sys.executable, __file__, "--data", args.data, "--threads", str(args.threads), "--seed", str(args.seed)]
    base += ["--budget-min", str(args.budget_min), "--preset", args.preset, "--tag-cpu-s", str(args.tag_cpu_s)]
    if args.quick:
        base.append("--quick")
    if args.max_steps:
        base += ["--max-steps", str(args.max_steps)]
    for item in args.set or []:
        base += ["--set", item]
    log_dir = Path(args.log_dir)
    log_dir.mkdir(parents=True, exist_ok=True)
    procs = {}
    for name in systems:
        (log_dir / f"{name}.jsonl").unlink(missing_ok=True)
        procs[name] = subprocess.Popen(
            [*base, "--child", name, "--log-dir", str(log_dir)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        if args.sequential:
            procs[name].wait()
    out: dict[str, dict[str, Any]] = {}
    for name, proc in procs.items():
        stdout, stderr = proc.communicate()
        records = [json.loads(line[2:]) for line in stdout.splitlines() if line.startswith("@@")]
        if proc.returncode != 0:
            raise SystemExit(f"{name} failed (exit {proc.returncode}):\n{stderr[-3000:]}")
        out[name] = collect(records)
    return out


def collect(records: list[dict[str, Any]]) -> dict[str, Any]:
    res: dict[str, Any] = {"evals": [r for r in records if r["event"] == "eval"]}
    for r in records:
        if r["event"] in ("start", "final", "tag"):
            res[r["event"]] = r
    return res


def from_logs(log_dir: Path) -> dict[str, dict[str, Any]]:
    """Results from the children's log files: what a run cut short (or still running) has so far."""
    out = {}
    for name in SYSTEMS:
        path = log_dir / f"{name}.jsonl"
        if path.exists():
            lines = path.read_text(encoding="utf-8").splitlines()
            out[name] = collect([json.loads(x) for x in lines if x.strip()])
    return out


def fmt(x: float | None, spec: str = ".3f") -> str:
    return "–" if x is None else format(x, spec)


def report(res: dict[str, dict[str, Any]], args: argparse.Namespace) -> None:
    marks = [m * 60 for m in MARKS_MIN]
    print(f"# peer_cpu: {args.data}, threads {args.threads} per system, budget {args.budget_min} CPU-min each")
    head = "| system | " + " | ".join(f"F1 @ {m} CPU-min" for m in MARKS_MIN)
    print(head + " | CPU s to 0.90 | to 0.93 | final dev F1 | unseen F1 | tag sent/CPU-s | start-up CPU s |")
    print("|---" * (len(MARKS_MIN) + 7) + "|")
    for name, r in res.items():
        evals = r["evals"]
        # A run cut short (or still running: --report) has no F1 yet at marks past its last evaluation.
        reached = evals[-1]["cpu"] if evals else 0.0
        at = [f1_at(evals, m) if "final" in r or m <= reached else None for m in marks]
        print(
            f"| {name} | "
            + " | ".join(fmt(x) for x in at)
            + f" | {fmt(time_to(evals, 0.90), '.0f')} | {fmt(time_to(evals, 0.93), '.0f')}"
            + f" | {fmt(r.get('final', {}).get('kept_best_f1'))} | {fmt(r.get('final', {}).get('unseen_f1'))}"
            + f" | {fmt(r.get('tag', {}).get('sentences_per_cpu_s'), '.0f')}"
            + f" | {fmt(r.get('start', {}).get('cpu'), '.1f')} |"
        )
        state = "finished" if "final" in r else f"not finished, cut at {reached:.0f} CPU s"
        points = ", ".join(f"{e['cpu']:.0f}: {e['f1']:.3f}" for e in evals)
        print(f"#   {name} ({state}) evals (CPU s: dev F1): {points}")
    if set(res) == set(SYSTEMS) and all("tag" in r for r in res.values()):
        o, s = res["ours"], res["spacy"]
        for m in marks:
            a = f1_at(o["evals"], m)
            b = f1_at(s["evals"], m)
            print(f"ratio ours / spacy F1 @ {m // 60} CPU-min: {fmt(a / b if a and b else None)}")
        print(
            f"ratio ours / spacy final dev F1: {o['final']['kept_best_f1'] / max(s['final']['kept_best_f1'], 1e-9):.3f}"
        )
        print(f"ratio ours / spacy unseen F1: {o['final']['unseen_f1'] / max(s['final']['unseen_f1'], 1e-9):.3f}")
        ratio = o["tag"]["sentences_per_cpu_s"] / s["tag"]["sentences_per_cpu_s"]
        print(f"ratio ours / spacy tagging throughput: {ratio:.2f}")
    print(f"# machine: {os.cpu_count()} CPUs, load average at the end {os.getloadavg()[0]:.1f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=str(SHARED / "wikiann-bn-xtreme-panx"))
    ap.add_argument("--budget-min", type=float, default=10.0, help="CPU minutes of training for each system")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--preset", default="cpu")
    ap.add_argument("--only", choices=SYSTEMS)
    ap.add_argument("--set", action="append", metavar="KEY=VALUE", help="override a setting of our preset (repeatable)")
    ap.add_argument("--sequential", action="store_true", help="one system after the other (default: both at once)")
    ap.add_argument("--quick", action="store_true", help="CI smoke run: the bundled demo set, a few steps")
    ap.add_argument("--max-steps", type=int, default=0)
    ap.add_argument("--tag-cpu-s", type=float, default=5.0, help="CPU seconds of tagging to measure throughput")
    ap.add_argument("--json", help="also write the raw results here")
    ap.add_argument("--log-dir", help="where each system's results stream (default: a new temporary folder)")
    ap.add_argument("--report", action="store_true", help="print the table from --log-dir (a cut or running run)")
    ap.add_argument("--child", choices=SYSTEMS, help=argparse.SUPPRESS)
    args = ap.parse_args()
    args.budget_s = args.budget_min * 60
    if args.quick:
        args.data = "demo"
        args.tag_cpu_s = min(args.tag_cpu_s, 0.5)
        args.max_steps = args.max_steps or 30
    if args.child:
        _LOG.append(Path(args.log_dir) / f"{args.child}.jsonl")
    if args.report:
        if not args.log_dir:
            raise SystemExit("--report reads the results of an earlier run: give its --log-dir.")
        return report(from_logs(Path(args.log_dir)), args)
    if not args.log_dir:
        args.log_dir = tempfile.mkdtemp(prefix="bnner-peer-cpu-")
    if args.child == "spacy":
        return child_spacy(args)
    if args.child == "ours":
        return child_ours(args)
    systems = [args.only] if args.only else list(SYSTEMS)
    t0 = time.time()
    res = run_children(args, systems)
    report(res, args)
    print(f"# wall time {time.time() - t0:.0f} s")
    if args.json:
        Path(args.json).write_text(json.dumps(res, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
