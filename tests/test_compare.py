"""Run comparison (core/compare.py): differing hyperparameters, config diff, sorting, curves per
metric from the RunState fold, and their CSV/SVG export. Runs are real folders (config.toml from
TrainConfig, events.jsonl from the real EventWriter); no training."""

from __future__ import annotations

import csv
import io
import math
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from bnner_tui.core import compare
from bnner_tui.core.compare import Curve
from bnner_tui.core.config import TrainConfig
from bnner_tui.core.errors import BnnerError
from bnner_tui.core.events import EventWriter
from bnner_tui.core.pathcomplete import complete_path
from bnner_tui.core.runs import list_runs, run_state


def make_run(root: Path, name: str, t0: float, f1s: list[float], **config: object) -> Path:
    run = root / name
    run.mkdir(parents=True)
    TrainConfig(run_name=name, output_root=str(root), **config).to_toml(run / "config.toml")  # type: ignore[arg-type]
    with EventWriter(run / "events.jsonl") as w:
        w.emit("started", time=t0, model="m", total_steps=len(f1s) * 10)
        for s in range(1, len(f1s) * 10 + 1):
            w.emit("step", time=t0 + s, step=s, loss=2.0 / s, learning_rate=1e-3 * (1 - s / 40))
            if s % 10 == 0:
                f1 = f1s[s // 10 - 1]
                w.emit(
                    "eval",
                    time=t0 + s + 0.5,
                    step=s,
                    loss=1.0 / s,
                    overall={"precision": f1 + 0.05, "recall": f1 - 0.05, "f1": f1},
                    per_type={
                        "PER": {"precision": 0.5, "recall": f1, "f1": f1},
                        "LOC": {"precision": 0.4, "recall": 0.3, "f1": 0.35},
                    },
                )
        w.emit("finished", time=t0 + 100, step=len(f1s) * 10, best_f1=max(f1s), duration_s=50.0 + t0 % 7)
    return run


@pytest.fixture
def three_runs(tmp_path: Path) -> Path:
    root = tmp_path / "runs"
    make_run(root, "a", 1000.0, [0.2, 0.4], learning_rate=1e-3, batch_size=16, strategy="first")
    make_run(root, "b", 2000.0, [0.3, 0.5], learning_rate=5e-4, batch_size=16, strategy="all")
    make_run(root, "c", 3000.0, [0.1, 0.6], learning_rate=1e-3, batch_size=32, strategy="first", seed=7)
    return root


def test_differing_keys_lists_only_hyperparameters_that_differ_in_table_order(three_runs: Path) -> None:
    configs = compare.load_configs(sorted(three_runs.iterdir()))
    keys = compare.differing_keys(list(configs.values()))
    # run_name and output_root differ or may: they are not hyperparameters.
    assert keys == ["learning_rate", "batch_size", "strategy", "seed"]
    assert [compare.label_of(k) for k in keys] == ["lr", "batch", "strategy", "seed"]
    # Two runs alike in everything but their names differ in nothing.
    a, c = configs[str(three_runs / "a")], dict(configs[str(three_runs / "a")], run_name="z")
    assert compare.differing_keys([a, c]) == []
    # An unreadable config is left out, and one readable config has nothing to differ from.
    assert compare.differing_keys([a, {}]) == []


def test_config_diff_of_two_runs_is_every_differing_field(three_runs: Path) -> None:
    configs = compare.load_configs([three_runs / "a", three_runs / "b"])
    diff = compare.config_diff(list(configs.values()))
    assert diff == [("strategy", ["first", "all"]), ("learning_rate", [0.001, 0.0005])]
    assert compare.show(0.0005) == "0.0005" and compare.show(None) == "--" and compare.show(["x", "y"]) == "x,y"
    assert compare.config_diff([configs[str(three_runs / "a")]]) == []


def test_unreadable_config_is_empty(tmp_path: Path) -> None:
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "config.toml").write_text("learning_rate = 'fast'\n", encoding="utf-8")
    assert compare.load_configs([tmp_path / "broken", tmp_path / "absent"]) == {
        str(tmp_path / "broken"): {},
        str(tmp_path / "absent"): {},
    }


