"""Writing files without losing anything: atomic replacement and numbered backups.

Every file bnner-tui writes goes through here, so the guarantees hold everywhere:
- a write is atomic (temp file in the same folder, fsync, `os.replace`): a crash leaves the
  old file or the new one, never half of either;
- a user's existing file is never overwritten without a backup: `keep_backup` copies it to
  the first free `NAME.~N~` (GNU-style numbered backups: nothing older is ever replaced);
- new files get the usual permissions (0666 less the umask), not mkstemp's private 0600,
  so a model folder can be shared or pushed as it is; a replaced file keeps its mode.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

_UMASK = os.umask(0)
os.umask(_UMASK)


def backup_path(path: Path) -> Path:
    """The first free `NAME.~N~` beside `path`."""
    n = 1
    while (path.parent / f"{path.name}.~{n}~").exists():
        n += 1
    return path.parent / f"{path.name}.~{n}~"


def keep_backup(path: Path) -> Path | None:
    """Copies an existing file to its next numbered backup; returns that path (None if nothing to keep)."""
    if not path.exists():
        return None
    backup = backup_path(path)
    shutil.copy2(path, backup)
    return backup


def _mode_for(path: Path) -> int:
    try:
        return stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        return 0o666 & ~_UMASK


def make_parent(path: Path) -> None:
    """Creates `path`'s folder; a parent that is a file (`/dev/null/x`) or not writable is one sentence."""
    from bnner_tui.core.errors import BnnerError

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except (NotADirectoryError, FileExistsError):
        blocker = next((p for p in [path.parent, *path.parent.parents] if p.exists() and not p.is_dir()), path.parent)
        raise BnnerError(f"Cannot write {path}: {blocker} is a file, not a folder.") from None
    except PermissionError:
        raise BnnerError(f"Cannot write {path}: permission denied for its folder {path.parent}.") from None


def atomic_write_via(path: Path, write: Callable[[Path], None]) -> None:
    """Atomically creates or replaces `path` with what `write(temp_path)` writes (for writers that want a path)."""
    path = Path(path)
    make_parent(path)
    mode = _mode_for(path)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        write(tmp)
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def atomic_write_bytes(path: Path, data: bytes) -> None:
    def write(tmp: Path) -> None:
        tmp.write_bytes(data)

    atomic_write_via(Path(path), write)


def atomic_write_text(path: Path, text: str, *, backup: bool = False) -> Path | None:
    """Atomically writes `text` (UTF-8, newlines as given).

    With `backup`, an existing file with different content is first kept as `NAME.~N~`, and an
    identical one is left untouched; returns the backup's path, if one was made.
    """
    path = Path(path)
    kept = None
    if backup and path.exists():
        if path.read_bytes() == text.encode("utf-8"):
            return None
        kept = keep_backup(path)
    atomic_write_bytes(path, text.encode("utf-8"))
    return kept


def atomic_write_json(path: Path, data: Any) -> None:
    atomic_write_text(Path(path), json.dumps(data, ensure_ascii=False, indent=2) + "\n")


def publishable_tree(root: Path) -> None:
    """Gives a folder made with mkdtemp (0700) and its contents the usual permissions before it is shown."""
    os.chmod(root, 0o777 & ~_UMASK)
    for dirpath, dirnames, filenames in os.walk(root):
        for name, mode in [(d, 0o777) for d in dirnames] + [(f, 0o666) for f in filenames]:
            try:
                os.chmod(Path(dirpath) / name, mode & ~_UMASK)
            except FileNotFoundError:  # an atomic write's temporary file, renamed since the walk listed it
                continue
