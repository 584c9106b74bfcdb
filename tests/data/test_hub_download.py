"""The real `datasets.load_dataset` path of a hub source, against a local stand-in for the Hub's HTTP API.

huggingface_hub and datasets read HF_ENDPOINT and the offline switches once, at import, so this
runs `load_source` in a fresh interpreter whose environment points at the local server.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import urllib.parse

import pytest
from werkzeug.wrappers import Request, Response

SHA = "0123456789abcdef0123456789abcdef01234567"
ROWS = [
    {"tokens": ["শেখ", "হাসিনা", "ঢাকায়"], "ner_tags": ["B-PER", "I-PER", "B-LOC"]},
    {"tokens": ["ব্র্যাক"], "ner_tags": ["B-ORG"]},
]
FILES = {
    "data/train.jsonl": "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in ROWS).encode(),
    "data/validation.jsonl": (json.dumps(ROWS[1], ensure_ascii=False) + "\n").encode(),
}
REPO = "bnner-tests/tiny-ner"


def _hub(request: Request) -> Response:
    """Just enough of the Hub API for `load_dataset(REPO)`: repo info, tree listing, file resolve."""
    path = urllib.parse.unquote(request.path)
    resolve = f"/datasets/{REPO}/resolve/"
    if path.startswith(resolve):
        name = path[len(resolve) :].split("/", 1)[1]
        if name in FILES:
            body = FILES[name] if request.method == "GET" else b""
            resp = Response(body, 200, content_type="application/octet-stream")
            resp.headers.update({"ETag": f'"{abs(hash(name))}"', "X-Repo-Commit": SHA})
            resp.headers["Content-Length"] = str(len(FILES[name]))
            return resp
        return Response("{}", 404, headers={"X-Error-Code": "EntryNotFound", "X-Repo-Commit": SHA})
    if path == f"/api/datasets/{REPO}" or path.startswith(f"/api/datasets/{REPO}/revision/"):
        info = {"id": REPO, "sha": SHA, "private": False, "siblings": [{"rfilename": f} for f in FILES], "tags": []}
        return Response(json.dumps(info), 200, content_type="application/json")
    tree = f"/api/datasets/{REPO}/tree/"
    if path.startswith(tree):
        folder = path[len(tree) :].partition("/")[2].strip("/")
        entries = [
            {"type": "file", "oid": "1", "size": len(b), "path": f}
            for f, b in FILES.items()
            if f.rpartition("/")[0] == folder
        ]
        if folder == "":
            entries.append({"type": "directory", "oid": "2", "size": 0, "path": "data"})
        return Response(json.dumps(entries), 200, content_type="application/json")
    return Response("{}", 404, headers={"X-Error-Code": "RepoNotFound"})


@pytest.mark.slow
def test_hub_dataset_through_load_dataset(httpserver, tmp_path):
    httpserver.expect_request(re.compile(".*")).respond_with_handler(_hub)
    env = {k: v for k, v in os.environ.items() if k not in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE")}
    env.update(
        HF_ENDPOINT=httpserver.url_for("").rstrip("/"), HF_HOME=str(tmp_path / "hf"), HF_HUB_DISABLE_TELEMETRY="1"
    )
    code = (
        "from bnner_tui.core.data import load_source; import json; "
        f"s = load_source('hub:{REPO}'); "
        "out = {k: {'tokens': list(v['tokens']), 'ner_tags': list(v['ner_tags'])} for k, v in s.dataset.items()}; "
        "print(json.dumps(out | {'_labels': s.label_names, '_name': s.name}, ensure_ascii=False))"
    )
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    n_requests = len(httpserver.log)

    # Offline mode afterwards: the same source comes from the local datasets cache, with no request at all.
    offline_env = env | {"HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}
    again = subprocess.run([sys.executable, "-c", code], env=offline_env, capture_output=True, text=True, timeout=120)
    assert again.returncode == 0, again.stderr[-3000:]
    assert json.loads(again.stdout.strip().splitlines()[-1]) == got
    assert len(httpserver.log) == n_requests
    assert got["_labels"] == ["O", "B-PER", "I-PER", "B-ORG", "I-ORG", "B-LOC", "I-LOC"]
    assert got["train"] == {"tokens": [r["tokens"] for r in ROWS], "ner_tags": [[1, 2, 5], [3]]}
    assert got["validation"] == {"tokens": [ROWS[1]["tokens"]], "ner_tags": [[3]]}
    assert REPO in got["_name"]
    # The probe asked the hub about this dataset first, then datasets downloaded the files.
    paths = [req.path for req, _ in httpserver.log]
    assert paths[0] == f"/api/datasets/{REPO}"
    assert any(p.endswith("/data/train.jsonl") for p in paths)
