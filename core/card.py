"""Model cards from a run: built from what was measured, edited without losing anything, validated.

Why this module exists: the notebook recipe wrote the card's YAML by hand, so its numbers drifted
from the run, its label names were LABEL_0..6 and the widget language had to be looked up. Here the
metadata comes from the run folder (config.toml, metrics.json, model/config.json) through
huggingface_hub's `ModelCard` / `ModelCardData` / `EvalResult`; re-rendering an existing README
keeps every key, comment and order the user wrote (ruamel.yaml round-trip) and every word of their
own prose (only the block between the bnner-tui markers is regenerated); and each save is atomic
with a numbered backup of what was there.

Only the standard library is imported at module level: huggingface_hub, ruamel.yaml and jinja are
imported inside the functions that need them, so the CLI starts fast.
"""

from __future__ import annotations

import io
import json
import os
import re
import struct
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

from bnner_tui.core import files
from bnner_tui.core.errors import BnnerError

DEFAULT_LICENSE = "apache-2.0"
WIKIANN_HUB_ID = "unimelb-nlp/wikiann"
CARD_TAGS = ["token-classification", "ner", "bengali"]
CARD_METRICS = ["precision", "recall", "f1"]
REQUIRED_KEYS = ["language", "license", "tags", "pipeline_tag", "model-index"]
BEGIN_MARK = "<!-- bnner-tui:begin · generated from the run; text between these markers is replaced on re-render -->"
END_MARK = "<!-- bnner-tui:end -->"
_BEGIN_RE = re.compile(r"^<!-- bnner-tui:begin\b.*-->\s*$", re.M)
_END_RE = re.compile(r"^<!-- bnner-tui:end -->\s*$", re.M)
# A model-index value is written with 4 decimals; anything further off than that is a different number.
METRIC_TOLERANCE = 1e-4
_SECRET_KEY_RE = re.compile(r"token|secret|password|api[_-]?key|auth", re.I)
REPO_ID_RE = re.compile(r"^(?:[A-Za-z0-9][A-Za-z0-9_.-]{0,95})/(?:[A-Za-z0-9][A-Za-z0-9_.-]{0,95})$")

# The Hub's licence identifiers (https://huggingface.co/docs/hub/repositories-licenses).
HUB_LICENSES: frozenset[str] = frozenset(
    """apache-2.0 mit openrail bigscience-openrail-m creativeml-openrail-m bigscience-bloom-rail-1.0
    bigcode-openrail-m afl-3.0 artistic-2.0 bsl-1.0 bsd bsd-2-clause bsd-3-clause bsd-3-clause-clear c-uda cc
    cc0-1.0 cc-by-2.0 cc-by-2.5 cc-by-3.0 cc-by-4.0 cc-by-sa-3.0 cc-by-sa-4.0 cc-by-nc-2.0 cc-by-nc-3.0
    cc-by-nc-4.0 cc-by-nd-4.0 cc-by-nc-nd-3.0 cc-by-nc-nd-4.0 cc-by-nc-sa-2.0 cc-by-nc-sa-3.0 cc-by-nc-sa-4.0
    cdla-sharing-1.0 cdla-permissive-1.0 cdla-permissive-2.0 wtfpl ecl-2.0 epl-1.0 epl-2.0 etalab-2.0 eupl-1.1
    eupl-1.2 agpl-3.0 gfdl gpl gpl-2.0 gpl-3.0 lgpl lgpl-2.1 lgpl-3.0 isc h-research intel-research lppl-1.3c
    ms-pl apple-ascl apple-amlr mpl-2.0 odc-by odbl openmdw-1.0 openrail++ osl-3.0 postgresql ofl-1.1 ncsa
    unlicense zlib pddl lgpl-lr deepfloyd-if-license fair-noncommercial-research-license llama2 llama3 llama3.1
    llama3.2 llama3.3 llama4 gemma unknown other""".split()
)

# ISO 639-1 codes, plus the ISO 639-2/3 codes of the languages bnner-tui users are likely to tag.
ISO_639_1: frozenset[str] = frozenset(
    """aa ab ae af ak am an ar as av ay az ba be bg bh bi bm bn bo br bs ca ce ch co cr cs cu cv cy da de dv dz
    ee el en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi ho hr ht hu hy hz ia id ie ig ii ik io
    is it iu ja jv ka kg ki kj kk kl km kn ko kr ks ku kv kw ky la lb lg li ln lo lt lu lv mg mh mi mk ml mn mr
    ms mt my na nb nd ne ng nl nn no nr nv ny oc oj om or os pa pi pl ps pt qu rm rn ro ru rw sa sc sd se sg si
    sk sl sm sn so sq sr ss st su sv sw ta te tg th ti tk tl tn to tr ts tt tw ty ug uk ur uz ve vi vo wa wo xh
    yi yo za zh zu""".split()
)
ISO_639_23: frozenset[str] = frozenset(
    """ben eng hin urd asm ori pan guj mar nep sin tam tel kan mal san pli snd kas mai bho awa mag sat mni
    ctg syl rkt bpy chr ara fas per zho chi jpn kor rus deu ger fra fre spa por ita tur mul und""".split()
)

