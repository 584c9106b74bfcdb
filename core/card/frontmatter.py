"""A README's YAML front matter: read safely, split off, its keys read, its problems named by file line.

Every line number this module (and the card code that uses it) reports is a line of the README
file: the YAML block starts on line 2, after the opening `---`, and ruamel's own marks, counted
from 0 inside the block, are shifted by `YAML_FIRST_LINE` before anyone sees them.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from bnner_tui.core.card.errors import CardError, Problem

BEGIN_MARK = "<!-- bnner-tui:begin · generated from the run; text between these markers is replaced on re-render -->"
END_MARK = "<!-- bnner-tui:end -->"
BEGIN_RE = re.compile(r"^<!-- bnner-tui:begin\b.*-->\s*$", re.M)
END_RE = re.compile(r"^<!-- bnner-tui:end -->\s*$", re.M)

# The file line of the YAML block's first line (line 1 is the opening `---`).
YAML_FIRST_LINE = 2

# A model card is a README of a few KB; these caps keep a hostile or broken file from costing
# minutes and gigabytes (a 390-byte YAML alias bomb once took 68 s and 3.7 GB to validate).
MAX_CARD_BYTES = 2_000_000
MAX_METADATA_BYTES = 256_000


def yaml_rt() -> Any:
    """The round-trip YAML loader/dumper that keeps the user's keys, order, comments and quotes."""
    from ruamel.yaml import YAML

    y = YAML(typ="rt")
    y.preserve_quotes = True
    y.width = 4096
    y.indent(mapping=2, sequence=2, offset=0)
    y.default_flow_style = False
    y.allow_unicode = True
    return y


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


def split_front_matter(text: str) -> tuple[str | None, str, int]:
    """(yaml_text or None, body, line number of the body's first line). Accepts CRLF files."""
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].strip() != "---":
        return None, text, 1
    for i in range(1, len(lines)):
        if lines[i].strip() == "---":
            return "".join(lines[1:i]), "".join(lines[i + 1 :]), i + 2
    return None, text, 1


def metadata_hazard(yaml_text: str, offset: int = YAML_FIRST_LINE) -> Problem | None:
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


def yaml_error_problem(err: BaseException, offset: int = YAML_FIRST_LINE) -> Problem:
    """A ruamel parse error as a Problem on its README line. ruamel's own text says "line 2, column
    7" counted inside the YAML block, so only its description is kept and the line is the file's."""
    mark = getattr(err, "problem_mark", None) or getattr(err, "context_mark", None)
    line = mark.line + offset if mark is not None else 1
    problem = getattr(err, "problem", None) or str(err).splitlines()[0]
    return Problem(line, f"the YAML metadata does not parse: {problem}")


def load_metadata(yaml_text: str, offset: int = YAML_FIRST_LINE) -> tuple[Any, Problem | None]:
    """(the YAML block loaded round-trip, None), or (None, the Problem on its README line) when it
    uses an alias or does not parse."""
    hazard = metadata_hazard(yaml_text, offset)
    if hazard is not None:
        return None, hazard
    try:
        return yaml_rt().load(yaml_text), None
    except Exception as err:  # ruamel has several error classes; all carry a mark
        return None, yaml_error_problem(err, offset)


def card_metadata(text: str) -> dict[str, Any] | None:
    """A card's YAML metadata as plain data, or None when it has no block, uses an alias, does not
    parse or is not a mapping (validation says which, and on what line). The one reader of a
    card's keys for the front ends: no line scanning, no alias expansion."""
    yaml_text, _, _ = split_front_matter(text)
    if yaml_text is None or metadata_hazard(yaml_text) is not None:
        return None
    from ruamel.yaml import YAML

    try:
        meta = YAML(typ="safe").load(yaml_text)
    except Exception:  # ruamel has several error classes
        return None
    if meta is None:
        return {}
    return meta if isinstance(meta, dict) else None


def card_repo_id(text: str) -> str | None:
    """The repo id the card names (its model-index entry's `name`), or None when it names none
    that has the form user/name (a card rendered without a repo id carries the run's name)."""
    from bnner_tui.core.card.vocab import REPO_ID_RE

    index = (card_metadata(text) or {}).get("model-index")
    first = index[0] if isinstance(index, list) and index else None
    name = first.get("name") if isinstance(first, dict) else None
    return name if isinstance(name, str) and REPO_ID_RE.match(name) else None
