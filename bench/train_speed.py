"""Training speed: the `tutorial` preset vs the `gpu-fast` preset, same device, same model, one process.

Both presets train the same architecture (bert-base-multilingual-cased's config from the shared
tokenizer folder, random init with the same seed, since no weights can be downloaded here) with
the real mBERT tokenizer on the 10,000 WikiANN bn training sentences, through the project's own
pipeline (`core.train.pipeline.train_run`: tokenize-once cache, collator, Trainer, callbacks).
Saving and evaluation are off, so the numbers are training throughput.

Printed per preset: steady-state samples/s (timed after `--warmup` optimizer steps, between
two device synchronisations), seconds per epoch of 10,000 sentences derived from it, the
Trainer's own whole-run samples/s (start-up included), and the ratio gpu-fast / tutorial.

    python bench/train_speed.py                     # GPU: 1 epoch each
    python bench/train_speed.py --max-steps 3       # CPU smoke run (CI)
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("BNNER_SHARED_DATA", REPO.parent / "shared" / "data"))


def _first_existing(*paths: Path) -> Path:
    for p in paths:
        if p.exists():
            return p
    return paths[0]


def build_model(config_json: Path, label_names: list[str], seed: int, layers: int | None = None) -> Any:
    import torch
    from transformers import BertConfig, BertForTokenClassification

    config = BertConfig.from_json_file(str(config_json))
    if layers:
        config.num_hidden_layers = layers
    config.num_labels = len(label_names)
    config.id2label = dict(enumerate(label_names))
    config.label2id = {n: i for i, n in enumerate(label_names)}
    config.architectures = ["BertForTokenClassification"]
    torch.manual_seed(seed)
    return BertForTokenClassification(config)


def load_tokenizer(folder: Path) -> Any:
    from transformers import PreTrainedTokenizerFast

    return PreTrainedTokenizerFast(
        tokenizer_file=str(folder / "tokenizer.json"),
        unk_token="[UNK]",
        pad_token="[PAD]",
        cls_token="[CLS]",
        sep_token="[SEP]",
        mask_token="[MASK]",
        model_max_length=512,
    )


def steady_timer(warmup: int) -> Any:
    """A callback timing optimizer steps after `warmup`, synchronising the device only twice."""
    import torch
    from transformers import TrainerCallback

    def sync() -> None:
        if torch.cuda.is_available():
            torch.cuda.synchronize()

    class Timer(TrainerCallback):
        def __init__(self) -> None:
            self.t0: float | None = None
            self.step0 = 0
            self.t1: float | None = None
            self.step1 = 0

        def on_step_end(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
            if state.global_step == warmup:
                sync()
                self.t0, self.step0 = time.perf_counter(), state.global_step

        def on_train_end(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
            sync()
            self.t1, self.step1 = time.perf_counter(), state.global_step

    return Timer()


def run_preset(name: str, ns: argparse.Namespace, source: Any, tokenizer: Any) -> dict[str, Any]:
    import torch

    from bnner_tui.core.config import TrainConfig
    from bnner_tui.core.train.pipeline import train_run

    overrides: dict[str, Any] = {"epochs": float(ns.epochs), "max_steps": int(ns.max_steps), "logging_steps": 50}
    if ns.workers is not None:
        overrides["dataloader_workers"] = ns.workers
    if ns.batch_size and name != "tutorial":
        overrides["batch_size"] = ns.batch_size
    if ns.compile and name != "tutorial":
        overrides["torch_compile"] = True
    if not torch.cuda.is_available():
        overrides["precision"] = "fp32"  # CPU smoke run: bf16 autocast on CPU is not what we measure
        overrides["optim"] = "adamw_torch"
        overrides["dataloader_workers"] = 0  # worker processes only add start-up time on 2 cores
    cfg = TrainConfig.from_preset(name, **overrides)
    cfg.save_every = "no"  # no checkpoints: we time training, not 2 GB optimizer-state writes
    cfg.eval_every = "no"
    model = build_model(ns.config, list(source.label_names), seed=0, layers=ns.layers)
    timer = steady_timer(ns.warmup)
    if torch.cuda.is_available():
        torch.cuda.reset_peak_memory_stats()
    with tempfile.TemporaryDirectory(prefix=f"bench-{name}-") as tmp:
        result = train_run(
            cfg,
            Path(tmp),
            source=source,
            model=model,
            tokenizer=tokenizer,
            evaluate=False,
            save_model=False,
            extra_callbacks=[timer],
        )
    steps = timer.step1 - timer.step0
    samples_per_step = cfg.batch_size * cfg.grad_accum
    steady = None
    if timer.t0 is not None and timer.t1 is not None and steps > 0:
        steady = steps * samples_per_step / (timer.t1 - timer.t0)
    n_train = source.dataset["train"].num_rows
    out = {
        "preset": name,
        "batch_size": cfg.batch_size,
        "precision": cfg.precision,
        "optim": cfg.optim,
        "group_by_length": cfg.group_by_length,
        "pad_to_multiple_of": cfg.pad_to_multiple_of,
        "dataloader_workers": cfg.dataloader_workers,
        "torch_compile": cfg.torch_compile,
        "layers": model.config.num_hidden_layers,
        "steps": result.step,
        "timed_steps": steps,
        "steady_samples_per_s": steady,
        "seconds_per_epoch": (n_train / steady) if steady else None,
        "trainer_samples_per_s": result.train_metrics.get("train_samples_per_second"),
        "trainer_runtime_s": result.train_metrics.get("train_runtime"),
        "train_loss": result.train_metrics.get("train_loss"),
        "peak_gpu_mb": round(torch.cuda.max_memory_allocated() / 2**20) if torch.cuda.is_available() else None,
    }
    del model, result
    if torch.cuda.is_available():
        torch.cuda.empty_cache()
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument(
        "--data", type=Path, default=_first_existing(REPO / ".benchdata" / "wikiann", SHARED / "wikiann-bn-xtreme-panx")
    )
    p.add_argument(
        "--mbert", type=Path, default=_first_existing(REPO / ".benchdata" / "mbert", SHARED / "mbert-cased-tokenizer")
    )
    p.add_argument("--epochs", type=float, default=1.0)
    p.add_argument("--max-steps", type=int, default=-1, help="stop each preset after N steps (CPU smoke run)")
    p.add_argument("--warmup", type=int, default=None, help="steps excluded from the steady-state timing")
    p.add_argument("--presets", default="tutorial,gpu-fast")
    p.add_argument("--batch-size", type=int, default=None, help="override gpu-fast's batch size")
    p.add_argument("--workers", type=int, default=None, help="override DataLoader workers (all presets)")
    p.add_argument("--layers", type=int, default=None, help="fewer encoder layers (CPU smoke run only)")
    p.add_argument("--compile", action="store_true", help="gpu-fast with torch.compile")
    p.add_argument("--json", type=Path, default=None, help="also write the results here")
    ns = p.parse_args(argv)
    ns.config = ns.mbert / "config.json"
    if ns.warmup is None:
        ns.warmup = 1 if 0 < ns.max_steps <= 10 else 20
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

    import torch
    import transformers

    from bnner_tui.core.data import load_source

    transformers.utils.logging.set_verbosity_error()
    try:
        import datasets

        datasets.disable_progress_bars()
    except ImportError:
        pass
    device = torch.cuda.get_device_name(0) if torch.cuda.is_available() else f"CPU ({os.cpu_count()} cores)"
    t = time.perf_counter()
    source = load_source(str(ns.data))
    tokenizer = load_tokenizer(ns.mbert)
    print(f"device: {device}; torch {torch.__version__}; transformers {transformers.__version__}")
    print(
        f"data: {ns.data} ({source.dataset['train'].num_rows} train sentences),"
        f" loaded in {time.perf_counter() - t:.1f}s"
    )
    results = []
    for name in ns.presets.split(","):
        r = run_preset(name.strip(), ns, source, tokenizer)
        results.append(r)
        sps = r["steady_samples_per_s"]
        print(
            f"{r['preset']:>9}: batch {r['batch_size']}, {r['precision']}, {r['optim']},"
            f" group_by_length={r['group_by_length']},"
            f" pad8={r['pad_to_multiple_of']}, workers={r['dataloader_workers']}, compile={r['torch_compile']}: "
            f"{r['steps']} steps; steady {sps:.1f} samples/s = {r['seconds_per_epoch']:.2f} s/epoch; "
            f"Trainer whole-run {r['trainer_samples_per_s']} samples/s in {r['trainer_runtime_s']} s; "
            f"peak GPU {r['peak_gpu_mb']} MB; loss {r['train_loss']:.3f}"
            if sps
            else f"{r['preset']}: {r['steps']} steps (too few to time)"
        )
        sys.stdout.flush()
    base = next((r for r in results if r["preset"] == "tutorial"), None)
    for r in results:
        if base and r is not base and base["steady_samples_per_s"] and r["steady_samples_per_s"]:
            ratio = r["steady_samples_per_s"] / base["steady_samples_per_s"]
            whole = (r["trainer_samples_per_s"] or 0) / (base["trainer_samples_per_s"] or 1)
            print(f"ratio {r['preset']} / tutorial: steady {ratio:.2f}x, whole-run {whole:.2f}x")
    if ns.json:
        ns.json.write_text(json.dumps({"device": device, "results": results}, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