CURATED_WIDGETS: list[dict[str, str]] = [
    {"text": "রবীন্দ্রনাথ ঠাকুর কলকাতায় জন্মগ্রহণ করেন।", "example_title": "ব্যক্তি ও স্থান (PER, LOC)"},
    {"text": "শেখ হাসিনা ঢাকায় বাংলাদেশ ক্রিকেট বোর্ডের সভায় যোগ দেন।", "example_title": "ব্যক্তি, স্থান ও সংগঠন"},
    {"text": "ঢাকা বিশ্ববিদ্যালয় ১৯২১ সালে প্রতিষ্ঠিত হয়।", "example_title": "সংগঠন (ORG)"},
]

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


class CardError(BnnerError):
    """A run or card that cannot be turned into a model card (missing files, unreadable metadata)."""


@dataclass(frozen=True)
class Problem:
    """One validation finding; `line` is the 1-based line in the README file it concerns."""

    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


@dataclass
class DataInfo:
    """How the run's data spec is described on the card."""

    spec: str
    kind: str  # "wikiann", "demo", "hub" or "local"
    hub_id: str | None
    config: str | None
    display: str


@dataclass
class RunInfo:
    """What a run folder says about itself, read with the standard library only."""

    path: Path
    name: str
    config: dict[str, Any]
    metrics: dict[str, Any]
    model_dir: Path
    model_config: dict[str, Any]
    data: DataInfo
    label_names: list[str]
    base_model: str | None
    init_note: str
    num_parameters: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def entity_types(self) -> list[str]:
        seen: list[str] = []
        for label in self.label_names:
            if "-" in label and label.split("-", 1)[1] not in seen:
                seen.append(label.split("-", 1)[1])
        return seen


# ---------------------------------------------------------------------------------------------
# Reading a run


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise CardError(f"{path}, line {err.lineno}: not valid JSON ({err.msg}).") from None
    except OSError as err:
        raise CardError(f"{path} cannot be read ({err.strerror}).") from None
    if not isinstance(data, dict):
        raise CardError(f"{path}: expected a JSON object at the top level.")
    return data


def data_info(spec: str) -> DataInfo:
    """Name the data source the way the Hub and a reader expect (WikiANN gets its Hub id)."""
    s = (spec or "").strip()
    low = s.lower()
    if low in ("wikiann", "wikiann:bn") or low.startswith("hub:unimelb-nlp/wikiann") or low == "hub:wikiann":
        return DataInfo(s, "wikiann", WIKIANN_HUB_ID, "bn", "WikiANN (bn)")
    if low == "demo":
        return DataInfo(s, "demo", None, None, "bnner-tui synthetic demo set")
    if low.startswith("hub:"):
        parts = s[4:].split(":")
        return DataInfo(s, "hub", parts[0], parts[1] if len(parts) > 1 else None, parts[0])
    # A local copy of WikiANN (e.g. the XTREME PAN-X files) is still WikiANN silver data.
    if "wikiann" in low or "panx" in low or "pan-x" in low:
        return DataInfo(s, "wikiann", WIKIANN_HUB_ID, "bn", f"WikiANN (bn), local copy `{Path(s).name}`")
    return DataInfo(s, "local", None, None, f"local data `{Path(s).name or s}`")


def _safetensors_parameters(path: Path) -> int | None:
    """Count parameters from the safetensors header alone: no torch import, no reading the weights."""
    try:
        with open(path, "rb") as fh:
            (n,) = struct.unpack("<Q", fh.read(8))
            if n > 100_000_000:
                return None
            header = json.loads(fh.read(n))
    except (OSError, ValueError, struct.error):
        return None
    total = 0
    for key, meta in header.items():
        if key == "__metadata__" or not isinstance(meta, dict):
            continue
        count = 1
        for dim in meta.get("shape", []):
            count *= int(dim)
        total += count
    return total


def _started_event(run_dir: Path) -> dict[str, Any]:
    """The run's `started` event as written: it records which model was really used ("auto"
    resolves at launch). Read through the one fold of a run's events (`core.runs.run_state`)."""
    from dataclasses import asdict

    from bnner_tui.core.runs import run_state

    try:
        started = run_state(run_dir).started
    except OSError:  # an unreadable stream only costs the card its base_model detail
        return {}
    return asdict(started) if started is not None else {}


