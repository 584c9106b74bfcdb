"""The benchmark scripts still run and still print their ratio (tiny sizes; the numbers are not checked).

The measurements themselves live in docs/benchmarks.md; this only keeps the scripts from rotting.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def _run(args: list[str], shared: Path | None = None) -> str:
    env = dict(os.environ, PYTHONUNBUFFERED="1", TOKENIZERS_PARALLELISM="false")
    if shared is not None:
        env["BNNER_SHARED_DATA"] = str(shared)
    proc = subprocess.run(
        [sys.executable, *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=600, check=False
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    return proc.stdout


@pytest.mark.slow
def test_startup_time_bench_prints_its_ratio() -> None:
    out = _run(["bench/startup_time.py", "--repeat", "1"])
    assert "first frame / baseline" in out and "heavy modules imported at the first frame: none" in out


@pytest.mark.slow
def test_align_speed_bench_prints_its_ratio(wikiann_dir: Path, mbert_dir: Path) -> None:
    args = ["--data", str(wikiann_dir / "train-bn.tsv"), "--tokenizer", str(mbert_dir)]
    out = _run(["bench/align_speed.py", "--repeat", "1", *args])
    assert "ratio" in out and "10000/10000 sentences identical" in out


@pytest.mark.slow
def test_train_speed_bench_cpu_smoke_run(wikiann_dir: Path, mbert_dir: Path) -> None:
    args = ["--data", str(wikiann_dir), "--mbert", str(mbert_dir)]
    out = _run(["bench/train_speed.py", "--max-steps", "2", "--layers", "1", "--batch-size", "16", *args])
    assert "tutorial:" in out and "gpu-fast:" in out and "ratio gpu-fast / tutorial" in out


@pytest.mark.slow
def test_tag_speed_bench_prints_ratio_and_disagreements(wikiann_dir: Path, mbert_dir: Path) -> None:
    args = ["--n", "20", "--repeats", "1", "--latency-n", "2", "--layers", "1"]
    out = _run(["bench/tag_speed.py", *args], shared=wikiann_dir.parent)
    assert "ratio ours fp32 / pipeline" in out and "## disagreements:" in out and "single-sentence latency" in out
    assert "our default precision on this machine: fp32" in out  # one layer: too small for bf16


@pytest.mark.slow
def test_load_size_bench_quick_prints_its_ratios() -> None:
    out = _run(["bench/load_size.py", "--quick", "--case", "one-line"])  # the other case is the same code
    assert "stdin, one single line: peak RSS ratio" in out
    assert "one sentence per line" not in out


@pytest.mark.slow
def test_peer_cpu_bench_quick_prints_both_systems_and_ratios() -> None:
    """spaCy's efficiency pipeline and our `cpu` preset, a few steps each on the demo set."""
    pytest.importorskip("spacy", reason="spaCy is the optional extra bnner-tui[bench]: pip install -e '.[bench]'")
    out = _run(["bench/peer_cpu.py", "--quick"])
    assert "| spacy |" in out and "| ours |" in out
    assert "ratio ours / spacy F1 @ 1 CPU-min" in out and "ratio ours / spacy tagging throughput" in out


@pytest.mark.slow
def test_data_load_bench_quick() -> None:
    out = _run(["bench/data_load.py", "--quick"])
    assert "stats one-sentence" in out and "one sentence of 20,000 tokens" in out
    assert "check sentences" in out and "no problems" in out
