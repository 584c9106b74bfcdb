"""The Tag screen with a real (tiny, random-init) token classifier saved like a run's model/."""

from __future__ import annotations

import json
import shutil
import threading
from pathlib import Path
from typing import Any

import pytest
from pilot_helpers import MessageLog, type_text, wait_for

from bnner_tui.tui.app import BnnerApp
from bnner_tui.tui.screens.tag import ExportDialog, Tagged, TagScreen, highlight

SIZE = (120, 40)
LOAD_S = 120.0  # the first model load imports torch and transformers in a worker: slow on a loaded CI box
TEXT = "রবীন্দ্রনাথ ঠাকুর কলকাতায় জন্মগ্রহণ করেন।"


def make_run(root: Path, name: str, model_dir: Path) -> Path:
    from bnner_tui.core.config import TrainConfig

    run = root / name
    run.mkdir(parents=True)
    TrainConfig(data="demo", model="offline", run_name=name, output_root=str(root)).to_toml(run / "config.toml")
    shutil.copytree(model_dir, run / "model")
    from bnner_tui.core.events import EventWriter

    with EventWriter(run / "events.jsonl") as events:  # a finished run, as the runs listing sees it
        events.emit("started", total_steps=1)
        events.emit("finished", step=1, best_f1=0.0, duration_s=1.0)
    return run


@pytest.fixture
def runs_root(tmp_path: Path, tiny_model_dir: Path) -> Path:
    root = tmp_path / "runs"
    make_run(root, "tiny", tiny_model_dir)
    return root


def tag_screen(app: BnnerApp) -> TagScreen:
    assert isinstance(app.screen, TagScreen)
    return app.screen


def written_lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines() if path.is_file() else []


def messages(app: BnnerApp) -> list[str]:
    return [n.message for n in app._notifications]


def test_highlight_keeps_raw_text_and_marks_each_entity() -> None:
    from bnner_tui.core.tagger import Entity

    raw = "Dhaka is in Bangladesh"
    ents = [Entity("Dhaka", "LOC", 0, 5, 0.9), Entity("Bangladesh", "LOC", 12, 22, 0.8)]
    text = highlight(raw, ents)
    assert text.plain == "Dhaka LOC is in Bangladesh LOC"
    styled = [text.plain[s.start : s.end] for s in text.spans if "on #" in str(s.style)]
    assert styled == ["Dhaka", "Bangladesh"]


async def test_newest_run_model_loads_and_typed_bengali_is_tagged(runs_root: Path) -> None:
    app = BnnerApp(runs_root=runs_root, start="tag")
    async with app.run_test(size=SIZE) as pilot:
        screen = tag_screen(app)
        await wait_for(pilot, lambda: screen.tagger is not None, LOAD_S)
        assert screen.model_spec == str(runs_root / "tiny")
        status = str(screen.query_one("#model-status").render())
        assert "model: run" in status
        assert "· fp32 ·" in status  # what the forward pass runs in: the tiny model is too small for bf16
        legend = str(screen.query_one("#legend").render())
        assert "PER" in legend and "ORG" in legend and "LOC" in legend
        area = screen.query_one("#text")
        area.focus()
        area.clear()
        await type_text(pilot, TEXT)
        await wait_for(pilot, lambda: area.text == TEXT)
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: screen.result is not None and screen.result.text == TEXT)
        result = screen.result
        await wait_for(pilot, lambda: screen.query_one("#entities").row_count == len(result.entities))
        table = screen.query_one("#entities")
        assert table.row_count == len(result.entities)
        for i, e in enumerate(result.entities):
            assert TEXT[e.start : e.end] == e.text
            row = table.get_row_at(i)
            assert (str(row[0]), row[1], row[3], row[4]) == (e.text, e.label, e.start, e.end)
        # Words cover the raw text exactly, whatever the random model predicted.
        assert [w.text for w in result.words][:2] == ["রবীন্দ্রনাথ", "ঠাকুর"]


