"""Which model a run trains, and why: the hub model when it can be had, else a small local BERT.

Users replacing a Colab notebook often sit on a machine with no network. Rather than fail, the
`auto` model falls back to a small BERT built here (random init) whose tokenizer is either the
mBERT files the user points at (vocabulary trimmed to the pieces the data uses, since a
119,547-row embedding makes every CPU step several times slower) or a WordPiece tokenizer
trained on the training split. Every decision is returned with a sentence saying why, which
the worker writes into the `started` event and train.log.

Heavy libraries (torch, transformers, huggingface_hub) are imported inside functions.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bnner_tui.core import hub
from bnner_tui.core.errors import BnnerError, HubUnavailableError, ModelNotFoundError
from bnner_tui.core.train.tokenizers import charword_piece_tables, is_char_tokenizer

DEFAULT_HUB_MODEL = "bert-base-multilingual-cased"
_TRUTHY = {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class RandomInit:
    """`auto` could not have the pretrained model it stands for, so it became a random-init one.

    `expected` is the model the user was promised (mBERT), `why` the short reason the Hub could
    not supply it ("HF_HUB_OFFLINE is set", "huggingface.co: timed out").
    """

    expected: str
    why: str


@dataclass
class ModelChoice:
    """What the run will train: `kind` is 'hub', 'local' or 'offline'; `reason` is for the user.

    `fallback` is set when the user asked for a pretrained model (`auto`) and gets a randomly
    initialised one instead: the one case callers must tell the user about before training.
    """

    kind: str
    name: str
    reason: str
    fallback: RandomInit | None = None

    def describe(self) -> str:
        return f"{self.name}: {self.reason}"


def hub_reachable(timeout: float = 3.0) -> tuple[bool, str]:
    """Whether the hub answers now (bounded by `timeout`), and a reason a user can read."""
    if hub.offline():
        return False, "HF_HUB_OFFLINE is set"
    host = hub.host_of(hub.endpoint())
    why = hub.unreachable_reason(hub.endpoint(), timeout)
    if why is None:
        return True, f"{host} is reachable"
    return False, f"the hub ({host}) is unreachable ({why})"


def hub_unavailable(timeout: float = 3.0) -> str | None:
    """None when the Hub can be used now, else why not in a few words (for "the Hub is unreachable (...)")."""
    if hub.offline():
        return "HF_HUB_OFFLINE is set"
    why = hub.unreachable_reason(hub.endpoint(), timeout)
    return None if why is None else f"{hub.host_of(hub.endpoint())}: {why}"


def hub_model_cached(repo_id: str) -> bool:
    """True when the model's config and weights are already in the local HF cache."""
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:  # pragma: no cover
        return False
    config = try_to_load_from_cache(repo_id, "config.json")
    if not isinstance(config, str):
        return False
    return any(
        isinstance(try_to_load_from_cache(repo_id, name), str) for name in ("model.safetensors", "pytorch_model.bin")
    )


def _tokenizer_note(tokenizer: str | None) -> str:
    if tokenizer:
        return f" with the tokenizer from {tokenizer}"
    return " with a WordPiece tokenizer trained on the training split"


def resolve_auto(*, cached: bool, unavailable: str | None, tokenizer: str | None = None) -> ModelChoice:
    """What `auto` means given what the probes found; pure, so every caller decides alike.

    `cached`: mBERT is in the local HF cache; `unavailable`: None when the Hub answers, else why
    not. mBERT when it can be had, else the small BERT built here with random weights, marked as
    a `fallback` (the user asked for a pretrained model and is not getting one).
    """
    if cached:
        return ModelChoice("hub", DEFAULT_HUB_MODEL, "it is in the local Hugging Face cache")
    if unavailable is None:
        return ModelChoice("hub", DEFAULT_HUB_MODEL, "the hub is reachable")
    return ModelChoice(
        "offline",
        "offline small BERT",
        f"the Hugging Face Hub is unreachable ({unavailable}) and {DEFAULT_HUB_MODEL} is not cached,"
        " so a small BERT is built locally (random init)" + _tokenizer_note(tokenizer),
        fallback=RandomInit(DEFAULT_HUB_MODEL, unavailable),
    )


