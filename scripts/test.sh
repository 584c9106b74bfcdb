#!/usr/bin/env bash
# One test command: lint, type check, then the whole test suite (tests that need ../shared/data skip without it).
#
# The suite runs on every core (pytest-xdist, BNNER_TEST_WORKERS, default 2). The tmux tests of
# tests/e2e are one xdist group, so one worker runs them one after the other while the other
# worker goes on with the rest (`--dist loadgroup`); they wait on the terminal's redraws, not on
# the clock. Given test paths or -k/-m selections, the command runs exactly those, in one process.
#
# PYTHONDONTWRITEBYTECODE is dropped for the run: with it, every worker and every `bnner-tui`
# subprocess compiles the project (and pytest rewrites every test module's asserts) from scratch.
set -euo pipefail
cd "$(dirname "$0")/.."
unset PYTHONDONTWRITEBYTECODE
# One torch thread per process: the workers already use every core, and a torch process's
# spinning second thread (training, tagging subprocesses) only competes with the other worker.
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1} MKL_NUM_THREADS=${MKL_NUM_THREADS:-1}
export HF_HUB_OFFLINE=${HF_HUB_OFFLINE:-1} HF_DATASETS_OFFLINE=${HF_DATASETS_OFFLINE:-1} WANDB_MODE=${WANDB_MODE:-offline}
.venv/bin/ruff check core tui tests bench scripts
.venv/bin/mypy -p bnner_tui
selects=0
for arg in "$@"; do
    case "$arg" in
        -k | -m | --deselect | -*::* | tests* | */*) selects=1 ;;
    esac
done
if [ "$selects" -eq 1 ]; then
    .venv/bin/python -m pytest "$@"
else
    .venv/bin/python -m pytest -n "${BNNER_TEST_WORKERS:-2}" --dist loadgroup "$@"
fi
