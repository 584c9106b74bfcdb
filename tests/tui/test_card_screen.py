"""The Card screen on a real finished run folder (config.toml, metrics.json, a saved tiny model)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from pilot_helpers import wait_for
from textual.widgets import Button

from bnner_tui.core.card.widgets import card_widgets
from bnner_tui.tui.app import BnnerApp
from bnner_tui.tui.screens.card import CardScreen
from bnner_tui.tui.screens.publish import PublishDialog

SIZE = (120, 40)
METRICS = {
    "level": "word",
    "scheme": "IOB2",
    "splits": {
        "validation": {
            "loss": 0.5,
            "overall": {"precision": 0.5, "recall": 0.4, "f1": 0.4444, "accuracy": 0.8},
            "per_type": {"PER": {"precision": 0.5, "recall": 0.4, "f1": 0.4444, "support": 10}},
            "piece_level": None,
        }
    },
    "best": {"step": 10, "f1": 0.4444},
}


def make_finished_run(root: Path, name: str, model_dir: Path) -> Path:
    from bnner_tui.core.config import TrainConfig
    from bnner_tui.core.events import EventWriter

    run = root / name
    run.mkdir(parents=True)
    TrainConfig(data="demo", model="offline", run_name=name, output_root=str(root)).to_toml(run / "config.toml")
    (run / "metrics.json").write_text(json.dumps(METRICS), encoding="utf-8")
    shutil.copytree(model_dir, run / "model")
    with EventWriter(run / "events.jsonl") as events:
        events.emit("started", total_steps=10)
        events.emit("finished", step=10, best_f1=0.4444, duration_s=3.0)
    return run


@pytest.fixture
def run_dir(tmp_path: Path, tiny_model_dir: Path) -> Path:
    return make_finished_run(tmp_path / "runs", "tiny", tiny_model_dir)


def card_screen(app: BnnerApp) -> CardScreen:
    assert isinstance(app.screen, CardScreen)
    return app.screen


async def open_card(pilot, app: BnnerApp) -> CardScreen:
    """The card is loaded in a worker; wait until the editor, the preview and the widget list show it."""
    screen = card_screen(app)
    await wait_for(pilot, lambda: bool(screen.query_one("#editor").text))

    def settled() -> bool:
        table = screen.query_one("#widgets")
        if not screen.widgets or table.row_count != len(screen.widgets):
            return False
        # The table's row-highlight message fills the inputs; it must land before a test types there.
        row = screen.widgets[max(table.cursor_row, 0)]
        return screen.query_one("#widget-text").value == row["text"]

    await wait_for(pilot, settled, what="the card's widget examples")
    return screen


async def test_generated_card_is_shown_valid_and_previewed(run_dir: Path) -> None:
    app = BnnerApp(runs_root=run_dir.parent, start="card")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_card(pilot, app)
        assert screen.run_dir == run_dir
        text = screen.query_one("#editor").text
        assert text.startswith("---\n") and "model-index" in text
        assert screen.problems == []
        assert "fit to publish" in str(screen.query_one("#problems").get_option_at_index(0).prompt)
        preview = screen.query_one("#preview")
        assert "Bengali named-entity recognition" in preview.source
        assert not preview.source.startswith("---")  # the preview is the body, metadata stays in the editor
        assert screen.widgets and screen.query_one("#widgets").row_count == len(screen.widgets)
        assert not (run_dir / "model" / "README.md").exists()  # nothing written until Save


async def test_edit_shows_problem_with_line_and_jump(run_dir: Path) -> None:
    app = BnnerApp(runs_root=run_dir.parent, start="card")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_card(pilot, app)
        editor = screen.query_one("#editor")
        lines = editor.text.splitlines()
        lic = next(i for i, line in enumerate(lines) if line.startswith("license:"))
        # Edit in the editor itself: select the licence line and type a wrong value.
        editor.focus()
        editor.move_cursor((lic, len("license: ")))
        editor.move_cursor((lic, len(lines[lic])), select=True)
        for ch in "not-a-licence":  # typing replaces the selected value
            await pilot.press("minus" if ch == "-" else ch)
        await wait_for(pilot, lambda: editor.text.splitlines()[lic] == "license: not-a-licence")
        # Validation follows the edit after a debounce (a slow machine may validate a half-typed value first).
        await wait_for(pilot, lambda: any("not-a-licence" in p.message for p in screen.problems))
        problem = screen.problems[0]
        assert problem.line == lic + 1 and "license" in problem.message
        options = screen.query_one("#problems")
        assert str(options.get_option_at_index(0).prompt).startswith(f"line {lic + 1}:")
        editor.move_cursor((0, 0))
        options.focus()
        options.highlighted = 0
        await pilot.press("enter")
        await wait_for(pilot, lambda: editor.cursor_location[0] == lic)
        assert screen.is_dirty()


async def test_save_writes_atomically_and_keeps_a_backup(run_dir: Path) -> None:
    app = BnnerApp(runs_root=run_dir.parent, start="card")
    readme = run_dir / "model" / "README.md"
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_card(pilot, app)
        await pilot.press("ctrl+s")
        await wait_for(pilot, readme.is_file)
        first = readme.read_text(encoding="utf-8")
        assert first == screen.query_one("#editor").text
        assert not screen.is_dirty()
        screen.query_one("#editor").insert("\nA line the user wrote.\n", location=(len(first.splitlines()), 0))
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: "A line the user wrote." in readme.read_text(encoding="utf-8"))
        assert (run_dir / "model" / "README.md.~1~").read_text(encoding="utf-8") == first
        assert any("README.md.~1~" in n.message for n in app._notifications)
    # Re-opening shows the saved card (the user's edit), not a regenerated one.
    app2 = BnnerApp(runs_root=run_dir.parent, start="card")
    async with app2.run_test(size=SIZE) as pilot:
        screen = await open_card(pilot, app2)
        assert "A line the user wrote." in screen.query_one("#editor").text


async def test_widget_examples_edit_as_a_list(run_dir: Path) -> None:
    app = BnnerApp(runs_root=run_dir.parent, start="card")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_card(pilot, app)
        before = list(screen.widgets)
        screen.query_one("#widget-title").value = "Dhaka"
        screen.query_one("#widget-text").value = "ঢাকা বাংলাদেশের রাজধানী।"
        added = {"text": "ঢাকা বাংলাদেশের রাজধানী।", "example_title": "Dhaka"}
        editor = screen.query_one("#editor")
        table = screen.query_one("#widgets")
        # press(), not a Pilot click: under a loaded 2-core CI run, 1 run in 3 lost the simulated
        # click (inputs intact, no notification, the button uncovered); pressing is what a click does.
        screen.query_one("#widget-add", Button).press()
        # The press reaches the screen as a Button.Pressed message: wait for it, not for one pause.
        await wait_for(pilot, lambda: card_widgets(editor.text) == [*before, added], what="the added example")
        await wait_for(pilot, lambda: table.row_count == len(before) + 1)
        table.move_cursor(row=0)
        screen.query_one("#widget-del", Button).press()
        await wait_for(pilot, lambda: card_widgets(editor.text) == [*before[1:], added])
        await wait_for(pilot, lambda: table.row_count == len(before))
        assert screen.problems == []


async def test_publish_dry_run_lists_files_then_offline_publish_fails_clearly(run_dir: Path) -> None:
    app = BnnerApp(runs_root=run_dir.parent, start="card")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_card(pilot, app)
        await pilot.press("ctrl+g")
        await wait_for(pilot, lambda: isinstance(app.screen, PublishDialog))
        dialog = app.screen
        assert isinstance(dialog, PublishDialog)
        assert not (run_dir / "model" / "README.md").exists()  # opening the dialog writes nothing
        assert dialog.query_one("#publish").disabled
        dialog.query_one("#repo-id").value = "someone/bn-ner-tiny"
        await pilot.click("#dry-run")
        await wait_for(pilot, lambda: dialog.planned is not None and dialog.query_one("#plan").row_count > 0)
        await wait_for(pilot, lambda: not dialog.query_one("#publish").disabled)
        table = dialog.query_one("#plan")
        files = [table.get_row_at(i)[0] for i in range(table.row_count)]
        assert files[0] == "README.md" and "model.safetensors" in files and "config.json" in files
        assert "events.jsonl" not in files and "metrics.json" not in files
        assert "in one commit to someone/bn-ner-tiny" in str(dialog.query_one("#plan-total").render())
        assert dialog.outcome is not None and "nothing was uploaded" in dialog.outcome
        assert not dialog.query_one("#publish").disabled
        await pilot.click("#publish")
        await wait_for(pilot, lambda: dialog.outcome is not None and not dialog.outcome.startswith("publishing"))
        assert dialog.outcome.startswith("Not published: ")
        assert "\n" not in dialog.outcome
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is screen)


def _tree(root: Path) -> dict[str, tuple[int, int, bytes]]:
    """Every file and folder under `root`: size, mtime (ns), bytes for files."""
    return {
        str(p.relative_to(root)): (p.lstat().st_size, p.lstat().st_mtime_ns, p.read_bytes() if p.is_file() else b"")
        for p in sorted([root, *root.rglob("*")])
    }


@pytest.mark.parametrize("saved_card", [False, True])
async def test_publish_dry_run_of_unsaved_edits_writes_nothing(run_dir: Path, saved_card: bool) -> None:
    """Publish… then Dry run, with edits not saved: the plan holds the editor's text, the run
    folder is untouched (no README.md, no backup), and the dialog says what Publish would write."""
    readme = run_dir / "model" / "README.md"
    if saved_card:
        readme.write_text("---\nlicense: mit\n---\n# Saved by the user\n", encoding="utf-8")
    app = BnnerApp(runs_root=run_dir.parent, start="card")
    async with app.run_test(size=SIZE) as pilot:
        screen = card_screen(app)
        await wait_for(pilot, lambda: bool(screen.query_one("#editor").text))
        editor = screen.query_one("#editor")
        editor.load_text(editor.text + "\nAn unsaved sentence.\n")
        await wait_for(pilot, screen.is_dirty)
        before = _tree(run_dir.parent)
        await pilot.press("ctrl+g")
        await wait_for(pilot, lambda: isinstance(app.screen, PublishDialog))
        dialog = app.screen
        dialog.query_one("#repo-id").value = "someone/bn-ner-tiny"
        await pilot.click("#dry-run")
        await wait_for(pilot, lambda: dialog.planned is not None)
        assert _tree(run_dir.parent) == before
        assert "An unsaved sentence." in dialog.planned.card  # the dry run plans what the editor holds
        assert dialog.outcome is not None and "nothing was uploaded or written" in dialog.outcome
        assert str(readme) in dialog.outcome
        assert screen.is_dirty()  # still unsaved: nothing pretended otherwise
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is screen)
        assert _tree(run_dir.parent) == before


async def test_no_finished_run_says_what_to_do(tmp_path: Path) -> None:
    app = BnnerApp(runs_root=tmp_path / "runs", start="card")
    async with app.run_test(size=SIZE) as pilot:
        screen = card_screen(app)
        await wait_for(pilot, lambda: "No finished run yet" in str(screen.query_one("#card-status").render()))
        await pilot.press("ctrl+g")
        await pilot.pause()
        assert app.screen is screen  # nothing to publish: no dialog (a negative check, so one pause)


async def test_regenerate_refuses_broken_yaml_naming_the_line_the_panel_shows(run_dir: Path) -> None:
    """One line number for one mistake: the problems panel and Regenerate's refusal both count
    lines of README.md (the regenerate worker raises; the screen's one worker-error handler says it)."""
    app = BnnerApp(runs_root=run_dir.parent, start="card")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_card(pilot, app)
        editor = screen.query_one("#editor")
        editor.load_text("---\nlanguage: bn\nlicense: mit: x\n---\nbody\n")
        await wait_for(pilot, lambda: [p.line for p in screen.problems] == [3], what="the YAML problem on line 3")
        app.clear_notifications()
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: bool(app._notifications), what="the refusal")
        message = next(iter(app._notifications)).message
        assert message.startswith("the existing card, line 3: the YAML metadata does not parse")
        assert "column" not in message
        assert editor.text == "---\nlanguage: bn\nlicense: mit: x\n---\nbody\n"  # nothing was replaced


