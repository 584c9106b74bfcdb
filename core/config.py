"""The run configuration: one typed, validated object shared by the CLI, the TUI and the training process.

Why validate here, with only the standard library: a typo in a learning rate must cost the user
a second, not the minute it takes to import torch and load a dataset. Every bad value is
reported (all of them at once, one sentence each) before anything heavy happens.

Layering, lowest to highest: the dataclass defaults, a preset (`PRESETS`), a TOML file, then
command-line flags (`resolve_config`). The run folder keeps the resolved result as
`config.toml`, so the training process and any later reader see exactly what ran.
"""

from __future__ import annotations

import copy
import dataclasses
import difflib
import math
import re
import sys
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

from bnner_tui.core.errors import ConfigError

# `model` values with a meaning of their own (anything else is a hub id or a local folder).
AUTO_MODEL = "auto"  # bert-base-multilingual-cased when reachable or cached, else the offline small BERT
OFFLINE_MODEL = "offline"  # always the small BERT built locally (random init), no network at all
DEFAULT_HUB_MODEL = "bert-base-multilingual-cased"

STRATEGIES = ("first", "all", "all-b2i")
PRECISIONS = ("auto", "bf16", "fp16", "fp32")
# The offline model: a small BERT over WordPiece pieces, or the word-level char CNN + BiLSTM
# (core/train/wordmodel), which is ~6 F1 points better on WikiANN bn on a CPU.
OFFLINE_ARCHS = ("bert", "charword")
# transformers' scheduler names; "constant_with_warmup" does not need the epoch count to be right.
LR_SCHEDULERS = ("linear", "cosine", "constant", "constant_with_warmup", "inverse_sqrt")
TRACKING = ("none", "wandb", "wandb-offline")
CADENCE_EPOCH = "epoch"

_RUN_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+=-]{0,127}$")
_OPTIM_RE = re.compile(r"^[a-z][a-z0-9_]*$")


