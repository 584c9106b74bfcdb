"""The offline word-level NER model (char CNN + hashed word/affix embeddings + BiLSTM).

`register()` tells transformers' Auto classes about the model type, so this installation loads a
saved folder with a plain `AutoModelForTokenClassification.from_pretrained(path)`; anyone else
loads it with `trust_remote_code=True`, from the modelling files `save_pretrained` copies into
the folder (config.json's `auto_map`). Importing this package imports torch and transformers:
only do it inside functions.
"""

from __future__ import annotations

MODEL_TYPE = "bnner-charword"

_registered = False


def register() -> None:
    """Register the config and model with transformers' Auto classes (once per process)."""
    global _registered
    if _registered:
        return
    from transformers import AutoConfig, AutoModelForTokenClassification

    from .configuration_bnner_charword import BnnerCharWordConfig
    from .modeling_bnner_charword import BnnerCharWordForTokenClassification

    AutoConfig.register(MODEL_TYPE, BnnerCharWordConfig, exist_ok=True)
    AutoModelForTokenClassification.register(BnnerCharWordConfig, BnnerCharWordForTokenClassification, exist_ok=True)
    # So save_pretrained writes auto_map and copies these files next to the weights.
    BnnerCharWordConfig.register_for_auto_class()
    BnnerCharWordForTokenClassification.register_for_auto_class("AutoModelForTokenClassification")
    _registered = True


def register_if_needed(model_dir: object) -> None:
    """Register when the folder's config.json is this model type; cheap for any other folder."""
    import json
    from pathlib import Path

    cfg = Path(str(model_dir)) / "config.json"
    try:
        model_type = json.loads(cfg.read_text(encoding="utf-8")).get("model_type")
    except (OSError, ValueError, AttributeError):
        return
    if model_type == MODEL_TYPE:
        register()
