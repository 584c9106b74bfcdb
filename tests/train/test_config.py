"""TrainConfig: defaults, presets, layering, TOML round-trip and the one-sentence validation messages."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bnner_tui.core.config import PRESETS, TrainConfig, preset_values, resolve_config
from bnner_tui.core.errors import BnnerError, ConfigError


def test_defaults_are_valid_and_match_the_contract() -> None:
    c = TrainConfig().validate()
    assert (c.model, c.data, c.strategy, c.max_length) == ("auto", "demo", "first", 128)
    assert (c.learning_rate, c.batch_size, c.epochs, c.weight_decay) == (2e-5, 16, 7.0, 0.01)
    assert (c.eval_every, c.save_every, c.tracking, c.nproc) == ("epoch", "epoch", "none", 1)
    assert c.wandb_tags == [] and c.run_name is None and c.preset is None


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"learning_rate": -1}, "learning_rate must be > 0 (got -1"),
        ({"batch_size": 0}, "batch_size must be >= 1 (got 0)"),
        ({"strategy": "middle"}, "strategy must be one of first, all, all-b2i (got 'middle')"),
        ({"precision": "fp8"}, "precision must be one of auto, bf16, fp16, fp32"),
        ({"tracking": "tensorboard"}, "tracking must be one of none, wandb, wandb-offline"),
        ({"eval_every": 0}, 'eval_every must be "epoch" or a number of steps >= 1 (got 0)'),
        ({"max_steps": 0}, "max_steps must be -1 (use epochs) or >= 1 (got 0)"),
        ({"warmup_ratio": 1.5}, "warmup_ratio must be in [0, 1) (got 1.5)"),
        ({"run_name": "a/b"}, "run_name must be a folder name"),
        ({"offline_hidden_size": 100, "offline_heads": 3}, "offline_hidden_size must be divisible by offline_heads"),
        ({"nproc": 0}, "nproc must be >= 1 (got 0)"),
        ({"preset": "turbo"}, "preset must be one of tutorial, gpu-fast, cpu-demo"),
        ({"learning_rate": float("nan")}, "learning_rate must be a finite number"),
    ],
)
def test_each_bad_value_gets_its_sentence(overrides: dict, expected: str) -> None:
    with pytest.raises(ConfigError) as info:
        TrainConfig(**overrides).validate()
    assert expected in str(info.value)
    assert "Traceback" not in str(info.value)


def test_all_problems_are_reported_at_once() -> None:
    c = TrainConfig(learning_rate=0, batch_size=-2, strategy="x")
    problems = c.problems()
    assert len(problems) == 3
    with pytest.raises(ConfigError) as info:
        c.validate()
    msg = str(info.value)
    for p in problems:
        assert p in msg
    by_field = c.field_problems()
    assert set(by_field) == {"learning_rate", "batch_size", "strategy"}


def test_epochs_may_be_zero_only_with_max_steps() -> None:
    with pytest.raises(ConfigError, match="epochs must be > 0 unless max_steps is set"):
        TrainConfig(epochs=0).validate()
    TrainConfig(epochs=0, max_steps=10).validate()


def test_early_stopping_needs_matching_cadence() -> None:
    with pytest.raises(ConfigError, match="eval_every and save_every must be equal"):
        TrainConfig(early_stopping_patience=2, eval_every=50, save_every="epoch").validate()
    TrainConfig(early_stopping_patience=2, eval_every=50, save_every=50).validate()


def test_toml_round_trip_keeps_every_field(tmp_path: Path) -> None:
    c = TrainConfig(
        model="some/model",
        tokenizer="/tok",
        eval_every=100,
        save_every=100,
        early_stopping_patience=3,
        wandb_tags=["bn", "ner"],
        wandb_entity="me",
        pad_to_multiple_of=8,
        run_name="r1",
        preset="gpu-fast",
        epochs=2.5,
    )
    path = c.to_toml(tmp_path / "config.toml")
    back = TrainConfig.from_toml(path)
    assert back == c
    # None fields are left out of the file and come back as None.
    default_back = TrainConfig.from_toml(TrainConfig().to_toml(tmp_path / "d.toml"))
    assert default_back == TrainConfig()
    assert not list(tmp_path.glob(".*.tmp")), "atomic write left its temp file behind"


def test_toml_unknown_key_names_key_and_file(tmp_path: Path) -> None:
    f = tmp_path / "my.toml"
    f.write_text("learning_rat = 3e-5\nbatch_size = 8\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        TrainConfig.from_toml(f)
    msg = str(info.value)
    assert str(f) in msg and "'learning_rat'" in msg and "did you mean learning_rate" in msg


def test_toml_syntax_error_and_missing_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("learning_rate = = 1\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"is not valid TOML.*line 1"):
        TrainConfig.from_toml(bad)
    with pytest.raises(ConfigError, match="does not exist"):
        TrainConfig.from_toml(tmp_path / "nope.toml")


def test_toml_wrong_type_is_a_sentence(tmp_path: Path) -> None:
    f = tmp_path / "c.toml"
    f.write_text('batch_size = "many"\ngroup_by_length = "maybe"\n', encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        TrainConfig.from_toml(f)
    assert "batch_size must be an integer (got 'many')" in str(info.value)
    assert "group_by_length must be true or false" in str(info.value)


def test_train_table_is_accepted(tmp_path: Path) -> None:
    f = tmp_path / "c.toml"
    f.write_text("[train]\nbatch_size = 8\nlearning_rate = 1\n", encoding="utf-8")
    c = TrainConfig.from_toml(f)
    assert c.batch_size == 8 and c.learning_rate == 1.0 and isinstance(c.learning_rate, float)


def test_presets_are_valid_and_distinct() -> None:
    tut = TrainConfig.from_preset("tutorial")
    assert (tut.learning_rate, tut.batch_size, tut.epochs, tut.weight_decay, tut.precision) == (
        2e-5,
        16,
        7.0,
        0.01,
        "fp32",
    )
    assert tut.group_by_length is False and tut.optim == "adamw_torch" and tut.pad_to_multiple_of is None
    fast = TrainConfig.from_preset("gpu-fast")
    assert fast.precision == "bf16" and fast.group_by_length and fast.pad_to_multiple_of == 8
    assert fast.optim == "adamw_torch_fused" and fast.batch_size > tut.batch_size and fast.dataloader_workers >= 2
    demo = TrainConfig.from_preset("cpu-demo")
    assert demo.model == "offline" and demo.data == "demo" and demo.precision == "fp32"
    for name in PRESETS:
        assert TrainConfig.from_preset(name).preset == name


def test_unknown_preset_suggests() -> None:
    with pytest.raises(ConfigError, match="did you mean gpu-fast"):
        preset_values("gpu_fast")


def test_layering_defaults_preset_file_flags(tmp_path: Path) -> None:
    f = tmp_path / "c.toml"
    f.write_text('preset = "gpu-fast"\nbatch_size = 32\nepochs = 3\n', encoding="utf-8")
    c = resolve_config(config_file=f, overrides={"epochs": 1.0, "learning_rate": None, "max_steps": "50"})
    assert c.preset == "gpu-fast"
    assert c.precision == "bf16"  # from the preset
    assert c.batch_size == 32  # the file beats the preset
    assert c.epochs == 1.0 and c.max_steps == 50  # flags beat the file
    assert c.learning_rate == PRESETS["gpu-fast"]["learning_rate"]  # None flag = not given
    # an explicit preset argument replaces the file's preset
    c2 = resolve_config(config_file=f, preset="tutorial")
    assert c2.preset == "tutorial" and c2.precision == "fp32" and c2.batch_size == 32


def test_with_overrides_validates_and_copies() -> None:
    a = TrainConfig(wandb_tags=["x"])
    b = a.with_overrides(batch_size="8", eval_every="200", wandb_tags="a, b")
    assert (b.batch_size, b.eval_every, b.wandb_tags) == (8, 200, ["a", "b"])
    assert a.batch_size == 16 and a.wandb_tags == ["x"]
    with pytest.raises(ConfigError, match="unknown key 'bogus'"):
        a.with_overrides(bogus=1)
    with pytest.raises(ConfigError, match="learning_rate must be > 0"):
        a.with_overrides(learning_rate=0)


def test_config_error_is_a_user_error() -> None:
    assert issubclass(ConfigError, BnnerError)


def test_generated_run_name() -> None:
    assert TrainConfig(run_name="x").resolved_run_name() == "x"
    name = TrainConfig(preset="cpu-demo").resolved_run_name(now=0)
    assert name == "cpu-demo-19700101-000000"
    assert TrainConfig().resolved_run_name(now=0).startswith("run-")


def test_config_module_imports_nothing_heavy() -> None:
    code = (
        "import sys; import bnner_tui.core.config, bnner_tui.core.runs, bnner_tui.core.train.launch as L; "
        "import bnner_tui.tui.cli.train; "
        "cmd = L.worker_command(bnner_tui.core.runs.RunDir('/r'), nproc=2); "
        "assert cmd[1:3] == ['-m', 'torch.distributed.run'] and '--nproc_per_node' in cmd, cmd; "
        "heavy = [m for m in ('torch','transformers','datasets','seqeval','sklearn','wandb') if m in sys.modules]; "
        "print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# ---- the configuration defined once (core.config.SPECS) -----------------------------------------


def test_every_field_has_a_spec_and_validation_names_its_field() -> None:
    from dataclasses import fields

    from bnner_tui.core.config import SPECS

    assert set(SPECS) == {f.name for f in fields(TrainConfig)}
    c = TrainConfig()
    c.epochs = 1e9
    c.batch_size = 99999999999999999
    c.learning_rate = "x"  # type: ignore[assignment]
    c.strategy = "middle"
    c.offline_hidden_size, c.offline_heads = 100, 3
    by_field = {p.field: p.message for p in c.checks()}
    assert by_field == {
        "epochs": "epochs must be at most 10000 (got 1000000000.0); a larger value is surely a typo",
        "batch_size": "batch_size must be at most 65536 (got 99999999999999999); a larger value is surely a typo",
        "learning_rate": "learning_rate must be a finite number (got 'x')",
        "strategy": "strategy must be one of first, all, all-b2i (got 'middle')",
        "offline_hidden_size": "offline_hidden_size must be divisible by offline_heads (got 100 and 3)",
    }
    assert c.field_problems()["epochs"] == [by_field["epochs"]]


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({"max_steps": 10**12}, "max_steps must be at most 100000000"),
        ({"max_length": 10**6}, "max_length must be at most 8192"),
        ({"learning_rate": 5.0}, "learning_rate must be at most 1"),
        ({"nproc": 10**6}, "nproc must be at most 1024"),
        ({"eval_every": 10**9}, 'eval_every must be "epoch" or at most 100000000 steps'),
        ({"seed": 2**40}, "seed must be at most 4294967295"),
    ],
)
def test_upper_bounds_are_one_sentence_each(values: dict, expected: str) -> None:
    with pytest.raises(ConfigError) as info:
        TrainConfig.from_dict(values)
    assert expected in str(info.value)


def test_toml_epochs_1e9_refused_with_the_file_named(tmp_path: Path) -> None:
    f = tmp_path / "c.toml"
    f.write_text("epochs = 1e9\nbatch_size = 99999999999999999\n")
    with pytest.raises(ConfigError) as info:
        resolve_config(config_file=f)
    assert "epochs must be at most 10000" in str(info.value)
    assert "batch_size must be at most 65536" in str(info.value)  # every bad value at once


def test_cli_options_and_form_rows_come_from_the_specs() -> None:
    import inspect

    from bnner_tui.core.config import SPECS
    from bnner_tui.tui.cli.train import train_command

    params = inspect.signature(train_command).parameters
    with_cli = {name for name, spec in SPECS.items() if spec.cli}
    assert with_cli <= set(params) and len(with_cli) == 18
    assert params["learning_rate"].default.param_decls == ("--lr", "--learning-rate")
    assert params["batch_size"].annotation == int | None
    from bnner_tui.tui.screens.train import FIELDS

    assert [f.key for f in FIELDS] == [name for name, spec in SPECS.items() if spec.form]
    assert len(FIELDS) == 23
    max_steps = next(f for f in FIELDS if f.key == "max_steps")
    assert max_steps.optional and max_steps.empty == -1


def test_cli_override_is_validated_like_the_file(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from bnner_tui.tui.cli import app

    result = CliRunner().invoke(app, ["train", "--epochs", "1e9", "--output-root", str(tmp_path / "runs")])
    assert result.exit_code != 0
    assert not (tmp_path / "runs").exists()
