"""Forward-pass backends for the tagger: torch (the default) or ONNX Runtime (opt-in, `backend="onnx"`).

Why ONNX Runtime: on a 2-core CPU the tagger's time is mostly the 12-layer forward pass, and
ONNX Runtime with its graph optimisations (fused GELU, layer norm, MatMul+Add) runs that pass in
fp32 with the same labels; it measured 1.6x faster than eager torch on a busy machine (load 3-4)
but 0.86-1.09x on a quiet one, so it stays opt-in (docs/benchmarks.md has the numbers).
Everything else (tokenising, length-sorted batching, aggregation, decoding) stays in the tagger.

The exported graph is cached outside the user's model folder, under the user cache
(`$BNNER_CACHE_DIR` or `$XDG_CACHE_HOME/bnner-tui`, default `~/.cache/bnner-tui`), in
`onnx/<key>/model.onnx`. The key hashes the model's config and its weight files' names, sizes and
modification times plus the torch and exporter settings, so a retrained model gets a fresh export
and the old one is simply never read again. Writes are atomic (core/files.py).

Heavy imports (torch, onnxruntime) happen inside functions: the CLI imports the tagger at start-up.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from bnner_tui.core.errors import BnnerError

BACKENDS = ("torch", "onnx")
OPSET = 17
_EXPORT_VERSION = 1  # bump when the export recipe changes, so old caches are not reused
_WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth")


def cache_root() -> Path:
    """The user cache of bnner-tui (never inside a model folder)."""
    env = os.environ.get("BNNER_CACHE_DIR")
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "bnner-tui"


def model_key(model_dir: Path) -> str:
    """A hash that changes whenever the model folder's config or weights change."""
    import torch

    h = hashlib.sha256()
    h.update(f"v{_EXPORT_VERSION} opset{OPSET} torch{torch.__version__}\n".encode())
    h.update(str(model_dir.resolve()).encode() + b"\n")
    config = model_dir / "config.json"
    if config.is_file():
        h.update(config.read_bytes())
    for p in sorted(model_dir.iterdir()):
        if p.is_file() and p.suffix in _WEIGHT_SUFFIXES:
            st = p.stat()
            h.update(f"{p.name} {st.st_size} {st.st_mtime_ns}\n".encode())
    return h.hexdigest()[:24]


def onnx_path(model_dir: Path) -> Path:
    """Where the exported graph of `model_dir` lives in the cache."""
    return cache_root() / "onnx" / model_key(model_dir) / "model.onnx"


def require_onnxruntime() -> Any:
    """The onnxruntime module, or one sentence saying how to install it."""
    try:
        import onnxruntime
    except ImportError:
        raise BnnerError(
            "The onnx backend needs onnxruntime, which is not installed: "
            "pip install 'bnner-tui[fast]' (or pip install onnxruntime onnx), or use the torch backend."
        ) from None
    return onnxruntime


def export_onnx(model: Any, path: Path) -> None:
    """Exports a token-classification model (input_ids, attention_mask -> logits) with dynamic batch and length.

    Uses torch's TorchScript-based exporter (`dynamo=False`): it needs only the `onnx` package,
    and its graph is what ONNX Runtime's BERT fusions recognise. The file is written atomically.
    """
    import torch

    from bnner_tui.core.files import atomic_write_via

    class _Logits(torch.nn.Module):
        def __init__(self, net: Any) -> None:
            super().__init__()
            self.net = net

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            return self.net(input_ids=input_ids, attention_mask=attention_mask).logits

    wrapped = _Logits(model).eval()
    dummy_ids = torch.ones((2, 8), dtype=torch.long)
    dummy_mask = torch.ones((2, 8), dtype=torch.long)
    dummy_mask[1, 5:] = 0

    def write(tmp: Path) -> None:
        import warnings

        with torch.inference_mode(False), torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(
                wrapped,
                (dummy_ids, dummy_mask),
                str(tmp),
                input_names=["input_ids", "attention_mask"],
                output_names=["logits"],
                dynamic_axes={
                    "input_ids": {0: "batch", 1: "length"},
                    "attention_mask": {0: "batch", 1: "length"},
                    "logits": {0: "batch", 1: "length"},
                },
                opset_version=OPSET,
                do_constant_folding=True,
                dynamo=False,
            )

    try:
        atomic_write_via(path, write)
    except BnnerError:
        raise
    except Exception as err:
        raise BnnerError(
            f"Exporting the model to ONNX failed ({type(err).__name__}: {str(err).strip()[:200]}): "
            "use the torch backend for this model."
        ) from None
    meta = {"source": "bnner-tui onnx backend", "export_version": _EXPORT_VERSION, "opset": OPSET}
    from bnner_tui.core.files import atomic_write_json

    atomic_write_json(path.with_name("export.json"), meta)


class OnnxForward:
    """An ONNX Runtime session that maps (input_ids, attention_mask) int64 arrays to float32 logits."""

    def __init__(self, path: Path, *, num_threads: int | None = None) -> None:
        ort = require_onnxruntime()
        opts = ort.SessionOptions()
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        opts.intra_op_num_threads = int(num_threads or _default_threads())
        opts.inter_op_num_threads = 1
        opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        self.path = path
        self.session = ort.InferenceSession(str(path), sess_options=opts, providers=["CPUExecutionProvider"])
        self._inputs = {i.name for i in self.session.get_inputs()}

    def __call__(self, input_ids: np.ndarray, attention_mask: np.ndarray) -> np.ndarray:
        feed = {
            "input_ids": np.ascontiguousarray(input_ids, dtype=np.int64),
            "attention_mask": np.ascontiguousarray(attention_mask, dtype=np.int64),
        }
        # The exporter drops an input the graph never reads (a model without attention layers
        # ignores the mask), so feed only what the session declares.
        (logits,) = self.session.run(["logits"], {k: v for k, v in feed.items() if k in self._inputs})
        return np.asarray(logits, dtype=np.float32)


def _default_threads() -> int:
    """The threads torch would use (it already honours OMP_NUM_THREADS and the cgroup's cores)."""
    import torch

    return max(1, int(torch.get_num_threads()))


def load_onnx(model: Any, model_dir: Path, *, num_threads: int | None = None) -> OnnxForward:
    """An ONNX Runtime forward for `model` (loaded from `model_dir`), exporting it to the cache once."""
    require_onnxruntime()
    path = onnx_path(model_dir)
    if not path.is_file():
        export_onnx(model, path)
    try:
        return OnnxForward(path, num_threads=num_threads)
    except BnnerError:
        raise
    except Exception as err:
        raise BnnerError(
            f"ONNX Runtime could not load {path} ({type(err).__name__}: {str(err).strip()[:200]}): "
            "delete that folder to re-export, or use the torch backend."
        ) from None


def describe(path: Path) -> str:
    """One line for logs: where the exported graph is and how it was made."""
    meta_path = path.with_name("export.json")
    meta = json.loads(meta_path.read_text(encoding="utf-8")) if meta_path.is_file() else {}
    return f"onnx {path} (opset {meta.get('opset', '?')})"
