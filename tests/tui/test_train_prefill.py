"""The Train form starts from what the Data screen loaded (and from --data/--tokenizer), never
replacing what the user typed; its path boxes complete paths. The real BnnerApp: the Data
screen really loads a CoNLL folder and its `DataLoaded` message reaches the Train form."""

from __future__ import annotations

from pathlib import Path

import pytest
from pilot_helpers import type_text, wait_for
from textual.widgets import Input, Select

from bnner_tui.tui.app import BnnerApp
from bnner_tui.tui.messages import DataLoaded

CONLL = "Rahim\tB-PER\nworks\tO\nin\tO\nDhaka\tB-LOC\n.\tO\n\nKarim\tB-PER\nsleeps\tO\n.\tO\n"


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "corpus").mkdir()
    for split in ("train", "validation"):
        (tmp_path / "corpus" / f"{split}.conll").write_text(CONLL, encoding="utf-8")
    (tmp_path / "tok").mkdir()
    return tmp_path


def box(app: BnnerApp, key: str) -> Input:
    return app.screen.query_one(f"#f-{key}", Input)


async def test_command_line_data_and_tokenizer_fill_the_form(workspace: Path) -> None:
    app = BnnerApp(runs_root=Path("runs"), data_source="corpus", tokenizer="tok", start="train")
    async with app.run_test(size=(140, 44)) as pilot:
        await wait_for(pilot, lambda: box(app, "data").value == "corpus")
        assert box(app, "tokenizer").value == "tok"
        assert app.screen.config is not None and app.screen.config.data == "corpus"
        assert app.screen.config.tokenizer == "tok"


async def test_the_data_screens_loaded_source_fills_the_train_form(workspace: Path) -> None:
    app = BnnerApp(runs_root=Path("runs"), data_source="corpus", start="data")
    async with app.run_test(size=(140, 44)) as pilot:
        await wait_for(pilot, lambda: app.loaded_source == "corpus", timeout=60)
        await pilot.press("2")
        await wait_for(pilot, lambda: app.screen.id != "data" and bool(app.screen.query("#f-data")))
        assert box(app, "data").value == "corpus"

        # A later load on the Data screen follows into a box the user has not typed in...
        app.post_message(DataLoaded(source="wikiann", tokenizer="tok"))
        await wait_for(pilot, lambda: box(app, "data").value == "wikiann")
        assert box(app, "tokenizer").value == "tok"
        # ... but what the user typed stays, through later loads and a preset change.
        data = box(app, "data")
        data.focus()
        data.value = ""
        await type_text(pilot, "mine.conll")
        await wait_for(pilot, lambda: app.screen.user_typed("data"))
        app.post_message(DataLoaded(source="demo", tokenizer="runs/x/model"))
        await wait_for(pilot, lambda: box(app, "tokenizer").value == "runs/x/model")
        assert box(app, "data").value == "mine.conll"
        app.screen.query_one("#preset", Select).value = "tutorial"
        await wait_for(pilot, lambda: box(app, "learning_rate").value == "2e-05")
        assert box(app, "data").value == "mine.conll"
        assert box(app, "tokenizer").value == "runs/x/model"  # handed over, not the preset's empty


async def test_path_boxes_complete_paths(workspace: Path) -> None:
    app = BnnerApp(runs_root=Path("runs"), start="train")
    async with app.run_test(size=(140, 44)) as pilot:
        data = box(app, "data")
        await wait_for(pilot, lambda: data.value == "demo")
        data.focus()
        data.value = ""
        await type_text(pilot, "cor")
        await wait_for(pilot, lambda: data._suggestion == "corpus/")
        await pilot.press("right")  # accepts the suggestion
        assert data.value == "corpus/"
        await type_text(pilot, "t")
        await wait_for(pilot, lambda: data._suggestion == "corpus/train.conll")
        tok = box(app, "tokenizer")
        tok.focus()
        await type_text(pilot, "to")
        await wait_for(pilot, lambda: tok._suggestion == "tok/")