def _base_model(cfg: dict[str, Any], run_dir: Path) -> tuple[str | None, str]:
    """The Hub id the run fine-tuned, or None with a sentence on how the weights were initialised.

    The training engine's `started` event says what "auto" became (the hub model, a local folder or
    the offline small BERT built from scratch); config.toml alone is the fallback.
    """
    started = _started_event(run_dir)
    kind, name = str(started.get("model_kind") or ""), str(started.get("model_name") or "")
    model = str(cfg.get("model") or "").strip()
    init = str(cfg.get("init") or "").lower()
    scratch = kind == "offline" or model == "offline"
    scratch = scratch or bool(cfg.get("from_scratch") or cfg.get("random_init") or init in ("random", "scratch"))
    if scratch:
        small = kind == "offline" or model in ("offline", "auto", "")
        what = "a small BERT" if small else f"the `{model}` architecture"
        return None, (
            f"trained **from scratch** (random initialisation of {what}, no pre-trained weights), "
            "so it is a smoke-test model rather than a useful tagger"
        )
    if kind == "hub" and name:
        return name, f"fine-tuned from [`{name}`](https://huggingface.co/{name})"
    if kind == "local" and name:
        return None, f"initialised from the local model folder `{Path(name).name}` (not a Hub model)"
    if not model or model == "auto":
        return None, "initialised from a model the run did not record"
    candidate = Path(model) if Path(model).is_absolute() else (run_dir / model)
    if Path(model).exists() or candidate.exists() or model.startswith((".", "/", "~")):
        return None, f"initialised from the local model folder `{Path(model).name}` (not a Hub model)"
    if REPO_ID_RE.match(model) or re.match(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", model):
        return model, f"fine-tuned from [`{model}`](https://huggingface.co/{model})"
    return None, f"initialised from `{model}`"


def load_run(run_dir: str | Path) -> RunInfo:
    """Read a finished run folder; one sentence naming the missing piece otherwise."""
    run = Path(run_dir).expanduser()
    if not run.is_dir():
        raise CardError(f"{run} is not a run folder (it does not exist).")
    cfg_path = run / "config.toml"
    cfg: dict[str, Any] = {}
    if cfg_path.exists():
        try:
            cfg = tomllib.loads(cfg_path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as err:
            raise CardError(f"{cfg_path}: not valid TOML ({err}).") from None
    metrics_path = run / "metrics.json"
    if not metrics_path.exists():
        raise CardError(f"{run} has no metrics.json yet: finish (or evaluate) the run before writing its card.")
    metrics = _read_json(metrics_path)
    if not isinstance(metrics.get("splits"), dict) or not metrics["splits"]:
        why = metrics.get("not_scored")
        raise CardError(
            f"{metrics_path} has no scores ({why})."
            if why
            else f"{metrics_path} has no measured splits ('splits' is empty or missing)."
        )
    model_dir = run / "model"
    if not model_dir.is_dir():
        raise CardError(f"{run} has no model/ folder: the run did not save a model.")
    model_config = _read_json(model_dir / "config.json") if (model_dir / "config.json").exists() else {}
    id2label = model_config.get("id2label") or {}
    try:
        labels = [str(id2label[k]) for k in sorted(id2label, key=lambda k: int(k))]
    except (ValueError, TypeError):
        labels = [str(v) for v in id2label.values()]
    base, note = _base_model(cfg, run)
    weights = model_dir / "model.safetensors"
    return RunInfo(
        path=run,
        name=run.name,
        config=cfg,
        metrics=metrics,
        model_dir=model_dir,
        model_config=model_config,
        data=data_info(str(cfg.get("data") or "")),
        label_names=labels,
        base_model=base,
        init_note=note,
        num_parameters=_safetensors_parameters(weights) if weights.exists() else None,
    )


# ---------------------------------------------------------------------------------------------
# Widget examples


def _join_words(words: list[str]) -> str:
    text = " ".join(words)
    # WikiANN splits punctuation off; a reader expects "রাজধানী।" and "ঢাকা, খুলনা".
    return re.sub(r" ([।॥,;:!?)\]])", r"\1", text).replace("( ", "(")


def widgets_from_dataset(run: RunInfo, k: int = 3) -> list[dict[str, str]]:
    """A few validation sentences with entities, as widget examples; [] when the data is not at hand.

    Only local data and the bundled demo set are read: rendering a card must never download a dataset.
    """
    if run.data.kind not in ("local", "demo") and not Path(run.data.spec).exists():
        return []
    try:
        from bnner_tui.core.data import load_source

        loaded = load_source(run.data.spec)
        ds = loaded.dataset
        split = next((s for s in ("validation", "test", "train") if s in ds), None)
        if split is None:
            return []
        names = list(loaded.label_names)
        out: list[dict[str, str]] = []
        for i, row in enumerate(ds[split]):
            tags = [names[t] for t in row["ner_tags"]]
            types = sorted({t.split("-", 1)[1] for t in tags if "-" in t})
            if len(types) >= 2 or (types and len(row["tokens"]) >= 4 and len(out) < k - 1):
                text = _join_words(list(row["tokens"]))
                if 10 <= len(text) <= 200:
                    out.append({"text": text, "example_title": f"{' + '.join(types)} ({split} #{i})"})
            if len(out) >= k or i > 5000:
                break
        return out
    except Exception:  # the widgets fall back to curated sentences; the card still renders
        return []


def default_widgets(run: RunInfo) -> list[dict[str, str]]:
    return widgets_from_dataset(run) or [dict(w) for w in CURATED_WIDGETS]


# ---------------------------------------------------------------------------------------------
# Building the card

_TEMPLATE = (
    """---
{{ card_data }}
---

"""
    + BEGIN_MARK
    + """

# {{ title }}

This model tags **named entities in Bengali (বাংলা) text** at the word level: {{ types_text }}.
It is a {{ arch }} token classifier {{ init_note }}, trained with bnner-tui (run `{{ run_name }}`)
{%- if num_parameters %}, {{ "{:,}".format(num_parameters) }} parameters{% endif %}.
Labels use the IOB2 scheme: `{{ labels_text }}`.

## Intended use and limits

- Use it to find person, organisation and location names in Bengali sentences, e.g. to pre-annotate
  text for human review or to index names in Bengali news and encyclopaedic text.
- It knows only the entity types above; dates, numbers, products and events are not tagged.
{% if data.kind == "wikiann" %}- Its training data is Wikipedia-derived silver data (see below): expect
  lower scores on news, social media or conversational text than the numbers reported here.
{% endif %}{% if from_scratch %}- **This model was trained from random initialisation to test the
  pipeline; its predictions are not meant to be used.**
{% endif %}- Feed NFC-normalised Unicode text; bnner-tui's tagger applies its normalisation policy (NFC, nukta
  letters ড় ঢ় য়, ZWJ/ZWNJ, danda) and maps the offsets back to your raw text.
- Do not use it to make decisions about people without human review.

## Training data

{% if data.kind == "wikiann" %}The model was trained on
[WikiANN](https://huggingface.co/datasets/unimelb-nlp/wikiann) Bengali (`bn`; source: {{ data.display }}).
WikiANN is **machine-generated silver data**: its labels were produced automatically from Wikipedia
anchor links and cross-lingual knowledge-base links (Pan et al., 2017), not annotated by people, so it
contains labelling errors. We used the balanced train/dev/test splits of Rahimi et al. (2019).
**The licence of WikiANN is unknown**: check it yourself before any commercial use.
{% elif data.kind == "demo" %}The model was trained on bnner-tui's **synthetic demo set**: a small set of
sentences written to exercise the tool offline. It is not a benchmark and says nothing about real-world accuracy.
{% elif data.kind == "hub" %}The model was trained on the Hub dataset
[`{{ data.hub_id }}`](https://huggingface.co/datasets/{{ data.hub_id }})
{%- if data.config %} (config `{{ data.config }}`){% endif %}.
{% else %}The model was trained on {{ data.display }} (data spec `{{ data.spec }}`).
{% endif %}
## Training procedure

Word labels were aligned to subword pieces with the `{{ strategy }}` strategy
{%- if strategy == "first" %}: only the first piece of each word carries the word's label, the
other pieces are ignored by the loss (`-100`){% endif %}.
Evaluation is at the **word level** with seqeval ({{ scheme }}, strict entity spans): one prediction per
word, taken from its first piece, over every word of every sentence (sentences longer than the model's
window are predicted in overlapping windows, not cut). Decoding: {{ decoding }}; `bnner-tui tag` decodes
the same way, so these scores are the scores of what the tagger outputs.

| hyperparameter | value |
|---|---|
{% for key, value in hyperparameters %}| {{ key }} | {{ value }} |
{% endfor %}
## Results

{% for split in results %}### {{ split.dataset }}, {{ split.name }} split (word-level, {{ split.decoding }} decoding
{%- if split.loss is not none %}, loss {{ "%.4f"|format(split.loss) }}{% endif %})
{% if split.counts %}
{{ split.counts }}.
{% endif %}
| | precision | recall | F1 | support |
|---|---|---|---|---|
{% set o = split.overall %}| **overall** | {{ o.precision }} | {{ o.recall }} | {{ o.f1 }} | {{ o.support }} |
{% for t in split.per_type %}| {{ t.name }} | {{ t.precision }} | {{ t.recall }} | {{ t.f1 }} | {{ t.support }} |
{% endfor %}{% if split.overall.accuracy %}
Word accuracy: {{ split.overall.accuracy }}.
{% endif %}{% if split.generalisation %}
Generalisation: the split shares sentences and entity names with the training data, so the overall score
partly rewards memory. Scores on what training could not have taught by heart:

| scored on | precision | recall | F1 | support |
|---|---|---|---|---|
{% for g in split.generalisation %}| {{ g | join(" | ") }} |
{% endfor %}{% endif %}{% if split.breakdown %}
Entity errors (SemEval-2013 categories as computed by nervaluate; per type: the gold entities of that type,
spurious: the predictions of that type):

| entity | exact | wrong type | wrong boundary | both wrong | missed | spurious |
|---|---|---|---|---|---|---|
{% for b in split.breakdown %}| {{ b | join(" | ") }} |
{% endfor %}{% endif %}{% if split.piece_level %}
Piece-level score (**inflated**: it counts every subword piece, as the original notebook did; do not
compare it with word-level scores): {{ split.piece_level }}.
{% endif %}
{% endfor %}{% if not results %}Nothing was scored: {{ not_scored }}.
{% endif %}{% if best %}Best checkpoint: {{ best }}.
{% endif %}
## How to use

```python
from transformers import pipeline

ner = pipeline("token-classification", model="{{ model_ref }}", aggregation_strategy="first"{{ remote_kw }})
for entity in ner("{{ example }}"):
    print(entity["entity_group"], entity["word"], entity["start"], entity["end"], round(entity["score"], 3))
```

`aggregation_strategy="first"` gives one label per word from its first piece, the way the model was
trained and evaluated.
{% if remote_code %}
This architecture is not part of transformers: its modelling code ships in this repository
({{ remote_code }}, named by `auto_map` in config.json), so loading it needs `trust_remote_code=True`
(read those files first). It predicts one label per word, from the word's characters (char CNN,
hashed word/prefix/suffix embeddings, BiLSTM, CRF); its tokenizer has one piece per character.
{% endif %}
With bnner-tui, which applies its Bengali normalisation and returns offsets into your raw text:

```bash
bnner-tui tag --model {{ model_ref }} "{{ example }}"
```

## Citation

```bibtex
{{ citations }}
```
"""
    + END_MARK
    + "\n"
)


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4f}"
    if value is None:
        return "–"
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
                    "support": support or "–",
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
        template_str=_TEMPLATE,
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


# ---------------------------------------------------------------------------------------------
# Round-trip editing


def _yaml() -> Any:
    from ruamel.yaml import YAML

    y = YAML(typ="rt")
    y.preserve_quotes = True
    y.width = 4096
    y.indent(mapping=2, sequence=2, offset=0)
    y.default_flow_style = False
    y.allow_unicode = True
    return y


# A model card is a README of a few KB; these caps keep a hostile or broken file from costing
# minutes and gigabytes (a 390-byte YAML alias bomb once took 68 s and 3.7 GB to validate).
MAX_CARD_BYTES = 2_000_000
MAX_METADATA_BYTES = 256_000
MAX_PROBLEMS = 50
MAX_SAME_PROBLEM = 3


def read_card_file(path: Path) -> str:
    """A card's text, refused with one sentence when it is too big, binary or not UTF-8."""
    try:
        size = path.stat().st_size
        if size > MAX_CARD_BYTES:
            raise CardError(
                f"{path} is {size / 1e6:.1f} MB; a model card is at most {MAX_CARD_BYTES / 1e6:.0f} MB"
                " (is this the right file?)."
            )
        raw = path.read_bytes()
    except IsADirectoryError:
        raise CardError(f"{path} is a folder, not a model card.") from None
    except OSError as err:
        raise CardError(f"{path} cannot be read ({err.strerror}).") from None
    if b"\0" in raw:
        raise CardError(f"{path} is a binary file, not a model card (README.md text).")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        raise CardError(f"{path}, line {line}: is not UTF-8 text; a model card must be UTF-8.") from None


def metadata_hazard(yaml_text: str, offset: int = 2) -> Problem | None:
    """Why a card's YAML must not be composed, or None. Checked on parse events, which cost time
    proportional to the text, before anything expands: an alias (`*x`, or a merge `<<: *x`) can
    multiply a few hundred bytes into gigabytes, so card metadata may not use aliases at all."""
    size = len(yaml_text.encode("utf-8", "surrogatepass"))
    if size > MAX_METADATA_BYTES:
        return Problem(
            1, f"the YAML metadata is {size // 1000} KB; card metadata is at most {MAX_METADATA_BYTES // 1000} KB"
        )
    from ruamel.yaml import YAML
    from ruamel.yaml.events import AliasEvent

    try:
        for event in YAML(typ="rt").parse(yaml_text):
            if isinstance(event, AliasEvent):
                return Problem(
                    event.start_mark.line + offset,
                    f"the YAML metadata uses the alias *{event.anchor}: write the value out instead"
                    " (aliases are refused in card metadata; they can expand without limit)",
                )
    except Exception:  # a syntax error: composing reports it with its line
        return None
    return None


def split_front_matter(text: str) -> tuple[str | None, str, int]:
    """(yaml_text or None, body, line number of the body's first line). Accepts CRLF files."""
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].strip() != "---":
        return None, text, 1
    for i in range(1, len(lines)):
        if lines[i].strip() == "---":
            return "".join(lines[1:i]), "".join(lines[i + 1 :]), i + 2
    return None, text, 1


