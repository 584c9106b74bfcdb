"""What the card says the run was trained on is what the loader read: `DataSpec`'s answer, not the spec's spelling."""

from __future__ import annotations

from pathlib import Path

from huggingface_hub import ModelCard

from bnner_tui.core.card.facts import data_info, load_run
from bnner_tui.core.card.render import card_text
from bnner_tui.core.card.validate import validate_card

from .conftest import CONFIG, make_run


def test_a_local_folder_named_like_panx_is_local_data_not_wikiann(tmp_path: Path, tiny_model_dir: Path) -> None:
    """The loader reads a local folder as local data whatever its name; the card must not claim
    WikiANN's Hub id, silver-data warning or citation for someone's own "panx-style" annotations."""
    data = tmp_path / "my-panx-style-annotations"
    data.mkdir()
    run = make_run(tmp_path / "runs", tiny_model_dir, config=dict(CONFIG, data=str(data)))
    info = load_run(run)
    assert (info.data.kind, info.data.hub_id) == ("local", None)
    text = card_text(run)
    card = ModelCard(text)
    assert card.data.datasets is None
    assert "WikiANN" not in text and "silver data" not in text and "pan-etal-2017" not in text
    assert "local data `my-panx-style-annotations`" in text
    assert validate_card(text, run=run) == []


def test_a_local_folder_named_wikiann_is_local_data_too() -> None:
    assert data_info("/data/wikiann-copy").kind == "local"
    assert data_info("wikiann:bn").kind == "local"  # not a spec the loader knows: a path


def test_wikiann_on_the_hub_keeps_the_config_it_was_loaded_with() -> None:
    """`hub:unimelb-nlp/wikiann:hi` is the Hindi config: the card must not say Bengali's."""
    info = data_info("hub:unimelb-nlp/wikiann:hi")
    assert (info.kind, info.hub_id, info.config) == ("wikiann", "unimelb-nlp/wikiann", "hi")
    assert info.display == "WikiANN (hi)"
    bn = data_info("wikiann")
    assert (bn.kind, bn.hub_id, bn.config, bn.display) == ("wikiann", "unimelb-nlp/wikiann", "bn", "WikiANN (bn)")


def test_other_hub_data_and_the_demo_set() -> None:
    hub = data_info("hub:someone/bn-news:v2")
    assert (hub.kind, hub.hub_id, hub.config) == ("hub", "someone/bn-news", "v2")
    assert data_info("demo").kind == "demo"
    assert data_info("").kind == "demo"  # the trainer's default data