def choose_model(model: str, *, tokenizer: str | None = None, timeout: float = 3.0) -> ModelChoice:
    """Decide what `model` means here, cheaply (no weights loaded), with the reason."""
    tok_note = _tokenizer_note(tokenizer)
    if model == "offline":
        return ModelChoice("offline", "offline small BERT", "chosen explicitly (model = offline)" + tok_note)
    if model == "auto":
        cached = hub_model_cached(DEFAULT_HUB_MODEL)
        unavailable = None if cached else hub_unavailable(timeout)
        return resolve_auto(cached=cached, unavailable=unavailable, tokenizer=tokenizer)
    path = Path(model).expanduser()
    if path.exists():
        if not path.is_dir() or not (path / "config.json").exists():
            raise ModelNotFoundError(f"Model folder {model} has no config.json: point --model at a saved model folder.")
        return ModelChoice("local", str(path), "a local model folder")
    if model.startswith((".", "/", "~")) or model.count("/") > 1:
        raise ModelNotFoundError(f"Model path {model} does not exist.")
    if hub_model_cached(model):
        return ModelChoice("hub", model, "it is in the local Hugging Face cache")
    ok, why = hub_reachable(timeout)
    if not ok:
        raise HubUnavailableError(
            f"Model {model} is not in the local cache and {why}: connect, or use --model offline or a local folder."
        )
    return ModelChoice("hub", model, f"downloaded from the hub ({why})")


@dataclass(frozen=True)
class RandomInitNotice:
    """What to tell the user before training random weights they did not ask for (model `auto`).

    A notebook user expects mBERT; a small BERT trained from scratch at a fine-tuning learning
    rate scores F1 0.000, and without this they would only find out at the end. The CLI prints
    `headline()` as its first line, the Train screen asks with all four parts.
    """

    what: str
    expected: str
    why: str
    consequence: str

    def headline(self) -> str:
        """One line: what is trained, instead of what, and why."""
        return (
            f"training {self.what}, not {self.expected}, because the Hugging Face Hub is unreachable"
            f" ({self.why}) and {self.expected} is not in the local cache."
        )

    def remedy(self, *, cli: bool) -> str:
        """How to get the pretrained model instead, or to train from scratch on purpose."""
        where = "pass --model with" if cli else "set the model field to"
        offline = "--model offline" if cli else "model offline"
        return (
            f"To fine-tune {self.expected}, {where} a local copy of it (a folder with config.json and the"
            f" weights), or go online so it can be downloaded; to train from scratch on purpose, use {offline}"
            " (the cpu preset is tuned for that)."
        )


def random_init_notice(config: Any, choice: ModelChoice) -> RandomInitNotice | None:
    """The notice when `choice` fell back to random weights for `config`, else None; pure.

    Only a fallback counts: model `offline` (the cpu presets) is random-init by request.
    """
    if choice.fallback is None:
        return None
    hidden = int(getattr(config, "offline_hidden_size", 256))
    if getattr(config, "offline_arch", "bert") == "charword":
        what = f"a randomly initialised small word-level model (char CNN + BiLSTM, hidden size {hidden})"
    else:
        layers = int(getattr(config, "offline_layers", 2))
        what = f"a randomly initialised small BERT ({layers} layer{'s' if layers != 1 else ''}, hidden size {hidden})"
    expected = choice.fallback.expected
    consequence = f"It starts knowing no language at all, so expect scores far below {expected}'s"
    lr = float(getattr(config, "learning_rate", 0.0) or 0.0)
    if 0.0 < lr < 1e-4:
        consequence += (
            f"; at learning rate {lr:g}, a rate for fine-tuning a pretrained model, it learns next to"
            " nothing: expect word-level F1 near 0.000"
        )
    return RandomInitNotice(what=what, expected=expected, why=choice.fallback.why, consequence=consequence + ".")


def check_random_init(config: Any, *, timeout: float = 3.0) -> RandomInitNotice | None:
    """`random_init_notice` for what `config.model` resolves to now.

    Probes (the HF cache, then the Hub for up to `timeout` s) only for `auto`: any other model
    either is what the user asked for or is refused by `launch.preflight`.
    """
    if getattr(config, "model", None) != "auto":
        return None
    choice = choose_model("auto", tokenizer=getattr(config, "tokenizer", None), timeout=timeout)
    return random_init_notice(config, choice)


# ---- models -------------------------------------------------------------------------------------


def _generic_labels(id2label: dict[Any, str]) -> bool:
    return all(str(v) == f"LABEL_{k}" for k, v in id2label.items())


