"""Hub sources: the reachability probe against a local HTTP server, and fast, clear failure offline."""

from __future__ import annotations

import socket
import time

import pytest

from bnner_tui.core.data import load_source
from bnner_tui.core.data.hub_source import parse_hub_spec, probe_dataset
from bnner_tui.core.errors import BnnerError, HubUnavailableError


@pytest.fixture
def online(monkeypatch):
    """Undo the suite's offline mode so the network code path runs (against local endpoints only)."""
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("HF_DATASETS_OFFLINE", raising=False)
    monkeypatch.setenv("HF_TOKEN", "hf_test_token_not_real")


def test_parse_specs():
    assert parse_hub_spec("wikiann") == ("unimelb-nlp/wikiann", "bn")
    assert parse_hub_spec("hub:org/name") == ("org/name", None)
    assert parse_hub_spec("hub:org/name:cfg") == ("org/name", "cfg")
    with pytest.raises(BnnerError):
        parse_hub_spec("hub:")


def test_probe_statuses(httpserver, online):
    httpserver.expect_request("/api/datasets/org/here", method="HEAD").respond_with_data("", status=200)
    httpserver.expect_request("/api/datasets/org/gone", method="HEAD").respond_with_data("", status=404)
    httpserver.expect_request("/api/datasets/org/down", method="HEAD").respond_with_data("", status=503)
    base = httpserver.url_for("").rstrip("/")
    assert probe_dataset("org/here", base)[0] == "ok"
    assert probe_dataset("org/gone", base) == ("missing", "HTTP 404")
    assert probe_dataset("org/down", base) == ("unreachable", "HTTP 503")
    # The user's token goes to the hub in the Authorization header (private datasets), nowhere else.
    sent = [req for req, _ in httpserver.log]
    assert all(req.headers.get("Authorization") == "Bearer hf_test_token_not_real" for req in sent)


def test_missing_dataset_is_one_sentence(httpserver, online, monkeypatch):
    httpserver.expect_request("/api/datasets/org/gone", method="HEAD").respond_with_data("", status=404)
    monkeypatch.setenv("HF_ENDPOINT", httpserver.url_for("").rstrip("/"))
    with pytest.raises(BnnerError, match="the hub has no dataset org/gone") as info:
        load_source("hub:org/gone")
    assert not isinstance(info.value, HubUnavailableError)
    assert "hf_test_token" not in str(info.value)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_connection_refused_fails_fast(online, monkeypatch):
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{_free_port()}")
    t0 = time.perf_counter()
    with pytest.raises(HubUnavailableError) as info:
        load_source("wikiann")
    assert time.perf_counter() - t0 < 10
    msg = str(info.value)
    assert "unreachable" in msg and "demo" in msg and "local file" in msg


def test_silent_server_times_out_fast(online, monkeypatch):
    """A host that accepts the connection and never answers (a firewall black hole): no 30 s of retries."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(8)  # never accept()ed: the request just hangs
        monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{server.getsockname()[1]}")
        t0 = time.perf_counter()
        with pytest.raises(HubUnavailableError, match=r"no answer|timed out"):
            load_source("hub:org/name:cfg")
        elapsed = time.perf_counter() - t0
    assert 2 < elapsed < 10, elapsed


def test_offline_mode_uses_cache_only_and_says_so(monkeypatch):
    # The suite's autouse fixture sets HF_HUB_OFFLINE/HF_DATASETS_OFFLINE; nothing may touch the network.
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")
    t0 = time.perf_counter()
    with pytest.raises(HubUnavailableError, match="offline mode is on") as info:
        load_source("hub:bnner-tui-tests/never-cached")
    assert time.perf_counter() - t0 < 10
    assert "demo" in str(info.value)