async def test_loading_status_then_bad_model_is_a_notification(runs_root: Path, tmp_path: Path) -> None:
    app = BnnerApp(runs_root=runs_root, start="tag")
    async with app.run_test(size=SIZE) as pilot:
        screen = tag_screen(app)
        await wait_for(pilot, lambda: screen.tagger is not None, LOAD_S)
        missing = tmp_path / "no-model"
        screen.load_model(str(missing))
        assert str(screen.query_one("#model-status").render()).startswith("loading model…")
        await wait_for(pilot, lambda: any(str(missing) in m for m in messages(app)))
        msg = next(m for m in messages(app) if str(missing) in m)
        assert "\n" not in msg and "Traceback" not in msg
        status = screen.query_one("#model-status")
        await wait_for(pilot, lambda: "failed to load" in str(status.render()))
        assert not str(status.render()).startswith("loading model…")
        # The model that worked is still there and still tags.
        assert screen.tagger is not None
        # A tagging result that lands after the failure adds to the status line; it never hides it.
        screen.result = None
        screen.action_tag()
        await wait_for(pilot, lambda: screen.result is not None)
        assert "failed to load" in str(status.render()) and "entit" in str(status.render())
        # Asking for a model again is something new: the old failure is no longer the news.
        screen.load_model(screen.model_spec)
        await wait_for(pilot, lambda: "failed to load" not in str(status.render()))


class HeldTagger:
    """A real tagger whose tagging of `held` text waits until the test lets it go.

    The model is the real tiny one; only the timing is the test's: the held tagging finishes
    after a newer request, as a slow one on a busy machine would."""

    def __init__(self, tagger: Any, held: str) -> None:
        self._tagger = tagger
        self.held = held
        self.release = threading.Event()
        self.started = 0  # taggings of `held` begun
        self.labels = tagger.labels
        self.device = tagger.device
        self.source = tagger.source
        self.warnings: list[str] = []

    def tag(self, text: str) -> Any:
        if text == self.held:
            self.started += 1
            assert self.release.wait(60), "the test never released the held tagging"
        return self._tagger.tag(text)


async def test_a_late_tag_result_never_replaces_a_newer_one(runs_root: Path) -> None:
    log = MessageLog()
    app = BnnerApp(runs_root=runs_root, start="tag")
    async with app.run_test(size=SIZE, message_hook=log) as pilot:
        screen = tag_screen(app)
        await wait_for(pilot, lambda: screen.result is not None, LOAD_S)
        area = screen.query_one("#text")
        old, new = "ঢাকা বাংলাদেশের রাজধানী।", TEXT
        held = HeldTagger(screen.tagger, held=old)
        screen.taggers["held"] = held

        def late_answers() -> list[Tagged]:
            return [m for m in log.of(Tagged) if m.result.text == old]

        area.load_text(old)
        screen.load_model("held")  # from the cache: switches at once and tags `old` (held)
        # >= 1: the typing pause after load_text may start a second tagging of `old` (held too)
        await wait_for(pilot, lambda: screen.tagger is held and held.started >= 1)
        area.load_text(new)  # tagged after the typing pause, while `old` is still held
        await wait_for(pilot, lambda: screen.result is not None and screen.result.text == new)
        held.release.set()
        await wait_for(pilot, lambda: len(late_answers()) == held.started)
        await pilot.pause()  # the late answers' handlers have run
        assert screen.result.text == new
        assert str(screen.query_one("#highlighted").render()).startswith(new.split()[0])

        # A tagging in flight when the text is cleared answers a text that is gone.
        held.release.clear()
        started = held.started
        area.load_text(old)
        await wait_for(pilot, lambda: held.started > started)
        screen.query_one("#entities").focus()
        await pilot.press("ctrl+n")
        await wait_for(pilot, lambda: area.text == "" and screen.result is None)
        held.release.set()
        await wait_for(pilot, lambda: len(late_answers()) == held.started)
        await pilot.pause()
        assert screen.result is None and str(screen.query_one("#highlighted").render()) == ""


