"""Publishing a run's model to the Hugging Face Hub in one commit, a dry run of it, and a git-lfs export.

Why: the notebook pushed with git-lfs by hand, so checkpoints and optimizer states went up with the
model, the card was hand-written YAML, and a bad token or a typo in the repo id surfaced half-way
through as a traceback. Here the exact file list is decided first (weights, config.json with the
real label names, tokenizer files, the card), everything that can be checked locally is checked
before any request (repo id, weights, card validity, token present), the network is probed with a
short timeout so an offline machine fails in seconds, and the upload is `HfApi.create_repo` +
`HfApi.upload_folder` of a staging folder that holds exactly those files: one commit, nothing else.
The token is only ever handed to `HfApi`; it is never printed, logged or written anywhere.

huggingface_hub is imported inside functions: the CLI must start fast.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from bnner_tui.core import hub
from bnner_tui.core.card.errors import CardError, Problem
from bnner_tui.core.card.facts import load_run
from bnner_tui.core.card.frontmatter import read_card_file
from bnner_tui.core.card.render import card_text
from bnner_tui.core.card.validate import validate_card
from bnner_tui.core.card.vocab import REPO_ID_RE
from bnner_tui.core.errors import BnnerError, HubUnavailableError
from bnner_tui.core.files import atomic_write_text, publishable_tree

DEFAULT_ENDPOINT = "https://huggingface.co"
PROBE_TIMEOUT_S = 5.0
# Files of a saved model that belong on the Hub, besides the weights.
CONFIG_FILES = ("config.json", "generation_config.json")
TOKENIZER_FILES = (
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "added_tokens.json",
    "vocab.txt",
    "vocab.json",
    "merges.txt",
    "sentencepiece.bpe.model",
    "spiece.model",
    "tokenizer.model",
)
WEIGHT_PATTERNS = ("model.safetensors", "model-*-of-*.safetensors", "model.safetensors.index.json")
LEGACY_WEIGHTS = ("pytorch_model.bin",)
# Checkpoint files that are training state, not model: never uploaded even with --include-checkpoints.
_CHECKPOINT_SKIP = ("optimizer.pt", "scheduler.pt", "scaler.pt", "training_args.bin")
_CHECKPOINT_SKIP_PREFIX = ("rng_state",)
# Hub limit for a file committed without LFS.
LFS_THRESHOLD = 10 * 1024 * 1024

# The Hub's default .gitattributes for model repos: binary formats go through git-lfs.
GITATTRIBUTES = "".join(
    f"{pattern} filter=lfs diff=lfs merge=lfs -text\n"
    for pattern in (
        "*.7z", "*.arrow", "*.bin", "*.bz2", "*.ckpt", "*.ftz", "*.gz", "*.h5", "*.joblib", "*.lfs.*",
        "*.mlmodel", "*.model", "*.msgpack", "*.npy", "*.npz", "*.onnx", "*.ot", "*.parquet", "*.pb",
        "*.pickle", "*.pkl", "*.pt", "*.pth", "*.rar", "*.safetensors", "saved_model/**/*", "*.tar.*",
        "*.tar", "*.tflite", "*.tgz", "*.wasm", "*.xz", "*.zip", "*.zst", "*tfevents*",
    )
)  # fmt: skip


class PublishError(BnnerError):
    """Publishing cannot go ahead or was refused; the message says why in one sentence."""


@dataclass
class PlannedFile:
    """One file of the commit: where it goes in the repo, its size, and where it comes from (None: the card)."""

    path_in_repo: str
    size: int
    source: Path | None


@dataclass
class PublishPlan:
    run: Path
    repo_id: str | None
    files: list[PlannedFile]
    card: str
    problems: list[Problem] = field(default_factory=list)

    @property
    def total_size(self) -> int:
        return sum(f.size for f in self.files)

    @property
    def card_path(self) -> Path:
        """The one local file a real publish writes (the card, old one kept as a backup); a dry run writes none."""
        return self.run / "model" / "README.md"


@dataclass
class PublishResult:
    plan: PublishPlan
    dry_run: bool
    repo_url: str | None = None
    commit_url: str | None = None
    pr_url: str | None = None
    card_backup: Path | None = None


def human_size(n: int) -> str:
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"


def check_repo_id(repo_id: str) -> str:
    """The repo id, or one sentence on why the Hub would reject it; checked before any request."""
    from huggingface_hub.utils import HFValidationError, validate_repo_id

    rid = (repo_id or "").strip()
    if not REPO_ID_RE.match(rid):
        raise PublishError(
            f"'{repo_id}' is not a valid repo id: use the form user/name (letters, digits, '-', '_', '.'), "
            "e.g. alice/bn-ner."
        )
    try:
        validate_repo_id(rid)
    except HFValidationError as err:
        raise PublishError(f"'{repo_id}' is not a valid repo id: {str(err).splitlines()[0]}") from None
    return rid


def _model_files(model_dir: Path) -> list[Path]:
    files: list[Path] = []
    weights = [p for pattern in WEIGHT_PATTERNS for p in sorted(model_dir.glob(pattern))]
    if not any(p.suffix == ".safetensors" for p in weights):
        weights += [model_dir / n for n in LEGACY_WEIGHTS if (model_dir / n).is_file()]
    if not weights:
        raise PublishError(
            f"{model_dir} has no model weights (model.safetensors): the run did not save its model, "
            "so there is nothing to publish."
        )
    files += weights
    if not (model_dir / "config.json").is_file():
        raise PublishError(f"{model_dir} has no config.json: the label names would be lost, so nothing is published.")
    files += [model_dir / n for n in CONFIG_FILES + TOKENIZER_FILES if (model_dir / n).is_file()]
    files += _remote_code_files(model_dir)
    if not any(p.name in ("tokenizer.json", "vocab.txt", "vocab.json", "spiece.model") for p in files):
        raise PublishError(f"{model_dir} has no tokenizer files: the model could not be used, so nothing is published.")
    return files


def _remote_code_files(model_dir: Path) -> list[Path]:
    """The modelling .py files config.json's `auto_map` names: without them the model cannot load."""
    import json

    try:
        auto_map = json.loads((model_dir / "config.json").read_text(encoding="utf-8")).get("auto_map") or {}
    except (OSError, ValueError, AttributeError):
        return []
    names = {str(ref).split("--")[-1].rsplit(".", 1)[0] + ".py" for ref in auto_map.values() if isinstance(ref, str)}
    return [model_dir / n for n in sorted(names) if (model_dir / n).is_file()]