@dataclass
class TrainConfig:
    """Everything a run needs to be reproduced; field names are the contract with the worker and the TUI."""

    model: str = AUTO_MODEL
    tokenizer: str | None = None
    data: str = "demo"
    # How the data is read (core.data.LoadOptions): --map TYPE=NEW, --drop TYPE, --on-error stop|skip,
    # and a one-file source divided as "80/10/10" with `seed`.
    data_map: list[str] = field(default_factory=list)
    data_drop: list[str] = field(default_factory=list)
    data_on_error: str = "stop"
    data_split: str | None = None
    train_split: str = "train"
    eval_split: str = "validation"
    strategy: str = "first"
    max_length: int = 128
    learning_rate: float = 2e-5
    batch_size: int = 16
    eval_batch_size: int = 64
    epochs: float = 7.0
    max_steps: int = -1
    warmup_ratio: float = 0.0
    weight_decay: float = 0.01
    grad_accum: int = 1
    precision: str = "auto"
    eval_every: str | int = CADENCE_EPOCH
    save_every: str | int = CADENCE_EPOCH
    save_total_limit: int = 2
    early_stopping_patience: int | None = None
    seed: int = 42
    run_name: str | None = None
    output_root: str = "runs"
    tracking: str = "none"
    wandb_project: str = "bnner-tui"
    wandb_entity: str | None = None
    wandb_tags: list[str] = field(default_factory=list)
    group_by_length: bool = False
    pad_to_multiple_of: int | None = None
    optim: str = "adamw_torch"
    dataloader_workers: int = 0
    torch_compile: bool = False
    logging_steps: int = 10
    nproc: int = 1
    offline_hidden_size: int = 256
    offline_layers: int = 2
    offline_heads: int = 4
    offline_vocab_size: int = 8000
    offline_arch: str = "bert"
    lr_scheduler: str = "linear"
    preset: str | None = None

    # ---- construction -------------------------------------------------------------------------

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, source: str = "the configuration") -> TrainConfig:
        """Builds a config from plain values (TOML, JSON, a form), naming unknown keys and bad types.

        Values are coerced where the meaning is unambiguous (an int learning rate, "500" as a step
        count); anything else is a `ConfigError`. The result is validated.
        """
        config = cls()
        return config._apply(data, source=source, validate=True)

    @classmethod
    def from_toml(cls, path: str | Path) -> TrainConfig:
        """Reads a TOML file: flat `key = value` pairs, or the same keys under a `[train]` table."""
        return cls.from_dict(_read_toml(path), source=str(path))

    @classmethod
    def from_preset(cls, name: str, **overrides: Any) -> TrainConfig:
        """The preset's values over the defaults, then `overrides`; validated."""
        base = preset_values(name)
        base.update(overrides)
        base["preset"] = name
        return cls.from_dict(base, source=f"preset {name!r}")

    def with_overrides(self, **overrides: Any) -> TrainConfig:
        """A copy with some fields replaced (e.g. CLI flags), validated; unknown names are refused."""
        return copy.deepcopy(self)._apply(overrides, source="the overrides", validate=True)

    def _apply(self, data: dict[str, Any], *, source: str, validate: bool) -> TrainConfig:
        known = {f.name: f for f in fields(self)}
        problems: list[str] = []
        for key, value in data.items():
            if key not in known:
                problems.append(_unknown_key_message(key, list(known)))
                continue
            try:
                setattr(self, key, _coerce(key, value))
            except _CoerceError as err:
                problems.append(f"{key} {err} (got {value!r})")
        if problems:
            raise ConfigError(_join(problems, source))
        if validate:
            self.validate()
        return self

    # ---- validation ---------------------------------------------------------------------------

    def problems(self) -> list[str]:
        """Every invalid value as one sentence; empty when the config is usable (the TUI's form shows these)."""
        p: list[str] = []

        def text(name: str, value: Any, *, optional: bool = False) -> None:
            if value is None and optional:
                return
            if not isinstance(value, str) or not value.strip():
                p.append(f"{name} must be a non-empty string (got {value!r})")

        def integer(name: str, value: Any, low: int | None = None, *, optional: bool = False) -> None:
            if value is None and optional:
                return
            if isinstance(value, bool) or not isinstance(value, int):
                p.append(f"{name} must be an integer (got {value!r})")
            elif low is not None and value < low:
                p.append(f"{name} must be >= {low} (got {value})")

        def choice(name: str, value: Any, allowed: tuple[str, ...]) -> None:
            if value not in allowed:
                p.append(f"{name} must be one of {', '.join(allowed)} (got {value!r})")

        def number(name: str, value: Any) -> bool:
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                p.append(f"{name} must be a finite number (got {value!r})")
                return False
            return True

        def cadence(name: str, value: Any) -> None:
            if value == CADENCE_EPOCH:
                return
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                p.append(f'{name} must be "epoch" or a number of steps >= 1 (got {value!r})')

        def flag(name: str, value: Any) -> None:
            if not isinstance(value, bool):
                p.append(f"{name} must be true or false (got {value!r})")

        text("model", self.model)
        text("tokenizer", self.tokenizer, optional=True)
        text("data", self.data)
        text("train_split", self.train_split)
        text("eval_split", self.eval_split)
        choice("strategy", self.strategy, STRATEGIES)
        integer("max_length", self.max_length, 8)
        if number("learning_rate", self.learning_rate) and self.learning_rate <= 0:
            p.append(f"learning_rate must be > 0 (got {self.learning_rate})")
        integer("batch_size", self.batch_size, 1)
        integer("eval_batch_size", self.eval_batch_size, 1)
        if number("epochs", self.epochs) and self.epochs <= 0 and self.max_steps in (-1, None):
            p.append(f"epochs must be > 0 unless max_steps is set (got {self.epochs})")
        if isinstance(self.max_steps, bool) or not isinstance(self.max_steps, int):
            p.append(f"max_steps must be an integer (got {self.max_steps!r})")
        elif self.max_steps != -1 and self.max_steps < 1:
            p.append(f"max_steps must be -1 (use epochs) or >= 1 (got {self.max_steps})")
        if number("warmup_ratio", self.warmup_ratio) and not 0 <= self.warmup_ratio < 1:
            p.append(f"warmup_ratio must be in [0, 1) (got {self.warmup_ratio})")
        if number("weight_decay", self.weight_decay) and self.weight_decay < 0:
            p.append(f"weight_decay must be >= 0 (got {self.weight_decay})")
        integer("grad_accum", self.grad_accum, 1)
        choice("precision", self.precision, PRECISIONS)
        cadence("eval_every", self.eval_every)
        cadence("save_every", self.save_every)
        integer("save_total_limit", self.save_total_limit, 1)
        integer("early_stopping_patience", self.early_stopping_patience, 1, optional=True)
        integer("seed", self.seed, 0)
        if self.run_name is not None and (
            not isinstance(self.run_name, str) or not _RUN_NAME_RE.match(self.run_name) or self.run_name in (".", "..")
        ):
            p.append(
                "run_name must be a folder name of letters, digits, '.', '_', '-' (no slashes or spaces)"
                f" (got {self.run_name!r})"
            )
        p.extend(_data_option_problems(self))
        text("output_root", self.output_root)
        choice("tracking", self.tracking, TRACKING)
        text("wandb_project", self.wandb_project)
        text("wandb_entity", self.wandb_entity, optional=True)
        if not isinstance(self.wandb_tags, list) or not all(isinstance(t, str) and t for t in self.wandb_tags):
            p.append(f"wandb_tags must be a list of non-empty strings (got {self.wandb_tags!r})")
        flag("group_by_length", self.group_by_length)
        integer("pad_to_multiple_of", self.pad_to_multiple_of, 1, optional=True)
        if not isinstance(self.optim, str) or not _OPTIM_RE.match(self.optim):
            p.append(f"optim must be a transformers optimizer name such as adamw_torch (got {self.optim!r})")
        integer("dataloader_workers", self.dataloader_workers, 0)
        flag("torch_compile", self.torch_compile)
        integer("logging_steps", self.logging_steps, 1)
        integer("nproc", self.nproc, 1)
        integer("offline_hidden_size", self.offline_hidden_size, 8)
        integer("offline_layers", self.offline_layers, 1)
        integer("offline_heads", self.offline_heads, 1)
        integer("offline_vocab_size", self.offline_vocab_size, 100)
        choice("offline_arch", self.offline_arch, OFFLINE_ARCHS)
        choice("lr_scheduler", self.lr_scheduler, LR_SCHEDULERS)
        if (
            isinstance(self.offline_hidden_size, int)
            and isinstance(self.offline_heads, int)
            and self.offline_heads >= 1
            and self.offline_hidden_size % self.offline_heads
        ):
            p.append(
                f"offline_hidden_size must be divisible by offline_heads"
                f" (got {self.offline_hidden_size} and {self.offline_heads})"
            )
        if self.preset is not None and self.preset not in PRESETS:
            p.append(f"preset must be one of {', '.join(PRESETS)} (got {self.preset!r})")
        if self.early_stopping_patience is not None and self.eval_every != self.save_every:
            p.append(
                "early stopping keeps the best checkpoint, so eval_every and save_every must be equal"
                f" (got {self.eval_every!r} and {self.save_every!r})"
            )
        return p

    def field_problems(self) -> dict[str, list[str]]:
        """`problems()` keyed by the field each is about (for inline errors next to a form field)."""
        names = sorted((f.name for f in fields(self)), key=len, reverse=True)
        out: dict[str, list[str]] = {}
        for problem in self.problems():
            owner = next((n for n in names if problem.startswith(n + " ")), "")
            if not owner and problem.startswith("early stopping"):
                owner = "early_stopping_patience"
            out.setdefault(owner, []).append(problem)
        return out

    def validate(self) -> TrainConfig:
        """Raises one `ConfigError` listing every bad value; returns self so calls can chain."""
        problems = self.problems()
        if problems:
            raise ConfigError(_join(problems, None))
        return self

    # ---- persistence --------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """Plain values (None kept); safe to log: the config never holds tokens or keys."""
        return dataclasses.asdict(self)

    def to_toml_str(self) -> str:
        import tomli_w

        # TOML has no null: a None field is left out and reads back as its default (always None).
        body = {k: v for k, v in self.to_dict().items() if v is not None}
        header = "# bnner-tui run configuration (bnner-tui train --config FILE). Unset keys use their defaults.\n"
        return header + tomli_w.dumps(body)

    def to_toml(self, path: str | Path) -> Path:
        """Writes atomically (temp file + rename), so a reader never sees half a config."""
        from bnner_tui.core.files import atomic_write_text

        atomic_write_text(Path(path), self.to_toml_str())
        return Path(path)

    # ---- derived ------------------------------------------------------------------------------

    def resolved_run_name(self, now: float | None = None) -> str:
        """`run_name`, or `<preset or 'run'>-<yyyymmdd-hhmmss>` (UTC) when unset."""
        if self.run_name:
            return self.run_name
        import time

        stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime(now))
        return f"{self.preset or 'run'}-{stamp}"


