"""Every YAML problem of a card names the same line, a line of README.md: the problems panel
(validation) and the refusal to regenerate or merge (core's merge, the Card screen's Regenerate)
must agree, and ruamel's count from the start of the YAML block never reaches the user."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bnner_tui.core.card.errors import CardError
from bnner_tui.core.card.render import card_text, render_card
from bnner_tui.core.card.validate import validate_card

# (README text, the file line of its YAML mistake)
BROKEN = [
    ("---\nlanguage: bn\nlicense: mit: x\n---\nbody\n", 3),
    ("---\nlanguage: bn\nlicense: mit\ntags: [ner\npipeline_tag: x\n---\nbody\n", 5),
    ("---\nlanguage: bn\nlicense: mit\nlicense: cc-by-4.0\n---\nbody\n", 4),
    ("---\nlanguage: bn\n  license: mit\n---\nbody\n", 3),
]


def _lines_named(message: str) -> set[int]:
    return {int(n) for n in re.findall(r"\bline (\d+)", message)}


@pytest.mark.parametrize(("text", "line"), BROKEN)
def test_validation_and_the_merge_refusal_name_the_same_readme_line(run_dir: Path, text: str, line: int) -> None:
    problems = validate_card(text)
    assert [p.line for p in problems] == [line]
    with pytest.raises(CardError) as caught:
        card_text(run_dir, existing=text)  # what Regenerate and the widget buttons call
    message = str(caught.value)
    assert _lines_named(message) == {line}, message
    assert "column" not in message and "<unicode string>" not in message
    assert str(problems[0]) in message  # the panel's wording, word for word


def test_render_refusal_names_the_readme_line(run_dir: Path) -> None:
    readme = run_dir / "model" / "README.md"
    readme.write_text(BROKEN[0][0], encoding="utf-8")
    with pytest.raises(CardError, match=r"^the existing card, line 3: the YAML metadata does not parse"):
        render_card(run_dir)
