"""The real `bnner-tui` in a real terminal: tmux draws it, and we read the cells tmux drew.

Pilot tests see what Textual *thinks* it drew; only a terminal shows where Bengali really
lands. tmux (built without utf8proc, as Debian's is) places characters with libc `wcwidth`,
so a capture shows the misalignments a user sees. Every check measures display columns with
libc `wcswidth` and waits for a condition on the captured pane, never for a fixed time.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

TMUX = shutil.which("tmux")
BNNER = Path(sys.executable).with_name("bnner-tui")
SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data"
WIKIANN = SHARED / "wikiann-bn-xtreme-panx"
MBERT = SHARED / "mbert-cased-tokenizer"
SIZES = [(160, 45), (100, 30)]
START_S = 180.0  # loading WikiANN and the mBERT tokenizer on a loaded 2-core CI machine
GRID_STEP = 16  # alignment_grid.COLUMN_WIDTH + GAP
DIVIDER = "▕"  # the samples pane's right border (vkey)
BLOCKS = re.compile("[\u2580-\u259f]")  # scrollbars and borders, never text
LABEL = re.compile(r"(?<![\w-])(?:[BI]-[A-Z]{2,}|-100)(?![\w-])")

PARAGRAPH = (
    "রবীন্দ্রনাথ ঠাকুর ১৮৬১ সালের ৭ মে কলকাতার জোড়াসাঁকো ঠাকুরবাড়িতে জন্মগ্রহণ করেন। "
    "তাঁর পিতা দেবেন্দ্রনাথ ঠাকুর ছিলেন ব্রাহ্ম সমাজের একজন বিশিষ্ট নেতা এবং মাতা সারদাসুন্দরী দেবী। "
    "শৈশবে তিনি গৃহশিক্ষকের কাছে পড়াশোনা করেন এবং পরে ইংল্যান্ডের ব্রাইটনে একটি পাবলিক স্কুলে ভর্তি হন। "
    "১৯১৩ সালে গীতাঞ্জলি কাব্যগ্রন্থের ইংরেজি অনুবাদের জন্য তিনি সাহিত্যে নোবেল পুরস্কার পান। "
    "তিনি শান্তিনিকেতনে বিশ্বভারতী বিশ্ববিদ্যালয় প্রতিষ্ঠা করেন, যা আজও ভারতের অন্যতম প্রধান শিক্ষাপ্রতিষ্ঠান। "
    "বাংলাদেশ ও ভারতের জাতীয় সংগীত তাঁরই রচনা, আর শ্রীলঙ্কার জাতীয় সংগীতও তাঁর গানের অনুপ্রেরণায় লেখা। "
    "ঢাকা বিশ্ববিদ্যালয়, রাজশাহী এবং চট্টগ্রামের মানুষ আজও পঁচিশে বৈশাখ তাঁর জন্মদিন উদযাপন করেন। "
    "তাঁর ছোটগল্প, উপন্যাস ও প্রবন্ধ আজও পাঠকের কাছে সমান প্রিয়, বিশেষ করে গল্পগুচ্ছ ও গোরা।"
)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.xdist_group("terminal"),  # one worker runs them in turn: one tmux app at a time
    pytest.mark.skipif(TMUX is None, reason="tmux is not installed: the end-to-end terminal test needs it"),
]


def _libc_wcswidth() -> Callable[[str], int]:
    name = ctypes.util.find_library("c")
    if name is None:
        pytest.skip("no C library to measure display widths with")
    libc = ctypes.CDLL(name)
    libc.setlocale.restype = ctypes.c_char_p
    libc.setlocale.argtypes = [ctypes.c_int, ctypes.c_char_p]
    if not libc.setlocale(0, b"C.UTF-8"):  # LC_CTYPE
        pytest.skip("the C.UTF-8 locale is not available to measure display widths with")
    libc.wcswidth.argtypes = [ctypes.c_wchar_p, ctypes.c_size_t]
    libc.wcswidth.restype = ctypes.c_int
    return lambda text: max(0, int(libc.wcswidth(text, len(text))))


wcswidth = _libc_wcswidth() if TMUX else (lambda text: len(text))


def column_of(line: str, index: int) -> int:
    """The display column at which `line[index]` stands."""
    return wcswidth(line[:index])


class Pane:
    """One detached tmux session on its own server socket, running one command."""

    def __init__(self, socket: Path, size: tuple[int, int], command: list[str], cwd: Path) -> None:
        assert TMUX is not None
        self.socket = socket
        self.width, self.height = size
        env = {**os.environ, "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8", "TERM": "xterm-256color"}
        # The pane's size is the terminal's: a COLUMNS/LINES left in this process's environment
        # (an earlier test in the same xdist worker) would make Textual ignore it.
        for var in ("TMUX", "NO_COLOR", "COLUMNS", "LINES"):
            env.pop(var, None)
        self._tmux = [TMUX, "-u", "-f", "/dev/null", "-S", str(socket)]
        # Keep the pane after the app exits, so a crash leaves its message to capture.
        shell = f"cd {shlex.quote(str(cwd))} && exec {shlex.join(command)}"
        size_args = ["-x", str(self.width), "-y", str(self.height)]
        keep = [";", "set-option", "-t", "t", "remain-on-exit", "on"]
        subprocess.run(
            [*self._tmux, "new-session", "-d", "-s", "t", *size_args, shell, *keep],
            check=True,
            env=env,
            timeout=30,
        )

    def capture(self) -> list[str]:
        out = subprocess.run(
            [*self._tmux, "capture-pane", "-p", "-t", "t"], capture_output=True, text=True, timeout=30, check=True
        )
        return out.stdout.splitlines()

    def send(self, *keys: str) -> None:
        subprocess.run([*self._tmux, "send-keys", "-t", "t", *keys], check=True, timeout=30)

    def type(self, text: str) -> None:
        subprocess.run([*self._tmux, "send-keys", "-t", "t", "-l", text], check=True, timeout=60)

    def wait(self, cond: Callable[[list[str]], bool], what: str, timeout: float = START_S) -> list[str]:
        """Capture until `cond` holds; the timeout only bounds a hang and shows the last screen."""
        start = time.monotonic()
        while True:
            lines = self.capture()
            if cond(lines):
                return lines
            if time.monotonic() - start > timeout:
                screen = "\n".join(lines)
                raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}; the pane shows:\n{screen}")
            time.sleep(0.1)  # the polling interval, not a wait for anything in particular

    def resize(self, width: int, height: int) -> None:
        """Resize the window, as a user dragging the terminal does (the app gets SIGWINCH)."""
        subprocess.run(
            [*self._tmux, "resize-window", "-t", "t", "-x", str(width), "-y", str(height)], check=True, timeout=30
        )
        self.width, self.height = width, height

    def close(self) -> None:
        subprocess.run([*self._tmux, "kill-server"], capture_output=True, timeout=30)


@pytest.fixture
def pane_factory(tmp_path: Path) -> Iterator[Callable[[tuple[int, int], list[str]], Pane]]:
    panes: list[Pane] = []
    # A short socket path: tmux refuses sockets longer than sun_path (108 bytes).
    sock_dir = Path(f"/tmp/bnner-tmux-{os.getpid()}")
    sock_dir.mkdir(exist_ok=True)
    (tmp_path / "runs").mkdir()

    def make(size: tuple[int, int], args: list[str]) -> Pane:
        pane = Pane(sock_dir / f"s{len(panes)}", size, [str(BNNER), "--runs-root", "runs", *args], tmp_path)
        panes.append(pane)
        return pane

    yield make
    for pane in panes:
        pane.close()
    shutil.rmtree(sock_dir, ignore_errors=True)


# -- what the Data screen must look like ---------------------------------------------------
TABLE_ROW = re.compile(r"^\s*\d+\s+\d+\s+(?:-|[A-Z]{3,5}(?: [A-Z]{3,5})*)\s")


def table_rows(lines: list[str]) -> list[str]:
    return [line for line in lines if TABLE_ROW.match(line) and DIVIDER in line]


def divider_columns(rows: list[str]) -> set[int]:
    return {column_of(row, row.index(DIVIDER)) for row in rows}


def grid_rows(lines: list[str]) -> tuple[int, list[str]]:
    """The alignment grid's rows (right of the divider) and the display column where the grid starts."""
    start = next(i for i, line in enumerate(lines) if "[CLS]" in line and DIVIDER in line)
    x0 = column_of(lines[start], lines[start].index(DIVIDER)) + 1
    rows = []
    for line in lines[start:]:
        if DIVIDER not in line:
            break
        right = line[line.index(DIVIDER) + 1 :]
        if right.startswith("▔") or re.match(r"^ ?[?≠✂] \d+ ", right):
            break  # the warnings line or the stats panel's border: the grid ends here
        rows.append(right)
    return x0, rows


