"""Which model a name means (run folder, model folder, hub id), fetching a hub snapshot, loading it to infer.

Heavy libraries (torch, transformers, huggingface_hub) are imported inside the functions, so the
CLI can import the tagger at start-up.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from bnner_tui.core import hub
from bnner_tui.core.errors import HubUnavailableError, ModelNotFoundError

_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*(/[\w.-]+)?$")


def resolve_model_path(model: str | Path, *, runs_dir: str | Path = "runs") -> tuple[Path | None, str]:
    """(local folder, description) or (None, hub id). Run folders resolve to their `model/`."""
    text = str(model).strip()
    if not text:
        raise ModelNotFoundError("No model given: pass a run folder, a model folder or a hub id.")
    candidates = [Path(text).expanduser()]
    if not Path(text).is_absolute():
        candidates.append(Path(runs_dir) / text)
    for p in candidates:
        if p.is_dir():
            if (p / "model" / "config.json").is_file():
                return p / "model", f"run {p}"
            if (p / "config.json").is_file():
                return p, f"folder {p}"
            if (p / "model").is_dir() or (p / "events.jsonl").is_file():
                raise ModelNotFoundError(
                    f"{p} is a run without a finished model (no model/config.json): "
                    "wait for it to finish or pick another run."
                )
            raise ModelNotFoundError(f"{p} is not a model folder: it has no config.json.")
        if p.exists():
            raise ModelNotFoundError(
                f"{p} is a file, not a model folder: pass a run folder, a model folder or a hub id."
            )
    looks_like_path = text.startswith((".", "/", "~")) or "\\" in text or text.count("/") > 1
    if looks_like_path or not _HUB_ID.match(text):
        raise ModelNotFoundError(f"{text} does not exist: pass a run folder, a model folder or a hub id.")
    return None, text


def hub_snapshot(repo_id: str) -> Path:
    """A local snapshot of a hub model; fails in seconds, with one sentence, when the hub is unreachable."""
    from huggingface_hub import HfApi, snapshot_download
    from huggingface_hub.errors import GatedRepoError, RepositoryNotFoundError

    patterns = ["*.json", "*.safetensors", "*.txt", "*.model", "*.bin"]
    try:
        return Path(snapshot_download(repo_id, local_files_only=True, allow_patterns=patterns))
    except Exception:
        pass
    if hub.offline():
        raise HubUnavailableError(
            f"{repo_id} is not in the local Hugging Face cache and HF_HUB_OFFLINE is set: "
            "pass a local model folder or go online."
        )
    try:
        info = HfApi().model_info(repo_id, timeout=5)
    except (RepositoryNotFoundError, GatedRepoError):
        raise ModelNotFoundError(
            f"{repo_id} is not a model on the Hugging Face Hub (or it is private or gated)."
        ) from None
    except Exception as err:
        raise HubUnavailableError(
            f"The Hugging Face Hub cannot be reached to fetch {repo_id} ({type(err).__name__}): "
            "check the network or pass a local model folder."
        ) from None
    files = {s.rfilename for s in (info.siblings or [])}
    if files and any(f.endswith(".safetensors") for f in files):
        patterns = [p for p in patterns if p != "*.bin"]
    try:
        return Path(snapshot_download(repo_id, allow_patterns=patterns))
    except Exception as err:
        raise HubUnavailableError(
            f"Downloading {repo_id} failed ({type(err).__name__}): check the network or pass a local model folder."
        ) from None


def model_max_length(model: Any, tokenizer: Any) -> int:
    """The longest piece sequence the model takes, from the tokenizer and the position table."""
    limits = [512]
    tml = getattr(tokenizer, "model_max_length", None)
    if isinstance(tml, int) and 0 < tml < 100_000:
        limits.append(tml)
    mpe = getattr(model.config, "max_position_embeddings", None)
    if isinstance(mpe, int) and mpe > 0:
        offset = (
            2 if getattr(model.config, "model_type", "") in {"roberta", "xlm-roberta", "camembert", "longformer"} else 0
        )
        limits.append(mpe - offset)
    return min(limits)


def load_for_inference(
    path: Path, *, quantize: bool = False, device: str | None = None, num_threads: int | None = None
) -> tuple[Any, Any, str]:
    """(model in eval mode on its device, fast tokenizer, device) from a local model folder.

    Our own model types load from the installed code, never remote code. Loading is quiet (no
    transformers warnings or progress bars) and each failure is one sentence. `quantize=True`
    applies int8 dynamic quantisation to the Linear layers, which runs on the CPU only.
    """
    import torch
    from transformers import AutoModelForTokenClassification, AutoTokenizer
    from transformers.utils import logging as hf_logging

    from bnner_tui.core.train.wordmodel import register_if_needed

    register_if_needed(path)  # our own model types load from the installed code, no remote code

    if num_threads:
        torch.set_num_threads(int(num_threads))
    verbosity = hf_logging.get_verbosity()
    bars = hf_logging.is_progress_bar_enabled()
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    try:
        try:
            tokenizer = AutoTokenizer.from_pretrained(str(path), local_files_only=True)
        except Exception as err:
            raise ModelNotFoundError(
                f"{path} has no usable tokenizer ({type(err).__name__}: {_first_line(err)})."
            ) from None
        if not getattr(tokenizer, "is_fast", False):
            raise ModelNotFoundError(f"{path} has only a slow tokenizer: the tagger needs a fast one (tokenizer.json).")
        try:
            net = AutoModelForTokenClassification.from_pretrained(str(path), local_files_only=True)
        except Exception as err:
            raise ModelNotFoundError(
                f"{path} is not a loadable token-classification model ({type(err).__name__}: {_first_line(err)})."
            ) from None
    finally:
        hf_logging.set_verbosity(verbosity)
        if bars:
            hf_logging.enable_progress_bar()
    if device is None:
        device = "cuda" if torch.cuda.is_available() and not quantize else "cpu"
    net.eval()
    if quantize:
        device = "cpu"
        import warnings

        with warnings.catch_warnings():  # deprecated in favour of torchao, which is not a dependency
            warnings.simplefilter("ignore")
            net = torch.ao.quantization.quantize_dynamic(net, {torch.nn.Linear}, dtype=torch.qint8)
    net.to(device)
    return net, tokenizer, device


def _first_line(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return text[0][:200] if text else type(err).__name__


def find_latest_run_model(runs_dir: str | Path = "runs") -> Path | None:
    """The `model/` folder of the newest finished run under `runs_dir`, or None."""
    from bnner_tui.core.runs import list_runs

    runs = list_runs(runs_dir, finished=True, has_model=True)  # newest first
    return runs[0].model_dir if runs else None
