"""Weights & Biases through the Trainer's own integration (`report_to`), never a hidden default.

Why this module exists: transformers enables every installed logging integration unless told
otherwise, and wandb then blocks on an API-key prompt in a headless process. So the training
process always passes `report_to` explicitly, configures W&B only through its documented
environment variables, never prompts (online mode without a login fails with one sentence
before any work), and keeps secrets out of everything it logs.
"""

from __future__ import annotations

import netrc
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bnner_tui.core import secrets
from bnner_tui.core.errors import ConfigError

WANDB_HOST = "api.wandb.ai"
# Which values are secret, and how they are scrubbed, live in core.secrets (one set everywhere).
SECRET_ENV = secrets.SECRET_ENV


@dataclass
class TrackingSetup:
    """What the Trainer gets (`report_to`) and the environment W&B reads."""

    mode: str
    report_to: list[str]
    env: dict[str, str] = field(default_factory=dict)
    wandb_dir: str | None = None
    note: str = ""


def wandb_logged_in() -> bool:
    """A key in the environment or a netrc entry for the W&B API host (what `wandb login` writes)."""
    if os.environ.get("WANDB_API_KEY"):
        return True
    try:
        path = os.environ.get("NETRC") or None
        return netrc.netrc(path).authenticators(WANDB_HOST) is not None
    except (FileNotFoundError, netrc.NetrcParseError, OSError):
        return False


def setup_tracking(cfg: Any, run_path: str | Path, run_name: str | None = None) -> TrackingSetup:
    """Decide `report_to` and the W&B environment for `cfg.tracking`; refuse early when it cannot work."""
    mode = getattr(cfg, "tracking", "none") or "none"
    if mode == "none":
        return TrackingSetup(mode, [], {}, note="tracking off")
    if mode not in ("wandb", "wandb-offline"):
        raise ConfigError(f"tracking must be none, wandb or wandb-offline (got {mode!r}).")
    try:
        import wandb  # noqa: F401
    except ImportError as err:
        raise ConfigError("W&B tracking needs the wandb package: pip install wandb.") from err
    hidden = secrets.secret_values()

    def clean(value: Any) -> str:
        return secrets.scrub_text(str(value), hidden)

    env = {
        "WANDB_PROJECT": clean(cfg.wandb_project or "bnner-tui"),
        "WANDB_LOG_MODEL": "false",  # checkpoints stay in the run folder, not uploaded
        "WANDB_WATCH": "false",
        "WANDB_SILENT": "true",
        "WANDB_CONSOLE": "off",
        "WANDB_DISABLE_CODE": "true",
        "WANDB_DISABLE_GIT": "true",
    }
    # Every field W&B records (tags, entity, name, project) goes through the same scrubber as the
    # run files: a token pasted as a tag must not reach the tracker either.
    if cfg.wandb_entity:
        env["WANDB_ENTITY"] = clean(cfg.wandb_entity)
    if cfg.wandb_tags:
        env["WANDB_TAGS"] = ",".join(clean(t) for t in cfg.wandb_tags)
    if run_name:
        env["WANDB_NAME"] = clean(run_name)
    wandb_root = Path(run_path) / "wandb"
    if mode == "wandb-offline":
        env["WANDB_MODE"] = "offline"
        env["WANDB_DIR"] = str(wandb_root)
        return TrackingSetup(
            mode, ["wandb"], env, wandb_dir=str(wandb_root), note=f"W&B offline in {wandb_root} (upload: wandb sync)"
        )
    if not wandb_logged_in():
        raise ConfigError(
            "W&B tracking is on but you are not logged in: run `wandb login` or set WANDB_API_KEY,"
            " or use --tracking wandb-offline."
        )
    env["WANDB_MODE"] = "online"
    env["WANDB_DIR"] = str(wandb_root)
    return TrackingSetup(mode, ["wandb"], env, wandb_dir=str(wandb_root), note="W&B online")


@contextmanager
def tracking_env(setup: TrackingSetup) -> Iterator[None]:
    """Sets the W&B variables for the training, and restores the caller's environment after."""
    old = {k: os.environ.get(k) for k in setup.env}
    os.environ.update(setup.env)
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def redact(config: Mapping[str, Any]) -> dict[str, Any]:
    """A copy safe to log: secret-looking keys dropped, and any secret value scrubbed from strings."""
    return dict(secrets.scrub(dict(config), drop_secret_keys=True))


def find_offline_run(wandb_dir: str | Path) -> Path | None:
    """The newest `offline-run-*` folder W&B wrote (what `wandb sync` takes)."""
    root = Path(wandb_dir)
    runs = sorted((root / "wandb").glob("offline-run-*")) + sorted(root.glob("offline-run-*"))
    return max(runs, key=lambda p: p.stat().st_mtime) if runs else None


@contextmanager
def wandb_closed(active: bool) -> Iterator[None]:
    """Close the W&B run however training ends, so an offline run's files are complete for `wandb sync`."""
    try:
        yield
    finally:
        if active:
            try:
                import wandb
            except ImportError:  # pragma: no cover
                wandb = None  # type: ignore[assignment]
            if wandb is not None and wandb.run is not None:
                wandb.finish()