def grid_problems(rows: list[str]) -> list[str]:
    """Every way a grid row breaks its fixed columns: a label off its column start, text across a gap."""
    problems = []
    for n, row in enumerate(rows):
        clean = BLOCKS.sub(" ", row)
        for m in LABEL.finditer(clean):
            col = column_of(clean, m.start())
            if col % GRID_STEP != 0:
                problems.append(f"row {n}: label {m.group()!r} at column {col}, not a column start: {row!r}")
        for m in re.finditer(r"\S+", clean):
            first = column_of(clean, m.start())
            last = first + wcswidth(m.group()) - 1
            if first // GRID_STEP != last // GRID_STEP or last % GRID_STEP == GRID_STEP - 1:
                problems.append(f"row {n}: {m.group()!r} (columns {first}-{last}) crosses a column gap: {row!r}")
    return problems


def data_screen_ready(lines: list[str]) -> bool:
    return len(table_rows(lines)) >= 5 and any("[CLS]" in line for line in lines)


def check_data_screen(lines: list[str], size: tuple[int, int]) -> None:
    rows = table_rows(lines)
    assert len(rows) >= 5
    assert len(divider_columns(rows)) == 1, "the sample table's divider moves:\n" + "\n".join(rows)
    # The header row and the search box's line share the divider column with every row.
    header = next(line for line in lines if re.match(r"^\s*#\s+w\s+entities\s+text", line))
    assert divider_columns([header]) == divider_columns(rows)
    _, grid = grid_rows(lines)
    assert grid, "\n".join(lines)
    problems = grid_problems(grid)
    assert problems == [], "\n".join(problems)
    assert all(wcswidth(line) <= size[0] for line in lines)


