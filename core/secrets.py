"""The one set of secret values, and the one scrubber every file and tracker field goes through.

Why one place: a token given where a plain value was expected (`--set wandb_tags=$HF_TOKEN`, a
pasted key in a data path) was scrubbed in `events.jsonl` but stayed in `config.toml` and the
W&B run's tags. Every writer of run files (config.toml, events.jsonl, train.log) and every W&B
field now applies `scrub` with the same `secret_values()`.

Standard library only: the CLI imports this at start-up through core.config.
"""

from __future__ import annotations

import netrc
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

# Environment variables whose values are secrets wherever they appear.
SECRET_ENV = ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HF_API_TOKEN", "WANDB_API_KEY")
# Keys whose values are dropped from logged mappings whatever they hold.
SECRET_WORDS = ("token", "api_key", "apikey", "password", "secret")
REDACTED = "<redacted>"
# Shorter values are not treated as secrets: scrubbing "1" or "abc" out of every file would
# corrupt numbers and words, and no real token is that short.
_MIN_SECRET_LEN = 8
_WANDB_HOST = "api.wandb.ai"


def _hf_token_file() -> str | None:
    path = os.environ.get("HF_TOKEN_PATH")
    if not path:
        home = os.environ.get("HF_HOME") or os.path.join(
            os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "huggingface"
        )
        path = os.path.join(home, "token")
    try:
        return Path(path).read_text(encoding="utf-8").strip() or None
    except (OSError, UnicodeDecodeError):
        return None


def _wandb_netrc_key() -> str | None:
    try:
        auth = netrc.netrc(os.environ.get("NETRC") or None).authenticators(_WANDB_HOST)
    except (OSError, netrc.NetrcParseError):
        return None
    return auth[2] if auth else None


def secret_values() -> list[str]:
    """The HF token and W&B key from the environment, the HF login cache and the W&B netrc entry;
    longest first, so a secret that contains another is replaced whole."""
    found = {os.environ.get(k) or "" for k in SECRET_ENV} | {_hf_token_file() or "", _wandb_netrc_key() or ""}
    return sorted((s for s in found if len(s) >= _MIN_SECRET_LEN), key=len, reverse=True)


def scrub_text(text: str, secrets: list[str] | None = None) -> str:
    for s in secret_values() if secrets is None else secrets:
        if s in text:
            text = text.replace(s, REDACTED)
    return text


def scrub(value: Any, secrets: list[str] | None = None, *, drop_secret_keys: bool = False) -> Any:
    """`value` with every secret value replaced in every string, recursively (mappings, lists,
    tuples); with `drop_secret_keys`, keys that look like secrets are left out of mappings."""
    secrets = secret_values() if secrets is None else secrets
    if not secrets and not drop_secret_keys:
        return value

    def clean(v: Any) -> Any:
        if isinstance(v, str):
            return scrub_text(v, secrets)
        if isinstance(v, Mapping):
            return {
                clean(k) if isinstance(k, str) else k: clean(x)
                for k, x in v.items()
                if not (drop_secret_keys and any(w in str(k).lower() for w in SECRET_WORDS))
            }
        if isinstance(v, list):
            return [clean(x) for x in v]
        if isinstance(v, tuple):
            return tuple(clean(x) for x in v)
        return v

    return clean(value)