async def test_copy_and_export_with_backup(runs_root: Path, tmp_path: Path) -> None:
    app = BnnerApp(runs_root=runs_root, start="tag")
    async with app.run_test(size=SIZE) as pilot:
        screen = tag_screen(app)
        await wait_for(pilot, lambda: screen.result is not None, LOAD_S)
        screen.query_one("#entities").focus()
        await pilot.press("ctrl+b")
        copied = json.loads(app.clipboard)
        assert copied["text"] == screen.result.text
        assert len(copied["entities"]) == len(screen.result.entities)

        out = tmp_path / "tagged.jsonl"
        for round_ in range(2):
            await pilot.press("ctrl+g")
            await wait_for(pilot, lambda: isinstance(app.screen, ExportDialog))
            app.screen.query_one("#export-path").value = str(out)
            await pilot.press("enter")
            await wait_for(pilot, lambda: isinstance(app.screen, TagScreen))
            await wait_for(pilot, lambda n=round_ + 1: len(written_lines(out)) == n)
            if round_ == 0:
                lines = written_lines(out)
                assert [json.loads(line)["text"] for line in lines] == [screen.result.text]
                area = screen.query_one("#text")
                area.load_text(TEXT)
                await pilot.press("ctrl+r")
                await wait_for(pilot, lambda: screen.result is not None and screen.result.text == TEXT)
        lines = out.read_text(encoding="utf-8").splitlines()
        assert len(lines) == 2
        backup = tmp_path / "tagged.jsonl.~1~"
        assert backup.exists() and len(backup.read_text(encoding="utf-8").splitlines()) == 1


async def test_selected_run_is_followed(runs_root: Path, tiny_model_dir: Path) -> None:
    second = make_run(runs_root, "second", tiny_model_dir)
    app = BnnerApp(runs_root=runs_root, start="tag")
    async with app.run_test(size=SIZE) as pilot:
        screen = tag_screen(app)
        await wait_for(pilot, lambda: screen.tagger is not None, LOAD_S)
        app.selected_run = runs_root / "tiny"
        await wait_for(pilot, lambda: screen.model_spec == str(runs_root / "tiny"), LOAD_S)
        app.selected_run = second
        await wait_for(pilot, lambda: screen.model_spec == str(second), LOAD_S)
        assert set(screen.taggers) == {str(runs_root / "tiny"), str(second)}


async def test_clear_and_select_all_and_the_status_after_clearing(runs_root: Path) -> None:
    """Cleared text: no entity count in the status, no highlights, no rows (it said "· 5 entities")."""
    app = BnnerApp(runs_root=runs_root, start="tag")
    async with app.run_test(size=SIZE) as pilot:
        screen = tag_screen(app)
        await wait_for(pilot, lambda: screen.result is not None, LOAD_S)
        status = screen.query_one("#model-status")
        assert "entit" in str(status.render())  # "N entities" or "no entities found in this text"
        area = screen.query_one("#text")
        # Select all (f7), then delete: the text is gone and, after the debounce, so is the count.
        screen.query_one("#entities").focus()
        await pilot.press("f7")
        await wait_for(pilot, lambda: screen.focused is area and area.selected_text == area.text != "")
        await pilot.press("backspace")
        await wait_for(pilot, lambda: area.text == "")
        await wait_for(pilot, lambda: screen.result is None and "entit" not in str(status.render()))
        assert "labels" in str(status.render())
        assert screen.query_one("#entities").row_count == 0
        # Clear (ctrl+n) from anywhere on the screen does the same at once.
        area.load_text(TEXT)
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: screen.result is not None and "entit" in str(status.render()))
        screen.query_one("#entities").focus()
        await pilot.press("ctrl+n")
        await wait_for(pilot, lambda: area.text == "" and screen.focused is area)
        assert screen.result is None and "entit" not in str(status.render())
        assert str(screen.query_one("#highlighted").render()) == ""
