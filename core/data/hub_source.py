"""Hugging Face Hub datasets through `datasets.load_dataset`, failing fast when the hub is out of reach.

`datasets` alone spends ~30 s in retries before giving up offline. We first ask the hub
endpoint one cheap question with a short deadline (run in a thread so even a slow DNS
lookup cannot hold us past it); no answer means `HubUnavailableError` in a few seconds.
Offline mode (``HF_HUB_OFFLINE`` / ``HF_DATASETS_OFFLINE``) skips the network and tries
the local datasets cache only.
"""

from __future__ import annotations

import os
import threading
import urllib.error
import urllib.request
from typing import Any

from bnner_tui.core import hub
from bnner_tui.core.data.spec import WIKIANN_CONFIG, WIKIANN_ID, DataSpec
from bnner_tui.core.errors import BnnerError, HubUnavailableError

__all__ = ["WIKIANN_CONFIG", "WIKIANN_ID", "load_hub_dataset", "parse_hub_spec", "probe_dataset"]
REACH_TIMEOUT_S = 3.0
_WHAT_TO_DO = "use a local file or folder (bnner-tui data stats PATH) or the bundled demo set ('demo')"


def offline_mode() -> bool:
    """True when the user asked the HF libraries to stay offline."""
    return hub.offline() or os.environ.get("HF_DATASETS_OFFLINE", "").strip().lower() in {"1", "true", "yes", "on"}


def probe_dataset(repo_id: str, endpoint: str | None = None, timeout: float = REACH_TIMEOUT_S) -> tuple[str, str]:
    """Ask the hub about one dataset, within ``timeout`` seconds: (status, detail).

    status: ``ok`` (HTTP 200), ``missing`` (401/404: no such dataset, or private/gated),
    ``unreachable`` (no answer in time, DNS/connection failure, or any other HTTP status,
    e.g. a captive portal or a 5xx).
    """
    base = (endpoint or hub.endpoint()).rstrip("/")
    url = f"{base}/api/datasets/{repo_id}"
    headers = {"User-Agent": "bnner-tui"}
    try:  # private/gated datasets answer 401 without the user's token; the token goes in the header only
        from huggingface_hub import get_token

        token = get_token()
    except Exception:  # a broken token file must not stop a probe
        token = None
    if token:
        headers["Authorization"] = f"Bearer {token}"
    result: list[tuple[str, str]] = []

    def probe() -> None:
        try:
            req = urllib.request.Request(url, method="HEAD", headers=headers)
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                result.append(("ok", f"HTTP {resp.status}"))
        except urllib.error.HTTPError as err:
            result.append(("missing" if err.code in (401, 404) else "unreachable", f"HTTP {err.code}"))
        except (urllib.error.URLError, OSError, ValueError) as err:
            result.append(("unreachable", str(getattr(err, "reason", err))))

    # A thread with a deadline: urlopen's timeout does not cover a slow DNS lookup.
    worker = threading.Thread(target=probe, daemon=True)
    worker.start()
    worker.join(timeout + 0.5)
    if not result:
        return "unreachable", f"no answer within {timeout:g} s"
    return result[0]


def parse_hub_spec(spec: str) -> tuple[str, str | None]:
    """'wikiann' -> (unimelb-nlp/wikiann, bn); 'hub:ID[:CONFIG]' -> (ID, CONFIG)."""
    parsed = DataSpec.parse(spec if spec.startswith("hub:") or spec == "wikiann" else f"hub:{spec}")
    assert parsed.repo_id is not None
    return parsed.repo_id, parsed.config


def load_hub_dataset(repo_id: str, config: str | None) -> Any:
    """`datasets.load_dataset(repo_id, config)`, or HubUnavailableError in seconds when that cannot work."""
    what = f"{repo_id}" + (f" ({config})" if config else "")
    if not offline_mode():
        status, detail = probe_dataset(repo_id)
        if status == "unreachable":
            raise HubUnavailableError(
                f"the Hugging Face Hub is unreachable ({hub.endpoint()}: {detail}), so {what} cannot be "
                f"downloaded; {_WHAT_TO_DO}"
            )
        if status == "missing":
            raise BnnerError(
                f"the hub has no dataset {repo_id} ({detail}; if it is private or gated, log in with "
                "`hf auth login`); check the id, or use a local file or the demo set"
            )
    import datasets

    try:
        return datasets.load_dataset(repo_id, config)
    except (ConnectionError, FileNotFoundError, OSError) as err:
        if offline_mode():
            raise HubUnavailableError(
                f"offline mode is on (HF_HUB_OFFLINE/HF_DATASETS_OFFLINE) and {what} is not in the local "
                f"datasets cache; {_WHAT_TO_DO}"
            ) from None
        raise HubUnavailableError(f"could not load {what} from the hub ({type(err).__name__}); {_WHAT_TO_DO}") from None
    except ValueError as err:  # e.g. an unknown config name
        raise BnnerError(f"could not load {what} from the hub: {err}") from None
