"""The card's text built from a run's facts: model-index results, the body template, citations.

The metadata is huggingface_hub's `ModelCardData` with one `EvalResult` per measured dataset,
split and metric; the body is `template.md` (package data, a jinja template) filled with what the
run measured, so nothing in a fresh card is a placeholder the run could have filled.
"""

from __future__ import annotations

import os
import re
from importlib.resources import files as package_files
from pathlib import Path
from typing import Any

from bnner_tui.core.card.facts import DataInfo, RunInfo, data_info, load_run
from bnner_tui.core.card.frontmatter import BEGIN_MARK, END_MARK
from bnner_tui.core.card.vocab import CARD_METRICS, CARD_TAGS, DEFAULT_LICENSE
from bnner_tui.core.card.widgets import CURATED_WIDGETS, default_widgets
from bnner_tui.core.display import NO_VALUE

_SECRET_KEY_RE = re.compile(r"token|secret|password|api[_-]?key|auth", re.I)


def card_template() -> str:
    """The body template (`template.md` beside this module, shipped as package data)."""
    return package_files("bnner_tui.core.card").joinpath("template.md").read_text(encoding="utf-8")


CITATIONS = {
    "wikiann": """@inproceedings{pan-etal-2017-cross,
  title = "Cross-lingual Name Tagging and Linking for 282 Languages",
  author = "Pan, Xiaoman and Zhang, Boliang and May, Jonathan and Nothman, Joel and Knight, Kevin and Ji, Heng",
  booktitle = "Proceedings of the 55th Annual Meeting of the Association for Computational Linguistics",
  year = "2017",
  url = "https://aclanthology.org/P17-1178",
  pages = "1946--1958",
}

@inproceedings{rahimi-etal-2019-massively,
  title = "Massively Multilingual Transfer for {NER}",
  author = "Rahimi, Afshin and Li, Yuan and Cohn, Trevor",
  booktitle = "Proceedings of the 57th Annual Meeting of the Association for Computational Linguistics",
  year = "2019",
  url = "https://aclanthology.org/P19-1015",
  pages = "151--164",
}""",
    "bert": """@inproceedings{devlin-etal-2019-bert,
  title = "{BERT}: Pre-training of Deep Bidirectional Transformers for Language Understanding",
  author = "Devlin, Jacob and Chang, Ming-Wei and Lee, Kenton and Toutanova, Kristina",
  booktitle = "Proceedings of the 2019 Conference of the North {A}merican Chapter of the Association for
    Computational Linguistics: Human Language Technologies",
  year = "2019",
  url = "https://aclanthology.org/N19-1423",
  pages = "4171--4186",
}""",
}


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4f}"
    if value is None:
        return NO_VALUE
    return str(value)


_NOT_HYPERPARAMETERS = frozenset({"output_root", "run_name"})


def _hyperparameters(cfg: dict[str, Any]) -> list[tuple[str, str]]:
    """Every scalar setting of config.toml, nested tables flattened; secrets never reach the card."""
    out: list[tuple[str, str]] = []

    def walk(prefix: str, node: dict[str, Any]) -> None:
        for key, value in node.items():
            name = f"{prefix}{key}"
            if _SECRET_KEY_RE.search(key):
                continue
            if key in _NOT_HYPERPARAMETERS:
                continue
            if isinstance(value, str) and os.path.isabs(value):
                value = Path(value).name  # a path on the trainer's machine means nothing to a reader
            if isinstance(value, dict):
                walk(f"{name}.", value)
            elif isinstance(value, list):
                out.append((name, ", ".join(str(v) for v in value)))
            else:
                out.append((name, f"`{value}`" if isinstance(value, str) else str(value)))

    walk("", cfg)
    return out


