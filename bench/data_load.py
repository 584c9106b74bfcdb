"""Loading large CoNLL files: wall time and peak memory of `bnner-tui data stats` and `data check`.

It writes two CoNLL files of the same size (50 MB by default) into a temporary folder:

- ``one-sentence``: 2.8 M tokens and no blank line (a file that lost its sentence breaks),
- ``sentences``: the same tokens in sentences of 20 tokens,

and runs each command in a fresh process, recording wall time, peak RSS (the child's own
``ru_maxrss``), the exit status and the first line it printed. ``--bnner`` picks the
executable, so the same script measures another checkout (for a before/after):

    .venv/bin/python bench/data_load.py                              # this checkout
    .venv/bin/python bench/data_load.py --bnner /work/main/.venv/bin/bnner-tui --commands stats
    .venv/bin/python bench/data_load.py --quick                      # tiny files: the smoke test
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
WORDS = ["ঢাকা\tB-LOC", "শহরের\tO", "শেখ\tB-PER", "হাসিনা\tI-PER", "বাংলাদেশ\tB-ORG", "ব্যাংক\tI-ORG", "গেছেন\tO", "।\tO"]


def write_files(folder: Path, tokens: int) -> dict[str, Path]:
    """The two shapes, written in chunks (the bench itself must not need the file in memory)."""
    out = {"one-sentence": folder / "one-sentence.conll", "sentences": folder / "sentences.conll"}
    for name, path in out.items():
        with open(path, "w", encoding="utf-8") as fh:
            chunk: list[str] = []
            for i in range(tokens):
                chunk.append(WORDS[i % len(WORDS)])
                if name == "sentences" and i % 20 == 19:
                    chunk.append("")
                if len(chunk) >= 100_000:
                    fh.write("\n".join(chunk) + "\n")
                    chunk = []
            fh.write("\n".join(chunk) + "\n")
    return out


_MEASURE = """
import json, resource, subprocess, sys, time
t = time.perf_counter()
p = subprocess.run(sys.argv[1:], capture_output=True, text=True)
wall = time.perf_counter() - t
rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
first = next((ln for ln in (p.stdout + p.stderr).splitlines() if ln.strip()), "")
print(json.dumps({"wall_s": wall, "peak_rss_mb": rss / 1024, "rc": p.returncode, "first": first[:160]}))
"""


def measure(cmd: list[str]) -> dict:
    """Run ``cmd`` in a fresh process; its wall time and peak RSS, measured by a small parent of its own."""
    out = subprocess.run([sys.executable, "-c", _MEASURE, *cmd], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tokens", type=int, default=2_800_000, help="tokens per file (2.8 M ~ 50 MB)")
    parser.add_argument("--bnner", default=str(REPO / ".venv" / "bin" / "bnner-tui"), help="the bnner-tui to measure")
    parser.add_argument("--commands", default="stats,check", help="comma-separated: stats, check")
    parser.add_argument("--quick", action="store_true", help="20,000 tokens: checks the script runs")
    args = parser.parse_args()
    tokens = 20_000 if args.quick else args.tokens
    commands = [c for c in args.commands.split(",") if c]
    with tempfile.TemporaryDirectory() as tmp:
        files = write_files(Path(tmp), tokens)
        print(f"bnner-tui: {args.bnner}")
        for name, path in files.items():
            size = path.stat().st_size / 1e6
            for command in commands:
                r = measure([args.bnner, "data", command, str(path)])
                print(
                    f"{command:5s} {name:12s} {size:6.1f} MB  {tokens:,} tokens  wall {r['wall_s']:6.2f} s  "
                    f"peak RSS {r['peak_rss_mb']:7.0f} MB  exit {r['rc']}  | {r['first']}"
                )
                sys.stdout.flush()


if __name__ == "__main__":
    main()
