"""`bnner-tui tag`: formats, files, stdin, and one-sentence errors from the real console script."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bnner_tui.tui.cli import app

runner = CliRunner()
LINES = ["ঢাকা বাংলাদেশের রাজধানী।", "", "রবীন্দ্রনাথ ( ক্রিকেটার ) গেছেন", "Visited Dhaka, then London."]


def _invoke(args: list[str], input: str | None = None):
    result = runner.invoke(app, ["tag", *args], input=input)
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


def test_pretty_single_text(forced_model_dir: Path) -> None:
    result = _invoke(["--model", str(forced_model_dir), "রবীন্দ্রনাথ ঠাকুর ঢাকা শহর। x"])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "legend:" in out and "PER" in out and "LOC" in out and "ORG" in out
    assert "রবীন্দ্রনাথ ঠাকুর ঢাকা শহর। x" in out
    # the forced model puts the danda inside LOC; the default decoding keeps what the model said
    assert "ঢাকা শহর।" in out and "[18:27]" in out
    trimmed = _invoke(["--model", str(forced_model_dir), "--trim-punctuation", "রবীন্দ্রনাথ ঠাকুর ঢাকা শহর। x"])
    assert "[18:26]" in trimmed.output


def test_jsonl_from_plain_file(forced_model_dir: Path, tmp_path: Path) -> None:
    f = tmp_path / "in.txt"
    f.write_text("\n".join(LINES) + "\n", encoding="utf-8")
    result = _invoke(["-m", str(forced_model_dir), "--file", str(f), "--format", "jsonl"])
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["text"] for r in records] == LINES  # one record per input line, blank lines kept
    for r in records:
        for e in r["entities"]:
            assert r["text"][e["start"] : e["end"]] == e["text"]
    assert [(e["text"], e["label"]) for e in records[2]["entities"]] == [("রবীন্দ্রনাথ ( ক্রিকেটার )", "PER")]
    assert [(e["text"], e["label"]) for e in records[3]["entities"]] == [("Dhaka,", "LOC"), ("London", "LOC")]


def test_jsonl_input_fields_pass_through(forced_model_dir: Path, tmp_path: Path) -> None:
    f = tmp_path / "in.jsonl"
    f.write_text(
        json.dumps({"id": 7, "text": "ঢাকা শহর"}, ensure_ascii=False)
        + "\n\n"
        + json.dumps({"id": 8, "text": "x"})
        + "\n",
        encoding="utf-8",
    )
    result = _invoke(["-m", str(forced_model_dir), "-f", str(f), "--format", "jsonl"])
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["id"] for r in records] == [7, 8]
    assert records[0]["entities"][0]["text"] == "ঢাকা শহর"


def test_conll_from_stdin(forced_model_dir: Path) -> None:
    args = ["-m", str(forced_model_dir), "--format", "conll", "--decoding", "repair", "--trim-punctuation", "-"]
    result = _invoke(args, input="ঢাকা শহর।\nx ঠাকুর\n")
    assert result.exit_code == 0, result.output
    assert result.stdout == "ঢাকা\tB-LOC\nশহর\tI-LOC\n।\tO\n\nx\tO\nঠাকুর\tB-PER\n\n"


def test_average_option(forced_model_dir: Path) -> None:
    first = _invoke(["-m", str(forced_model_dir), "--format", "jsonl", "বাংলাদেশের x"])
    avg = _invoke(["-m", str(forced_model_dir), "--format", "jsonl", "--average", "বাংলাদেশের x"])
    assert json.loads(first.stdout)["entities"][0]["label"] == "ORG"
    assert json.loads(avg.stdout)["entities"] == []


def test_pretty_file(forced_model_dir: Path, tmp_path: Path) -> None:
    f = tmp_path / "in.txt"
    f.write_text("\n".join(LINES), encoding="utf-8")
    result = _invoke(["-m", str(forced_model_dir), "-f", str(f)])
    assert result.exit_code == 0, result.output
    for line in LINES[:1] + LINES[2:]:
        assert line in result.stdout


def _cli(args: list[str], cwd: Path, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).with_name("bnner-tui")
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "NO_COLOR": "1", "COLUMNS": "200"}
    return subprocess.run(
        [str(exe), "tag", *args], cwd=cwd, env=env, input=stdin, capture_output=True, text=True, timeout=120
    )


@pytest.mark.slow
def test_console_script_end_to_end(forced_model_dir: Path, tmp_path: Path) -> None:
    proc = _cli(["-m", str(forced_model_dir), "--format", "jsonl"], tmp_path, stdin="ঢাকা শহর\n")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["entities"][0]["text"] == "ঢাকা শহর"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-m", "/no/such/model", "ঢাকা"], "/no/such/model does not exist"),
        (["-m", "{model}", "-f", "/no/such/file.txt"], "/no/such/file.txt: does not exist"),
        (["ঢাকা"], "bnner-tui train --preset cpu-demo"),
        (["-m", "{model}", "--format", "xml", "ঢাকা"], "--format must be one of"),
    ],
)
def test_errors_are_one_sentence(forced_model_dir: Path, tmp_path: Path, args: list[str], message: str) -> None:
    args = [a.replace("{model}", str(forced_model_dir)) for a in args]
    proc = _cli(args, tmp_path)
    assert proc.returncode == 2
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_bad_jsonl_line_names_file_and_line(forced_model_dir: Path, tmp_path: Path) -> None:
    f = tmp_path / "bad.jsonl"
    f.write_text('{"text": "ঢাকা"}\n{"txt": 1}\n', encoding="utf-8")
    proc = _cli(["-m", str(forced_model_dir), "-f", str(f), "--format", "jsonl"], tmp_path)
    assert proc.returncode == 2
    assert f'{f}, line 2: is not a JSON object with a "text" string' in proc.stderr
    assert "Traceback" not in proc.stderr


def test_not_utf8_file(forced_model_dir: Path, tmp_path: Path) -> None:
    f = tmp_path / "latin1.txt"
    f.write_bytes("ঢাকা\n".encode() + b"caf\xe9\n")
    proc = _cli(["-m", str(forced_model_dir), "-f", str(f)], tmp_path)
    assert proc.returncode == 2
    assert "is not UTF-8 text" in proc.stderr


def test_decoding_option(forced_model_dir: Path) -> None:
    # ঠাকুর alone is an orphan I-PER: Viterbi may not label it I-, argmax drops it, repair opens PER
    def labels(*flags: str) -> list[str]:
        out = _invoke(["-m", str(forced_model_dir), "--format", "jsonl", *flags, "x ঠাকুর"])
        return [e["label"] for e in json.loads(out.stdout)["entities"]]

    assert labels("--decoding", "repair") == ["PER"]
    assert labels("--decoding", "argmax") == []
    assert labels() in ([], ["PER"])
    bad = _invoke(["-m", str(forced_model_dir), "--decoding", "beam", "x"])  # one sentence, exit 2
    assert bad.exit_code == 2 and "--decoding must be one of" in bad.stderr


def test_fast_precision_options_run(forced_model_dir: Path) -> None:
    for flag in ("--quantize", "--bf16", "--fp32"):
        result = _invoke(["-m", str(forced_model_dir), "--format", "jsonl", flag, "ঢাকা শহর"])
        assert result.exit_code == 0, result.output
        assert json.loads(result.stdout)["entities"][0]["text"] == "ঢাকা শহর"
        assert "Tagging in bf16" not in result.stderr  # said only when bf16 was chosen, not asked for


def test_bf16_default_is_said_on_stderr(forced_model_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """When the tagger picks bf16 by itself the user is told, on stderr (stdout stays the data), how to opt out."""
    from bnner_tui.core.tagger import engine

    monkeypatch.setattr(engine, "AUTO_BF16_MIN_LINEAR_WEIGHTS", 0)  # the forced model now counts as big
    args = ["-m", str(forced_model_dir), "--format", "jsonl", "ঢাকা শহর"]
    auto, plain = _invoke(args), _invoke(["--fp32", *args])
    assert auto.exit_code == 0 and plain.exit_code == 0, auto.output + plain.output
    assert ("Tagging in bf16" in auto.stderr and "--fp32" in auto.stderr) is engine.native_bf16_cpu()
    assert "Tagging in bf16" not in plain.stderr
    assert json.loads(auto.stdout)["entities"][0]["text"] == json.loads(plain.stdout)["entities"][0]["text"]


def test_onnx_backend_option(forced_model_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("onnxruntime", reason="the onnx backend is the optional extra bnner-tui[fast]")
    pytest.importorskip("onnx", reason="the onnx backend is the optional extra bnner-tui[fast]")
    monkeypatch.setenv("BNNER_CACHE_DIR", str(tmp_path / "cache"))
    args = ["-m", str(forced_model_dir), "--format", "jsonl", "রবীন্দ্রনাথ ঠাকুর ঢাকা শহর। x"]
    ref = _invoke(args)
    fast = _invoke(["--backend", "onnx", *args])
    assert fast.exit_code == 0, fast.output
    assert [(e["text"], e["label"]) for e in json.loads(fast.stdout)["entities"]] == [
        (e["text"], e["label"]) for e in json.loads(ref.stdout)["entities"]
    ]
    bad = _invoke(["--backend", "onnx", "--quantize", *args])
    assert bad.exit_code != 0 and "onnx backend runs fp32" in bad.stderr


def test_very_long_line_is_tagged_in_pieces_with_offsets_into_the_whole_line(forced_model_dir: Path) -> None:
    from bnner_tui.tui.cli.tag import LONG_LINE_CHARS

    line = "ঢাকা শহর গেছেন। " * 2000  # 32,000 characters: over the piece size
    assert len(line) > LONG_LINE_CHARS
    result = _invoke(["-m", str(forced_model_dir), "--format", "jsonl", "-"], input=line + "\n")
    assert result.exit_code == 0, result.output
    (rec,) = [json.loads(x) for x in result.stdout.splitlines()]
    assert rec["text"] == line
    assert len(rec["entities"]) == 2000 and all(e["text"] == "ঢাকা শহর" for e in rec["entities"])
    assert all(rec["text"][e["start"] : e["end"]] == e["text"] for e in rec["entities"])
    assert len(rec["words"]) == 8000
    assert all(rec["text"][w["start"] : w["end"]] == w["text"] for w in rec["words"])
    conll = _invoke(["-m", str(forced_model_dir), "--format", "conll", "-"], input=line + "\n")
    assert conll.stdout.count("\tB-LOC\n") == 2000 and conll.stdout.endswith("।\tO\n\n")


def test_split_long_text_covers_the_text_and_cuts_after_sentences() -> None:
    from bnner_tui.core.tagger import split_long_text

    text = "এক দুই। " * 50 + "x" * 300
    pieces = list(split_long_text(text, 100))
    assert "".join(p for _, p in pieces) == text
    assert all(text[o : o + len(p)] == p for o, p in pieces)
    assert all(len(p) <= 100 for _, p in pieces)
    assert all(p.endswith("। ") for _, p in pieces[:-4])  # sentence ends while there are any


@pytest.mark.slow
def test_stdin_output_streams_before_the_input_ends(forced_model_dir: Path, tmp_path: Path) -> None:
    """Results of the first batch arrive while stdin is still open (memory follows the batch)."""
    import threading

    exe = Path(sys.executable).with_name("bnner-tui")
    proc = subprocess.Popen(
        [str(exe), "tag", "-m", str(forced_model_dir), "--format", "jsonl", "--batch-size", "2", "-"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=tmp_path,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )
    assert proc.stdin is not None and proc.stdout is not None
    got: list[bytes] = []
    try:
        proc.stdin.write("ঢাকা শহর\nx\n".encode())
        proc.stdin.flush()
        reader = threading.Thread(target=lambda: got.append(proc.stdout.readline()), daemon=True)
        reader.start()
        reader.join(timeout=180)  # returns as soon as the first record is written
        assert got and json.loads(got[0])["entities"][0]["text"] == "ঢাকা শহর"
        assert proc.poll() is None  # still running: stdin is open
    finally:
        proc.stdin.close()
        proc.wait(timeout=60)
    assert proc.returncode == 0


def test_progress_lines_when_stderr_is_not_a_terminal() -> None:
    import io

    from rich.console import Console

    from bnner_tui.tui.cli.tag import _Ticker

    buf = io.StringIO()
    ticker = _Ticker(Console(file=buf, force_terminal=False), total=None, every_s=0.0)
    ticker.advance(3, 40)
    ticker.close()
    assert buf.getvalue().startswith("tagging: 3 items, 40 words (")