def test_sort_runs_by_any_column_unknown_last(three_runs: Path) -> None:
    runs = list_runs(three_runs)
    assert [r.name for r in runs] == ["c", "b", "a"]  # the listing: newest first
    configs = compare.load_configs(r.path for r in runs)

    def names(column: str, descending: bool = False) -> list[str]:
        return [r.name for r in compare.sort_runs(runs, column, configs, descending=descending)]

    assert names("name") == ["a", "b", "c"]
    assert names("f1", descending=True) == ["c", "b", "a"]
    assert names("learning_rate") == ["b", "c", "a"]  # equal values keep the listing's order
    assert names("batch_size", descending=True) == ["c", "b", "a"]
    assert names("strategy") == ["b", "c", "a"]
    # A run that has no value for the column goes last, whichever the direction.
    runs[0].best_f1 = None
    assert names("f1") == ["a", "b", "c"] and names("f1", descending=True) == ["b", "a", "c"]
    # Numbers before words in a column that holds both (eval_every: 200 or "epoch").
    configs[str(runs[1].path)]["eval_every"] = 200
    assert names("eval_every") == ["b", "c", "a"]


def test_curves_per_metric_come_from_the_fold(three_runs: Path) -> None:
    state = run_state(three_runs / "a", curves=True)
    assert compare.available_metrics([state]) == [
        "f1",
        "precision",
        "recall",
        "eval_loss",
        "loss",
        "lr",
        "f1:LOC",
        "precision:LOC",
        "recall:LOC",
        "f1:PER",
        "precision:PER",
        "recall:PER",
    ]
    f1 = compare.curve(state, "f1", "a")
    assert f1 == Curve("a", "f1", (10, 20), (0.2, 0.4))
    assert compare.curve(state, "precision", "a").values == pytest.approx((0.25, 0.45))
    assert compare.curve(state, "recall", "a").values == pytest.approx((0.15, 0.35))
    assert compare.curve(state, "eval_loss", "a").values == pytest.approx((0.1, 0.05))
    assert len(compare.curve(state, "loss", "a").steps) == 20
    assert compare.curve(state, "lr", "a").values[0] == pytest.approx(1e-3 * (1 - 1 / 40))
    assert compare.curve(state, "recall:PER", "a").values == (0.2, 0.4)
    assert compare.curve(state, "precision:LOC", "a").values == (0.4, 0.4)
    assert compare.curve(state, "f1:ORG", "a").steps == ()  # a type this run never saw: no points
    assert compare.metric_title("recall:PER") == "PER recall (validation)"
    assert compare.is_score("f1:PER") and not compare.is_score("loss")
    with pytest.raises(BnnerError, match="No metric 'accuracy'"):
        compare.curve(state, "accuracy", "a")


def test_csv_is_long_format_and_round_trips() -> None:
    curves = [Curve("a", "f1", (10, 20), (0.2, math.nan)), Curve("b,c", "f1", (5,), (0.125,))]
    rows = list(csv.reader(io.StringIO(compare.curves_csv(curves))))
    assert rows == [
        ["run", "metric", "step", "value"],
        ["a", "f1", "10", "0.2"],
        ["a", "f1", "20", ""],
        ["b,c", "f1", "5", "0.125"],
    ]


