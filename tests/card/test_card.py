"""The card built from a run: metadata equals what was measured, the body says what the run knows."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
import tomli_w
from huggingface_hub import ModelCard

from bnner_tui.core.card.errors import CardError
from bnner_tui.core.card.facts import load_run
from bnner_tui.core.card.render import card_text, render_card
from bnner_tui.core.card.validate import validate_card

from .conftest import CONFIG, METRICS, make_run


def test_metadata_parses_back_to_the_measured_numbers(run_dir: Path) -> None:
    text = card_text(run_dir, repo_id="alice/bn-ner")
    card = ModelCard(text)
    data = card.data
    assert data.language == "bn"
    assert data.license == "apache-2.0"
    assert data.pipeline_tag == "token-classification"
    assert data.datasets == ["unimelb-nlp/wikiann"]
    assert data.base_model == "bert-base-multilingual-cased"
    assert set(data.tags) >= {"token-classification", "ner", "bengali"}
    assert data.metrics == ["precision", "recall", "f1"]
    got = {(r.dataset_split, r.metric_type): r.metric_value for r in data.eval_results}
    for split, values in METRICS["splits"].items():
        for m in ("precision", "recall", "f1"):
            assert got[(split, m)] == pytest.approx(values["overall"][m], abs=1e-4)
    assert all(r.task_type == "token-classification" and "word-level" in r.metric_name for r in data.eval_results)
    widgets = data.to_dict()["widget"]
    assert widgets and all(w["text"].strip() and w["example_title"].strip() for w in widgets)
    assert validate_card(text, run=run_dir) == []


def test_body_states_data_procedure_results_and_usage(run_dir: Path) -> None:
    text = card_text(run_dir, repo_id="alice/bn-ner")
    assert "More information needed" not in text
    assert "machine-generated silver data" in text
    assert "licence of WikiANN is unknown" in text
    # Hyperparameters come from config.toml, secrets never do.
    for needle in ("| learning_rate | 2e-05 |", "| batch_size | 16 |", "| epochs | 7 |", "| weight_decay | 0.01 |"):
        assert needle in text
    assert "wandb-secret-should-never-appear" not in text and "api_key" not in text
    # Word-level results, overall and per entity, for each split; piece-level labelled as inflated.
    assert "### WikiANN (bn), validation split (word-level" in text
    assert "### WikiANN (bn), test split (word-level" in text
    assert "| **overall** | 0.7123 | 0.6842 | 0.6980 |" in text
    assert "| ORG | 0.6000 | 0.5500 | 0.5739 | 20 |" in text
    assert "**inflated**" in text and "f1 0.7950" in text
    assert 'pipeline("token-classification", model="alice/bn-ner", aggregation_strategy="first")' in text
    assert "Pan, Xiaoman" in text and "Rahimi, Afshin" in text and "Devlin, Jacob" in text
    assert "O B-PER I-PER B-ORG I-ORG B-LOC I-LOC" in text  # real label names, not LABEL_0..6


def test_demo_data_and_scratch_model_are_described_honestly(tmp_path: Path, tiny_model_dir: Path) -> None:
    cfg = dict(CONFIG, data="demo", model="tiny-bert", from_scratch=True)
    run = make_run(tmp_path, tiny_model_dir, config=cfg)
    text = card_text(run)
    card = ModelCard(text)
    assert card.data.base_model is None
    assert card.data.datasets is None
    assert "synthetic demo set" in text
    assert "from scratch" in text
    assert "silver data" not in text
    assert validate_card(text, run=run) == []


def test_snippet_works_with_the_saved_model(run_dir: Path) -> None:
    """The usage snippet is real: the pipeline it shows loads the run's model and tags the example."""
    from transformers import pipeline

    text = card_text(run_dir)  # no repo id: the snippet points at the local model folder
    assert f'model="{run_dir / "model"}"' in text
    ner = pipeline("token-classification", model=str(run_dir / "model"), aggregation_strategy="first")
    out = ner("রবীন্দ্রনাথ ঠাকুর কলকাতায় জন্মগ্রহণ করেন।")
    assert isinstance(out, list)


