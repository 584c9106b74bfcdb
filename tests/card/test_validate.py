"""validate_card lists every problem at once, each with the line it is on."""

from __future__ import annotations

from pathlib import Path

from bnner_tui.core.card.render import card_text
from bnner_tui.core.card.validate import validate_card


def _line_of(text: str, needle: str) -> int:
    for i, line in enumerate(text.splitlines(), start=1):
        if needle in line:
            return i
    raise AssertionError(needle)


def test_generated_card_is_valid(run_dir: Path) -> None:
    assert validate_card(card_text(run_dir, repo_id="alice/bn-ner"), run=run_dir) == []


def test_every_problem_at_once_with_its_line(run_dir: Path) -> None:
    good = card_text(run_dir, repo_id="alice/bn-ner")
    bad = (
        good.replace("language: bn", "language: bengali")
        .replace("license: apache-2.0", "license: apache2")
        .replace("- text: রবীন্দ্রনাথ ঠাকুর কলকাতায় জন্মগ্রহণ করেন।", "- text: ''")
        .replace("value: 0.698\n", "value: 0.91\n")
        .replace("pipeline_tag: token-classification\n", "")
    )
    problems = validate_card(bad, run=run_dir)
    by_msg = {p.message: p.line for p in problems}
    assert len(problems) == 5, problems
    assert by_msg["language 'bengali' is not an ISO 639 code (Bengali is 'bn')"] == _line_of(bad, "language: bengali")
    lic = next(p for p in problems if p.message.startswith("license 'apache2'"))
    assert lic.line == _line_of(bad, "license: apache2")
    empty = next(p for p in problems if "empty text" in p.message)
    assert empty.line == _line_of(bad, "- text: ''")
    f1 = next(p for p in problems if "validation f1 is 0.91" in p.message)
    assert f1.line == _line_of(bad, "value: 0.91") and "0.6980" in f1.message
    assert any(p.message == "required key 'pipeline_tag' is missing or empty" for p in problems)
    # Without a run, the numbers are not checked but everything else is.
    assert len(validate_card(bad)) == 4


def test_yaml_error_is_reported_on_its_line(tmp_path: Path) -> None:
    card = tmp_path / "README.md"
    card.write_text("---\nlanguage: bn\nlicense: mit\ntags: [ner\npipeline_tag: x\n---\nbody\n", encoding="utf-8")
    problems = validate_card(card)
    assert len(problems) == 1
    assert "does not parse" in problems[0].message
    assert problems[0].line == 5  # the scanner notices at the line after the unclosed '['
    dup = validate_card("---\nlanguage: bn\nlicense: mit\nlicense: mit\n---\n")
    assert [(p.line, "duplicate key" in p.message) for p in dup] == [(4, True)]


def test_missing_front_matter_and_required_keys(tmp_path: Path) -> None:
    assert validate_card("# just markdown\n")[0].message.startswith("the card has no YAML metadata block")
    assert "never closed" in validate_card("---\nlanguage: bn\n")[0].message
    problems = validate_card("---\nlanguage: bn\nwidget:\n- example_title: t\n---\n")
    msgs = [p.message for p in problems]
    for key in ("license", "tags", "pipeline_tag", "model-index"):
        assert f"required key '{key}' is missing or empty" in msgs
    assert any("widget example 1 has an empty text" in m for m in msgs)


def test_language_list_license_other_and_split_not_measured(run_dir: Path) -> None:
    good = card_text(run_dir, repo_id="alice/bn-ner")
    text = good.replace("language: bn", "language:\n- bn\n- xx").replace("license: apache-2.0", "license: other")
    text = text.replace("split: test", "split: dev")
    msgs = [p.message for p in validate_card(text, run=run_dir)]
    assert "language 'xx' is not an ISO 639 code (Bengali is 'bn')" in msgs
    assert "license 'other' needs license_name and license_link" in msgs
    assert any("split 'dev', which the run never measured" in m for m in msgs)
    assert any("lacks the run's measured test f1" in m for m in msgs)
