"""Fast tokenizers from a model folder (tokenizer.json, else vocab.txt), a tokenizer.json file or the Hub.

Only the `tokenizers` library is used (fast to import, no torch), so the data browser can load
a tokenizer without importing transformers. A hub file is fetched with a deadline and every
failure is one sentence; a file already in the local cache works offline.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from tokenizers import Tokenizer

from bnner_tui.core import hub
from bnner_tui.core.errors import BnnerError, HubUnavailableError, ModelNotFoundError

_HF_UNSET_MAX_LENGTH = 1_000_000  # transformers writes 1e30 when a tokenizer has no real limit


def _looks_like_hub_id(name: str) -> bool:
    parts = name.split("/")
    return (
        0 < len(parts) <= 2
        and all(parts)
        and not name.startswith((".", "~"))
        and not any(p in {".", ".."} for p in parts)
        and "\\" not in name
    )


def _build_wordpiece(folder: Path) -> Tokenizer:
    """A BERT WordPiece tokenizer from vocab.txt, configured like transformers' BertTokenizerFast.

    transformers' default is do_lower_case=True when tokenizer_config.json does not say otherwise;
    following it keeps our pieces identical to what that model was trained with (and an uncased
    model's damage to Bengali vowel signs shows up as decode mismatches instead of being hidden).
    """
    from tokenizers import decoders, models, normalizers, pre_tokenizers, processors

    cfg = _read_json(folder / "tokenizer_config.json") or {}
    lowercase = bool(cfg.get("do_lower_case", True))
    strip_accents = cfg.get("strip_accents")
    unk = str(cfg.get("unk_token", "[UNK]"))
    cls, sep = str(cfg.get("cls_token", "[CLS]")), str(cfg.get("sep_token", "[SEP]"))
    try:
        model = models.WordPiece.from_file(str(folder / "vocab.txt"), unk_token=unk)
    except Exception as err:  # tokenizers raises a bare Exception for unreadable vocab files
        raise ModelNotFoundError(f"{folder / 'vocab.txt'} is not a readable WordPiece vocabulary ({err}).") from None
    tok = Tokenizer(model)
    tok.normalizer = normalizers.BertNormalizer(
        clean_text=True,
        handle_chinese_chars=bool(cfg.get("tokenize_chinese_chars", True)),
        strip_accents=strip_accents,
        lowercase=lowercase,
    )
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    cls_id, sep_id = tok.token_to_id(cls), tok.token_to_id(sep)
    if cls_id is None or sep_id is None:
        raise ModelNotFoundError(f"{folder / 'vocab.txt'} has no {cls} / {sep} tokens, so it is not a BERT vocabulary.")
    tok.post_processor = processors.BertProcessing((sep, sep_id), (cls, cls_id))
    tok.decoder = decoders.WordPiece(prefix="##")
    return tok


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _hub_file(repo_id: str, filename: str) -> str:
    """Download (or find in the local cache) one file of a hub model, failing fast with one sentence."""
    from huggingface_hub import hf_hub_download
    from huggingface_hub.errors import (
        EntryNotFoundError,
        GatedRepoError,
        HFValidationError,
        LocalEntryNotFoundError,
        RepositoryNotFoundError,
    )

    offline = hub.offline()
    if not offline and (why := hub.unreachable_reason()) is not None:
        try:  # a file already in the local cache still works without the network
            return str(hf_hub_download(repo_id, filename, local_files_only=True))
        except (LocalEntryNotFoundError, EntryNotFoundError, HFValidationError, OSError):
            raise HubUnavailableError(
                f"The Hugging Face Hub cannot be reached to fetch {repo_id} ({why}): give a local model folder instead."
            ) from None
    try:
        return str(hf_hub_download(repo_id, filename, local_files_only=offline, etag_timeout=5))
    except GatedRepoError:
        raise ModelNotFoundError(f"{repo_id} is gated on the Hugging Face Hub: accept its terms and log in.") from None
    except RepositoryNotFoundError:
        raise ModelNotFoundError(f"{repo_id} is neither a local folder nor a model on the Hugging Face Hub.") from None
    except LocalEntryNotFoundError:
        if offline:
            raise HubUnavailableError(
                f"{repo_id} is not in the local Hugging Face cache and HF_HUB_OFFLINE is set: "
                "give a local model folder, or unset HF_HUB_OFFLINE on a connected machine."
            ) from None
        raise HubUnavailableError(
            f"The Hugging Face Hub cannot be reached to fetch {repo_id}: give a local model folder instead."
        ) from None
    except EntryNotFoundError:
        raise ModelNotFoundError(
            f"{repo_id} has no {filename}: bnner-tui needs a model with a fast tokenizer (tokenizer.json)."
        ) from None
    except HFValidationError:
        raise ModelNotFoundError(f"{repo_id} is neither a local folder nor a valid Hugging Face model id.") from None
    except OSError as err:  # connection errors, timeouts
        raise HubUnavailableError(
            f"The Hugging Face Hub cannot be reached to fetch {repo_id} ({type(err).__name__}): "
            "give a local model folder instead."
        ) from None


def load_tokenizer(name_or_path: str | os.PathLike[str]) -> Tokenizer:
    """A fast tokenizer from a model folder (tokenizer.json, else vocab.txt), a tokenizer.json file or a hub id.

    Truncation and padding stored in tokenizer.json are switched off: alignment needs the full
    piece count to report truncation honestly, and padding is the data collator's job.
    """
    name = os.fspath(name_or_path)
    path = Path(name).expanduser()
    if path.is_dir():
        if (path / "tokenizer.json").is_file():
            tok = _from_file(path / "tokenizer.json")
        elif (path / "vocab.txt").is_file():
            tok = _build_wordpiece(path)
        else:
            raise ModelNotFoundError(f"{path} has neither tokenizer.json nor vocab.txt, so no tokenizer can be loaded.")
    elif path.is_file():
        tok = _from_file(path)
    elif _looks_like_hub_id(name) and not name.endswith((".json", ".txt")):
        tok = _from_file(Path(_hub_file(name, "tokenizer.json")), shown=name)
    else:
        raise ModelNotFoundError(f"{name} does not exist.")
    tok.no_truncation()
    tok.no_padding()
    return tok


def _from_file(path: Path, shown: str | None = None) -> Tokenizer:
    try:
        return Tokenizer.from_file(str(path))
    except Exception as err:  # tokenizers raises a bare Exception with serde's message
        first = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise ModelNotFoundError(f"{shown or path} is not a readable tokenizer.json ({first}).") from None


def tokenizer_max_length(name_or_path: str | os.PathLike[str]) -> int | None:
    """The model's maximum sequence length: tokenizer_config.json's model_max_length, else
    config.json's max_position_embeddings; None when neither says (transformers' 'no limit' 1e30
    counts as not saying). Hub ids are looked up only in the local cache / when online."""
    name = os.fspath(name_or_path)
    path = Path(name).expanduser()
    folder = path.parent if path.is_file() else path
    candidates: list[tuple[str, str]] = [
        ("tokenizer_config.json", "model_max_length"),
        ("config.json", "max_position_embeddings"),
    ]
    for filename, key in candidates:
        cfg: dict[str, Any] | None
        if folder.is_dir():
            cfg = _read_json(folder / filename)
        elif _looks_like_hub_id(name):
            try:
                cfg = _read_json(Path(_hub_file(name, filename)))
            except BnnerError:
                cfg = None
        else:
            cfg = None
        value = (cfg or {}).get(key)
        if isinstance(value, (int, float)) and not isinstance(value, bool) and 0 < value < _HF_UNSET_MAX_LENGTH:
            return int(value)
    return None
