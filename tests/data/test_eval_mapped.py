"""A corpus with another label set (PERSON/GPE/DATE) scored against a WikiANN-labelled model with --map/--drop."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from typer.testing import CliRunner

from bnner_tui.core.config import TrainConfig
from bnner_tui.core.errors import BnnerError
from bnner_tui.tui.cli import app

OTHER = "রহিম\tB-PERSON\nঢাকায়\tB-GPE\nগেছেন\tO\n২০২০\tB-DATE\n\nকরিম\tB-PERSON\nএসেছেন\tO\n"


def test_eval_other_corpus_with_map(tmp_path: Path, tiny_model_dir: Path) -> None:
    runs = tmp_path / "runs"
    run = runs / "wikiann-run"
    run.mkdir(parents=True)
    TrainConfig.from_preset("cpu-demo", run_name="wikiann-run").to_toml(run / "config.toml")
    shutil.copytree(tiny_model_dir, run / "model")
    data = tmp_path / "other"
    data.mkdir()
    (data / "test.conll").write_text(OTHER, encoding="utf-8")
    runner = CliRunner()
    base = ["eval", "wikiann-run", "--root", str(runs), "--split", "test", "--data", str(data)]
    refused = runner.invoke(app, base)
    assert refused.exit_code != 0  # the console script turns a BnnerError into one line and exit 2
    assert isinstance(refused.exception, BnnerError)
    assert "B-PERSON" in str(refused.exception) and "--map TYPE=NEW" in str(refused.exception)
    ok = runner.invoke(app, [*base, "--map", "PERSON=PER", "--map", "GPE=LOC", "--drop", "DATE"])
    assert ok.exit_code == 0, ok.output
    doc = json.loads((run / "metrics.json").read_text(encoding="utf-8"))
    (other,) = doc["other_data"].values()  # another corpus never overwrites the run's own scores
    assert other["splits"]["test"]["per_type"]["PER"]["support"] == 2
    assert other["splits"]["test"]["per_type"]["LOC"]["support"] == 1


def test_config_data_fields_validated_and_saved(tmp_path: Path) -> None:
    cfg = TrainConfig.from_dict({"data_map": "PERSON=PER,GPE=LOC", "data_drop": ["DATE"], "data_split": "80/10/10"})
    assert cfg.data_map == ["PERSON=PER", "GPE=LOC"]
    path = cfg.to_toml(tmp_path / "c.toml")
    assert 'data_split = "80/10/10"' in path.read_text(encoding="utf-8")
    problems = TrainConfig(data_map=["PERSON"], data_on_error="ignore", data_split="90/20").problems()
    assert any(p.startswith("data_map: label mapping 'PERSON' is not TYPE=TYPE") for p in problems)
    assert any(p.startswith("data_on_error: --on-error 'ignore'") for p in problems)
    assert any(p.startswith("data_split: split '90/20': give three percentages") for p in problems)
