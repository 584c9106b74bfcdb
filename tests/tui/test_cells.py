"""The app measures text as a wcwidth terminal draws it (tui/cells.py).

The reference is the C library's own `wcswidth` under a UTF-8 locale: what tmux (built
without utf8proc, as Debian's is), xterm and VTE call to decide how many cells a string takes.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import subprocess
import sys
from pathlib import Path

import pytest

from bnner_tui.tui import cells

REPO = Path(__file__).resolve().parents[2]
LC_CTYPE = 0  # glibc's value; the test skips where the C.UTF-8 locale cannot be set


def _libc_wcswidth():  # type: ignore[no-untyped-def]
    name = ctypes.util.find_library("c")
    if name is None:
        pytest.skip("no C library found to compare with")
    libc = ctypes.CDLL(name)
    libc.setlocale.restype = ctypes.c_char_p
    libc.setlocale.argtypes = [ctypes.c_int, ctypes.c_char_p]
    if not libc.setlocale(LC_CTYPE, b"C.UTF-8"):
        pytest.skip("the C.UTF-8 locale is not available, so libc wcswidth cannot measure UTF-8")
    libc.wcswidth.argtypes = [ctypes.c_wchar_p, ctypes.c_size_t]
    libc.wcswidth.restype = ctypes.c_int

    def wcswidth(text: str) -> int:
        return int(libc.wcswidth(text, len(text)))

    return wcswidth


@pytest.fixture(scope="module")
def wcswidth():  # type: ignore[no-untyped-def]
    return _libc_wcswidth()


def _distinct_words(spec: str) -> set[str]:
    from bnner_tui.core.data import load_source

    loaded = load_source(spec)
    words: set[str] = set()
    for ds in loaded.dataset.values():
        for tokens in ds["tokens"]:
            words.update(tokens)
    return words


def _mismatches(words: set[str], wcswidth) -> list[tuple[str, int, int]]:  # type: ignore[no-untyped-def]
    from rich.cells import cell_len
    from textual._cells import cell_len as textual_cell_len

    out = []
    for word in sorted(words):
        want = wcswidth(word)
        if want < 0:  # a non-printable character: no terminal width to compare with
            continue
        got = cell_len(word)
        if got != want or textual_cell_len(word) != want:
            out.append((word, got, want))
    return out


def test_known_words_measure_as_libc_does(wcswidth) -> None:  # type: ignore[no-untyped-def]
    from rich.cells import cell_len

    assert wcswidth("রুবিনা") == 5
    assert cell_len("রুবিনা") == 5
    assert cell_len("বিশ্ববিদ্যালয়") == wcswidth("বিশ্ববিদ্যালয়") == 11
    for mark in "\u0982\u0983\u09be\u09bf\u09c0\u09c7\u09c8\u09cb\u09cc\u09d7":
        assert cell_len(mark) == 1, f"U+{ord(mark):04X}"


def test_every_demo_word_measures_as_libc_does(wcswidth) -> None:  # type: ignore[no-untyped-def]
    words = _distinct_words("demo")
    assert len(words) > 500
    assert _mismatches(words, wcswidth) == []


def test_every_wikiann_word_measures_as_libc_does(wcswidth, wikiann_dir: Path) -> None:  # type: ignore[no-untyped-def]
    words = _distinct_words(str(wikiann_dir))
    assert len(words) > 5_000
    bad = _mismatches(words, wcswidth)
    assert bad == [], f"{len(bad)} of {len(words)} words differ, e.g. {bad[:5]}"


def test_the_grapheme_convention_is_rich_s_own_table() -> None:
    from rich.cells import cell_len

    cells.apply(cells.GRAPHEME)
    assert cell_len("রুবিনা") == 3
    assert cells.current() == cells.GRAPHEME
    cells.apply(cells.WCWIDTH)
    assert cell_len("রুবিনা") == 5


def test_textual_widgets_inherit_the_convention() -> None:
    """Strip, Content and TextArea's document import cell_len by name: they measure the same."""
    from rich.segment import Segment
    from textual.content import Content
    from textual.strip import Strip

    assert Strip([Segment("রুবিনা")]).cell_length == 5
    assert Content("রুবিনা ভট্টাচার্য").cell_length == 5 + 1 + 8
    assert Strip([Segment("রুবিনা ভট্টাচার্য")]).crop(0, 5).text == "রুবিনা"


def test_environment_variable_and_bad_value(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(cells.ENV_VAR, "grapheme")
    assert cells.choose() == cells.GRAPHEME
    assert cells.choose("wcwidth") == cells.WCWIDTH  # the flag wins over the environment
    monkeypatch.setenv(cells.ENV_VAR, "wide")
    with pytest.raises(ValueError, match="BNNER_CELL_WIDTHS must be one of wcwidth, grapheme"):
        cells.choose()


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    import os

    full_env = {**os.environ, "COLUMNS": "120", **(env or {})}
    return subprocess.run(
        [str(Path(sys.executable).with_name("bnner-tui")), *args],
        capture_output=True,
        text=True,
        env=full_env,
        cwd=REPO,
        timeout=120,
    )


def test_help_shows_the_flag_and_the_environment_variable() -> None:
    out = _cli("--help")
    assert out.returncode == 0, out.stderr
    assert "--cell-widths" in out.stdout
    assert "BNNER_CELL_WIDTHS" in out.stdout


def test_cli_rejects_an_unknown_convention_in_one_sentence() -> None:
    out = _cli("data", "stats", env={cells.ENV_VAR: "wide"})
    assert out.returncode == 2
    assert "Invalid value for '--cell-widths' (env var: 'BNNER_CELL_WIDTHS')" in out.stderr
    assert "must be one of wcwidth, grapheme (got 'wide')" in out.stderr
    assert "Traceback" not in out.stderr


def test_cli_tables_use_the_same_convention(wcswidth, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """`data show` on a Bengali file: every line of its table has the same display width."""
    conll = tmp_path / "bn.conll"
    conll.write_text(
        "রুবিনা\tB-PER\nভট্টাচার্য\tI-PER\nবিশ্ববিদ্যালয়ে\tO\n\nঢাকা\tB-LOC\nবিশ্ববিদ্যালয়\tB-ORG\n",
        encoding="utf-8",
    )
    out = _cli("data", "show", str(conll), "--split", "train", "--index", "0")
    assert out.returncode == 0, out.stderr
    table = [line for line in out.stdout.splitlines() if line[:1] in "┏┃┡│└"]
    assert table, out.stdout
    assert len({wcswidth(line) for line in table}) == 1, out.stdout
