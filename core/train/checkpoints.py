"""Which checkpoint a resume can trust: every file in it parses or loads.

Why: transformers writes `trainer_state.json` (and the weights, optimizer, scheduler and RNG
files) with plain open-and-write. A kill or a power loss between the open and the last write
leaves a folder that looks complete but holds half a file, and `train --resume` then failed
every time ("JSONDecodeError: Unterminated string") although the previous checkpoint was
complete. A resume therefore checks the checkpoints newest first and takes the first one whose
files all load, saying which ones it passed over and why.

Checking is a real load (json, safetensors header and data size, `torch.load` of the .pt/.pth
files on CPU), not a look at names or sizes, so it costs about one read of the checkpoint.
torch, safetensors and transformers are imported inside the functions (this module is imported by
the launcher).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from bnner_tui.core.train.ema import EMA_STATE_FILE

_CHECKPOINT_RE = re.compile(r"^checkpoint-(\d+)$")
_WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")
_INDEX_FILES = ("model.safetensors.index.json", "pytorch_model.bin.index.json")


@dataclass(frozen=True)
class SkippedCheckpoint:
    path: Path
    reason: str  # one sentence: which file, and what is wrong with it

    @property
    def step(self) -> int:
        return checkpoint_step(self.path)


def checkpoint_step(path: Path) -> int:
    m = _CHECKPOINT_RE.match(path.name)
    return int(m.group(1)) if m else -1


def checkpoints_newest_first(checkpoints_dir: Path) -> list[Path]:
    try:
        entries = [p for p in checkpoints_dir.iterdir() if _CHECKPOINT_RE.match(p.name) and p.is_dir()]
    except OSError:
        return []
    return sorted(entries, key=checkpoint_step, reverse=True)


def _torch_load(path: Path) -> None:
    import torch
    from transformers.trainer_pt_utils import safe_globals

    with safe_globals():  # the same allow-list the Trainer loads RNG states with (numpy arrays)
        torch.load(path, map_location="cpu", weights_only=True)


def _check_safetensors(path: Path) -> None:
    from safetensors import safe_open

    # safe_open validates the header and that the tensors' byte ranges cover the file exactly,
    # so a file cut short anywhere after its header fails here without reading every tensor.
    with safe_open(str(path), framework="pt") as fh:
        keys = list(fh.keys())
    if not keys:
        raise ValueError("it holds no tensors")


def _check_json(path: Path, *, need: str | None = None) -> None:
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or (need is not None and need not in data):
        raise ValueError(f"it is not a JSON object with {need!r}" if need else "it is not a JSON object")


def checkpoint_problem(path: str | Path) -> str | None:
    """None when every file of the checkpoint loads; else one sentence naming the file and the problem."""
    ckpt = Path(path)
    state = ckpt / "trainer_state.json"
    if not state.is_file():
        return "trainer_state.json is missing (the save was interrupted)"
    checks: list[tuple[Path, str]] = [(state, "state")]
    if (ckpt / "config.json").is_file():
        checks.append((ckpt / "config.json", "json"))
    weights = [ckpt / n for n in _WEIGHT_FILES if (ckpt / n).is_file()]
    index = next((ckpt / n for n in _INDEX_FILES if (ckpt / n).is_file()), None)
    if index is not None:
        try:
            shards = sorted(set(json.loads(index.read_text(encoding="utf-8"))["weight_map"].values()))
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as err:
            return f"{index.name} cannot be read ({_short(err)})"
        for shard in shards:
            if not (ckpt / shard).is_file():
                return f"the weights shard {shard} is missing"
        weights += [ckpt / s for s in shards]
    if not weights:
        return "it has no model weights (model.safetensors or pytorch_model.bin)"
    checks += [(w, "safetensors" if w.suffix == ".safetensors" else "torch") for w in weights]
    if (ckpt / EMA_STATE_FILE).is_file():  # the raw weights and the average of an EMA run
        checks.append((ckpt / EMA_STATE_FILE, "safetensors"))
    for name in ("optimizer.pt", "scheduler.pt"):
        if not (ckpt / name).is_file():
            return f"{name} is missing"
        checks.append((ckpt / name, "torch"))
    rng = sorted(ckpt.glob("rng_state*.pth"))
    if not rng:
        return "the RNG state (rng_state.pth) is missing"
    checks += [(r, "torch") for r in rng]
    for file, kind in checks:
        try:
            if kind == "state":
                _check_json(file, need="global_step")
            elif kind == "json":
                _check_json(file)
            elif kind == "safetensors":
                _check_safetensors(file)
            else:
                _torch_load(file)
        except Exception as err:  # each library raises its own classes for a torn file
            return f"{file.name} cannot be loaded ({_short(err)})"
    return None


def newest_complete_checkpoint(checkpoints_dir: str | Path) -> tuple[Path | None, list[SkippedCheckpoint]]:
    """The newest checkpoint whose files all load, and the newer ones passed over (with why)."""
    skipped: list[SkippedCheckpoint] = []
    for ckpt in checkpoints_newest_first(Path(checkpoints_dir)):
        problem = checkpoint_problem(ckpt)
        if problem is None:
            return ckpt, skipped
        skipped.append(SkippedCheckpoint(ckpt, problem))
    return None, skipped


def skipped_message(skip: SkippedCheckpoint, chosen: Path | None) -> str:
    then = f"resuming from {chosen.name}" if chosen is not None else "no earlier checkpoint is complete"
    return f"Skipped {skip.path.name}: {skip.reason}; {then}."


def _short(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    first = text[0][:160] if text else ""
    return f"{type(err).__name__}: {first}" if first else type(err).__name__