# ---- presets -----------------------------------------------------------------------------------

PRESETS: dict[str, dict[str, Any]] = {
    # The notebook recipe this tool replaces: Trainer lr 2e-5, batch 16, 7 epochs, weight decay
    # 0.01, full fp32, dynamic padding, no length grouping, plain AdamW, eval once per epoch.
    "tutorial": {
        "learning_rate": 2e-5,
        "batch_size": 16,
        "eval_batch_size": 16,
        "epochs": 7.0,
        "weight_decay": 0.01,
        "warmup_ratio": 0.0,
        "precision": "fp32",
        "max_length": 128,
        "group_by_length": False,
        "pad_to_multiple_of": None,
        "optim": "adamw_torch",
        "dataloader_workers": 0,
        "torch_compile": False,
        "eval_every": CADENCE_EPOCH,
        "save_every": CADENCE_EPOCH,
    },
    # Our GPU speed settings: bf16 autocast, length-grouped batches padded to a multiple of 8
    # (tensor cores), fused AdamW, a big eval batch so evaluation is brief, and DataLoader
    # workers so collation overlaps the GPU. The batch is 16x the tutorial's because, at
    # WikiANN's ~15 pieces a sentence, an mBERT step on an H100 costs ~45 ms of host-side
    # overhead whatever the batch (docs/benchmarks.md: batch 64 gave 3.2x, 256 gave 15x); the
    # learning rate is raised (less than linearly) with a warmup to keep the larger step stable.
    "gpu-fast": {
        "learning_rate": 1e-4,
        "batch_size": 256,
        "eval_batch_size": 256,
        "warmup_ratio": 0.1,
        "weight_decay": 0.01,
        "precision": "bf16",
        "group_by_length": True,
        "pad_to_multiple_of": 8,
        "optim": "adamw_torch_fused",
        "dataloader_workers": 4,
        "logging_steps": 10,
    },
    # Minutes on 2 CPU cores with no network: the small BERT built locally and trained from
    # scratch (hence the large learning rate), on the bundled demo set.
    "cpu-demo": {
        "model": OFFLINE_MODEL,
        "data": "demo",
        "learning_rate": 1e-3,
        "batch_size": 16,
        "eval_batch_size": 64,
        "epochs": 4.0,
        "warmup_ratio": 0.1,
        "weight_decay": 0.01,
        "precision": "fp32",
        "max_length": 128,
        "optim": "adamw_torch",
        "dataloader_workers": 0,
        "logging_steps": 5,
        "offline_hidden_size": 256,
        "offline_layers": 2,
        "offline_heads": 4,
        "offline_vocab_size": 8000,
    },
    # The offline model a CPU user should train: word-level, from characters (core/train/wordmodel:
    # char CNN + hashed word/prefix/suffix embeddings + BiLSTM), its own character tokenizer, no
    # network. On WikiANN bn (2 cores, one thread) it passes spaCy's efficiency pipeline from the
    # first CPU-minute (docs/benchmarks.md, bench/peer_cpu.py); on the demo set it takes seconds.
    # One evaluation per epoch keeps the best model (early stopping), so too many epochs cost
    # time, never F1; the learning rate is that of an LSTM trained from scratch, not BERT's.
    "cpu": {
        "model": OFFLINE_MODEL,
        "offline_arch": "charword",
        "learning_rate": 4e-3,
        "lr_scheduler": "linear",
        "batch_size": 64,
        "eval_batch_size": 256,
        "epochs": 20.0,
        "warmup_ratio": 0.02,
        "weight_decay": 0.0,
        "precision": "fp32",
        "max_length": 512,
        "optim": "adamw_torch",
        "dataloader_workers": 0,
        "logging_steps": 20,
        "eval_every": CADENCE_EPOCH,
        "save_every": CADENCE_EPOCH,
        "early_stopping_patience": 5,
        "save_total_limit": 1,
        "offline_hidden_size": 200,
        "offline_layers": 1,
        "offline_vocab_size": 20000,
    },
}