# Keys the run measures: always refreshed. The user's choices (language, license, widget) are kept.
_MEASURED_KEYS = ["library_name", "datasets", "tags", "base_model", "pipeline_tag", "metrics", "model-index"]


def merge_card(existing: str, fresh: str, *, license: str | None = None, widgets_given: bool = False) -> str:
    """Update an existing README with a freshly built card without losing the user's work.

    YAML: the existing mapping is kept (unknown keys, their order and comments survive); measured
    keys are replaced with the run's values, tags are extended, and license/language/widget stay the
    user's unless given explicitly. Body: only the text between the bnner-tui markers is replaced; a
    body without markers is kept and the generated section is appended after it.
    """
    y = _yaml()
    old_yaml, old_body, _ = split_front_matter(existing)
    new_yaml, new_body, _ = split_front_matter(fresh)
    new_meta = y.load(new_yaml or "") or {}
    hazard = metadata_hazard(old_yaml) if old_yaml is not None else None
    if hazard is not None:
        raise CardError(f"the existing card, line {hazard.line}: {hazard.message}; fix it or move it away first.")
    try:
        meta = y.load(old_yaml) if old_yaml is not None else None
    except Exception as err:  # ruamel raises several error classes
        raise CardError(f"the existing card's YAML does not parse ({err}); fix it or move it away first.") from None
    if meta is None:
        from ruamel.yaml.comments import CommentedMap

        meta = CommentedMap()
    if not hasattr(meta, "items") or isinstance(meta, str):
        raise CardError("the existing card's YAML metadata is not a mapping; fix it or move it away first.")
    for key in _MEASURED_KEYS:
        if key not in new_meta:
            continue
        if key == "tags" and isinstance(meta.get("tags"), list):
            for tag in new_meta["tags"]:
                if tag not in meta["tags"]:
                    meta["tags"].append(tag)
        else:
            meta[key] = new_meta[key]
    for key in ("language", "license", "widget"):
        explicit = (key == "license" and license is not None) or (key == "widget" and widgets_given)
        if key in new_meta and (explicit or key not in meta):
            meta[key] = new_meta[key]
    buf = io.StringIO()
    y.dump(meta, buf)
    generated = _generated_block(new_body)
    m_begin, m_end = _BEGIN_RE.search(old_body), _END_RE.search(old_body)
    if m_begin and m_end and m_begin.start() < m_end.start():
        body = old_body[: m_begin.start()] + generated + old_body[m_end.end() :].lstrip("\n")
        if not body.endswith("\n"):
            body += "\n"
    elif old_body.strip():
        body = old_body.rstrip("\n") + "\n\n" + generated
    else:
        body = "\n" + generated
    return f"---\n{buf.getvalue()}---\n{body}"


