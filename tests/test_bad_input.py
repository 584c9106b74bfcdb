"""Bad input, through the real console script: one sentence on stderr and exit status 2, never a
traceback, a MarkupError or "unexpected X". Adding a case is one row of CASES.

Each row: (id, argv, stdin bytes or None, files to create {name: bytes}, expected text in
stderr, exit status). `{model}` in argv is a real tiny model folder; `{tmp}` the test's folder.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

# 9 levels of 9 aliases each: 9**9 = 387 million leaves if expanded, all under `language:`.
ALIAS_BOMB = (
    b"---\nlanguage:\n- &a [bn,bn,bn,bn,bn,bn,bn,bn,bn]\n"
    + b"".join(f"- &{chr(98 + i)} [{','.join(['*' + chr(97 + i)] * 9)}]\n".encode() for i in range(8))
    + b"license: mit\n---\n"
)
DEEP_JSON = b'{"text": "x", "a": ' + b"[" * 10_000 + b"]" * 10_000 + b"}\n"

CASES: list[tuple[str, list[str | bytes], bytes | None, dict[str, bytes], str, int]] = [
    ("tag-[/]-in-conll", ["data", "stats", "t.conll"], None, {"t.conll": "ঢাকা\tB-LOC\nশহর\t[/]\n".encode()},
     "t.conll, line 2: unknown tag '[/]'", 2),
    ("tag-[bold]-verbatim", ["data", "stats", "t.conll"], None, {"t.conll": "ঢাকা\t[bold]X\n".encode()},
     "unknown tag '[bold]X'", 2),
    ("path-with-[/]", ["data", "stats", "a[/]b/t.conll"], None, {"a[/]b/t.conll": b"x\tB-LOC\ny\t[/]\n"},
     "a[/]b/t.conll, line 2: unknown tag '[/]'", 2),
    ("config-value-[/]", ["train", "--config", "c.toml"], None, {"c.toml": b'batch_size = "[/]"\n'},
     "batch_size must be an integer (got '[/]')", 2),
    ("config-tables-shown", ["train", "--config", "c.toml"], None, {"c.toml": b"[model]\nname = 1\n[train]\nx = 1\n"},
     "unexpected table [model]", 2),
    ("epochs-1e9", ["train", "--config", "c.toml"], None, {"c.toml": b"epochs = 1e9\n"},
     "epochs must be at most 10000 (got 1000000000.0)", 2),
    ("batch-size-huge", ["train", "--batch-size", "99999999999999999"], None, {},
     "batch_size must be at most 65536", 2),
    ("tag-file-[/]", ["tag", "-m", "{model}", "-f", "[/]x.txt"], None, {}, "[/]x.txt: does not exist", 2),
    ("data-stats-dev-null", ["data", "stats", "/dev/null"], None, {},
     "/dev/null: is not a regular file or folder", 2),
    ("convert-into-dev-null", ["data", "convert", "demo", "/dev/null/x"], None, {},
     "/dev/null is a file, not a folder", 2),
    ("tag-stdin-deep-json", ["tag", "-m", "{model}", "--format", "jsonl", "-"], DEEP_JSON, {},
     "<stdin>, line 1: is JSON nested too deeply", 2),
    ("tag-stdin-not-utf8", ["tag", "-m", "{model}", "-"], "ঢাকা\n".encode() + b"caf\xe9\n", {},
     "<stdin>, line 2: is not UTF-8 text", 2),
    ("tag-argv-bad-bytes", ["tag", "-m", "{model}", b"\xd0\xff abc"], None, {},
     "The text argument is not valid UTF-8 (byte 0xd0 at character 0)", 2),
    ("card-validate-binary", ["card", "validate", "README.md"], None, {"README.md": b"---\x00\x01\xff\n"},
     "is a binary file, not a model card", 2),
    ("card-validate-not-utf8", ["card", "validate", "README.md"], None, {"README.md": b"---\nlicense: \xff\n---\n"},
     "README.md, line 2: is not UTF-8 text", 2),
    ("card-validate-alias-bomb", ["card", "validate", "README.md"], None, {"README.md": ALIAS_BOMB},
     "uses the alias *a", 1),
]  # fmt: skip


def _bnner() -> str:
    return str(Path(sys.executable).with_name("bnner-tui"))


@pytest.mark.slow
@pytest.mark.parametrize(
    ("argv", "stdin", "files", "expected", "status"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_bad_input_is_one_sentence(
    tiny_model_dir: Path,
    tmp_path: Path,
    argv: list[str | bytes],
    stdin: bytes | None,
    files: dict[str, bytes],
    expected: str,
    status: int,
) -> None:
    for name, content in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(content)
    args = [a.replace("{model}", str(tiny_model_dir)).replace("{tmp}", str(tmp_path)) if isinstance(a, str) else a
            for a in argv]  # fmt: skip
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "300", "LC_ALL": "C.UTF-8", "XDG_CACHE_HOME": str(tmp_path)}
    proc = subprocess.run(
        [_bnner(), *args], cwd=tmp_path, env=env, input=stdin if stdin is not None else b"",
        capture_output=True, timeout=240,
    )  # fmt: skip
    err = proc.stderr.decode("utf-8", "replace")
    assert proc.returncode == status, err
    assert expected in err + proc.stdout.decode("utf-8", "replace")
    for bad in ("Traceback", "MarkupError", "error: unexpected", "Error:"):
        assert bad not in err, err
    assert not (tmp_path / "runs").exists()  # a refused train never creates a run folder


@pytest.mark.slow
def test_hub_model_unreachable_fails_fast_before_any_run_folder(tmp_path: Path) -> None:
    """`train --model someone/x` with the hub unreachable: one sentence within seconds, no run folder."""
    import time

    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "0",
        "HF_ENDPOINT": "http://127.0.0.1:9",  # nothing listens on the discard port: refused at once
        "HF_HOME": str(tmp_path / "hf"),
        "NO_COLOR": "1",
        "XDG_CACHE_HOME": str(tmp_path),
    }
    t0 = time.monotonic()
    proc = subprocess.run(
        [_bnner(), "train", "--model", "someone/x", "--output-root", str(tmp_path / "runs"), "--detach"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    took = time.monotonic() - t0
    assert proc.returncode == 2, proc.stderr
    assert "someone/x" in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())
    print(f"failed in {took:.1f} s: {proc.stderr.strip()}")


def test_tagger_refuses_lone_surrogates(tiny_model_dir: Path) -> None:
    from bnner_tui.core.errors import BnnerError
    from bnner_tui.core.tagger import Tagger

    tagger = Tagger.load(tiny_model_dir, device="cpu")
    with pytest.raises(BnnerError, match=r"lone surrogate U\+DCFF at character 5"):
        tagger.tag("ঢাকা \udcff শহর")
    assert tagger.tag("ঢাকা শহর").text == "ঢাকা শহর"  # still fine afterwards


def test_alias_bomb_is_small() -> None:
    """The case the issue measured: about 390 bytes, 9 levels."""
    assert len(ALIAS_BOMB) < 400
    json.dumps(ALIAS_BOMB.decode())  # plain text, no NUL: it reaches the YAML parser
