"""Layout pins of the Card screen (pytest-textual-snapshot), from a synthetic finished run.

The run is a real folder written the way the training engine lays it out (config.toml from
TrainConfig, events.jsonl from EventWriter, metrics.json, model/config.json with the real
label names) with no training and no weights: the card needs none of them. Its data is a small
Bengali CoNLL folder next to it, so the widget examples are the run's own Bengali sentences
(Bengali widths are deterministic: see tests/tui/test_snapshots.py). Everything is addressed
by relative paths from the test's folder, so no machine-specific path appears on screen.
Update after an intended layout change: `pytest tests/tui/test_snapshots_card.py --snapshot-update`.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pilot_helpers import wait_for

from bnner_tui.core.labels import WIKIANN_LABELS
from bnner_tui.tui.app import BnnerApp

SIZE = (140, 44)
RUN = "alpha-finished"
BENGALI_CONLL = """\
রুবিনা\tB-PER
ভট্টাচার্য\tI-PER
১৮৯০\tO
সালে\tO
ভারতীয়\tB-ORG
জাতীয়\tI-ORG
কংগ্রেসে\tI-ORG
যোগ\tO
দেন\tO
।\tO

ঢাকা\tB-ORG
বিশ্ববিদ্যালয়ের\tI-ORG
শিক্ষার্থীরা\tO
চট্টগ্রামে\tB-LOC
গেছেন\tO
।\tO

শেখ\tB-PER
হাসিনা\tI-PER
খুলনায়\tB-LOC
ভাষণ\tO
দেন\tO
।\tO
"""
METRICS = {
    "level": "word",
    "scheme": "IOB2",
    "decoding": {"method": "viterbi", "trim_punctuation": False, "description": "Viterbi over IOB2-valid paths"},
    "data": {"spec": "bn-data", "name": "bn-data"},
    "splits": {
        "validation": {
            "decoding": "viterbi",
            "loss": 0.4213,
            "overall": {"precision": 0.6512, "recall": 0.6034, "f1": 0.6264, "accuracy": 0.9012},
            "per_type": {
                "LOC": {"precision": 0.61, "recall": 0.55, "f1": 0.578, "support": 38},
                "ORG": {"precision": 0.42, "recall": 0.35, "f1": 0.382, "support": 23},
                "PER": {"precision": 0.74, "recall": 0.69, "f1": 0.714, "support": 35},
            },
            "piece_level": None,
        }
    },
    "best": {"step": 40, "f1": 0.6264},
}


def _finished_run(root: Path) -> Path:
    from bnner_tui.core.config import TrainConfig
    from bnner_tui.core.events import EventWriter

    run = root / RUN
    (run / "model").mkdir(parents=True)
    TrainConfig(preset="cpu-demo", model="offline", data="bn-data", run_name=RUN, output_root="runs").to_toml(
        run / "config.toml"
    )
    (run / "metrics.json").write_text(json.dumps(METRICS, indent=2), encoding="utf-8")
    model_config = {
        "architectures": ["BertForTokenClassification"],
        "model_type": "bert",
        "id2label": {str(i): label for i, label in enumerate(WIKIANN_LABELS)},
        "label2id": {label: i for i, label in enumerate(WIKIANN_LABELS)},
    }
    (run / "model" / "config.json").write_text(json.dumps(model_config, indent=2), encoding="utf-8")
    with EventWriter(run / "events.jsonl") as events:
        events.emit("started", model_kind="offline", model_name="offline small BERT", total_steps=40)
        events.emit("finished", step=40, best_f1=0.6264, best_step=40, duration_s=95.0)
    return run


@pytest.fixture
def card_workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "bn-data").mkdir()
    for split in ("train", "validation"):
        (tmp_path / "bn-data" / f"{split}.conll").write_text(BENGALI_CONLL, encoding="utf-8")
    _finished_run(Path("runs"))
    return tmp_path


async def _card_settled(pilot, problems: int) -> None:
    """The card is in the editor, validated, its widget list filled and its preview rendered."""
    from textual.widgets import DataTable, Markdown, OptionList, TextArea

    from bnner_tui.tui.screens.card import card_body

    screen = pilot.app.screen
    editor = screen.query_one("#editor", TextArea)
    await wait_for(pilot, lambda: bool(editor.text), timeout=60.0, what="the card in the editor")
    if screen._timer is not None:  # the edit debounce that load_text started: settle it now
        screen._timer.stop()
    screen._refresh_now()
    await wait_for(pilot, lambda: len(screen.problems) == problems, timeout=60.0, what=f"{problems} problem(s)")
    options = screen.query_one("#problems", OptionList)
    await wait_for(pilot, lambda: options.option_count == max(problems, 1), timeout=60.0, what="the problems panel")
    table = screen.query_one("#widgets", DataTable)
    await wait_for(pilot, lambda: table.row_count == len(screen.widgets), timeout=60.0, what="the widget list")
    # Markdown.update renders under the widget's lock: one more update, awaited, lands after it.
    await screen.query_one("#preview", Markdown).update(card_body(editor.text))
    screen.set_focus(None)
    pilot.app.clear_notifications()
    await pilot.pause()


def test_card_screen_a_finished_runs_fresh_card(snap_compare, card_workspace: Path) -> None:
    """A fresh card, valid, with the run's own Bengali sentences as widget examples."""

    async def run_before(pilot) -> None:
        await _card_settled(pilot, problems=0)
        widgets = pilot.app.screen.widgets
        assert widgets and all(w["text"][0] >= "\u0980" for w in widgets)  # Bengali, from bn-data

    app = BnnerApp(runs_root=Path("runs"), start="card")
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def _saved_card(workspace: Path, edit) -> None:
    from bnner_tui.core.card.render import card_text

    run = Path("runs") / RUN
    widgets = [{"text": "ঢাকা বিশ্ববিদ্যালয়ের শিক্ষার্থীরা চট্টগ্রামে গেছেন।", "example_title": "ORG + LOC"}]
    text = card_text(run, widgets=widgets)
    (workspace / run / "model" / "README.md").write_text(edit(text), encoding="utf-8")


def test_card_screen_validation_problems_on_their_lines(snap_compare, card_workspace: Path) -> None:
    """A saved card with a wrong licence, a made-up language and a number the run never measured."""

    def edit(text: str) -> str:
        text = text.replace("license: apache-2.0", "license: apache", 1).replace("language: bn", "language: xx", 1)
        return text.replace("value: 0.6264", "value: 0.9", 1)

    _saved_card(card_workspace, edit)

    async def run_before(pilot) -> None:
        await _card_settled(pilot, problems=3)

    app = BnnerApp(runs_root=Path("runs"), start="card")
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)


def test_card_screen_yaml_that_does_not_parse(snap_compare, card_workspace: Path) -> None:
    """A saved card whose YAML breaks on its licence line: one problem, on that line of README.md."""
    _saved_card(card_workspace, lambda text: text.replace("license: apache-2.0", "license: apache-2.0: x", 1))

    async def run_before(pilot) -> None:
        await _card_settled(pilot, problems=1)
        editor_lines = pilot.app.screen.query_one("#editor").text.splitlines()
        licence = next(i for i, line in enumerate(editor_lines) if line.startswith("license:")) + 1
        assert [p.line for p in pilot.app.screen.problems] == [licence] == [4]

    app = BnnerApp(runs_root=Path("runs"), start="card")
    assert snap_compare(app, terminal_size=SIZE, run_before=run_before)
