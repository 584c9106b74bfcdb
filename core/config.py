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


@dataclass(frozen=True)
class Spec:
    """Everything about one TrainConfig field except its default, written once.

    Validation (`TrainConfig.checks`), coercion of TOML/CLI/form strings, the `bnner-tui train`
    options (`cli`) and the Train screen's form rows (`form`) are all derived from these, so a
    new field is one line here. Bounds are sanity limits: values outside them are accepted by
    nothing downstream (an `epochs = 1e9` once planned 30,000,000,000 steps), so each refusal is
    one sentence naming the field.
    """

    kind: str  # str | int | float | bool | choice | cadence | tags
    help: str = ""
    optional: bool = False  # None allowed (TOML: key left out; form: empty input)
    low: float | None = None
    high: float | None = None
    low_open: bool = False  # `low` itself refused (> low rather than >= low)
    high_open: bool = False
    choices: tuple[str, ...] = ()
    cli: tuple[str, ...] = ()  # option names of `bnner-tui train`; others only via --set KEY=VALUE
    form: str | None = None  # the Train screen's row label; None: not in the form
    empty: Any = None  # what an empty form input stands for (optional fields)


def _f(default: Any, kind: str, help: str = "", **kw: Any) -> Any:
    """A dataclass field whose metadata carries its Spec."""
    spec = Spec(kind, help, **kw)
    if default is list:  # a mutable default: a fresh list per instance
        return field(default_factory=list, metadata={"spec": spec})
    return field(default=default, metadata={"spec": spec})


