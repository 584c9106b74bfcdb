"""Validation of a card: every problem at once, each on its README line, and the numbers checked against the run.

The vocabularies (licences, language codes) are in `vocab`; the caps on how many problems are
listed keep a card with a thousand identical mistakes to a screenful.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bnner_tui.core.card.errors import Problem
from bnner_tui.core.card.facts import RunInfo, data_info, run_metrics
from bnner_tui.core.card.frontmatter import (
    MAX_CARD_BYTES,
    YAML_FIRST_LINE,
    load_metadata,
    read_card_file,
    split_front_matter,
)
from bnner_tui.core.card.vocab import CARD_METRICS, HUB_LICENSES, REQUIRED_KEYS, valid_language

# A model-index value is written with 4 decimals; anything further off than that is a different number.
METRIC_TOLERANCE = 1e-4
MAX_PROBLEMS = 50
MAX_SAME_PROBLEM = 3


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
    offset = YAML_FIRST_LINE  # ruamel counts from 0 inside the block
    meta, problem = load_metadata(yaml_text, offset)
    if problem is not None:
        return [problem]
    if meta is None or not hasattr(meta, "get") or isinstance(meta, str):
        return [Problem(offset, "the YAML metadata must be a mapping of keys to values")]
    for key in REQUIRED_KEYS:
        if key not in meta or meta.get(key) in (None, "", []):
            problems.append(Problem(1, f"required key '{key}' is missing or empty"))

    lang = meta.get("language")
    if lang not in (None, "", []):
        codes = lang if isinstance(lang, list) else [lang]
        for i, code in enumerate(codes):
            if not valid_language(code):
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

    problems += _check_model_index(meta, offset, run_metrics(run))
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