def _generated_block(body: str) -> str:
    m_begin, m_end = _BEGIN_RE.search(body), _END_RE.search(body)
    if not (m_begin and m_end):
        return body
    return body[m_begin.start() : m_end.end()] + "\n"


@dataclass
class RenderResult:
    path: Path
    backup: Path | None
    text: str
    problems: list[Problem]


def card_text(
    run: RunInfo | str | Path,
    *,
    repo_id: str | None = None,
    license: str | None = None,
    widgets: list[dict[str, str]] | None = None,
    existing: str | None = None,
    include_other_data: bool = False,
) -> str:
    """The card's full text: fresh, or merged into `existing` (the README already there)."""
    info = run if isinstance(run, RunInfo) else load_run(run)
    if repo_id is not None and not REPO_ID_RE.match(repo_id):
        raise CardError(f"'{repo_id}' is not a valid repo id: use the form user/name (letters, digits, - _ .).")
    fresh = str(
        build_card(info, repo_id=repo_id, license=license, widgets=widgets, include_other_data=include_other_data)
    )
    if existing is None:
        return fresh if fresh.endswith("\n") else fresh + "\n"
    return merge_card(existing, fresh, license=license, widgets_given=widgets is not None)


def render_card(
    run_dir: str | Path,
    *,
    repo_id: str | None = None,
    license: str | None = None,
    widgets: list[dict[str, str]] | None = None,
    out: str | Path | None = None,
    include_other_data: bool = False,
) -> RenderResult:
    """Write (or update) the run's card, by default RUN/model/README.md, atomically and with a backup."""
    info = load_run(run_dir)
    path = Path(out) if out is not None else info.model_dir / "README.md"
    existing = read_card_file(path) if path.exists() else None
    text = card_text(
        info,
        repo_id=repo_id,
        license=license,
        widgets=widgets,
        existing=existing,
        include_other_data=include_other_data,
    )
    backup = files.atomic_write_text(path, text, backup=True)
    return RenderResult(path=path, backup=backup, text=text, problems=validate_card(text, run=info))