def preset_values(name: str) -> dict[str, Any]:
    """A copy of a preset's overrides; `ConfigError` naming the known presets otherwise."""
    if name not in PRESETS:
        hint = difflib.get_close_matches(name, list(PRESETS), n=1)
        suggestion = f" (did you mean {hint[0]}?)" if hint else ""
        raise ConfigError(f"Unknown preset {name!r}{suggestion}: choose one of {', '.join(PRESETS)}.")
    return dict(PRESETS[name])


def resolve_config(
    *,
    config_file: str | Path | None = None,
    preset: str | None = None,
    overrides: dict[str, Any] | None = None,
) -> TrainConfig:
    """Defaults < preset < TOML file < overrides (CLI flags; None values mean "not given").

    The preset comes from the argument, else from the file's `preset` key; its values sit
    under the file's own values, so a file can say `preset = "gpu-fast"` and change one thing.
    """
    file_values: dict[str, Any] = {}
    source = "the configuration"
    if config_file is not None:
        file_values = _read_toml(config_file)
        source = str(config_file)
    flags = {k: v for k, v in (overrides or {}).items() if v is not None}
    chosen = preset or flags.pop("preset", None) or file_values.get("preset")
    values: dict[str, Any] = {}
    if chosen is not None:
        if not isinstance(chosen, str):
            raise ConfigError(f"{source}: preset must be a string (got {chosen!r}).")
        values.update(preset_values(chosen))
    config = TrainConfig()._apply(values, source=f"preset {chosen!r}", validate=False)
    config._apply(file_values, source=source, validate=False)
    config._apply(flags, source="the command-line options", validate=False)
    if chosen is not None:
        config.preset = chosen
    return config.validate()