def test_missing_metrics_and_model_are_one_sentence(tmp_path: Path, tiny_model_dir: Path) -> None:
    run = make_run(tmp_path, tiny_model_dir)
    (run / "metrics.json").unlink()
    with pytest.raises(CardError, match=r"no metrics\.json"):
        load_run(run)
    with pytest.raises(CardError, match="not a run folder"):
        load_run(tmp_path / "nope")
    (run / "metrics.json").write_text("{broken", encoding="utf-8")
    with pytest.raises(CardError, match=r"metrics.json, line 1"):
        load_run(run)


EXISTING = """---
# the user's own comment about this card
language: bn
custom_owner: lab-42   # keep me
license: mit
tags:
- my-tag
widget:
- text: আমার নিজের উদাহরণ
  example_title: mine
model-index:
- name: old
  results: []
zzz_last: [1, 2, 3]
---

# My model

My own introduction, which must survive.
"""


def test_render_round_trips_unknown_keys_comments_order_and_prose(run_dir: Path) -> None:
    readme = run_dir / "model" / "README.md"
    readme.write_text(EXISTING, encoding="utf-8")
    result = render_card(run_dir, repo_id="alice/bn-ner")
    text = readme.read_text(encoding="utf-8")
    assert result.path == readme
    # Backup keeps the user's card byte for byte.
    assert result.backup == run_dir / "model" / "README.md.~1~"
    assert result.backup.read_text(encoding="utf-8") == EXISTING
    yaml_block = text.split("---\n")[1]
    assert "# the user's own comment about this card" in yaml_block
    assert "custom_owner: lab-42   # keep me" in yaml_block
    keys = [ln.split(":")[0] for ln in yaml_block.splitlines() if ln and not ln.startswith((" ", "-", "#"))]
    # Unknown keys keep their place; new keys go at the end.
    assert keys.index("custom_owner") < keys.index("license") < keys.index("zzz_last") < keys.index("datasets")
    card = ModelCard(text)
    assert card.data.license == "mit"  # the user's choice survives
    assert card.data.to_dict()["widget"] == [{"text": "আমার নিজের উদাহরণ", "example_title": "mine"}]
    assert card.data.tags[0] == "my-tag" and "ner" in card.data.tags
    assert {r.dataset_split for r in card.data.eval_results} == {"validation", "test"}
    assert "My own introduction, which must survive." in text
    assert "machine-generated silver data" in text

    # Second render after new numbers: only the generated block changes; another numbered backup.
    metrics = copy.deepcopy(METRICS)
    metrics["splits"]["validation"]["overall"]["f1"] = 0.5
    (run_dir / "metrics.json").write_text(json.dumps(metrics), encoding="utf-8")
    second = render_card(run_dir, repo_id="alice/bn-ner", license="cc-by-4.0")
    text2 = readme.read_text(encoding="utf-8")
    assert second.backup == run_dir / "model" / "README.md.~2~"
    assert text2.count("bnner-tui:begin") == 1 and text2.count("My own introduction") == 1
    assert "| **overall** | 0.7123 | 0.6842 | 0.5000 |" in text2
    assert ModelCard(text2).data.license == "cc-by-4.0"
    assert validate_card(readme, run=run_dir) == []
    # Unchanged: no rewrite, no new backup.
    third = render_card(run_dir, repo_id="alice/bn-ner", license="cc-by-4.0")
    assert third.backup is None and not (run_dir / "model" / "README.md.~3~").exists()


def test_render_refuses_an_existing_card_with_broken_yaml(run_dir: Path) -> None:
    readme = run_dir / "model" / "README.md"
    broken = "---\nlanguage: [bn\n---\nbody\n"
    readme.write_text(broken, encoding="utf-8")
    with pytest.raises(CardError, match="does not parse"):
        render_card(run_dir)
    assert readme.read_text(encoding="utf-8") == broken


def test_render_rejects_an_invalid_repo_id(run_dir: Path) -> None:
    with pytest.raises(CardError, match="not a valid repo id"):
        render_card(run_dir, repo_id="no slash")
    assert not (run_dir / "model" / "README.md").exists()


def test_nested_config_tables_are_flattened(tmp_path: Path, tiny_model_dir: Path) -> None:
    cfg = dict(CONFIG, extra={"label_smoothing": 0.1, "hub_token": "hf_secret"})
    run = make_run(tmp_path, tiny_model_dir, config=cfg)
    (run / "config.toml").write_text(tomli_w.dumps(cfg), encoding="utf-8")
    text = card_text(run)
    assert "| extra.label_smoothing | 0.1 |" in text
    assert "hf_secret" not in text