# ---------------------------------------------------------------------------------------------
# Validation


def _line_of_key(node: Any, key: Any, offset: int, *, value: bool = True) -> int:
    try:
        ln, _ = node.lc.value(key) if value else node.lc.key(key)
        return ln + offset
    except (AttributeError, KeyError, TypeError):
        return _line_of_node(node, offset)


def _line_of_item(seq: Any, i: int, offset: int) -> int:
    try:
        return seq.lc.item(i)[0] + offset
    except (AttributeError, KeyError, TypeError, IndexError):
        return _line_of_node(seq, offset)


def _line_of_node(node: Any, offset: int) -> int:
    try:
        return node.lc.line + offset
    except AttributeError:
        return offset


def _valid_language(code: Any) -> bool:
    if not isinstance(code, str):
        return False
    base = code.split("-")[0].split("_")[0].lower()
    return base in ISO_639_1 or base in ISO_639_23


def _run_metrics(run: RunInfo | str | Path | dict[str, Any] | None) -> dict[str, Any] | None:
    if run is None:
        return None
    if isinstance(run, RunInfo):
        return run.metrics
    if isinstance(run, dict):
        return run
    p = Path(run)
    return _read_json(p if p.is_file() else p / "metrics.json")


def validate_card(text_or_path: str | Path, run: RunInfo | str | Path | dict[str, Any] | None = None) -> list[Problem]:
    """Every problem of a card at once, each with its line in the file; [] means it is fit to publish.

    `run` (a run folder, its metrics.json, or the metrics dict) adds the check that the model-index
    numbers are the ones the run measured.
    """
    if isinstance(text_or_path, Path) or ("\n" not in text_or_path and Path(text_or_path).is_file()):
        text = read_card_file(Path(text_or_path))
    else:
        text = str(text_or_path)
        if len(text) > MAX_CARD_BYTES:
            return [Problem(1, f"the card is {len(text) / 1e6:.1f} MB of text; a model card is at most 2 MB")]
    problems: list[Problem] = []
    yaml_text, _body, _ = split_front_matter(text)
    if yaml_text is None:
        if text.lstrip().startswith("---"):
            return [Problem(1, "the YAML metadata block is never closed: add a line '---' after it")]
        return [Problem(1, "the card has no YAML metadata block: it must start with a line '---'")]
    offset = 2  # ruamel counts from 0 inside the block, which starts on the file's line 2
    hazard = metadata_hazard(yaml_text, offset)
    if hazard is not None:
        return [hazard]
    try:
        meta = _yaml().load(yaml_text)
    except Exception as err:  # ruamel has several error classes; all carry a mark
        mark = getattr(err, "problem_mark", None) or getattr(err, "context_mark", None)
        line = mark.line + offset if mark is not None else 1
        problem = getattr(err, "problem", None) or str(err).splitlines()[0]
        return [Problem(line, f"the YAML metadata does not parse: {problem}")]
    if meta is None or not hasattr(meta, "get") or isinstance(meta, str):
        return [Problem(offset, "the YAML metadata must be a mapping of keys to values")]
    for key in REQUIRED_KEYS:
        if key not in meta or meta.get(key) in (None, "", []):
            problems.append(Problem(1, f"required key '{key}' is missing or empty"))

    lang = meta.get("language")
    if lang not in (None, "", []):
        codes = lang if isinstance(lang, list) else [lang]
        for i, code in enumerate(codes):
            if not _valid_language(code):
                line = (
                    _line_of_item(lang, i, offset) if isinstance(lang, list) else _line_of_key(meta, "language", offset)
                )
                problems.append(Problem(line, f"language '{code}' is not an ISO 639 code (Bengali is 'bn')"))

    lic = meta.get("license")
    if lic not in (None, ""):
        line = _line_of_key(meta, "license", offset)
        if not isinstance(lic, str) or lic not in HUB_LICENSES:
            problems.append(
                Problem(line, f"license '{lic}' is not a Hub licence identifier (e.g. apache-2.0, mit, other)")
            )
        elif lic == "other" and not (meta.get("license_name") and meta.get("license_link")):
            problems.append(Problem(line, "license 'other' needs license_name and license_link"))

    tags = meta.get("tags")
    if tags not in (None, "", []) and not (isinstance(tags, list) and all(isinstance(t, str) for t in tags)):
        problems.append(Problem(_line_of_key(meta, "tags", offset), "tags must be a list of strings"))
    pt = meta.get("pipeline_tag")
    if pt not in (None, "") and pt != "token-classification":
        problems.append(
            Problem(
                _line_of_key(meta, "pipeline_tag", offset),
                f"pipeline_tag is '{pt}'; an NER model is 'token-classification'",
            )
        )

    widget = meta.get("widget")
    if widget is not None:
        if not isinstance(widget, list):
            problems.append(Problem(_line_of_key(meta, "widget", offset), "widget must be a list of examples"))
        else:
            for i, item in enumerate(widget):
                line = _line_of_item(widget, i, offset)
                if not hasattr(item, "get") or isinstance(item, str):
                    problems.append(Problem(line, f"widget example {i + 1} must be a mapping with a 'text'"))
                    continue
                txt = item.get("text")
                if not isinstance(txt, str) or not txt.strip():
                    line = _line_of_key(item, "text", offset)
                    problems.append(Problem(line, f"widget example {i + 1} has an empty text"))

    problems += _check_model_index(meta, offset, _run_metrics(run))
    problems.sort(key=lambda p: p.line)
    return group_problems(problems)


