"""A run folder's layout: where each file of one run lives, and finding a run by name or path.

Naming a run reads and creates nothing (`RunDir`); `core.runs` creates, lists and summarises
runs, and `core.runlock` holds the lock that says a process is training in one.

Standard library only (plus `core.config`/`core.events`): the CLI and TUI list runs at start-up.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bnner_tui.core.config import TrainConfig
from bnner_tui.core.errors import BnnerError
from bnner_tui.core.events import Event, read_typed


class RunExistsError(BnnerError):
    """A new run would write into a folder that already holds another run."""


class RunLockedError(BnnerError):
    """A process is already training in this run folder."""


class RunNotFoundError(BnnerError):
    """The named run folder does not exist (or is not a run)."""


@dataclass(frozen=True)
class RunDir:
    """The paths of one run folder (nothing is read or created by constructing it)."""

    path: Path

    def __init__(self, path: str | Path) -> None:
        object.__setattr__(self, "path", Path(path))

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def config_path(self) -> Path:
        return self.path / "config.toml"

    @property
    def events_path(self) -> Path:
        return self.path / "events.jsonl"

    @property
    def log_path(self) -> Path:
        return self.path / "train.log"

    @property
    def checkpoints_dir(self) -> Path:
        return self.path / "checkpoints"

    @property
    def lock_path(self) -> Path:
        return self.path / "run.lock"

    @property
    def model_dir(self) -> Path:
        return self.path / "model"

    @property
    def metrics_path(self) -> Path:
        return self.path / "metrics.json"

    @property
    def wandb_dir(self) -> Path:
        """Where `tracking = "wandb-offline"` keeps its local W&B files (for `wandb sync`)."""
        return self.path / "wandb"

    def exists(self) -> bool:
        return self.config_path.is_file()

    def load_config(self) -> TrainConfig:
        if not self.config_path.is_file():
            raise RunNotFoundError(f"{self.path} is not a run folder: it has no config.toml.")
        return TrainConfig.from_toml(self.config_path)

    def events(self) -> list[Event]:
        """Every event that fits the contract (typed; bad lines skipped)."""
        return read_typed(self.events_path).events

    def metrics(self) -> dict[str, Any] | None:
        try:
            data = json.loads(self.metrics_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None

    def __fspath__(self) -> str:
        return str(self.path)

    def __str__(self) -> str:
        return str(self.path)


def as_run(run: RunDir | str | Path) -> RunDir:
    return run if isinstance(run, RunDir) else RunDir(run)


def find_run(name_or_path: str | Path, root: str | Path = "runs") -> RunDir:
    """A run by folder path, or by name under `root`; one sentence when neither is a run."""
    candidates = [Path(name_or_path)]
    if not Path(name_or_path).is_absolute():
        candidates.append(Path(root) / name_or_path)
    for c in candidates:
        if (c / "config.toml").is_file():
            return RunDir(c)
    raise RunNotFoundError(
        f"No run {str(name_or_path)!r}: neither {candidates[0]} nor {candidates[-1]} holds a config.toml"
        " (list runs with: bnner-tui runs)."
    )
