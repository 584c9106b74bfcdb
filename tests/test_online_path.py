"""The online path end to end, against a local stand-in for the Hugging Face Hub (HF_ENDPOINT).

What a user with internet runs: `train --preset tutorial --data wikiann` (mBERT and WikiANN bn
from the Hub), `publish`, then `tag -m user/repo`. The server serves, in the real repositories'
layout, a tiny random-init BERT with the REAL mBERT tokenizer files as
`google-bert/bert-base-multilingual-cased` (and under its old id `bert-base-multilingual-cased`),
and WikiANN bn as parquet files the way `unimelb-nlp/wikiann` publishes its `bn` config (README
configs + dataset_info, `bn/<split>-00000-of-00001.parquet`). It accepts the publish commit and
serves the published repo back. Then, with HF_HUB_OFFLINE=1, the same commands work from the cache
with no request at all.

Each command runs as the real console script in a fresh process: huggingface_hub and datasets
read HF_ENDPOINT and the offline switches at import.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import re
import subprocess
import sys
import urllib.parse
from pathlib import Path

import pytest

from bnner_tui.core.labels import WIKIANN_LABELS

BNNER = str(Path(sys.executable).parent / "bnner-tui")
TOKEN = "hf_testTOKEN_online_path_0000000000"
MODEL_ID = "google-bert/bert-base-multilingual-cased"
OLD_MODEL_ID = "bert-base-multilingual-cased"
DATASET_ID = "unimelb-nlp/wikiann"
SPLIT_SIZES = {"train": 48, "validation": 24, "test": 24}
TEXT = "শেখ হাসিনা ঢাকায় বাংলাদেশ আওয়ামী লীগের সভায় বক্তব্য দেন ।"


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class Hub:
    """Repos in memory: model info, tree, paths-info, resolve (HEAD/GET); whoami, create, preupload, LFS, commit."""

    def __init__(self, server) -> None:
        self.server = server
        self.repos: dict[tuple[str, str], dict[str, bytes]] = {}
        self.lfs: dict[str, bytes] = {}
        self.log: list[tuple[str, str]] = []
        server.expect_request(re.compile(".*")).respond_with_handler(self.handle)

    @property
    def url(self) -> str:
        return self.server.url_for("").rstrip("/")

    def sha(self, kind: str, repo: str) -> str:
        files = self.repos[(kind, repo)]
        return hashlib.sha1(json.dumps(sorted((k, _sha(v)) for k, v in files.items())).encode()).hexdigest()

    def _json(self, data, status: int = 200, headers: dict | None = None):
        from werkzeug.wrappers import Response

        return Response(json.dumps(data), status=status, headers=headers or {}, content_type="application/json")

    def _missing(self, what: str = "RepoNotFound"):
        return self._json({"error": what}, 404, {"X-Error-Code": what})

    def _info(self, kind: str, repo: str):
        files = self.repos[(kind, repo)]
        return self._json(
            {
                "id": repo,
                "sha": self.sha(kind, repo),
                "private": False,
                "siblings": [{"rfilename": f, "size": len(b)} for f, b in sorted(files.items())],
                "tags": [],
            }
        )

    def _entry(self, path: str, data: bytes) -> dict:
        entry = {"type": "file", "oid": hashlib.sha1(data).hexdigest(), "size": len(data), "path": path}
        if path.endswith((".safetensors", ".parquet")):
            entry["lfs"] = {"oid": _sha(data), "size": len(data), "pointerSize": 130}
        return entry

    def _tree(self, kind: str, repo: str, folder: str, recursive: bool) -> list[dict]:
        files = self.repos[(kind, repo)]
        out, dirs = [], set()
        prefix = f"{folder}/" if folder else ""
        for path, data in sorted(files.items()):
            if not path.startswith(prefix):
                continue
            rest = path[len(prefix) :]
            if "/" in rest and not recursive:
                dirs.add(prefix + rest.split("/", 1)[0])
                continue
            if recursive:
                parts = rest.split("/")[:-1]
                for i in range(len(parts)):
                    dirs.add(prefix + "/".join(parts[: i + 1]))
            out.append(self._entry(path, data))
        return [{"type": "directory", "oid": "0" * 40, "size": 0, "path": d} for d in sorted(dirs)] + out

    def handle(self, request):
        from werkzeug.wrappers import Response

        path, method = urllib.parse.unquote(request.path), request.method
        self.log.append((method, path))
        # -- reading ------------------------------------------------------------------------------
        m = re.match(r"^/(?:(datasets)/)?([^/]+/[^/]+|[^/]+)/resolve/([^/]+)/(.+)$", path)
        if m and not path.startswith("/api/"):
            kind = "dataset" if m.group(1) else "model"
            repo, name = m.group(2), m.group(4)
            files = self.repos.get((kind, repo))
            if files is None:
                return self._missing()
            if name not in files:
                return self._json(
                    {"error": "Entry not found"},
                    404,
                    {"X-Error-Code": "EntryNotFound", "X-Repo-Commit": self.sha(kind, repo)},
                )
            data = files[name]
            etag = _sha(data) if name.endswith((".safetensors", ".parquet")) else hashlib.sha1(data).hexdigest()
            resp = Response(data if method == "GET" else b"", 200, content_type="application/octet-stream")
            resp.headers.update({"ETag": f'"{etag}"', "X-Repo-Commit": self.sha(kind, repo)})
            resp.headers["Content-Length"] = str(len(data))
            return resp
        m = re.match(r"^/api/(models|datasets)/([^/]+/[^/]+|[^/]+?)(?:/revision/([^/]+))?$", path)
        if m and method in ("GET", "HEAD"):
            kind = m.group(1)[:-1]
            if (kind, m.group(2)) not in self.repos:
                return self._missing()
            return self._info(kind, m.group(2))
        m = re.match(r"^/api/(models|datasets)/([^/]+/[^/]+)/tree/([^/]+)/?(.*)$", path)
        if m:
            kind, repo = m.group(1)[:-1], m.group(2)
            if (kind, repo) not in self.repos:
                return self._missing()
            recursive = request.args.get("recursive") in ("1", "true", "True")
            return self._json(self._tree(kind, repo, m.group(4).strip("/"), recursive))
        m = re.match(r"^/api/(models|datasets)/([^/]+/[^/]+)/paths-info/([^/]+)$", path)
        if m:
            kind, repo = m.group(1)[:-1], m.group(2)
            files = self.repos.get((kind, repo)) or {}
            wanted = request.form.getlist("paths") or (request.get_json(silent=True) or {}).get("paths", [])
            out = []
            for p in wanted:
                p = p.strip("/")
                if p in files:
                    out.append(self._entry(p, files[p]))
                elif any(f.startswith(p + "/") for f in files):
                    out.append({"type": "directory", "oid": "0" * 40, "size": 0, "path": p})
            return self._json(out)
        # -- publishing ---------------------------------------------------------------------------
        if request.headers.get("Authorization", "") != f"Bearer {TOKEN}" and not path.startswith("/lfs-upload/"):
            return self._json({"error": "Invalid credentials in Authorization header"}, status=401)
        if path == "/api/whoami-v2":
            return self._json({"type": "user", "name": "alice", "orgs": []})
        if path == "/api/repos/create" and method == "POST":
            body = request.get_json()
            repo = f"{body.get('organization') or 'alice'}/{body['name']}"
            self.repos.setdefault(("model", repo), {})
            return self._json({"url": f"{self.url}/{repo}", "name": repo})
        if path == "/api/validate-yaml":
            return self._json({"errors": [], "warnings": []})
        m = re.match(r"^/api/models/([^/]+/[^/]+)/preupload/([^/]+)$", path)
        if m:
            files = request.get_json()["files"]
            return self._json(
                {
                    "files": [
                        {
                            "path": f["path"],
                            "shouldIgnore": False,
                            "uploadMode": "lfs" if f["path"].endswith((".safetensors", ".bin")) else "regular",
                        }
                        for f in files
                    ],
                    "commitOid": "0" * 40,
                }
            )
        m = re.match(r"^/([^/]+/[^/]+)\.git/info/lfs/objects/batch$", path)
        if m:
            objs = request.get_json()["objects"]
            return self._json(
                {
                    "transfer": "basic",
                    "objects": [
                        {
                            "oid": o["oid"],
                            "size": o["size"],
                            "actions": {"upload": {"href": f"{self.url}/lfs-upload/{o['oid']}", "header": {}}},
                        }
                        for o in objs
                    ],
                }
            )
        m = re.match(r"^/lfs-upload/([0-9a-f]+)$", path)
        if m and method == "PUT":
            self.lfs[m.group(1)] = request.get_data()
            return self._json({})
        m = re.match(r"^/api/models/([^/]+/[^/]+)/commit/([^/]+)$", path)
        if m:
            files = self.repos.setdefault(("model", m.group(1)), {})
            for line in request.get_data().decode("utf-8").splitlines():
                if not line.strip():
                    continue
                op = json.loads(line)
                if op["key"] == "file":
                    files[op["value"]["path"]] = base64.b64decode(op["value"]["content"])
                elif op["key"] == "lfsFile":
                    files[op["value"]["path"]] = self.lfs[op["value"]["oid"]]
            oid = self.sha("model", m.group(1))
            return self._json({"commitUrl": f"{self.url}/{m.group(1)}/commit/{oid}", "commitOid": oid})
        return self._json({"error": f"stand-in hub: no route for {method} {path}"}, 404)


# ---------------------------------------------------------------------------------------------- repos


def _tiny_mbert(tokenizer_dir: Path) -> dict[str, bytes]:
    """A random-init BERT with mBERT's real vocabulary (119,547 rows, 16 wide) and its real tokenizer files."""
    import torch
    from safetensors.torch import save as save_safetensors
    from transformers import BertConfig, BertModel

    config = BertConfig(
        vocab_size=119547,
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=512,
        architectures=["BertForMaskedLM"],
    )
    torch.manual_seed(0)
    model = BertModel(config)
    state = {f"bert.{k}": v.contiguous() for k, v in model.state_dict().items()}
    files = {
        "config.json": config.to_json_string().encode(),
        "model.safetensors": save_safetensors(state, metadata={"format": "pt"}),
    }
    for name in ("tokenizer.json", "tokenizer_config.json", "vocab.txt"):
        files[name] = (tokenizer_dir / name).read_bytes()
    return files