# ---- helpers -----------------------------------------------------------------------------------


class _CoerceError(ValueError):
    pass


_FIELD_TYPES: dict[str, str] = {
    "learning_rate": "float",
    "epochs": "float",
    "warmup_ratio": "float",
    "weight_decay": "float",
    "max_length": "int",
    "batch_size": "int",
    "eval_batch_size": "int",
    "max_steps": "int",
    "grad_accum": "int",
    "save_total_limit": "int",
    "early_stopping_patience": "int?",
    "seed": "int",
    "pad_to_multiple_of": "int?",
    "dataloader_workers": "int",
    "logging_steps": "int",
    "nproc": "int",
    "offline_hidden_size": "int",
    "offline_layers": "int",
    "offline_heads": "int",
    "offline_vocab_size": "int",
    "eval_every": "cadence",
    "save_every": "cadence",
    "group_by_length": "bool",
    "torch_compile": "bool",
    "wandb_tags": "tags",
    "data_map": "tags",
    "data_drop": "tags",
}


def _coerce(key: str, value: Any) -> Any:
    """Turns form/CLI/TOML values into the field's type where that is unambiguous."""
    kind = _FIELD_TYPES.get(key, "str")
    if value is None:
        return None
    if kind == "float":
        if isinstance(value, bool):
            raise _CoerceError("must be a number")
        if isinstance(value, (int, float)):
            return float(value)
        if isinstance(value, str):
            try:
                return float(value.strip())
            except ValueError:
                raise _CoerceError("must be a number") from None
        raise _CoerceError("must be a number")
    if kind in ("int", "int?"):
        if isinstance(value, bool):
            raise _CoerceError("must be an integer")
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str):
            s = value.strip()
            if kind == "int?" and s.lower() in ("", "none", "off"):
                return None
            try:
                return int(s)
            except ValueError:
                raise _CoerceError("must be an integer") from None
        raise _CoerceError("must be an integer")
    if kind == "cadence":
        if isinstance(value, bool):
            raise _CoerceError('must be "epoch" or a number of steps')
        if isinstance(value, int):
            return value
        if isinstance(value, str):
            s = value.strip().lower()
            if s == CADENCE_EPOCH:
                return CADENCE_EPOCH
            try:
                return int(s)
            except ValueError:
                raise _CoerceError('must be "epoch" or a number of steps') from None
        raise _CoerceError('must be "epoch" or a number of steps')
    if kind == "bool":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip().lower() in ("true", "false", "yes", "no", "1", "0", "on", "off"):
            return value.strip().lower() in ("true", "yes", "1", "on")
        raise _CoerceError("must be true or false")
    if kind == "tags":
        if isinstance(value, str):
            return [t.strip() for t in value.split(",") if t.strip()]
        if isinstance(value, (list, tuple)):
            return list(value)
        raise _CoerceError("must be a list of strings")
    return value