@dataclass
class TrainConfig:
    """Everything a run needs to be reproduced; field names are the contract with the worker and the TUI."""

    data: str = _f(
        "demo",
        "str",
        "demo | wikiann | hub:ID[:CONFIG] | a file or folder.",
        cli=("--data",),
        form="data source (demo, wikiann, hub:ID, path)",
    )
    model: str = _f(
        AUTO_MODEL,
        "str",
        "auto | offline | a hub id | a local model folder.",
        cli=("--model",),
        form="model (auto, offline, hub id, folder)",
    )
    tokenizer: str | None = _f(
        None,
        "str",
        "Tokenizer folder for the offline model.",
        optional=True,
        cli=("--tokenizer",),
        form="tokenizer folder (offline model)",
    )
    train_split: str = _f("train", "str", "Split to train on.")
    eval_split: str = _f("validation", "str", "Split to evaluate on.")
    strategy: str = _f(
        "first",
        "choice",
        "Subword labels: first | all | all-b2i.",
        choices=STRATEGIES,
        cli=("--strategy",),
        form="label alignment",
    )
    max_length: int = _f(
        128,
        "int",
        "Truncate sentences to N pieces.",
        low=8,
        high=8192,
        cli=("--max-length",),
        form="max length (pieces)",
    )
    learning_rate: float = _f(
        2e-5,
        "float",
        "Peak learning rate.",
        low=0,
        low_open=True,
        high=1.0,
        cli=("--lr", "--learning-rate"),
        form="learning rate",
    )
    batch_size: int = _f(
        16, "int", "Per-device training batch size.", low=1, high=65536, cli=("--batch-size",), form="batch size"
    )
    eval_batch_size: int = _f(64, "int", "Per-device evaluation batch size.", low=1, high=65536)
    epochs: float = _f(7.0, "float", "Training epochs.", high=10_000, cli=("--epochs",), form="epochs")
    max_steps: int = _f(
        -1,
        "int",
        "Stop after N optimizer steps (overrides epochs).",
        high=100_000_000,
        cli=("--max-steps",),
        form="max steps (-1 = use epochs)",
        empty=-1,
    )
    warmup_ratio: float = _f(
        0.0, "float", "Fraction of steps warming up.", low=0, high=1, high_open=True, form="warmup ratio"
    )
    weight_decay: float = _f(0.01, "float", "AdamW weight decay.", low=0, high=10, form="weight decay")
    grad_accum: int = _f(1, "int", "Gradient accumulation steps.", low=1, high=4096, cli=("--grad-accum",))
    precision: str = _f(
        "auto", "choice", "auto | bf16 | fp16 | fp32.", choices=PRECISIONS, cli=("--precision",), form="precision"
    )
    eval_every: str | int = _f(
        CADENCE_EPOCH,
        "cadence",
        '"epoch" or a step count.',
        cli=("--eval-every",),
        form="evaluate every (epoch or steps)",
    )
    save_every: str | int = _f(
        CADENCE_EPOCH,
        "cadence",
        '"epoch" or a step count.',
        cli=("--save-every",),
        form="save every (epoch or steps)",
    )
    save_total_limit: int = _f(2, "int", "Checkpoints kept.", low=1, high=1000)
    early_stopping_patience: int | None = _f(
        None,
        "int",
        "Evaluations without improvement before stopping.",
        optional=True,
        low=1,
        high=100_000,
        form="early stopping patience (empty = off)",
    )
    seed: int = _f(42, "int", "Random seed.", low=0, high=2**32 - 1, cli=("--seed",), form="seed")
    run_name: str | None = _f(
        None,
        "str",
        "Run folder name (default: <preset>-<time>).",
        optional=True,
        cli=("--run-name",),
        form="run name (empty = generated)",
    )
    output_root: str = _f("runs", "str", "Where run folders go (default: runs).", cli=("--output-root",))
    tracking: str = _f(
        "none", "choice", "none | wandb | wandb-offline.", choices=TRACKING, cli=("--tracking",), form="tracking"
    )
    wandb_project: str = _f("bnner-tui", "str", "W&B project.")
    wandb_entity: str | None = _f(None, "str", "W&B entity.", optional=True)
    wandb_tags: list[str] = _f(list, "tags", "W&B tags (comma separated).")  # noqa: RUF009 (a default_factory)
    group_by_length: bool = _f(False, "bool", "Batch sentences of similar length.")
    pad_to_multiple_of: int | None = _f(None, "int", "Pad batches to a multiple of N.", optional=True, low=1, high=1024)
    optim: str = _f("adamw_torch", "str", "A transformers optimizer name.")
    dataloader_workers: int = _f(0, "int", "DataLoader worker processes.", low=0, high=256)
    torch_compile: bool = _f(False, "bool", "torch.compile the model.")
    logging_steps: int = _f(10, "int", "Log every N steps.", low=1, high=10_000_000, form="log every (steps)")
    nproc: int = _f(1, "int", "Processes (data parallel, via torchrun).", low=1, high=1024, cli=("--nproc",))
    offline_hidden_size: int = _f(
        256, "int", "Offline model hidden size.", low=8, high=8192, form="offline model hidden size"
    )
    offline_layers: int = _f(2, "int", "Offline model layers.", low=1, high=96, form="offline model layers")
    offline_heads: int = _f(4, "int", "Offline model heads.", low=1, high=256, form="offline model heads")
    offline_vocab_size: int = _f(
        8000, "int", "Offline model vocabulary size.", low=100, high=2_000_000, form="offline model vocabulary size"
    )
    offline_arch: str = _f(
        "bert", "choice", "The offline model: bert (WordPiece) | charword (char CNN + BiLSTM).", choices=OFFLINE_ARCHS
    )
    ema_decay: float = _f(
        0.0,
        "float",
        "Average the weights (EMA) with this decay; evaluations and checkpoints use the average (0 = off).",
        low=0,
        high=1,
        high_open=True,
    )
    lr_scheduler: str = _f("linear", "choice", "transformers' learning-rate schedule.", choices=LR_SCHEDULERS)
    # How the data is read (core.data.LoadOptions): --map TYPE=NEW, --drop TYPE, --on-error stop|skip,
    # and a one-file source divided as "80/10/10" with `seed`.
    data_map: list[str] = _f(list, "tags", "Rename entity types: TYPE=NEW (comma separated).")  # noqa: RUF009
    data_drop: list[str] = _f(list, "tags", "Entity types to drop (comma separated).")  # noqa: RUF009
    data_on_error: str = _f("stop", "str", "A malformed data line: stop | skip.")
    data_split: str | None = _f(None, "str", 'Divide a one-file source, e.g. "80/10/10".', optional=True)
    preset: str | None = _f(None, "str", "The preset the run started from.", optional=True)

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

    def checks(self) -> list[FieldProblem]:
        """Every invalid value at once, each carrying the field it is about (cross-field rules name
        the field a user would change)."""
        out = [
            FieldProblem(name, msg) for name, spec in SPECS.items() if (msg := _check(name, spec, getattr(self, name)))
        ]
        bad = {p.field for p in out}

        def add(name: str, message: str) -> None:
            if name not in bad:
                out.append(FieldProblem(name, message))

        if "epochs" not in bad and self.epochs <= 0 and self.max_steps in (-1, None):
            add("epochs", f"epochs must be > 0 unless max_steps is set (got {self.epochs})")
        if "max_steps" not in bad and self.max_steps != -1 and self.max_steps < 1:
            add("max_steps", f"max_steps must be -1 (use epochs) or >= 1 (got {self.max_steps})")
        if (
            self.run_name is not None
            and "run_name" not in bad
            and (not _RUN_NAME_RE.match(self.run_name) or self.run_name in (".", ".."))
        ):
            add(
                "run_name",
                "run_name must be a folder name of letters, digits, '.', '_', '-' (no slashes or spaces)"
                f" (got {self.run_name!r})",
            )
        if "wandb_tags" not in bad and not all(isinstance(t, str) and t for t in self.wandb_tags):
            add("wandb_tags", f"wandb_tags must be a list of non-empty strings (got {self.wandb_tags!r})")
        if "optim" not in bad and not _OPTIM_RE.match(self.optim):
            add("optim", f"optim must be a transformers optimizer name such as adamw_torch (got {self.optim!r})")
        if not bad & {"offline_hidden_size", "offline_heads"} and self.offline_hidden_size % self.offline_heads:
            add(
                "offline_hidden_size",
                f"offline_hidden_size must be divisible by offline_heads"
                f" (got {self.offline_hidden_size} and {self.offline_heads})",
            )
        if self.preset is not None and "preset" not in bad and self.preset not in PRESETS:
            add("preset", f"preset must be one of {', '.join(PRESETS)} (got {self.preset!r})")
        if self.early_stopping_patience is not None and self.eval_every != self.save_every:
            add(
                "early_stopping_patience",
                "early stopping keeps the best checkpoint, so eval_every and save_every must be equal"
                f" (got {self.eval_every!r} and {self.save_every!r})",
            )
        # The data options are checked by the loader's own parser (import-light), each with its field.
        out += [FieldProblem(name, msg) for name, msg in _data_option_problems(self) if name not in bad]
        return out

    def problems(self) -> list[str]:
        """Every invalid value as one sentence; empty when the config is usable."""
        return [p.message for p in self.checks()]

    def field_problems(self) -> dict[str, list[str]]:
        """`checks()` keyed by the field each is about (for inline errors next to a form field)."""
        out: dict[str, list[str]] = {}
        for p in self.checks():
            out.setdefault(p.field, []).append(p.message)
        return out

    def validate(self) -> TrainConfig:
        """Raises one `ConfigError` listing every bad value; returns self so calls can chain."""
        problems = self.problems()
        if problems:
            raise ConfigError(_join(problems, None))
        return self

    # ---- persistence --------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """Plain values (None kept). A value can hold a secret a user typed there: files get
        `to_toml_str` (scrubbed) and logs `core.secrets.scrub(...)`."""
        return dataclasses.asdict(self)

    def to_toml_str(self) -> str:
        import tomli_w

        # TOML has no null: a None field is left out and reads back as its default (always None).
        from bnner_tui.core.secrets import scrub

        # No secret value is ever written, even where a user put one (a token as a W&B tag).
        body = scrub({k: v for k, v in self.to_dict().items() if v is not None})
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
    # Evaluations use a weight average (core/train/ema.py): 0.999 scored 0.9554 on WikiANN bn dev
    # where 0.998 scored 0.9541 (same seed, docs/benchmarks.md).
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
        "ema_decay": 0.999,
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


@dataclass(frozen=True)
class FieldProblem:
    field: str
    message: str


SPECS: dict[str, Spec] = {f.name: f.metadata["spec"] for f in fields(TrainConfig)}


def _check(name: str, spec: Spec, value: Any) -> str | None:
    """The one problem of a single value (type, choice, bounds), or None."""
    if value is None and spec.optional:
        return None
    kind = spec.kind
    if kind in ("str", "choice"):
        if kind == "choice":
            return None if value in spec.choices else f"{name} must be one of {', '.join(spec.choices)} (got {value!r})"
        if not isinstance(value, str) or not value.strip():
            return f"{name} must be a non-empty string (got {value!r})"
        return None
    if kind == "bool":
        return None if isinstance(value, bool) else f"{name} must be true or false (got {value!r})"
    if kind == "tags":
        return None if isinstance(value, list) else f"{name} must be a list of non-empty strings (got {value!r})"
    if kind == "cadence":
        if value == CADENCE_EPOCH:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            return f'{name} must be "epoch" or a number of steps >= 1 (got {value!r})'
        if value > 100_000_000:
            return f'{name} must be "epoch" or at most 100000000 steps (got {value})'
        return None
    if kind == "int" and (isinstance(value, bool) or not isinstance(value, int)):
        return f"{name} must be an integer (got {value!r})"
    if kind == "float" and (isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value)):
        return f"{name} must be a finite number (got {value!r})"
    low, high = spec.low, spec.high
    if low is not None and high is not None and spec.high_open:
        if not low <= value < high:
            return f"{name} must be in [{_num(low)}, {_num(high)}) (got {value})"
        return None
    if low is not None and (value <= low if spec.low_open else value < low):
        return f"{name} must be {'>' if spec.low_open else '>='} {_num(low)} (got {value})"
    if high is not None and value > high:
        return f"{name} must be at most {_num(high)} (got {value}); a larger value is surely a typo"
    return None


def _data_option_problems(cfg: TrainConfig) -> list[tuple[str, str]]:
    """data_map / data_drop / data_on_error / data_split checked by the loader's own parser (import-light)."""
    from bnner_tui.core.data.options import LoadOptions
    from bnner_tui.core.errors import BnnerError

    out: list[tuple[str, str]] = []
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
            out.append((name, f"{name} {err}" if str(err).startswith("must") else f"{name}: {err}"))
    return out


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else f"{x:g}"


def _coerce(key: str, value: Any) -> Any:
    """Turns form/CLI/TOML values into the field's type where that is unambiguous."""
    spec = SPECS.get(key)
    kind = "str" if spec is None else spec.kind
    if kind == "int" and spec is not None and spec.optional:
        kind = "int?"
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
