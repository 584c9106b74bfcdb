"""Completing a typed path, for the Train form's data and tokenizer boxes (a Textual Suggester).

Why its own module: the rule ("the first entry of the folder that starts with what was typed,
a folder with a trailing slash, hidden entries only when a dot was typed") is filesystem
logic that tests can pin without an app. Standard library only.
"""

from __future__ import annotations

import os
from pathlib import Path

MAX_ENTRIES = 2000  # a folder of 100,000 files must not stall a keystroke


def complete_path(text: str) -> str | None:
    """`text` completed to the first matching entry of its folder, or None.

    The result always starts with `text` as typed (a `~` stays a `~`), as a Suggester needs;
    an exact folder name gains its "/". Words that are not paths (demo, hub:ID) get nothing
    unless a file of that name exists."""
    if not text or "\n" in text:
        return None
    folder_part, _, name = text.rpartition("/")
    folder = Path(os.path.expanduser(folder_part + "/" if folder_part or text.startswith("/") else "."))
    try:
        with os.scandir(folder) as it:
            entries = []
            for i, entry in enumerate(it):
                if i >= MAX_ENTRIES:
                    break
                entries.append((entry.name, entry.is_dir()))
    except OSError:
        return None
    matches = sorted(
        (entry_name, is_dir)
        for entry_name, is_dir in entries
        if entry_name.startswith(name) and (name.startswith(".") or not entry_name.startswith("."))
    )
    if not matches:
        return None
    entry_name, is_dir = matches[0]
    completed = text + entry_name[len(name) :] + ("/" if is_dir else "")
    return completed if completed != text else None
