#!/usr/bin/env bash
# One test command: lint, type check, then the whole test suite (tests that need ../shared/data skip without it).
set -euo pipefail
cd "$(dirname "$0")/.."
export HF_HUB_OFFLINE=${HF_HUB_OFFLINE:-1} HF_DATASETS_OFFLINE=${HF_DATASETS_OFFLINE:-1} WANDB_MODE=${WANDB_MODE:-offline}
.venv/bin/ruff check core tui tests bench scripts
.venv/bin/mypy -p bnner_tui
.venv/bin/python -m pytest "$@"
