"""Where this training process runs: the precision the device allows, the ranks under torchrun, OOM advice.

torch is imported inside the functions: the worker's failure path imports `oom_message` even when
torch never loaded.
"""

from __future__ import annotations

import os

from bnner_tui.core.errors import ConfigError


def resolve_precision(precision: str) -> tuple[str, str]:
    """(precision actually used, device description). auto = bf16 on a CUDA GPU that has it, else fp32."""
    import torch

    if torch.cuda.is_available():
        name = torch.cuda.get_device_name(0)
        bf16_ok = torch.cuda.is_bf16_supported()
        device = f"cuda ({name})"
        if precision == "auto":
            return ("bf16" if bf16_ok else "fp16"), device
        if precision == "bf16" and not bf16_ok:
            raise ConfigError(f"precision bf16 is not supported by {name}: use --precision fp16 or fp32.")
        return precision, device
    device = "cpu"
    if precision == "auto":
        return "fp32", device
    if precision == "fp16":
        raise ConfigError("precision fp16 needs a CUDA GPU and none is available: use fp32 (or bf16) on CPU.")
    return precision, device


def cuda_available() -> bool:
    import torch

    return bool(torch.cuda.is_available())


def synchronize_cuda() -> None:
    """Wait for queued GPU work, so the process's end is the work's end (a no-op on CPU)."""
    import torch

    if torch.cuda.is_available():
        torch.cuda.synchronize()


def world_size() -> int:
    return int(os.environ.get("WORLD_SIZE", "1"))


def is_rank0() -> bool:
    return int(os.environ.get("RANK", "0")) == 0


def oom_message(batch_size: int) -> str:
    half = max(1, int(batch_size) // 2)
    return f"Out of GPU memory at batch size {batch_size}: try --batch-size {half} or --grad-accum 2."