def _checkpoint_files(run: Path) -> list[tuple[str, Path]]:
    out: list[tuple[str, Path]] = []
    root = run / "checkpoints"
    if not root.is_dir():
        return out
    for p in sorted(root.rglob("*")):
        if not p.is_file() or p.name in _CHECKPOINT_SKIP or p.name.startswith(_CHECKPOINT_SKIP_PREFIX):
            continue
        out.append((f"checkpoints/{p.relative_to(root).as_posix()}", p))
    return out


def plan(
    run_dir: str | Path,
    repo_id: str | None = None,
    *,
    license: str | None = None,
    include_checkpoints: bool = False,
    card: str | None = None,
) -> PublishPlan:
    """Exactly what would be committed: the model's files and the card (rendered for `repo_id`), with sizes.

    Checkpoints (minus optimizer/scheduler/RNG states), logs, events and W&B folders are never in it
    unless `include_checkpoints` asks for the checkpoints' model files. `card` is the card text to
    start from instead of RUN/model/README.md (the Card screen's editor, saved or not), so planning
    an unsaved card never needs writing it first. Reads only: nothing is written.
    """
    run = Path(run_dir).expanduser()
    if repo_id is not None:
        repo_id = check_repo_id(repo_id)
    if not (run / "model").is_dir():
        raise PublishError(f"{run} has no model/ folder: the run did not save a model, so there is nothing to publish.")
    sources = _model_files(run / "model")
    info = load_run(run)
    readme = info.model_dir / "README.md"
    existing = card if card is not None else (read_card_file(readme) if readme.exists() else None)
    text = card_text(info, repo_id=repo_id, license=license, existing=existing)
    files = [PlannedFile("README.md", len(text.encode("utf-8")), None)]
    files += [PlannedFile(p.name, p.stat().st_size, p) for p in sources]
    if include_checkpoints:
        files += [PlannedFile(name, p.stat().st_size, p) for name, p in _checkpoint_files(run)]
    return PublishPlan(run=run, repo_id=repo_id, files=files, card=text, problems=validate_card(text, run=info))


def _stage(p: PublishPlan, dest: Path, *, link: bool) -> None:
    """Lay the plan's files out in `dest`: the exact tree of the commit or export."""
    for f in p.files:
        target = dest / f.path_in_repo
        target.parent.mkdir(parents=True, exist_ok=True)
        if f.source is None:
            target.write_text(p.card, encoding="utf-8")
            continue
        if link:
            try:
                os.link(f.source, target)
                continue
            except OSError:
                pass
        shutil.copy2(f.source, target)


