"""The front ends read a card's keys (widget examples, repo id) through one reader of its YAML."""

from __future__ import annotations

from pathlib import Path

from bnner_tui.core.card.frontmatter import card_metadata, card_repo_id
from bnner_tui.core.card.render import card_text
from bnner_tui.core.card.widgets import card_widgets


def test_repo_id_and_widgets_come_from_the_yaml(run_dir: Path) -> None:
    widgets = [{"text": "ঢাকা বাংলাদেশের রাজধানী।", "example_title": "ঢাকা"}, {"text": "শুধু লেখা"}]
    text = card_text(run_dir, repo_id="alice/bn-ner", widgets=widgets)
    assert card_repo_id(text) == "alice/bn-ner"
    assert card_widgets(text) == widgets
    assert card_repo_id(card_text(run_dir)) is None  # no repo id given: the run's name is no repo id


def test_a_name_line_elsewhere_is_not_the_repo_id() -> None:
    """The screen used to take the first `- name:` line of the YAML, whatever key it belonged to."""
    text = "---\nauthors:\n- name: bob/not-a-repo\nmodel-index:\n- name: alice/real\n  results: []\n---\n"
    assert card_repo_id(text) == "alice/real"


def test_unreadable_yaml_reads_as_none_and_aliases_are_never_expanded() -> None:
    assert card_widgets("---\nwidget: [\n---\n") is None
    assert card_widgets("no metadata at all\n") is None
    assert card_widgets("---\nlanguage: bn\n---\n") == []
    bomb = "---\na: &a [x, x, x]\nb: &b [*a, *a, *a]\nwidget: [*b, *b]\n---\n"
    assert card_metadata(bomb) is None and card_widgets(bomb) is None
