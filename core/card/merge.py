"""Merging a freshly built card into the README already there, without losing a word of the user's.

YAML is merged round-trip (ruamel.yaml), so unknown keys, their order and comments survive; in
the body only the text between the bnner-tui markers is regenerated.
"""

from __future__ import annotations

import io

from bnner_tui.core.card.errors import CardError
from bnner_tui.core.card.frontmatter import BEGIN_RE, END_RE, load_metadata, split_front_matter, yaml_rt

# Keys the run measures: always refreshed. The user's choices (language, license, widget) are kept.
MEASURED_KEYS = ["library_name", "datasets", "tags", "base_model", "pipeline_tag", "metrics", "model-index"]


def merge_card(existing: str, fresh: str, *, license: str | None = None, widgets_given: bool = False) -> str:
    """Update an existing README with a freshly built card without losing the user's work.

    YAML: the existing mapping is kept (unknown keys, their order and comments survive); measured
    keys are replaced with the run's values, tags are extended, and license/language/widget stay the
    user's unless given explicitly. Body: only the text between the bnner-tui markers is replaced; a
    body without markers is kept and the generated section is appended after it. A YAML block that
    cannot be merged is refused with its line in the README file, as validation names it.
    """
    y = yaml_rt()
    old_yaml, old_body, _ = split_front_matter(existing)
    new_yaml, new_body, _ = split_front_matter(fresh)
    new_meta = y.load(new_yaml or "") or {}
    meta = None
    if old_yaml is not None:
        meta, problem = load_metadata(old_yaml)
        if problem is not None:
            raise CardError(f"the existing card, {problem}; fix it or move it away first.")
    if meta is None:
        from ruamel.yaml.comments import CommentedMap

        meta = CommentedMap()
    if not hasattr(meta, "items") or isinstance(meta, str):
        raise CardError("the existing card's YAML metadata is not a mapping; fix it or move it away first.")
    for key in MEASURED_KEYS:
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
    m_begin, m_end = BEGIN_RE.search(old_body), END_RE.search(old_body)
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
    m_begin, m_end = BEGIN_RE.search(body), END_RE.search(body)
    if not (m_begin and m_end):
        return body
    return body[m_begin.start() : m_end.end()] + "\n"
