"""Is the Hugging Face Hub usable right now? One answer for every part of bnner-tui.

huggingface_hub and datasets retry an unreachable host for 25-30 s before failing; users
should hear at once. So everything that may touch the Hub (datasets, tokenizers, models,
tagging, publishing) asks here first: offline mode honoured, then a TCP connect with a
deadline that also bounds a slow DNS lookup.
"""

from __future__ import annotations

import os
import socket
import threading
from urllib.parse import urlparse

_TRUTHY = {"1", "true", "yes", "on"}
DEFAULT_ENDPOINT = "https://huggingface.co"


def _truthy(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in _TRUTHY


def offline() -> bool:
    """True when the user asked the HF libraries to stay offline (HF_HUB_OFFLINE or TRANSFORMERS_OFFLINE)."""
    return _truthy("HF_HUB_OFFLINE") or _truthy("TRANSFORMERS_OFFLINE")


def endpoint() -> str:
    """HF_ENDPOINT as set now (huggingface_hub reads it only once, at import), else the default."""
    return (os.environ.get("HF_ENDPOINT") or DEFAULT_ENDPOINT).rstrip("/")


def host_of(url: str) -> str:
    return urlparse(url).hostname or "huggingface.co"


def unreachable_reason(url: str | None = None, timeout: float = 3.0) -> str | None:
    """None when `url`'s host accepts a TCP connection within `timeout` s, else why not (short)."""
    parsed = urlparse(url or endpoint())
    host = parsed.hostname or "huggingface.co"
    port = parsed.port or (80 if parsed.scheme == "http" else 443)
    result: list[str | None] = []

    def connect() -> None:
        try:
            with socket.create_connection((host, port), timeout=timeout):
                result.append(None)
        except OSError as err:
            result.append(err.strerror or type(err).__name__)

    worker = threading.Thread(target=connect, daemon=True)
    worker.start()
    worker.join(timeout + 0.5)
    return result[0] if result else f"no answer from {host} within {timeout:g} s"