def _wikiann_bn(wikiann_dir: Path) -> dict[str, bytes]:
    """WikiANN bn as unimelb-nlp/wikiann publishes it: README configs + dataset_info, one parquet per split."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from bnner_tui.core.data import load_source

    source = load_source(str(wikiann_dir))
    names = list(source.label_names)
    files: dict[str, bytes] = {}
    for split, n in SPLIT_SIZES.items():
        src = "validation" if split == "validation" else "train"
        ds = source.dataset[src]
        offset = 0 if split != "test" else SPLIT_SIZES["train"]
        rows = [ds[i] for i in range(offset, offset + n)]
        tokens = [list(r["tokens"]) for r in rows]
        tags = [[WIKIANN_LABELS.index(names[t]) for t in r["ner_tags"]] for r in rows]
        table = pa.table(
            {
                "tokens": pa.array(tokens, type=pa.list_(pa.string())),
                "ner_tags": pa.array(tags, type=pa.list_(pa.int64())),
                "langs": pa.array([["bn"] * len(t) for t in tokens], type=pa.list_(pa.string())),
                "spans": pa.array([[] for _ in tokens], type=pa.list_(pa.string())),
            }
        )
        buf = io.BytesIO()
        pq.write_table(table, buf)
        files[f"bn/{split}-00000-of-00001.parquet"] = buf.getvalue()
    class_names = "\n".join(f"          '{i}': {name}" for i, name in enumerate(WIKIANN_LABELS))
    files["README.md"] = f"""---