def _endpoint(endpoint: str | None) -> str:
    from huggingface_hub import constants

    return (endpoint or os.environ.get("HF_ENDPOINT") or constants.ENDPOINT or DEFAULT_ENDPOINT).rstrip("/")


def probe(endpoint: str, timeout: float = PROBE_TIMEOUT_S) -> None:
    """Fail in seconds when the Hub's host cannot be reached, instead of hanging in the HTTP client.

    Skipped behind a proxy (the client goes through it; a direct connection would be a false alarm).
    """
    if any(os.environ.get(v) for v in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY")):
        return
    reason = hub.unreachable_reason(endpoint, timeout)
    if reason is not None:
        raise HubUnavailableError(
            f"Cannot reach the Hub at {endpoint} ({reason}): check the network; nothing was uploaded."
        )


def _resolve_token(token: str | None) -> str:
    from huggingface_hub import get_token

    tok = token or get_token()
    if not tok:
        raise PublishError(
            "No Hugging Face token: set HF_TOKEN or run `hf auth login` with a token that has write access "
            "(https://huggingface.co/settings/tokens)."
        )
    return tok


def _explain(err: Exception, repo_id: str, doing: str, endpoint: str) -> BnnerError:
    """One sentence for a failed Hub call; the token never appears in it."""
    from huggingface_hub.errors import HfHubHTTPError, OfflineModeIsEnabled

    if isinstance(err, BnnerError):
        return err
    if isinstance(err, OfflineModeIsEnabled):
        return HubUnavailableError("HF_HUB_OFFLINE is set, so the Hub is not contacted; unset it to publish.")
    if isinstance(err, HfHubHTTPError) and err.response is not None:
        code = err.response.status_code
        if code == 401:
            return PublishError(
                "The Hub rejected the token (401): it is invalid or expired; create a write token at "
                "https://huggingface.co/settings/tokens and set HF_TOKEN or run `hf auth login`."
            )
        if code == 403:
            return PublishError(
                f"The Hub refused to let this token {doing} {repo_id} (403): the repo belongs to someone else "
                "or the token has no write access."
            )
        if code == 404:
            return PublishError(f"The Hub answered 404 while trying to {doing} {repo_id}: no such repo or revision.")
        server = getattr(err, "server_message", None) or ""
        first = str(server or err).splitlines()[0][:200]
        return PublishError(f"The Hub answered {code} while trying to {doing} {repo_id}: {first}")
    # httpx2's transport errors and plain socket errors: the network, not the request.
    name = type(err).__name__
    if isinstance(err, OSError) or any(k in name for k in ("Connect", "Timeout", "Network", "Transport", "Protocol")):
        return HubUnavailableError(f"Lost the connection to the Hub at {endpoint} ({name}) during: {doing} {repo_id}.")
    detail = str(err).splitlines()[0][:200] if str(err) else ""
    return PublishError(f"Publishing failed while trying to {doing} {repo_id}: {name}: {detail}")


def publish(
    run_dir: str | Path,
    repo_id: str,
    *,
    private: bool = False,
    create_pr: bool = False,
    message: str | None = None,
    license: str | None = None,
    include_checkpoints: bool = False,
    dry_run: bool = False,
    token: str | None = None,
    endpoint: str | None = None,
    card: str | None = None,
) -> PublishResult:
    """Create the repo if needed and upload the plan as ONE commit; or, with `dry_run`, only the plan.

    A dry run writes nothing anywhere; a real publish writes one local file, the card it uploads, to
    `plan.card_path` (old one kept as a backup). `card`: see `plan`.

    Order: repo id, weights and card are checked locally; then the token; then a short connection
    probe; then whoami (is the namespace the token's user or one of its orgs?); then create_repo and
    upload_folder. A repo this call created is deleted again if the commit fails, so a failure leaves
    nothing behind.
    """
    repo_id = check_repo_id(repo_id)
    p = plan(run_dir, repo_id, license=license, include_checkpoints=include_checkpoints, card=card)
    if dry_run:
        return PublishResult(plan=p, dry_run=True)
    if p.problems:
        first = p.problems[0]
        raise PublishError(
            f"The card has {len(p.problems)} problem(s), first {first}; fix them "
            "(bnner-tui card validate) before publishing."
        )
    tok = _resolve_token(token)
    if hub.offline():
        raise HubUnavailableError("HF_HUB_OFFLINE is set, so the Hub is not contacted; unset it to publish.")
    ep = _endpoint(endpoint)
    probe(ep)

    from huggingface_hub import HfApi

    api = HfApi(endpoint=ep, token=tok, library_name="bnner-tui")
    namespace = repo_id.split("/")[0]
    try:
        me = api.whoami()
    except Exception as err:
        raise _explain(err, repo_id, "check the token for", ep) from None
    mine = {str(me.get("name", ""))} | {str(o.get("name", "")) for o in me.get("orgs", []) or [] if isinstance(o, dict)}
    if namespace not in mine:
        raise PublishError(
            f"{repo_id} is not yours: the token belongs to '{me.get('name')}'"
            + (f" (organisations: {', '.join(sorted(mine - {me.get('name')}))})" if len(mine) > 1 else "")
            + f"; publish under {me.get('name')}/{repo_id.split('/')[1]} or an organisation you belong to."
        )
    try:
        existed = api.repo_exists(repo_id)
        repo_url = api.create_repo(repo_id, private=True if private else None, exist_ok=True)
    except Exception as err:
        raise _explain(err, repo_id, "create", ep) from None

    # Written locally only now: the card that goes up is the card the run folder keeps.
    backup = atomic_write_text(p.card_path, p.card, backup=True)
    with tempfile.TemporaryDirectory(prefix="bnner-publish-") as tmp:
        stage = Path(tmp) / "repo"
        stage.mkdir()
        _stage(p, stage, link=True)
        try:
            info = api.upload_folder(
                repo_id=repo_id,
                folder_path=stage,
                commit_message=message or f"Upload {p.run.name} with bnner-tui",
                create_pr=create_pr,
            )
        except Exception as err:
            if not existed:
                try:
                    api.delete_repo(repo_id, missing_ok=True)
                except Exception:  # best effort: the sentence below still tells the truth about the commit
                    pass
            raise _explain(err, repo_id, "upload to", ep) from None
    return PublishResult(
        plan=p,
        dry_run=False,
        repo_url=str(repo_url),
        commit_url=getattr(info, "commit_url", None),
        pr_url=getattr(info, "pr_url", None),
        card_backup=backup,
    )


def export(
    run_dir: str | Path,
    out_dir: str | Path,
    *,
    repo_id: str | None = None,
    license: str | None = None,
    include_checkpoints: bool = False,
) -> PublishPlan:
    """A folder ready for `git push` to a Hub repo: the publish files plus a git-lfs .gitattributes.

    Refuses an existing non-empty folder (it would mix with the user's files). The folder is built
    beside the target and renamed into place, so an interrupted export leaves no half-written DIR.
    """
    out = Path(out_dir).expanduser()
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise PublishError(f"{out} already exists and is not empty: choose a new or empty folder for the export.")
    p = plan(run_dir, repo_id, license=license, include_checkpoints=include_checkpoints)
    attrs = GITATTRIBUTES + "".join(
        f"{f.path_in_repo} filter=lfs diff=lfs merge=lfs -text\n"
        for f in p.files
        if f.size > LFS_THRESHOLD and not f.path_in_repo.endswith((".safetensors", ".bin", ".pt", ".pth", ".model"))
    )
    p.files.append(PlannedFile(".gitattributes", len(attrs.encode()), None))
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        _stage(PublishPlan(p.run, p.repo_id, p.files[:-1], p.card), tmp, link=False)
        (tmp / ".gitattributes").write_text(attrs, encoding="utf-8")
        publishable_tree(tmp)  # mkdtemp's 0700 and the Trainer's 0600 weights would follow the folder into git
        if out.exists():
            out.rmdir()
        os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return p


def format_plan(p: PublishPlan) -> list[str]:
    """Lines for a dry run: every file with its size, then the total."""
    width = max((len(f.path_in_repo) for f in p.files), default=10)
    lines = [f"{f.path_in_repo:<{width}}  {human_size(f.size):>10}" for f in p.files]
    lines.append(f"{len(p.files)} files, {human_size(p.total_size)} in one commit")
    return lines


__all__ = [
    "GITATTRIBUTES",
    "CardError",
    "PlannedFile",
    "PublishError",
    "PublishPlan",
    "PublishResult",
    "check_repo_id",
    "export",
    "format_plan",
    "human_size",
    "plan",
    "probe",
    "publish",
]
