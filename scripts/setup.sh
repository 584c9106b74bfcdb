#!/usr/bin/env bash
# One setup command: creates .venv/ at the repo root and installs bnner-tui with its dev extras.
#
# torch is installed first, on purpose: an unpinned `torch` from PyPI pulls the CUDA build
# (several GB). Without a GPU we install the CPU build of torch==2.13.0:
#   1. from a local wheel if pip can find one offline (pip's find-links), else
#   2. from PyTorch's CPU index.
# On a CUDA machine (nvidia-smi works) or with BNNER_TORCH=cuda we install the default CUDA
# build from PyPI instead. BNNER_TORCH=cpu forces the CPU build. Once torch is there, the
# project's own `torch>=2.3` requirement is already satisfied and pulls nothing more.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PYTHON:-python3}
TORCH_VERSION=${BNNER_TORCH_VERSION:-2.13.0}
mode=${BNNER_TORCH:-auto}
if [ "$mode" = auto ]; then
  if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; then mode=cuda; else mode=cpu; fi
fi

[ -x .venv/bin/python ] || "$PY" -m venv .venv
VPY=.venv/bin/python
"$VPY" -m pip install -q --upgrade pip

if "$VPY" -c "import torch" >/dev/null 2>&1; then
  echo "setup: torch $("$VPY" -c 'import torch; print(torch.__version__)') already installed"
elif [ "$mode" = cuda ]; then
  echo "setup: installing the CUDA build of torch==$TORCH_VERSION from PyPI"
  "$VPY" -m pip install "torch==$TORCH_VERSION"
elif "$VPY" -m pip download -q --no-index --no-deps -d "$(mktemp -d)" "torch==$TORCH_VERSION" >/dev/null 2>&1; then
  # A local wheel (pip's find-links) exists: pip prefers its +cpu local version over PyPI's.
  echo "setup: installing the CPU build of torch==$TORCH_VERSION from a local wheel"
  "$VPY" -m pip install "torch==$TORCH_VERSION"
else
  echo "setup: installing the CPU build of torch==$TORCH_VERSION from download.pytorch.org"
  "$VPY" -m pip install "torch==$TORCH_VERSION" --index-url https://download.pytorch.org/whl/cpu
fi

"$VPY" -m pip install -e ".[dev]"
echo "setup: done. Run .venv/bin/bnner-tui --help"