def walk_samples(pane: Pane, lines: list[str], size: tuple[int, int], steps: int = 3) -> None:
    """Down the table: every sample's grid lines up too, not only the first one."""
    # "/" focuses the search box (the footer drops the screen's letter keys), enter there moves
    # focus back to the table. Each waits for the footer: a binding's action runs after later keys.
    pane.send("/")
    pane.wait(lambda ls: "s Strategy" not in ls[-1], "focus in the search box", 60)
    pane.send("Enter")
    pane.wait(lambda ls: "s Strategy" in ls[-1], "focus back on the samples", 60)
    for _ in range(steps):
        before = "\n".join(grid_rows(lines)[1])
        pane.send("Down")
        lines = pane.wait(
            lambda ls, b=before: data_screen_ready(ls) and "\n".join(grid_rows(ls)[1]) != b, "the next sample", 60
        )
        check_data_screen(lines, size)


def _data_args(with_wikiann: bool) -> list[str]:
    if with_wikiann:
        return ["--data", str(WIKIANN), "--tokenizer", str(MBERT)]
    return ["--data", "demo", "--tokenizer", str(MBERT) if MBERT.exists() else "wordpiece"]


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_demo_set_columns_line_up(pane_factory, size: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]
    pane = pane_factory(size, _data_args(False))
    lines = pane.wait(data_screen_ready, "the demo samples and their alignment grid")
    check_data_screen(lines, size)
    walk_samples(pane, lines, size)


@pytest.mark.shared
@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_wikiann_with_mbert_columns_line_up(pane_factory, size: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]
    if not (WIKIANN.exists() and MBERT.exists()):
        pytest.skip(f"{SHARED} lacks the WikiANN files or the mBERT tokenizer: this test needs the shared data")
    pane = pane_factory(size, _data_args(True))
    lines = pane.wait(data_screen_ready, "the WikiANN samples and their alignment grid")
    check_data_screen(lines, size)
    walk_samples(pane, lines, size)