def group_problems(problems: list[Problem]) -> list[Problem]:
    """At most MAX_SAME_PROBLEM of one message and MAX_PROBLEMS in all, the rest summarised in one
    line: a card with a thousand identical mistakes needs one fix, not a thousand lines."""
    seen: dict[str, list[int]] = {}
    kept: list[Problem] = []
    for p in problems:
        lines = seen.setdefault(p.message, [])
        lines.append(p.line)
        if len(lines) <= MAX_SAME_PROBLEM:
            kept.append(p)
    for message, lines in seen.items():
        if len(lines) > MAX_SAME_PROBLEM:
            rest = lines[MAX_SAME_PROBLEM:]
            kept.append(Problem(rest[0], f"{len(rest)} more like: {message} (lines {rest[0]}-{rest[-1]})"))
    kept.sort(key=lambda p: p.line)
    if len(kept) > MAX_PROBLEMS:
        extra = len(kept) - MAX_PROBLEMS + 1
        kept = [*kept[: MAX_PROBLEMS - 1], Problem(kept[MAX_PROBLEMS - 1].line, f"{extra} more problems not shown")]
    return kept


def _splits_for(metrics: dict[str, Any], ds: Any) -> dict[str, Any]:
    """The measured splits a model-index result refers to: another dataset's when its name says so."""
    name = str(ds.get("name", "")) if hasattr(ds, "get") else ""
    for node in (metrics.get("other_data") or {}).values():
        if isinstance(node, dict) and name and data_info(str(node.get("spec", ""))).display == name:
            return node.get("splits") or {}
    return metrics.get("splits") or {}


