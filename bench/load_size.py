"""Load and size: `bnner-tui tag` on megabytes of stdin, and on one line of megabytes.

What it shows: wall time, time to the first output record (streaming: output starts while input
is still being read), and peak RSS of the real `bnner-tui tag` process (os.wait4), each at two
input sizes. The ratio printed is peak RSS at the big size over the small one: memory bounded by
the batch, not by the input, gives a ratio near 1.

The model is small on purpose (a BERT of hidden 64, 2 layers, random init, WordPiece trained on
the bundled demo set), so the run takes minutes on 2 CPU cores; the tagger's memory behaviour
does not depend on the model's size (its weights are a constant). The text is WikiANN bn
validation sentences (../shared/data) when present, else the demo set, repeated to the size.

Usage (from the repo root):
    .venv/bin/python bench/load_size.py              # 5 MB vs 0.5 MB
    .venv/bin/python bench/load_size.py --quick      # 200 KB vs 50 KB
    .venv/bin/python bench/load_size.py --quick --case one-line   # the smoke test: one input kind
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(os.environ.get("BNNER_SHARED_DATA", REPO.parent / "shared" / "data"))


def sentences() -> tuple[list[str], str]:
    dev = SHARED / "wikiann-bn-xtreme-panx" / "dev-bn.tsv"
    if dev.is_file():
        out: list[str] = []
        cur: list[str] = []
        for line in dev.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                if cur:
                    out.append(" ".join(cur))
                cur = []
                continue
            tok = line.split("\t")[0]
            cur.append(tok.split(":", 1)[1] if tok.startswith("bn:") else tok)
        if cur:
            out.append(" ".join(cur))
        return out, f"WikiANN bn validation ({dev})"
    from bnner_tui.core.data import load_source

    ds = load_source("demo").dataset["train"]
    return [" ".join(t) for t in ds["tokens"]], "the bundled demo set"


def build_model(out: Path) -> Path:
    import torch
    from transformers import BertConfig, BertForTokenClassification

    from bnner_tui.core.data import load_source
    from bnner_tui.core.labels import WIKIANN_LABELS
    from bnner_tui.core.train.tokenizers import train_wordpiece

    tokens = load_source("demo").dataset["train"]["tokens"]
    fast = train_wordpiece(tokens, vocab_size=2000, max_length=512)
    torch.manual_seed(0)
    cfg = BertConfig(
        vocab_size=len(fast),
        hidden_size=64,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=128,
        max_position_embeddings=512,
        num_labels=len(WIKIANN_LABELS),
        id2label=dict(enumerate(WIKIANN_LABELS)),
        label2id={lab: i for i, lab in enumerate(WIKIANN_LABELS)},
    )
    BertForTokenClassification(cfg).save_pretrained(out)
    fast.save_pretrained(out)
    return out


def make_input(path: Path, sents: list[str], size: int, *, one_line: bool) -> int:
    """Writes about `size` bytes of text: one sentence per line, or all on one line."""
    sep = " " if one_line else "\n"
    written = 0
    with open(path, "w", encoding="utf-8") as fh:
        i = 0
        while written < size:
            s = sents[i % len(sents)] + sep
            fh.write(s)
            written += len(s.encode("utf-8"))
            i += 1
        fh.write("\n")
    return written


def run_tag(model: Path, src: Path, threads: int) -> dict[str, float]:
    exe = Path(sys.executable).with_name("bnner-tui")
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    if threads > 0:
        env["OMP_NUM_THREADS"] = str(threads)
    first: list[float] = []
    out_bytes = [0]
    t0 = time.monotonic()
    with open(src, "rb") as stdin:
        proc = subprocess.Popen(
            [str(exe), "tag", "-m", str(model), "--format", "jsonl", "-"],
            stdin=stdin,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
        )
        assert proc.stdout is not None and proc.stderr is not None

        def drain() -> None:
            assert proc.stdout is not None
            while block := proc.stdout.read(1 << 16):
                if not first:
                    first.append(time.monotonic() - t0)
                out_bytes[0] += len(block)

        reader = threading.Thread(target=drain)
        reader.start()
        err = proc.stderr.read()
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.monotonic() - t0
        reader.join()
        proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"bnner-tui tag failed ({proc.returncode}): {err.decode(errors='replace')[-2000:]}")
    return {
        "wall_s": wall,
        "first_output_s": first[0] if first else float("nan"),
        "peak_rss_mb": usage.ru_maxrss / 1024,  # Linux: KB
        "output_mb": out_bytes[0] / 1e6,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mb", type=float, default=5.0, help="big input size in MB (small = a tenth)")
    ap.add_argument("--quick", action="store_true", help="200 KB vs 50 KB, for the smoke test")
    ap.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch threads of the tag process (OMP_NUM_THREADS; 0 = torch's default). On a shared,"
        " loaded 2-core box 2 spinning threads were 6x slower than 1.",
    )
    ap.add_argument(
        "--case",
        choices=("lines", "one-line", "both"),
        default="both",
        help="which input to measure: one sentence per line, one single line, or both (default)",
    )
    ns = ap.parse_args()
    big = int(0.2e6) if ns.quick else int(ns.mb * 1e6)
    small = int(0.05e6) if ns.quick else big // 10
    sents, where = sentences()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} CPUs, load average {load:.1f},"
        f" Python {platform.python_version()}, torch threads {ns.threads or 'default'}"
    )
    print(f"text: {where}, {len(sents)} sentences repeated")
    with tempfile.TemporaryDirectory() as tmp:
        model = build_model(Path(tmp) / "model")
        cases = [("lines", "stdin, one sentence per line", False), ("one-line", "stdin, one single line", True)]
        for key, case, one_line in cases:
            if ns.case not in ("both", key):
                continue
            rows = {}
            for size in (small, big):
                src = Path(tmp) / "in.txt"
                n = make_input(src, sents, size, one_line=one_line)
                rows[size] = r = run_tag(model, src, ns.threads)
                print(
                    f"{case}: {n / 1e6:.2f} MB in: wall {r['wall_s']:.1f} s, first output after"
                    f" {r['first_output_s']:.1f} s, peak RSS {r['peak_rss_mb']:.0f} MB, {r['output_mb']:.1f} MB out"
                )
            ratio = rows[big]["peak_rss_mb"] / rows[small]["peak_rss_mb"]
            print(f"{case}: peak RSS ratio {big / 1e6:g} MB / {small / 1e6:g} MB input = {ratio:.2f}")


if __name__ == "__main__":
    main()
