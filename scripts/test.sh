#!/usr/bin/env bash
# One test command: lint, type check, then the whole test suite (tests that need ../shared/data skip without it).
#
# The suite runs on every core (pytest-xdist, BNNER_TEST_WORKERS, default 2) except the tmux
# tests of tests/e2e, which run after it on their own: they read a real terminal's cells and
# wait on its redraws, which is only fair on a machine that is not also running other tests.
# Given test paths or -k/-m selections, the command runs exactly those, in one process.
set -euo pipefail
cd "$(dirname "$0")/.."
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
    .venv/bin/python -m pytest -n "${BNNER_TEST_WORKERS:-2}" --ignore=tests/e2e "$@"
    .venv/bin/python -m pytest tests/e2e "$@"
fi