def _check_model_index(meta: Any, offset: int, metrics: dict[str, Any] | None) -> list[Problem]:
    problems: list[Problem] = []
    index = meta.get("model-index")
    if index in (None, "", []):
        return problems
    if not isinstance(index, list):
        return [Problem(_line_of_key(meta, "model-index", offset), "model-index must be a list")]
    seen: set[tuple[str, str]] = set()
    for entry in index:
        results = entry.get("results") if hasattr(entry, "get") else None
        if not isinstance(results, list):
            problems.append(Problem(_line_of_node(entry, offset), "model-index entry has no 'results' list"))
            continue
        for res in results:
            if not hasattr(res, "get"):
                continue
            ds = res.get("dataset") or {}
            split = str(ds.get("split", "")) if hasattr(ds, "get") else ""
            mets = res.get("metrics")
            if not isinstance(mets, list):
                problems.append(Problem(_line_of_node(res, offset), "model-index result has no 'metrics' list"))
                continue
            for m in mets:
                if not hasattr(m, "get"):
                    continue
                mtype, value = m.get("type"), m.get("value")
                line = _line_of_key(m, "value", offset) if "value" in m else _line_of_node(m, offset)
                if not isinstance(value, (int, float)) or isinstance(value, bool):
                    problems.append(Problem(line, f"model-index metric '{mtype}' has no numeric value"))
                    continue
                if metrics is None:
                    continue
                splits = _splits_for(metrics, ds)
                if split not in splits:
                    problems.append(Problem(line, f"model-index reports split '{split}', which the run never measured"))
                    continue
                measured = ((splits[split] or {}).get("overall") or {}).get(str(mtype))
                if measured is None:
                    continue
                seen.add((split, str(mtype)))
                if abs(float(value) - float(measured)) > METRIC_TOLERANCE:
                    problems.append(
                        Problem(
                            line,
                            f"model-index {split} {mtype} is {value} but the run measured {float(measured):.4f} "
                            "(word-level, metrics.json)",
                        )
                    )
    if metrics is not None:
        for split, values in (metrics.get("splits") or {}).items():
            for mtype in CARD_METRICS:
                if ((values or {}).get("overall") or {}).get(mtype) is not None and (split, mtype) not in seen:
                    problems.append(
                        Problem(
                            _line_of_key(meta, "model-index", offset, value=False),
                            f"model-index lacks the run's measured {split} {mtype}",
                        )
                    )
    return problems
