"""Real run folders for the card and publishing tests, built the way the training engine lays them out."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import tomli_w

METRICS = {
    "level": "word",
    "scheme": "IOB2",
    "splits": {
        "validation": {
            "loss": 0.3712,
            "overall": {"precision": 0.71234, "recall": 0.68421, "f1": 0.69799, "accuracy": 0.91111},
            "per_type": {
                "PER": {"precision": 0.75, "recall": 0.7, "f1": 0.72414, "support": 40},
                "ORG": {"precision": 0.6, "recall": 0.55, "f1": 0.57391, "support": 20},
                "LOC": {"precision": 0.74, "recall": 0.72, "f1": 0.72986, "support": 35},
            },
            "piece_level": None,
        },
        "test": {
            "loss": 0.4,
            "overall": {"precision": 0.7, "recall": 0.66, "f1": 0.67941, "accuracy": 0.9},
            "per_type": {"PER": {"precision": 0.7, "recall": 0.66, "f1": 0.67941, "support": 30}},
            "piece_level": {"overall": {"precision": 0.8, "recall": 0.79, "f1": 0.795}},
        },
    },
    "best": {"step": 120, "f1": 0.69799},
}

CONFIG = {
    "model": "bert-base-multilingual-cased",
    "data": "wikiann",
    "strategy": "first",
    "max_length": 128,
    "learning_rate": 2e-5,
    "batch_size": 16,
    "epochs": 7,
    "max_steps": -1,
    "warmup_ratio": 0.0,
    "weight_decay": 0.01,
    "grad_accum": 1,
    "precision": "fp32",
    "seed": 42,
    "preset": "notebook",
    "wandb": {"project": "bnner", "api_key": "wandb-secret-should-never-appear"},
}


def make_run(root: Path, model_src: Path, *, name: str = "run1", config: dict | None = None,
             metrics: dict | None = None) -> Path:
    """A run folder: config.toml, events.jsonl, train.log, metrics.json, model/ (real weights), checkpoints/, wandb/."""
    run = root / name
    run.mkdir(parents=True)
    (run / "config.toml").write_text(tomli_w.dumps(config or CONFIG), encoding="utf-8")
    (run / "metrics.json").write_text(json.dumps(metrics or METRICS, indent=2), encoding="utf-8")
    (run / "events.jsonl").write_text('{"type": "start"}\n', encoding="utf-8")
    (run / "train.log").write_text("step 1 loss 1.0\n", encoding="utf-8")
    shutil.copytree(model_src, run / "model")
    ck = run / "checkpoints" / "checkpoint-120"
    ck.mkdir(parents=True)
    (ck / "optimizer.pt").write_bytes(b"\0" * 1000)
    (ck / "model.safetensors").write_bytes((model_src / "model.safetensors").read_bytes())
    (run / "wandb" / "run-x").mkdir(parents=True)
    (run / "wandb" / "run-x" / "config.yaml").write_text("x: 1\n", encoding="utf-8")
    (run / "run.lock").write_text("", encoding="utf-8")
    return run


@pytest.fixture
def run_dir(tmp_path: Path, tiny_model_dir: Path) -> Path:
    return make_run(tmp_path / "runs", tiny_model_dir)


# ---------------------------------------------------------------------------------------------
# A local stand-in for the Hub: the handful of endpoints huggingface_hub's client calls to publish.

TOKEN = "hf_testTOKEN_3f9a1c7e5b2d4a6c8e0f"


class FakeHub:
    """Records every request; implements whoami-v2, repo info/create/delete, preupload, LFS batch/upload, commit."""

    def __init__(self, server, *, user: str = "alice", orgs: tuple[str, ...] = ("bn-lab",)) -> None:
        self.server = server
        self.user = user
        self.orgs = list(orgs)
        self.repos: dict[str, dict] = {}
        self.requests: list[tuple[str, str]] = []
        self.commits: list[dict] = []
        self.lfs_objects: dict[str, bytes] = {}
        self.fail: dict[str, int] = {}  # route name -> status to answer with
        import re

        server.expect_request(re.compile(".*")).respond_with_handler(self.handle)

    @property
    def url(self) -> str:
        return self.server.url_for("").rstrip("/")

    def _json(self, data, status: int = 200, headers: dict | None = None):
        from werkzeug.wrappers import Response

        return Response(json.dumps(data), status=status, headers=headers or {}, content_type="application/json")

    def handle(self, request):
        import base64
        import re

        path, method = request.path, request.method
        self.requests.append((method, path))
        auth = request.headers.get("Authorization", "")
        authed = auth == f"Bearer {TOKEN}"

        def route(name: str):
            code = self.fail.get(name)
            if code:
                return self._json({"error": f"{name} refused"}, status=code)
            return None

        if path == "/api/whoami-v2":
            if not authed:
                return self._json({"error": "Invalid credentials in Authorization header"}, status=401)
            return route("whoami") or self._json(
                {"type": "user", "name": self.user, "orgs": [{"name": o} for o in self.orgs]}
            )
        if not authed and not path.startswith("/lfs-upload/"):
            return self._json({"error": "Invalid credentials in Authorization header"}, status=401)
        if path == "/api/repos/create" and method == "POST":
            body = request.get_json()
            repo = f"{body.get('organization') or self.user}/{body['name']}"
            if r := route("create"):
                return r
            if repo in self.repos:
                return self._json({"error": "You already created this model repo", "url": f"{self.url}/{repo}"}, 409)
            self.repos[repo] = {"visibility": body.get("visibility"), "created": True}
            return self._json({"url": f"{self.url}/{repo}", "name": repo})
        if path == "/api/repos/delete" and method == "DELETE":
            body = request.get_json()
            self.repos.pop(f"{body.get('organization') or self.user}/{body['name']}", None)
            return self._json({})
        if path == "/api/validate-yaml" and method == "POST":
            import yaml

            content = request.get_json()["content"]
            try:
                yaml.safe_load(content.split("---")[1])
            except Exception as err:
                return self._json({"errors": [{"message": str(err)}]}, 400, {"X-Error-Code": "BadRequest"})
            return self._json({"errors": [], "warnings": []})
        m = re.match(r"^/api/models/([^/]+/[^/]+)/preupload/([^/]+)$", path)
        if m:
            files = request.get_json()["files"]
            return route("preupload") or self._json(
                {
                    "files": [
                        {
                            "path": f["path"],
                            "uploadMode": "lfs" if f["path"].endswith((".safetensors", ".bin", ".pt")) else "regular",
                            "shouldIgnore": False,
                        }
                        for f in files
                    ],
                    "commitOid": "0" * 40,
                }
            )
        m = re.match(r"^/api/models/([^/]+/[^/]+)/commit/([^/]+)$", path)
        if m:
            if r := route("commit"):
                return r
            lines = [json.loads(x) for x in request.get_data().decode("utf-8").splitlines() if x.strip()]
            files = {}
            for op in lines:
                if op["key"] == "file":
                    files[op["value"]["path"]] = base64.b64decode(op["value"]["content"])
                elif op["key"] == "lfsFile":
                    files[op["value"]["path"]] = self.lfs_objects.get(op["value"]["oid"])
            header = next(op["value"] for op in lines if op["key"] == "header")
            self.commits.append(
                {"repo": m.group(1), "revision": m.group(2), "header": header, "files": files,
                 "ops": lines, "create_pr": request.args.get("create_pr")}
            )
            oid = f"{len(self.commits):040x}"
            pr = f"{self.url}/{m.group(1)}/discussions/1" if request.args.get("create_pr") else None
            return self._json({"commitUrl": f"{self.url}/{m.group(1)}/commit/{oid}", "commitOid": oid,
                               "pullRequestUrl": pr})
        m = re.match(r"^/api/models/([^/]+/[^/]+)(?:/revision/[^/]+)?$", path)
        if m and method == "GET":
            if m.group(1) in self.repos:
                return self._json({"id": m.group(1), "sha": "0" * 40, "private": False, "siblings": []})
            return self._json({"error": "Repository not found"}, 404, {"X-Error-Code": "RepoNotFound"})
        m = re.match(r"^/([^/]+/[^/]+)\.git/info/lfs/objects/batch$", path)
        if m:
            objs = request.get_json()["objects"]
            return route("lfs") or self._json(
                {
                    "transfer": "basic",
                    "objects": [
                        {"oid": o["oid"], "size": o["size"],
                         "actions": {"upload": {"href": f"{self.url}/lfs-upload/{o['oid']}", "header": {}}}}
                        for o in objs
                    ],
                }
            )
        m = re.match(r"^/lfs-upload/([0-9a-f]+)$", path)
        if m and method == "PUT":
            self.lfs_objects[m.group(1)] = request.get_data()
            return self._json({})
        return self._json({"error": f"fake hub: no route for {method} {path}"}, 404)


@pytest.fixture
def hub_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    """Online mode against a local server, no xet, an isolated HF home; returns a factory taking the server."""
    import huggingface_hub.constants as c

    home = tmp_path / "hf-home"
    home.mkdir()
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setattr(c, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(c, "HF_HUB_DISABLE_XET", True)
    monkeypatch.setenv("HF_HUB_DISABLE_XET", "1")
    monkeypatch.setenv("HF_HOME", str(home))
    monkeypatch.setattr(c, "HF_TOKEN_PATH", str(home / "token"))
    monkeypatch.setattr(c, "HF_STORED_TOKENS_PATH", str(home / "stored_tokens"))
    for var in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    return home


@pytest.fixture
def fake_hub(httpserver, hub_env, monkeypatch: pytest.MonkeyPatch) -> FakeHub:
    hub = FakeHub(httpserver)
    monkeypatch.setenv("HF_ENDPOINT", hub.url)
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    return hub
