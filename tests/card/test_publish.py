"""Publishing with the real huggingface_hub client against a local stand-in for the Hub."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest
from huggingface_hub import ModelCard

from bnner_tui.core.errors import HubUnavailableError
from bnner_tui.core.publish import PublishError, export, plan, publish

from .conftest import METRICS, TOKEN, FakeHub

EXPECTED = {"README.md", "config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"}


def _token_on_disk(*roots: Path) -> list[Path]:
    hits = []
    for root in roots:
        for p in root.rglob("*"):
            if p.is_file() and TOKEN.encode() in p.read_bytes():
                hits.append(p)
    return hits


def test_dry_run_lists_exactly_the_files_and_sends_nothing(run_dir: Path, fake_hub: FakeHub) -> None:
    result = publish(run_dir, "alice/bn-ner", dry_run=True)
    names = {f.path_in_repo for f in result.plan.files}
    assert names == EXPECTED
    for f in result.plan.files:
        if f.source is not None:
            assert f.size == f.source.stat().st_size
    assert fake_hub.requests == []
    assert not (run_dir / "model" / "README.md").exists()  # a dry run writes nothing


def test_include_checkpoints_never_takes_optimizer_states(run_dir: Path) -> None:
    names = {f.path_in_repo for f in plan(run_dir, "alice/x", include_checkpoints=True).files}
    assert "checkpoints/checkpoint-120/model.safetensors" in names
    assert not any("optimizer" in n or "wandb" in n or n.endswith((".log", ".jsonl", ".lock")) for n in names)


def test_publish_sends_one_commit_with_exactly_the_model_files(
    run_dir: Path, fake_hub: FakeHub, tmp_path: Path, hub_env: Path
) -> None:
    result = publish(run_dir, "alice/bn-ner", private=True, message="First upload")
    assert len(fake_hub.commits) == 1
    commit = fake_hub.commits[0]
    assert commit["repo"] == "alice/bn-ner" and commit["header"]["summary"] == "First upload"
    assert set(commit["files"]) == EXPECTED
    model = run_dir / "model"
    for name in EXPECTED - {"README.md"}:
        assert commit["files"][name] == (model / name).read_bytes(), name
    assert fake_hub.repos["alice/bn-ner"]["visibility"] == "private"
    # The uploaded card is the one the run keeps, and its metadata is what the run measured.
    readme = commit["files"]["README.md"].decode("utf-8")
    assert readme == (model / "README.md").read_text(encoding="utf-8")
    data = ModelCard(readme).data
    got = {(r.dataset_split, r.metric_type): r.metric_value for r in data.eval_results}
    assert got[("validation", "f1")] == pytest.approx(METRICS["splits"]["validation"]["overall"]["f1"], abs=1e-4)
    assert 'model="alice/bn-ner"' in readme
    assert result.commit_url and result.commit_url.startswith(fake_hub.url)
    # The token reached the server only as a header, and nowhere on disk.
    assert _token_on_disk(tmp_path) == []


def test_publish_to_an_org_with_create_pr_and_token_from_login_cache(
    run_dir: Path, fake_hub: FakeHub, hub_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HF_TOKEN")
    (hub_env / "token").write_text(TOKEN, encoding="utf-8")  # what `hf auth login` leaves
    result = publish(run_dir, "bn-lab/bn-ner", create_pr=True)
    assert fake_hub.commits[0]["create_pr"] == "1"
    assert result.pr_url and "/discussions/" in result.pr_url


def test_no_token_fails_before_any_request(run_dir: Path, fake_hub: FakeHub, monkeypatch) -> None:
    monkeypatch.delenv("HF_TOKEN")
    with pytest.raises(PublishError, match="No Hugging Face token"):
        publish(run_dir, "alice/bn-ner")
    assert fake_hub.requests == []


def test_invalid_token_is_one_sentence_and_nothing_is_created(run_dir: Path, fake_hub: FakeHub, monkeypatch) -> None:
    monkeypatch.setenv("HF_TOKEN", "hf_wrong")
    with pytest.raises(PublishError, match=r"rejected the token \(401\)") as info:
        publish(run_dir, "alice/bn-ner")
    assert "hf_wrong" not in str(info.value)
    assert fake_hub.repos == {} and fake_hub.commits == []


@pytest.mark.parametrize("repo", ["alice", "alice/bn ner", "alice/bn-ner/extra", "a/--x", "alice/" + "x" * 120])
def test_invalid_repo_id_fails_before_any_request(run_dir: Path, fake_hub: FakeHub, repo: str) -> None:
    with pytest.raises(PublishError, match="not a valid repo id"):
        publish(run_dir, repo)
    assert fake_hub.requests == []


def test_someone_elses_namespace_is_refused_before_create(run_dir: Path, fake_hub: FakeHub) -> None:
    with pytest.raises(PublishError, match=r"bob/bn-ner is not yours: the token belongs to 'alice'"):
        publish(run_dir, "bob/bn-ner")
    assert fake_hub.requests == [("GET", "/api/whoami-v2")]


def test_403_on_create_is_one_sentence(run_dir: Path, fake_hub: FakeHub) -> None:
    fake_hub.fail["create"] = 403
    with pytest.raises(PublishError, match=r"\(403\): the repo belongs to someone else or the token has no write"):
        publish(run_dir, "alice/bn-ner")
    assert fake_hub.commits == []


def test_failed_commit_removes_the_repo_it_created(run_dir: Path, fake_hub: FakeHub) -> None:
    fake_hub.fail["commit"] = 500
    with pytest.raises(PublishError, match="answered 500"):
        publish(run_dir, "alice/bn-ner")
    assert ("DELETE", "/api/repos/delete") in fake_hub.requests
    assert "alice/bn-ner" not in fake_hub.repos


def test_missing_weights_fail_before_any_request(run_dir: Path, fake_hub: FakeHub) -> None:
    (run_dir / "model" / "model.safetensors").unlink()
    with pytest.raises(PublishError, match="has no model weights"):
        publish(run_dir, "alice/bn-ner")
    assert fake_hub.requests == []


def test_network_refused_fails_fast(run_dir: Path, hub_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    start = time.monotonic()
    with pytest.raises(HubUnavailableError, match=r"Cannot reach the Hub at http://127.0.0.1:\d+"):
        publish(run_dir, "alice/bn-ner")
    assert time.monotonic() - start < 5
    assert not (run_dir / "model" / "README.md").exists()


def test_offline_mode_is_respected(run_dir: Path, fake_hub: FakeHub, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(HubUnavailableError, match="HF_HUB_OFFLINE is set"):
        publish(run_dir, "alice/bn-ner")
    assert fake_hub.requests == []


def test_invalid_card_is_not_published(run_dir: Path, fake_hub: FakeHub) -> None:
    (run_dir / "model" / "README.md").write_text("---\nlicense: not-a-licence\n---\nmine\n", encoding="utf-8")
    with pytest.raises(PublishError, match=r"The card has 1 problem\(s\), first line 2: license 'not-a-licence'"):
        publish(run_dir, "alice/bn-ner")
    assert fake_hub.requests == []


def test_export_writes_a_git_lfs_ready_folder(run_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "export" / "bn-ner"
    p = export(run_dir, out, repo_id="alice/bn-ner")
    assert {x.name for x in out.iterdir()} == EXPECTED | {".gitattributes"}
    assert {f.path_in_repo for f in p.files} == EXPECTED | {".gitattributes"}
    attrs = (out / ".gitattributes").read_text(encoding="utf-8")
    assert "*.safetensors filter=lfs diff=lfs merge=lfs -text" in attrs
    assert "*.bin filter=lfs" in attrs and "*.pt filter=lfs" in attrs
    assert (out / "model.safetensors").read_bytes() == (run_dir / "model" / "model.safetensors").read_bytes()
    assert not (out / "model.safetensors").samefile(run_dir / "model" / "model.safetensors")
    assert 'model="alice/bn-ner"' in (out / "README.md").read_text(encoding="utf-8")
    assert [x.name for x in out.parent.iterdir()] == ["bn-ner"]  # no temp folder left behind
    # A non-empty folder is refused and left untouched; an empty one is used.
    with pytest.raises(PublishError, match="already exists and is not empty"):
        export(run_dir, out)
    empty = tmp_path / "empty"
    empty.mkdir()
    export(run_dir, empty)
    assert (empty / ".gitattributes").exists()