language:
- bn
configs:
- config_name: bn
  data_files:
  - split: validation
    path: bn/validation-*
  - split: test
    path: bn/test-*
  - split: train
    path: bn/train-*
dataset_info:
- config_name: bn
  features:
  - name: tokens
    sequence: string
  - name: ner_tags
    sequence:
      class_label:
        names:
{class_names}
  - name: langs
    sequence: string
  - name: spans
    sequence: string
  splits:
  - name: validation
    num_examples: {SPLIT_SIZES["validation"]}
  - name: test
    num_examples: {SPLIT_SIZES["test"]}
  - name: train
    num_examples: {SPLIT_SIZES["train"]}
---
# WikiANN (stand-in)
""".encode()
    return files


def _run(args: list[str], env: dict[str, str], cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run([BNNER, *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout)


def _entities(stdout: str) -> list[tuple[str, str, int, int]]:
    rec = json.loads([ln for ln in stdout.splitlines() if ln.startswith("{")][-1])
    return [(e["text"], e["label"], e["start"], e["end"]) for e in rec["entities"]]


@pytest.mark.slow
def test_train_publish_and_tag_from_the_hub_then_offline(
    httpserver, tmp_path: Path, wikiann_dir: Path, mbert_dir: Path
) -> None:
    hub = Hub(httpserver)
    mbert = _tiny_mbert(mbert_dir)
    hub.repos[("model", MODEL_ID)] = mbert
    hub.repos[("model", OLD_MODEL_ID)] = mbert  # the Hub redirects the old id; the same files here
    hub.repos[("dataset", DATASET_ID)] = _wikiann_bn(wikiann_dir)

    env = {k: v for k, v in os.environ.items() if k not in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE")}
    for var in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY"):
        env.pop(var, None)
    env.update(
        HF_ENDPOINT=hub.url,
        HF_HOME=str(tmp_path / "hf-home"),
        HF_HUB_DISABLE_XET="1",
        HF_HUB_DISABLE_TELEMETRY="1",
        HF_TOKEN=TOKEN,
        COLUMNS="160",
    )
    runs = tmp_path / "runs"
    train = ["train", "--preset", "tutorial", "--data", "wikiann", "--max-steps", "3", "--output-root", str(runs)]
    proc = _run([*train, "--run-name", "online"], env, tmp_path)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "Finished at step 3" in proc.stdout
    started = json.loads((runs / "online" / "events.jsonl").read_text(encoding="utf-8").splitlines()[0])
    assert started["model_kind"] == "hub" and OLD_MODEL_ID in started["model_name"]
    metrics = json.loads((runs / "online" / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["splits"]["validation"]["sentences"] == SPLIT_SIZES["validation"]
    paths = [p for _, p in hub.log]
    assert any(p.endswith("/model.safetensors") for p in paths), "the model was never downloaded"
    assert any(p.endswith(".parquet") for p in paths), "the dataset was never downloaded"

    proc = _run(["publish", str(runs / "online"), "--repo", "alice/bn-ner"], env, tmp_path)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    published = hub.repos[("model", "alice/bn-ner")]
    assert {"config.json", "model.safetensors", "README.md", "tokenizer.json"} <= set(published)

    local = _run(["tag", "-m", str(runs / "online"), "--format", "jsonl", TEXT], env, tmp_path)
    remote = _run(["tag", "-m", "alice/bn-ner", "--format", "jsonl", TEXT], env, tmp_path)
    assert local.returncode == 0 and remote.returncode == 0, local.stderr[-2000:] + remote.stderr[-2000:]
    assert _entities(remote.stdout) == _entities(local.stdout)
    assert any(p.startswith("/alice/bn-ner/resolve/") for p in (p for _, p in hub.log))

    # Offline afterwards: the same commands work from the cache, and not one request reaches the server.
    offline = env | {"HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}
    before = len(hub.log)
    proc = _run([*train, "--run-name", "offline"], offline, tmp_path)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    again = _run(["tag", "-m", "alice/bn-ner", "--format", "jsonl", TEXT], offline, tmp_path)
    assert again.returncode == 0, again.stderr[-2000:]
    assert _entities(again.stdout) == _entities(remote.stdout)
    assert len(hub.log) == before, hub.log[before:]
