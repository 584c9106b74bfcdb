"""What a run folder says for its card: its data, label names, base model, parameter count and scores.

The folder's layout comes from `core.runs.RunDir` and the model actually used from the one fold
of its events (`core.runs.run_state`); what the data spec names comes from `core.data.DataSpec`,
the one parser of a spec. config.toml is read as a plain table on purpose: the card lists every
setting the run recorded, including ones this version of bnner-tui no longer knows.
"""

from __future__ import annotations

import json
import re
import struct
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

from bnner_tui.core.card.errors import CardError
from bnner_tui.core.card.vocab import REPO_ID_RE
from bnner_tui.core.data.spec import WIKIANN_CONFIG, DataSpec
from bnner_tui.core.errors import BnnerError
from bnner_tui.core.runs import RunDir


@dataclass
class DataInfo:
    """How the run's data spec is described on the card."""

    spec: str
    kind: str  # "wikiann", "demo", "hub" or "local"
    hub_id: str | None
    config: str | None
    display: str


@dataclass
class RunInfo:
    """What a run folder says about itself, read with the standard library only."""

    path: Path
    name: str
    config: dict[str, Any]
    metrics: dict[str, Any]
    model_dir: Path
    model_config: dict[str, Any]
    data: DataInfo
    label_names: list[str]
    base_model: str | None
    init_note: str
    num_parameters: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def entity_types(self) -> list[str]:
        seen: list[str] = []
        for label in self.label_names:
            if "-" in label and label.split("-", 1)[1] not in seen:
                seen.append(label.split("-", 1)[1])
        return seen


def read_json(path: Path) -> dict[str, Any]:
    """A JSON object from `path`, or a CardError naming the file (and the line, for bad JSON)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise CardError(f"{path}, line {err.lineno}: not valid JSON ({err.msg}).") from None
    except OSError as err:
        raise CardError(f"{path} cannot be read ({err.strerror}).") from None
    if not isinstance(data, dict):
        raise CardError(f"{path}: expected a JSON object at the top level.")
    return data


def data_info(spec: str) -> DataInfo:
    """Name the data source the way the Hub and a reader expect (WikiANN gets its Hub id).

    What the spec names is `DataSpec.parse`'s answer, the same the loader acted on: a local folder
    is local data whatever its name says, and WikiANN is the hub dataset the loader downloads.
    """
    s = (spec or "").strip()
    try:
        parsed = DataSpec.parse(s)
    except BnnerError:  # e.g. "hub:" with no id: the trainer could not have loaded it either
        return DataInfo(s, "local", None, None, f"data spec `{s}`")
    if parsed.kind == "demo":
        return DataInfo(s, "demo", None, None, "bnner-tui synthetic demo set")
    if parsed.is_wikiann:
        config = parsed.config or WIKIANN_CONFIG
        return DataInfo(s, "wikiann", parsed.repo_id, config, f"WikiANN ({config})")
    if parsed.kind == "hub":
        assert parsed.repo_id is not None
        return DataInfo(s, "hub", parsed.repo_id, parsed.config, parsed.repo_id)
    return DataInfo(s, "local", None, None, f"local data `{Path(s).name or s}`")


def _safetensors_parameters(path: Path) -> int | None:
    """Count parameters from the safetensors header alone: no torch import, no reading the weights."""
    try:
        with open(path, "rb") as fh:
            (n,) = struct.unpack("<Q", fh.read(8))
            if n > 100_000_000:
                return None
            header = json.loads(fh.read(n))
    except (OSError, ValueError, struct.error):
        return None
    total = 0
    for key, meta in header.items():
        if key == "__metadata__" or not isinstance(meta, dict):
            continue
        count = 1
        for dim in meta.get("shape", []):
            count *= int(dim)
        total += count
    return total


def _started_event(run_dir: Path) -> dict[str, Any]:
    """The run's `started` event as written: it records which model was really used ("auto"
    resolves at launch). Read through the one fold of a run's events (`core.runs.run_state`)."""
    from dataclasses import asdict

    from bnner_tui.core.runs import run_state

    try:
        started = run_state(run_dir).started
    except OSError:  # an unreadable stream only costs the card its base_model detail
        return {}
    return asdict(started) if started is not None else {}


