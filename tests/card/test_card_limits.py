"""Hostile or broken cards: YAML alias bombs are refused before they expand, cards are size-capped,
and repeated problems are grouped, in `card validate`, `card render` and `publish --dry-run`."""

from __future__ import annotations

import time
from pathlib import Path

from typer.testing import CliRunner

from bnner_tui.core.card.errors import Problem
from bnner_tui.core.card.validate import MAX_SAME_PROBLEM, group_problems, validate_card
from bnner_tui.tui.cli import app

runner = CliRunner()


def _bomb(key: str, levels: int = 9) -> str:
    """`levels` lists of 9 aliases to the previous one under `key`: 9**levels leaves if expanded."""
    rows = ["- &a0 [x,x,x,x,x,x,x,x,x]"]
    rows += [f"- &a{i} [{','.join([f'*a{i - 1}'] * 9)}]" for i in range(1, levels)]
    return f"---\nlicense: mit\n{key}:\n" + "\n".join(rows) + "\n---\n# card\n"


MODEL_INDEX_BOMB = (
    "---\nlicense: mit\nlanguage: bn\nmodel-index:\n- name: m\n  results:\n"
    "  - &r0 {task: {type: token-classification}, metrics: [{type: f1, value: nope}]}\n"
    + "".join(f"  - &r{i} [{', '.join([f'*r{i - 1}'] * 9)}]\n" for i in range(1, 9))
    + "---\n"
)


def test_alias_bomb_under_language_is_refused_quickly() -> None:
    text = _bomb("language")
    assert len(text) < 450
    t0 = time.monotonic()
    problems = validate_card(text)
    took = time.monotonic() - t0
    assert [p.message.split(":")[0] for p in problems] == ["the YAML metadata uses the alias *a0"]
    assert problems[0].line == 5  # the first alias, in the file's numbering
    assert took < 5, took  # today: 68 s and 3.7 GB; parse events only cost time linear in the text


def test_model_index_bomb_gives_one_problem_not_megabytes() -> None:
    problems = validate_card(MODEL_INDEX_BOMB)
    assert len(problems) == 1 and "alias *r0" in problems[0].message


def test_plain_anchor_without_alias_is_fine() -> None:
    text = "---\nlicense: mit\nlanguage: &l bn\ntags: [ner]\nlibrary_name: transformers\n---\n"
    assert all("alias" not in p.message for p in validate_card(text))


def test_card_too_big(tmp_path: Path) -> None:
    big = tmp_path / "README.md"
    big.write_text("---\nlicense: mit\n---\n" + "x" * 2_100_000, encoding="utf-8")
    result = runner.invoke(app, ["card", "validate", str(big)])
    assert result.exit_code == 2
    assert "a model card is at most 2 MB" in result.stderr


def test_big_metadata_is_refused() -> None:
    text = "---\nlicense: mit\ntags:\n" + "- t\n" * 100_000 + "---\n"
    problems = validate_card(text)
    assert len(problems) == 1 and "card metadata is at most 256 KB" in problems[0].message


def test_repeated_problems_are_grouped() -> None:
    many = [Problem(10 + i, "model-index metric 'f1' has no numeric value") for i in range(1000)]
    grouped = group_problems([Problem(3, "license 'x' is not a Hub licence identifier"), *many])
    assert len(grouped) == 1 + MAX_SAME_PROBLEM + 1
    assert grouped[-1].message.startswith("997 more like: model-index metric 'f1' has no numeric value (lines 13-1009)")
    distinct = group_problems([Problem(i, f"problem {i}") for i in range(500)])
    assert len(distinct) == 50 and distinct[-1].message == "451 more problems not shown"


def test_render_and_publish_refuse_a_bomb_in_the_existing_card(run_dir: Path) -> None:
    readme = run_dir / "model" / "README.md"
    readme.write_text(_bomb("language"), encoding="utf-8")
    before = readme.read_bytes()
    render = runner.invoke(app, ["card", "render", str(run_dir)])
    assert render.exit_code == 2, render.output
    assert "the existing card, line 5: the YAML metadata uses the alias *a0" in render.stderr
    assert readme.read_bytes() == before  # nothing written, the bomb is not carried into a new card
    dry = runner.invoke(app, ["publish", str(run_dir), "--repo", "alice/bn-ner", "--dry-run"])
    assert dry.exit_code == 2, dry.output
    assert "uses the alias *a0" in dry.stderr
    assert "Traceback" not in dry.output