# -- the Tag screen ------------------------------------------------------------------------
def text_area_rows(lines: list[str]) -> list[str]:
    """The rows inside the Tag screen's text box: between its tall borders, after the model status."""
    status = (
        i
        for i, line in enumerate(lines)
        if "model loaded" in line or line.lstrip().startswith(("model:", "loading model"))
    )
    start = next(status, None)
    if start is None:
        return []
    rows = []
    for line in lines[start + 1 :]:
        if line.startswith("▊") and ("▔" in line or "▁" in line):
            if rows:
                break
            continue
        if line.startswith("▊"):
            rows.append(line)
    return rows


def shown_words(lines: list[str]) -> list[str]:
    words = []
    for row in text_area_rows(lines):
        words += BLOCKS.sub(" ", row).split()
    return words


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_a_long_paragraph_typed_into_the_tag_screen_shows_every_word(pane_factory, size: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]
    assert len(PARAGRAPH) > 700
    pane = pane_factory(size, ["--data", "demo"])
    pane.wait(lambda ls: len(table_rows(ls)) >= 5, "the Data screen with its samples")
    # Focus is on the samples table, so 4 opens Tag. (No escape first: escape then 4 in one
    # burst reads as alt+4, as in any terminal.)
    pane.send("4")
    pane.wait(lambda ls: bool(ls) and "Tag" in ls[0] and "শেখ" in "\n".join(ls), "the Tag screen with its example")
    pane.send("C-n")  # Clear: empties the box and puts the cursor in it
    pane.wait(lambda ls: "শেখ" not in "\n".join(text_area_rows(ls)), "the cleared text box")
    pane.type(PARAGRAPH)
    words = PARAGRAPH.split()
    # The box grows to the text after the typing settles: wait for every word, not only the last
    # one (under load the last word arrives while the box is still scrolled to it).
    lines = pane.wait(lambda ls: shown_words(ls) == words, "the whole paragraph shown", timeout=120)
    assert shown_words(lines) == words, "\n".join(lines)
    # Every row of the box ends at the same right border: nothing pushed past it.
    borders = {column_of(row, row.rindex("▎")) for row in text_area_rows(lines) if "▎" in row}
    assert len(borders) == 1, "\n".join(text_area_rows(lines))


def test_the_typed_paragraph_reads_once_after_the_terminal_narrows(  # type: ignore[no-untyped-def]
    pane_factory, tmp_path: Path, tiny_model_dir: Path
) -> None:
    """160x45 -> 100x30 with the paragraph in the box and a model tagging it: a row of the old
    wrapping stayed on screen under the new one (`ছোটগল্প, উপন্যাস ও` shown twice) until the
    cursor moved."""
    from bnner_tui.core.config import TrainConfig
    from bnner_tui.core.events import EventWriter

    run = tmp_path / "runs" / "tiny"  # a finished run: the Tag screen loads its model and tags as you type
    run.mkdir(parents=True)
    TrainConfig(data="demo", model="offline", run_name="tiny", output_root="runs").to_toml(run / "config.toml")
    shutil.copytree(tiny_model_dir, run / "model")
    with EventWriter(run / "events.jsonl") as events:
        events.emit("started", total_steps=10)
        events.emit("finished", step=10, best_f1=0.5, duration_s=3.0)
    pane = pane_factory((160, 45), ["--data", "demo"])
    pane.wait(lambda ls: len(table_rows(ls)) >= 5, "the Data screen with its samples")
    pane.send("4")
    pane.wait(lambda ls: bool(ls) and "Tag" in ls[0] and "শেখ" in "\n".join(ls), "the Tag screen with its example")
    pane.send("C-n")
    pane.wait(lambda ls: "শেখ" not in "\n".join(text_area_rows(ls)), "the cleared text box")
    pane.type(PARAGRAPH)
    words = PARAGRAPH.split()
    pane.wait(
        lambda ls: shown_words(ls) == words and any(line.startswith("│") and "গোরা" in line for line in ls),
        "the paragraph shown and tagged (the result box holds it)",
        timeout=120,
    )
    pane.resize(100, 30)
    lines = pane.wait(
        lambda ls: bool(ls) and len(ls[0]) <= 100 and shown_words(ls) == words,
        "the paragraph re-wrapped to 100 columns, every word once",
        timeout=60,
    )
    borders = {column_of(row, row.rindex("▎")) for row in text_area_rows(lines) if "▎" in row}
    assert len(borders) == 1, "\n".join(text_area_rows(lines))