def _base_model(cfg: dict[str, Any], run_dir: Path) -> tuple[str | None, str]:
    """The Hub id the run fine-tuned, or None with a sentence on how the weights were initialised.

    The training engine's `started` event says what "auto" became (the hub model, a local folder or
    the offline small BERT built from scratch); config.toml alone is the fallback.
    """
    started = _started_event(run_dir)
    kind, name = str(started.get("model_kind") or ""), str(started.get("model_name") or "")
    model = str(cfg.get("model") or "").strip()
    init = str(cfg.get("init") or "").lower()
    scratch = kind == "offline" or model == "offline"
    scratch = scratch or bool(cfg.get("from_scratch") or cfg.get("random_init") or init in ("random", "scratch"))
    if scratch:
        small = kind == "offline" or model in ("offline", "auto", "")
        what = "a small BERT" if small else f"the `{model}` architecture"
        return None, (
            f"trained **from scratch** (random initialisation of {what}, no pre-trained weights), "
            "so it is a smoke-test model rather than a useful tagger"
        )
    if kind == "hub" and name:
        return name, f"fine-tuned from [`{name}`](https://huggingface.co/{name})"
    if kind == "local" and name:
        return None, f"initialised from the local model folder `{Path(name).name}` (not a Hub model)"
    if not model or model == "auto":
        return None, "initialised from a model the run did not record"
    candidate = Path(model) if Path(model).is_absolute() else (run_dir / model)
    if Path(model).exists() or candidate.exists() or model.startswith((".", "/", "~")):
        return None, f"initialised from the local model folder `{Path(model).name}` (not a Hub model)"
    if REPO_ID_RE.match(model) or re.match(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", model):
        return model, f"fine-tuned from [`{model}`](https://huggingface.co/{model})"
    return None, f"initialised from `{model}`"


def load_run(run_dir: str | Path) -> RunInfo:
    """Read a finished run folder; one sentence naming the missing piece otherwise."""
    rd = RunDir(Path(run_dir).expanduser())
    run = rd.path
    if not run.is_dir():
        raise CardError(f"{run} is not a run folder (it does not exist).")
    cfg: dict[str, Any] = {}
    if rd.config_path.exists():
        try:
            cfg = tomllib.loads(rd.config_path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as err:
            raise CardError(f"{rd.config_path}: not valid TOML ({err}).") from None
    metrics_path = rd.metrics_path
    if not metrics_path.exists():
        raise CardError(f"{run} has no metrics.json yet: finish (or evaluate) the run before writing its card.")
    metrics = read_json(metrics_path)
    if not isinstance(metrics.get("splits"), dict) or not metrics["splits"]:
        why = metrics.get("not_scored")
        raise CardError(
            f"{metrics_path} has no scores ({why})."
            if why
            else f"{metrics_path} has no measured splits ('splits' is empty or missing)."
        )
    model_dir = rd.model_dir
    if not model_dir.is_dir():
        raise CardError(f"{run} has no model/ folder: the run did not save a model.")
    model_config = read_json(model_dir / "config.json") if (model_dir / "config.json").exists() else {}
    id2label = model_config.get("id2label") or {}
    try:
        labels = [str(id2label[k]) for k in sorted(id2label, key=lambda k: int(k))]
    except (ValueError, TypeError):
        labels = [str(v) for v in id2label.values()]
    base, note = _base_model(cfg, run)
    weights = model_dir / "model.safetensors"
    return RunInfo(
        path=run,
        name=run.name,
        config=cfg,
        metrics=metrics,
        model_dir=model_dir,
        model_config=model_config,
        data=data_info(str(cfg.get("data") or "")),
        label_names=labels,
        base_model=base,
        init_note=note,
        num_parameters=_safetensors_parameters(weights) if weights.exists() else None,
    )


def run_metrics(run: RunInfo | str | Path | dict[str, Any] | None) -> dict[str, Any] | None:
    """The measured scores a card is checked against: from a RunInfo, a run folder, its metrics.json or a dict."""
    if run is None:
        return None
    if isinstance(run, RunInfo):
        return run.metrics
    if isinstance(run, dict):
        return run
    p = Path(run)
    return read_json(p if p.is_file() else p / "metrics.json")