def _scored_splits(
    metrics: dict[str, Any], data: DataInfo, *, include_other_data: bool = False
) -> list[tuple[DataInfo, str, dict[str, Any]]]:
    """(dataset, split, entry) for each score: the training data's, then other data's only when asked."""
    out = [(data, name, e) for name, e in (metrics.get("splits") or {}).items() if isinstance(e, dict)]
    if include_other_data:
        for node in (metrics.get("other_data") or {}).values():
            if not isinstance(node, dict):
                continue
            info = data_info(str(node.get("spec", "")))
            for name, e in (node.get("splits") or {}).items():
                if isinstance(e, dict):
                    out.append((info, name, e))
    return out


def _split_rows(
    metrics: dict[str, Any], data: DataInfo | None = None, *, include_other_data: bool = False
) -> list[dict[str, Any]]:
    from bnner_tui.core.metrics import breakdown_rows, counts_line, generalisation_rows

    rows = []
    own = data or data_info(str((metrics.get("data") or {}).get("spec", "")))
    for info, name, split in _scored_splits(metrics, own, include_other_data=include_other_data):
        overall = dict(split.get("overall") or {})
        per_type = split.get("per_type") or {}
        support = sum(int(v.get("support") or 0) for v in per_type.values() if isinstance(v, dict))
        gen = generalisation_rows(split)
        rows.append(
            {
                "name": name,
                "dataset": info.display,
                "decoding": str(split.get("decoding") or "argmax"),
                "counts": counts_line({k: v for k, v in split.items() if k not in ("decoding", "data_name")}),
                "generalisation": gen if len(gen) > 1 else None,
                "breakdown": breakdown_rows(split) or None,
                "loss": split.get("loss") if isinstance(split.get("loss"), (int, float)) else None,
                "overall": {
                    "precision": _fmt(overall.get("precision")),
                    "recall": _fmt(overall.get("recall")),
                    "f1": _fmt(overall.get("f1")),
                    "accuracy": _fmt(overall["accuracy"]) if "accuracy" in overall else None,
                    "support": support or NO_VALUE,
                },
                "per_type": [
                    {
                        "name": t,
                        "precision": _fmt(v.get("precision")),
                        "recall": _fmt(v.get("recall")),
                        "f1": _fmt(v.get("f1")),
                        "support": _fmt(v.get("support")),
                    }
                    for t, v in per_type.items()
                    if isinstance(v, dict)
                ],
                "piece_level": _piece_text(split.get("piece_level")),
            }
        )
    return rows


def _decoding_text(metrics: dict[str, Any]) -> str:
    dec = metrics.get("decoding")
    if isinstance(dec, dict) and dec.get("description"):
        return str(dec["description"])
    return "per-word argmax (runs before bnner-tui recorded their decoding)"


def _piece_text(piece: Any) -> str | None:
    if not piece:
        return None
    if isinstance(piece, dict):
        src = piece.get("overall", piece)
        if isinstance(src, dict):
            return ", ".join(f"{k} {_fmt(v)}" for k, v in src.items() if isinstance(v, (int, float)))
    return _fmt(piece)


def eval_results(run: RunInfo, model_name: str, *, include_other_data: bool = False) -> list[Any]:
    """The run's measured word-level overall precision/recall/F1, one EvalResult per dataset, split and metric.

    Each result names its own dataset (model-index allows several); scores on data other than
    the training data's appear only with `include_other_data`. The metric name says the level,
    the scheme and the decoding, so a reader knows what the number counts.
    """
    from huggingface_hub import EvalResult

    out = []
    for info, split, values in _scored_splits(run.metrics, run.data, include_other_data=include_other_data):
        dataset_type = info.hub_id or ("bnner-tui-demo" if info.kind == "demo" else info.display)
        decoding = str(values.get("decoding") or "argmax")
        scheme = run.metrics.get("scheme", "IOB2")
        overall = (values or {}).get("overall") or {}
        for metric in CARD_METRICS:
            value = overall.get(metric)
            if not isinstance(value, (int, float)):
                continue
            out.append(
                EvalResult(
                    task_type="token-classification",
                    task_name="Named-entity recognition",
                    dataset_type=dataset_type,
                    dataset_name=info.display,
                    dataset_config=info.config,
                    dataset_split=split,
                    metric_type=metric,
                    metric_value=round(float(value), 4),
                    metric_name=f"{metric} (word-level, seqeval strict {scheme}, {decoding} decoding)",
                )
            )
    return out