def test_svg_is_well_formed_with_one_line_per_run_and_gaps_for_nan() -> None:
    curves = [
        Curve("alpha <1>", "f1", (10, 20, 30, 40), (0.2, 0.4, math.nan, 0.6)),
        Curve("beta", "f1", (10, 20, 30), (0.1, 0.3, 0.35)),
    ]
    svg = compare.curves_svg(curves, "validation F1 & co")
    root = ET.fromstring(svg)  # parses: names and title are escaped
    ns = "{http://www.w3.org/2000/svg}"
    lines = root.findall(f"{ns}polyline")
    # alpha breaks at nan into a line and a lone point; beta is one line.
    assert len(lines) == 2 and len(root.findall(f"{ns}circle")) == 1
    assert [len(p.get("points", "").split()) for p in lines] == [2, 3]
    texts = [t.text for t in root.iter(f"{ns}text")]
    assert "validation F1 & co" in texts and "alpha <1>" in texts and "beta" in texts
    assert "1" in texts and "0" in texts  # scores get the 0..1 axis
    assert compare.curves_svg(curves, "t") == svg.replace("validation F1 &amp; co", "t")  # deterministic


def test_export_writes_atomically_keeps_a_backup_and_refuses_what_it_cannot(tmp_path: Path) -> None:
    curves = [Curve("a", "loss", (1, 2), (2.0, 1.0))]
    out = tmp_path / "out" / "curves.svg"
    assert compare.export_curves(out, curves, "training loss") is None
    assert out.read_text(encoding="utf-8").startswith("<svg")
    first = out.read_text(encoding="utf-8")
    backup = compare.export_curves(out, [Curve("b", "loss", (1,), (3.0,))], "training loss")
    assert backup == tmp_path / "out" / "curves.svg.~1~" and backup.read_text(encoding="utf-8") == first
    assert compare.export_curves(tmp_path / "c.csv", curves, "x") is None
    assert (tmp_path / "c.csv").read_text(encoding="utf-8").splitlines()[1] == "a,loss,1,2.0"
    with pytest.raises(BnnerError, match=r"name the file \.svg, \.png or \.csv"):
        compare.export_curves(tmp_path / "c.pdf", curves, "x")
    with pytest.raises(BnnerError, match="No curves to export"):
        compare.export_curves(tmp_path / "d.svg", [], "x")
    assert compare.default_export_name("recall:PER", ".csv") == "compare-recall-PER.csv"


def test_png_without_matplotlib_says_what_to_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import builtins

    real_import = builtins.__import__

    def no_matplotlib(name: str, *args: object, **kwargs: object) -> object:
        if name == "matplotlib" or name.startswith("matplotlib."):
            raise ImportError("No module named 'matplotlib'")
        return real_import(name, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(builtins, "__import__", no_matplotlib)
    with pytest.raises(BnnerError, match=r"PNG export needs matplotlib: pip install 'bnner-tui\[plots\]'"):
        compare.export_curves(tmp_path / "c.png", [Curve("a", "f1", (1,), (0.5,))], "x")
    assert not (tmp_path / "c.png").exists()


def test_png_with_matplotlib(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    compare.export_curves(tmp_path / "c.png", [Curve("a", "f1", (1, 2), (0.5, 0.6))], "x")
    assert (tmp_path / "c.png").read_bytes().startswith(b"\x89PNG")


def test_complete_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "runs" / "alpha" / "model").mkdir(parents=True)
    (tmp_path / "runs" / "beta.conll").write_text("", encoding="utf-8")
    (tmp_path / "runs" / ".hidden").mkdir()
    monkeypatch.chdir(tmp_path)
    assert complete_path("ru") == "runs/"
    assert complete_path("runs/") == "runs/alpha/"  # hidden entries only after a typed dot
    assert complete_path("runs/.") == "runs/.hidden/"
    assert complete_path("runs/b") == "runs/beta.conll"
    assert complete_path("runs/beta.conll") is None  # nothing left to add
    assert complete_path(f"{tmp_path}/runs/alpha/m") == f"{tmp_path}/runs/alpha/model/"
    assert complete_path("hub:x") is None and complete_path("") is None and complete_path("nowhere/x") is None
    monkeypatch.setenv("HOME", str(tmp_path))
    assert complete_path("~/runs/al") == "~/runs/alpha/"