def _data_option_problems(cfg: TrainConfig) -> list[str]:
    """data_map / data_drop / data_on_error / data_split checked by the loader's own parser (import-light)."""
    from bnner_tui.core.data.options import LoadOptions
    from bnner_tui.core.errors import BnnerError

    out = []
    for name, kw in (
        ("data_map", {"label_map": cfg.data_map}),
        ("data_drop", {"drop": cfg.data_drop}),
        ("data_on_error", {"on_error": cfg.data_on_error}),
        ("data_split", {"split": cfg.data_split}),
    ):
        try:
            value = next(iter(kw.values()))
            if name in ("data_map", "data_drop") and not (
                isinstance(value, list) and all(isinstance(v, str) for v in value)
            ):
                raise BnnerError("must be a list of strings")
            LoadOptions.make(**kw)
        except BnnerError as err:
            out.append(f"{name} {err}" if str(err).startswith("must") else f"{name}: {err}")
    return out


def _unknown_key_message(key: str, known: list[str]) -> str:
    hint = difflib.get_close_matches(key, known, n=1)
    suggestion = f" (did you mean {hint[0]}?)" if hint else ""
    return f"unknown key {key!r}{suggestion}"


def _join(problems: list[str], source: str | None) -> str:
    """One sentence per problem; joined so a single error message still reads as sentences."""
    # Field names stay lower-case (they are what the user types), so no capitalisation here.
    sentences = [q + ("" if q.endswith(".") else ".") for q in problems]
    prefix = "" if source is None else f"{source}: "
    if len(sentences) == 1:
        return prefix + sentences[0]
    return prefix + "Invalid configuration: " + " ".join(sentences)


def _read_toml(path: str | Path) -> dict[str, Any]:
    p = Path(path)
    try:
        raw = p.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"Config file {p} does not exist.") from None
    except IsADirectoryError:
        raise ConfigError(f"Config file {p} is a folder, not a TOML file.") from None
    except OSError as err:
        raise ConfigError(f"Cannot read config file {p}: {err.strerror}.") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(f"Config file {p} is not UTF-8 text.") from None
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"Config file {p} is not valid TOML: {err}.") from None
    if set(data) == {"train"} and isinstance(data["train"], dict):
        data = data["train"]
    for key, value in data.items():
        if isinstance(value, dict):
            raise ConfigError(f"{p}: unexpected table [{key}]; put the settings as plain keys (or under [train]).")
    return data