def build_card(
    run: RunInfo | str | Path,
    *,
    repo_id: str | None = None,
    license: str | None = None,
    widgets: list[dict[str, str]] | None = None,
    include_other_data: bool = False,
) -> Any:
    """A fresh `huggingface_hub.ModelCard` for the run; nothing in it is a placeholder the run could fill."""
    from huggingface_hub import ModelCard, ModelCardData

    info = run if isinstance(run, RunInfo) else load_run(run)
    model_name = repo_id or info.name
    extra: dict[str, Any] = {"widget": widgets if widgets is not None else default_widgets(info)}
    data = ModelCardData(
        language="bn",
        license=license or DEFAULT_LICENSE,
        library_name="transformers",
        datasets=[info.data.hub_id] if info.data.hub_id else None,
        tags=list(CARD_TAGS),
        base_model=info.base_model,
        pipeline_tag="token-classification",
        metrics=list(CARD_METRICS),
        model_name=model_name,
        eval_results=eval_results(info, model_name, include_other_data=include_other_data),
        **extra,
    )
    arch = str((info.model_config.get("architectures") or [info.model_config.get("model_type", "transformer")])[0])
    types = info.entity_types
    type_names = {"PER": "persons (PER)", "ORG": "organisations (ORG)", "LOC": "locations (LOC)"}
    cites = []
    if info.data.kind == "wikiann":
        cites.append(CITATIONS["wikiann"])
    if "bert" in (str(info.config.get("model", "")) + arch).lower():
        cites.append(CITATIONS["bert"])
    best = info.metrics.get("best")
    best_text = ", ".join(f"{k} {_fmt(v)}" for k, v in best.items()) if isinstance(best, dict) and best else None
    example = (extra["widget"][0]["text"] if extra["widget"] else CURATED_WIDGETS[0]["text"]).replace('"', '\\"')
    return ModelCard.from_template(
        data,
        template_str=card_template(),
        begin_mark=BEGIN_MARK,
        end_mark=END_MARK,
        title=f"{model_name}: Bengali named-entity recognition",
        run_name=info.name,
        arch=f"`{arch}`",
        init_note=info.init_note,
        from_scratch=info.base_model is None and "from scratch" in info.init_note,
        num_parameters=info.num_parameters,
        types_text=", ".join(type_names.get(t, t) for t in types) or "the run's entity types",
        labels_text=" ".join(info.label_names),
        data=info.data,
        strategy=str(info.config.get("strategy", "first")),
        scheme=str(info.metrics.get("scheme", "IOB2")),
        hyperparameters=_hyperparameters(info.config),
        results=_split_rows(info.metrics, info.data, include_other_data=include_other_data),
        decoding=_decoding_text(info.metrics),
        not_scored=str(info.metrics.get("not_scored") or "the run has no labelled evaluation split"),
        best=best_text,
        model_ref=repo_id or str(info.model_dir),
        remote_code=_remote_code_text(info.model_config),
        remote_kw=", trust_remote_code=True" if _remote_code_text(info.model_config) else "",
        example=example,
        citations="\n\n".join(cites) if cites else "Cite bnner-tui and the dataset you trained on.",
    )


def _remote_code_text(model_config: dict[str, Any]) -> str | None:
    """The modelling files a model's `auto_map` names (as card text), or None for a transformers architecture."""
    auto_map = model_config.get("auto_map")
    if not isinstance(auto_map, dict) or not auto_map:
        return None
    files = sorted({str(ref).split("--")[-1].rsplit(".", 1)[0] + ".py" for ref in auto_map.values()})
    return ", ".join(f"`{f}`" for f in files)
