"""The train/eval/runs/follow/cancel commands: one-sentence errors, real runs through the CLI, Ctrl-C."""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import stand_in
from typer.testing import CliRunner

from bnner_tui.core.errors import BnnerError
from bnner_tui.core.events import EventWriter
from bnner_tui.core.runs import RunDir, lock_is_held, run_state, run_status
from bnner_tui.tui.cli import app
from bnner_tui.tui.cli.train import EXIT_FAILED

BNNER = str(Path(sys.executable).parent / "bnner-tui")
TINY_FLAGS = [
    "--preset",
    "cpu-demo",
    "--set",
    "offline_hidden_size=32",
    "--set",
    "offline_layers=1",
    "--set",
    "offline_heads=2",
    "--set",
    "offline_vocab_size=500",
    "--set",
    "logging_steps=2",
]
worker_landed = pytest.mark.skipif(
    importlib.util.find_spec("bnner_tui.core.train.worker") is None, reason="worker not landed"
)


def _cli(*args: str, cwd: Path | None = None, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """The installed console script, as a user runs it (errors are printed by main(), not raised)."""
    return subprocess.run([BNNER, *args], capture_output=True, text=True, cwd=cwd, timeout=timeout, env=os.environ)


def _one_sentence_error(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr + result.stdout
    assert result.stderr.startswith("error:")
    return " ".join(result.stderr.split())


# ---- bad input: one sentence, before anything starts ---------------------------------------------


def test_bad_flags_each_get_a_sentence(tmp_path: Path) -> None:
    err = _one_sentence_error(_cli("train", "--lr", "-1", "--batch-size", "0", "--output-root", str(tmp_path)))
    assert "learning_rate must be > 0 (got -1.0)" in err and "batch_size must be >= 1 (got 0)" in err
    assert not any(tmp_path.iterdir()), "a run folder was created for an invalid config"


def test_unknown_preset_and_bad_config_file(tmp_path: Path) -> None:
    assert "Unknown preset 'turbo'" in _one_sentence_error(_cli("train", "--preset", "turbo"))
    cfg = tmp_path / "c.toml"
    cfg.write_text("batch_size = 8\nlr = 0.1\n", encoding="utf-8")
    err = _one_sentence_error(_cli("train", "--config", str(cfg), "--output-root", str(tmp_path / "runs")))
    assert str(cfg) in err and "'lr'" in err


def test_preflight_model_data_and_output_root(tmp_path: Path) -> None:
    root = str(tmp_path / "runs")
    err = _one_sentence_error(_cli("train", "--model", "./no-such-model", "--output-root", root))
    assert "Model path ./no-such-model does not exist." in err
    not_a_model = tmp_path / "folder"
    not_a_model.mkdir()
    err = _one_sentence_error(_cli("train", "--model", str(not_a_model), "--output-root", root))
    assert "has no config.json" in err
    err = _one_sentence_error(_cli("train", "--data", str(tmp_path / "nope.conll"), "--output-root", root))
    assert "Data source" in err and "does not exist" in err
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    err = _one_sentence_error(_cli("train", "--output-root", str(blocker / "runs")))
    assert "Cannot create the output folder" in err
    # a model far larger than the free disk (a 2*10^6 x 8192 embedding, 65 GB a copy, within the
    # configuration's sanity bounds) is refused before any work
    big = ["--set", "offline_vocab_size=2000000", "--set", "offline_hidden_size=8192", "--set", "offline_heads=8"]
    err = _one_sentence_error(_cli("train", "--model", "offline", *big, "--output-root", root))
    assert "Not enough free disk space" in err and "save_total_limit" in err
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())


def test_wandb_online_without_login_is_refused_before_launch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NETRC", str(tmp_path / "no-netrc"))
    root = tmp_path / "runs"
    err = _one_sentence_error(_cli("train", "--tracking", "wandb", "--output-root", str(root)))
    assert "not logged in" in err and "--tracking wandb-offline" in err
    assert not root.exists() or not any(root.iterdir())


def test_cancel_and_follow_errors(tmp_path: Path) -> None:
    err = _one_sentence_error(_cli("cancel", "ghost", "--root", str(tmp_path)))
    assert "No run 'ghost'" in err
    run = _fake_run(tmp_path, "done", finished=True)
    err = _one_sentence_error(_cli("cancel", "done", "--root", str(tmp_path)))
    assert "is not running (status: finished)" in err
    err = _one_sentence_error(_cli("train", "--resume", "done", "--output-root", str(tmp_path)))
    assert "already finished" in err
    assert run_status(run) == "finished"


# ---- runs ----------------------------------------------------------------------------------------


def _fake_run(root: Path, name: str, *, finished: bool, f1: float = 0.5) -> RunDir:
    from bnner_tui.core.config import TrainConfig
    from bnner_tui.core.runs import create_run

    run = create_run(TrainConfig(output_root=str(root), run_name=name, data="demo"))
    with EventWriter(run.events_path) as w:
        w.emit("started", model="offline small BERT: test", model_name="offline small BERT", total_steps=10, nproc=1)
        w.emit("step", step=5, loss=1.0, total_steps=10)
        w.emit(
            "eval",
            step=5,
            split="validation",
            loss=0.5,
            overall={"precision": f1, "recall": f1, "f1": f1, "accuracy": 0.9},
            per_type={},
        )
        if finished:
            w.emit("finished", step=10, best_f1=f1, model_dir="m", metrics_path="x", duration_s=75.0)
    return run


def test_runs_table_and_json(tmp_path: Path) -> None:
    _fake_run(tmp_path, "alpha", finished=True, f1=0.5)
    _fake_run(tmp_path, "beta", finished=False, f1=0.25)
    runner = CliRunner()
    result = runner.invoke(app, ["runs", "--root", str(tmp_path)], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    out = result.output
    assert "alpha" in out and "finished" in out and "0.500" in out and "1m15s" in out
    assert "beta" in out and "killed" in out and "0.250" in out and "5/10" in out
    failed = _fake_run(tmp_path, "gamma", finished=False)
    with EventWriter(failed.events_path) as w:
        w.emit("failed", reason="Out of GPU memory at batch size 64: try --batch-size 32.", traceback_in="train.log")
    out = runner.invoke(app, ["runs", "--root", str(tmp_path)], env={"COLUMNS": "200"}).output
    assert "gamma failed: Out of GPU memory at batch size 64" in out
    result = runner.invoke(app, ["runs", "--root", str(tmp_path), "--json"])
    rows = [json.loads(line) for line in result.output.splitlines()]
    assert {r["name"]: r["status"] for r in rows} == {"alpha": "finished", "beta": "killed", "gamma": "failed"}
    empty = runner.invoke(app, ["runs", "--root", str(tmp_path / "none")])
    assert "No runs in" in empty.output


# ---- real runs through the CLI -------------------------------------------------------------------


def _data_with_unlabelled_test(tmp_path: Path) -> Path:
    """The demo set as a folder of CoNLL files whose test split has tokens only (like WikiANN bn's test)."""
    from bnner_tui.core.data import DEMO_DIR

    d = tmp_path / "data"
    d.mkdir()
    for split in ("train", "validation"):
        (d / f"{split}.conll").write_bytes((DEMO_DIR / f"{split}.conll").read_bytes())
    lines = (DEMO_DIR / "test.conll").read_text(encoding="utf-8").splitlines()
    (d / "test.conll").write_text("\n".join(ln.split()[0] if ln.strip() else "" for ln in lines) + "\n", "utf-8")
    return d


@pytest.mark.slow
@worker_landed
def test_train_follows_to_a_per_entity_table_then_eval(tmp_path: Path) -> None:
    root = tmp_path / "runs"
    data = _data_with_unlabelled_test(tmp_path)
    runner = CliRunner()
    args = [
        "train",
        *TINY_FLAGS,
        "--data",
        str(data),
        "--max-steps",
        "6",
        "--run-name",
        "cli",
        "--output-root",
        str(root),
    ]
    result = runner.invoke(app, args, env={"COLUMNS": "160"})
    assert result.exit_code == 0, result.output + _log(root / "cli")
    out = result.output
    assert "Run cli in" in out and "model: offline small BERT" in out and "device: cpu" in out
    assert "no labels in test" in out
    assert "Finished at step 6" in out
    assert "Word-level entity scores on validation" in out and "overall (micro)" in out
    for entity in ("PER", "ORG", "LOC"):
        assert entity in out
    assert run_status(root / "cli") == "finished"

    if importlib.util.find_spec("bnner_tui.core.train.evaluate") is None:
        pytest.skip("evaluate not landed")
    before = json.loads((root / "cli" / "metrics.json").read_text(encoding="utf-8"))
    result = runner.invoke(app, ["eval", "cli", "--root", str(root), "--split", "validation"], env={"COLUMNS": "160"})
    assert result.exit_code == 0, result.output
    assert "Word-level entity scores on validation" in result.output and "overall (micro)" in result.output
    after = json.loads((root / "cli" / "metrics.json").read_text(encoding="utf-8"))
    assert after["splits"]["validation"]["overall"]["f1"] == pytest.approx(
        before["splits"]["validation"]["overall"]["f1"]
    )
    # an unlabelled split is refused with a sentence, never scored as zeros
    result = runner.invoke(app, ["eval", "cli", "--root", str(root), "--split", "test"])
    assert isinstance(result.exception, BnnerError), result.output
    assert "no labels" in str(result.exception) and "test" in str(result.exception)
    assert "test" not in json.loads((root / "cli" / "metrics.json").read_text(encoding="utf-8"))["splits"]


@pytest.mark.slow
@worker_landed
def test_allow_random_init_says_so_first_and_the_detached_run_outlives_its_launcher(
    tmp_path: Path, no_mbert: None
) -> None:
    """Model auto without the Hub: the first line says what trains instead and why; --detach
    returns at once, and the run goes on and can be followed to its end."""
    root = tmp_path / "runs"
    args = ["--max-steps", "6", "--run-name", "bg", "--output-root", str(root), "--allow-random-init", "--detach"]
    t0 = time.monotonic()
    launched = subprocess.run(
        [BNNER, "train", *TUTORIAL_TINY, *args], stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60
    )
    assert launched.returncode == 0, (launched.stdout, launched.stderr)
    assert time.monotonic() - t0 < 20, "--detach waited for the run"
    lines = launched.stdout.splitlines()
    assert lines[0].startswith(
        "warning: training a randomly initialised small BERT (1 layer, hidden size 32),"
        " not bert-base-multilingual-cased, because the Hugging Face Hub is unreachable (HF_HUB_OFFLINE is set)"
    ), lines
    assert "pass --model with a local copy" in lines[0] and "go online" in lines[0]
    assert lines[2].startswith("Run bg in")
    assert "bnner-tui follow bg" in launched.stdout
    # the launcher has exited; the run goes on and is attachable
    result = CliRunner().invoke(app, ["follow", "bg", "--root", str(root)], env={"COLUMNS": "160"})
    assert result.exit_code == 0, result.output + _log(root / "bg")
    assert "Finished at step 6" in result.output and "model: offline small BERT" in result.output
    assert run_status(root / "bg") == "finished"
    assert "offline small BERT" in (run_state(root / "bg").model or "")


# ---- following, from synthetic streams (a stand-in process; real training: test_process.py) ---------

_FOLLOW_ONE = textwrap.dedent(
    """
    import sys
    from bnner_tui.core.runs import RunDir
    from bnner_tui.tui.cli.train import _EXIT, follow_run
    sys.exit(_EXIT.get(follow_run(RunDir(sys.argv[1])), 1))
    """
)


def test_ctrl_c_while_following_cancels_the_run_and_reports_the_checkpoint(tmp_path: Path) -> None:
    """What `bnner-tui train` does on Ctrl-C: ask the run to checkpoint and stop, keep following
    to its `cancelled`, say how to resume, exit 130."""
    run = stand_in.make_run(tmp_path / "runs", "cc")
    proc = stand_in.start(run)
    follower = subprocess.Popen(
        [sys.executable, "-c", _FOLLOW_ONE, str(run)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "COLUMNS": "160"},
        start_new_session=True,  # the SIGINT below reaches only the follower, like Ctrl-C in its terminal
    )
    try:
        assert follower.stdout is not None
        first = follower.stdout.readline()  # the `started` line: it is following
        assert "model: stand-in" in first, first
        os.kill(follower.pid, signal.SIGINT)
        out, err = follower.communicate(timeout=60)
        out = " ".join((first + out).split())  # rich wraps at 80 columns without a terminal
        assert follower.returncode == 130, out + err
        assert "Cancelling" in out and "Cancelled at step 2" in out and "bnner-tui train --resume cc" in out
        assert "Traceback" not in out + err
        assert proc.wait(timeout=30) == 0
        assert run_status(run) == "cancelled" and not lock_is_held(run)
    finally:
        for p in (follower, proc):
            if p.poll() is None:
                p.kill()
            p.wait()


def test_following_a_resume_from_its_offset_shows_the_new_process_only(tmp_path: Path) -> None:
    run = stand_in.make_run(tmp_path / "runs", "rs")
    proc = stand_in.start(run)
    os.kill(proc.pid, signal.SIGINT)
    assert proc.wait(timeout=30) == 0
    with open(run / "events.jsonl", "ab") as fh:
        fh.write(b'{"v":1,"seq":9,"type":"st')  # a killed writer's fragment: the offset is mid-line
    offset = (run / "events.jsonl").stat().st_size
    resumed = stand_in.start(run, "resume-finish")
    try:
        from bnner_tui.core.runs import RunDir
        from bnner_tui.tui.cli import train as cli_train

        with cli_train.console.capture() as captured:
            status = cli_train.follow_run(RunDir(run), proc=resumed, offset=offset)
        out = " ".join(captured.get().split())
        assert status == "finished", out
        assert "resumed from step 2" in out and "Finished at step 4" in out
        assert "Cancelled" not in out  # the earlier process's end is not replayed as this one's
    finally:
        if resumed.poll() is None:
            resumed.kill()
        resumed.wait()


def test_following_a_run_whose_process_died_says_so_with_the_log(tmp_path: Path) -> None:
    run = stand_in.make_run(tmp_path / "runs", "dead")
    (run / "train.log").write_text("loading\nRuntimeError: the stand-in died\n", encoding="utf-8")
    with EventWriter(run / "events.jsonl") as w:
        w.emit("started", total_steps=10, model="m")
        w.emit("step", step=3, total_steps=10)
    result = CliRunner().invoke(app, ["follow", "dead", "--root", str(run.parent)], env={"COLUMNS": "160"})
    assert result.exit_code == 1, result.output
    assert "exited without a final event" in result.output and "the stand-in died" in result.output


def test_follow_and_runs_skip_a_bad_typed_line(tmp_path: Path) -> None:
    """`1e400` once made `bnner-tui runs` fail for every run; now the line is skipped."""
    fin = _fake_run(tmp_path, "alpha", finished=True, f1=0.5)
    with open(fin.events_path, "a", encoding="utf-8") as fh:
        fh.write('{"v":1,"seq":9,"time":1.0,"type":"step","step":1e400}\n{"type":5}\n')
    _fake_run(tmp_path, "beta", finished=True, f1=0.25)
    runner = CliRunner()
    result = runner.invoke(app, ["runs", "--root", str(tmp_path), "--json"])
    assert result.exit_code == 0, result.output
    rows = {r["name"]: r for r in map(json.loads, result.output.splitlines())}
    assert rows["alpha"]["status"] == "finished" and rows["alpha"]["skipped_lines"] == 2
    assert rows["beta"]["status"] == "finished"
    result = runner.invoke(app, ["follow", "alpha", "--root", str(tmp_path)], env={"COLUMNS": "160"})
    assert result.exit_code == 0 and "Finished at step 10" in result.output, result.output


def _log(path: Path) -> str:
    try:
        return "\n".join((Path(path) / "train.log").read_text(encoding="utf-8").splitlines()[-30:])
    except OSError:
        return ""


def test_disk_estimate_counts_only_known_sizes(tiny_model_dir: Path) -> None:
    from bnner_tui.core.config import TrainConfig
    from bnner_tui.core.train.launch import estimated_run_bytes

    weights = (tiny_model_dir / "model.safetensors").stat().st_size
    local = estimated_run_bytes(TrainConfig(model=str(tiny_model_dir), save_total_limit=2))
    margin = estimated_run_bytes(TrainConfig(model="some-org/some-model"))  # hub: size unknown, margin only
    assert local - margin == (weights // 4) * 4 * (1 + 3 * 3)
    small = estimated_run_bytes(TrainConfig(model="offline"))
    assert estimated_run_bytes(TrainConfig(model="auto")) == small  # auto may fall back to it: no false refusal
    assert small < estimated_run_bytes(TrainConfig(model="offline", offline_vocab_size=80000))


# ---- model auto with no Hub and no cached mBERT: the first line says so ----------------------------

TUTORIAL_TINY = ["--preset", "tutorial", *TINY_FLAGS[2:]]  # the tutorial recipe, tiny offline dimensions


@pytest.fixture
def no_mbert(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The launched CLI sees an empty HF cache (HF_HUB_OFFLINE=1 comes from the autouse fixture)."""
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty-hf-cache"))


def _no_run_folder(root: Path) -> bool:
    return not root.exists() or not any(root.iterdir())


def test_tutorial_without_the_hub_is_refused_without_a_terminal(tmp_path: Path, no_mbert: None) -> None:
    """A script or CI job would only see the random-init model at its F1 0.000: refuse, with what,
    why and what to do in the first line, before any run folder exists."""
    root = tmp_path / "runs"
    result = subprocess.run(
        [BNNER, "train", "--preset", "tutorial", "--output-root", str(root)],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert result.stdout == "" and "Traceback" not in result.stderr
    first = result.stderr.splitlines()[0]
    assert first.startswith(
        "error: Not started: model auto means a randomly initialised small BERT (2 layers, hidden size 256),"
        " not bert-base-multilingual-cased, because the Hugging Face Hub is unreachable (HF_HUB_OFFLINE is set)"
    ), first
    assert "pass --model with a local copy" in first and "go online" in first and "--allow-random-init" in first
    assert "F1 near 0.000" in first
    assert _no_run_folder(root)


def test_in_a_terminal_it_asks_after_saying_so_and_no_starts_nothing(tmp_path: Path, no_mbert: None) -> None:
    """With a terminal: the warning is the first line, then a [y/N] question; `n` starts nothing."""
    import pty
    import re
    import select

    root = tmp_path / "runs"
    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        [BNNER, "train", "--preset", "tutorial", "--output-root", str(root)],
        stdin=follower,
        stdout=follower,
        stderr=follower,
        env={**os.environ, "NO_COLOR": "1", "COLUMNS": "100"},
    )
    os.close(follower)
    out = b""

    def read_until(done: Callable[[bytes], bool], timeout: float = 60) -> None:
        nonlocal out
        deadline = time.monotonic() + timeout
        while not done(out) and time.monotonic() < deadline:
            ready, _, _ = select.select([leader], [], [], 1.0)
            if ready:
                try:
                    chunk = os.read(leader, 4096)
                except OSError:  # the child closed the terminal
                    return
                if not chunk:
                    return
                out += chunk

    try:
        read_until(lambda b: b"[y/N]" in b)
        assert b"[y/N]" in out, out
        os.write(leader, b"n\n")
        read_until(lambda b: b"Not started." in b)
        assert proc.wait(timeout=30) == EXIT_FAILED
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(leader)
    text = re.sub(r"\x1b\[[0-9;]*m", "", out.decode("utf-8", "replace")).replace("\r", "")
    lines = text.splitlines()
    assert lines[0].startswith(
        "warning: training a randomly initialised small BERT (2 layers, hidden size 256),"
        " not bert-base-multilingual-cased, because the Hugging Face Hub is unreachable (HF_HUB_OFFLINE is set)"
    ), lines
    assert "pass --model with a local copy" in lines[0] and "go online" in lines[0]
    assert "F1 near 0.000" in lines[1]
    assert "Train this random-init model anyway? [y/N]" in text and "Not started." in text
    assert _no_run_folder(root)