async def test_regenerate_refreshes_the_measured_parts_and_keeps_the_users_words(run_dir: Path) -> None:
    app = BnnerApp(runs_root=run_dir.parent, start="card")
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_card(pilot, app)
        editor = screen.query_one("#editor")
        mine = editor.text.replace("language: bn\n", "language: bn\nmy_key: mine  # kept\n", 1)
        mine += "\nMy closing words.\n"
        mine = mine.replace("value: 0.4444", "value: 0.1", 1)
        editor.load_text(mine)
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: "value: 0.1\n" not in editor.text, what="the regenerated card")
        assert "My closing words." in editor.text and "my_key: mine  # kept\n" in editor.text
        await wait_for(pilot, lambda: screen.problems == [], what="a valid card")


async def test_a_card_that_cannot_be_loaded_says_why_in_the_status_line(run_dir: Path) -> None:
    (run_dir / "model" / "README.md").write_bytes(b"---\0binary")
    app = BnnerApp(runs_root=run_dir.parent, start="card")
    async with app.run_test(size=SIZE) as pilot:
        screen = card_screen(app)
        status = screen.query_one("#card-status")
        await wait_for(pilot, lambda: "binary file" in str(status.render()), what="the status line")
        assert str(status.render()).startswith("tiny: ")


async def test_widget_examples_fit_a_100_column_terminal(run_dir: Path) -> None:
    """At 100x30 the example table's fixed columns (22 + 60 cells) ran past its 46-cell box and
    the example-text box beside three buttons was 4 cells wide."""
    from textual.widgets import DataTable, Input

    app = BnnerApp(runs_root=run_dir.parent, start="card")
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_card(pilot, app)
        table = screen.query_one("#widgets", DataTable)
        await wait_for(pilot, lambda: table.row_count > 0 and screen._widgets_width > 0, what="the examples")
        await pilot.pause()
        assert table.virtual_size.width <= table.scrollable_content_region.width, (
            table.virtual_size.width,
            table.scrollable_content_region.width,
        )
        assert screen.query_one("#widget-text", Input).size.width >= 20
        box = screen.query_one("#widgets-box").region
        for button in screen.query("#widget-buttons Button").results(Button):
            assert box.contains_region(button.region), button.id
        wide = table.virtual_size.width
        await pilot.resize_terminal(160, 45)
        await wait_for(pilot, lambda: table.virtual_size.width > wide, what="the columns widened with the box")
        assert table.virtual_size.width <= table.scrollable_content_region.width