def label_order_for(model_name: str, data_labels: Sequence[str]) -> list[str]:
    """The label order to train with: the model's own when it already is a NER model.

    A base model (LABEL_0..N or no head) takes the data's labels. A fine-tuned NER model keeps
    its order so its head stays meaningful; if it does not know one of the data's labels,
    fine-tuning would silently mis-train, so we stop with one sentence instead.
    """
    from transformers import AutoConfig

    try:
        config = AutoConfig.from_pretrained(model_name)
    except (OSError, ValueError) as err:
        raise ModelNotFoundError(f"Cannot load the config of {model_name}: {str(err).splitlines()[0]}") from err
    id2label = getattr(config, "id2label", None) or {}
    archs = getattr(config, "architectures", None) or []
    is_token_head = any("TokenClassification" in a for a in archs)
    if not id2label or _generic_labels(id2label) or not is_token_head:
        return list(data_labels)
    model_labels = [id2label[k] for k in sorted(id2label, key=int)]
    missing = [lab for lab in data_labels if lab not in model_labels]
    if missing:
        raise BnnerError(
            f"The data has labels {', '.join(missing)} that model {model_name} does not know "
            f"(it knows {', '.join(model_labels)}): use a base model or data with the same labels."
        )
    return model_labels


def remember_training_words(model: Any, tokenizer: Any, sentences: Iterable[Sequence[str]], chunk: int = 4096) -> int:
    """Gives a `charword` model the hashes of every distinct training word; returns how many.

    The words go through the run's own tokenizer and the model's own hashing, so a word is
    "known" at tagging time exactly when training saw it.
    """
    import torch

    words = sorted({w for sent in sentences for w in sent if w and not w.isspace()})
    n = 0
    for i in range(0, len(words), chunk):
        enc = tokenizer(
            [[w] for w in words[i : i + chunk]],
            is_split_into_words=True,
            add_special_tokens=False,
            padding=True,
            return_tensors="pt",
        )
        with torch.no_grad():
            n = model.remember_words(enc["input_ids"], enc["attention_mask"])
    return n


def build_model(
    choice: ModelChoice,
    label_names: Sequence[str],
    *,
    tokenizer: Any,
    cfg: Any,
    seed: int = 42,
    train_words: Iterable[Sequence[str]] | None = None,
) -> Any:
    """The token-classification model with the REAL label names in its config.

    `train_words` (the training split's sentences) gives the `charword` model its list of known
    words; other models ignore it.
    """
    import torch
    from transformers import AutoModelForTokenClassification, BertConfig, BertForTokenClassification

    id2label = dict(enumerate(label_names))
    label2id = {name: i for i, name in enumerate(label_names)}
    if choice.kind == "offline" and getattr(cfg, "offline_arch", "bert") == "charword":
        from bnner_tui.core.train.wordmodel import register
        from bnner_tui.core.train.wordmodel.configuration_bnner_charword import BnnerCharWordConfig
        from bnner_tui.core.train.wordmodel.modeling_bnner_charword import BnnerCharWordForTokenClassification

        register()
        if not is_char_tokenizer(tokenizer):
            raise BnnerError(
                "offline_arch charword needs its own character tokenizer: leave tokenizer unset"
                " (it is built from the training words)."
            )
        piece_chars, piece_starts, n_chars = charword_piece_tables(tokenizer)
        hidden = int(cfg.offline_hidden_size)
        word_config = BnnerCharWordConfig(
            vocab_size=len(piece_chars),
            piece_chars=piece_chars,
            piece_starts=piece_starts,
            char_vocab_size=n_chars,
            hidden_size=hidden,
            num_layers=int(cfg.offline_layers),
            hash_buckets=int(cfg.offline_vocab_size),
            max_position_embeddings=max(512, int(cfg.max_length)),
            pad_token_id=tokenizer.pad_token_id,
            num_labels=len(label_names),
            id2label=id2label,
            label2id=label2id,
        )
        torch.manual_seed(seed)
        word_model = BnnerCharWordForTokenClassification(word_config)
        if train_words is not None:
            remember_training_words(word_model, tokenizer, train_words)
        return word_model
    if choice.kind == "offline":
        hidden = int(cfg.offline_hidden_size)
        config = BertConfig(
            vocab_size=len(tokenizer),
            hidden_size=hidden,
            num_hidden_layers=int(cfg.offline_layers),
            num_attention_heads=int(cfg.offline_heads),
            intermediate_size=4 * hidden,
            max_position_embeddings=max(512, int(cfg.max_length)),
            pad_token_id=tokenizer.pad_token_id,
            id2label=id2label,
            label2id=label2id,
        )
        torch.manual_seed(seed)
        return BertForTokenClassification(config)
    try:
        return AutoModelForTokenClassification.from_pretrained(
            choice.name,
            num_labels=len(label_names),
            id2label=id2label,
            label2id=label2id,
            ignore_mismatched_sizes=True,
        )
    except (OSError, ValueError) as err:
        raise ModelNotFoundError(f"Cannot load model {choice.name}: {str(err).splitlines()[0]}") from err
