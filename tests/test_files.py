"""core.files: atomic writes, numbered backups, and permissions that do not surprise."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from bnner_tui.core import files
from bnner_tui.core.files import atomic_write_json, atomic_write_text, atomic_write_via, keep_backup, publishable_tree


def _mode(p: Path) -> int:
    return stat.S_IMODE(p.stat().st_mode)


def test_new_file_gets_umask_permissions_not_mkstemps_0600(tmp_path: Path) -> None:
    target = tmp_path / "config.toml"
    atomic_write_text(target, "a = 1\n")
    assert target.read_text(encoding="utf-8") == "a = 1\n"
    assert _mode(target) == 0o666 & ~files._UMASK


def test_replaced_file_keeps_its_mode(tmp_path: Path) -> None:
    target = tmp_path / "secret.txt"
    target.write_text("old", encoding="utf-8")
    target.chmod(0o600)
    atomic_write_text(target, "new")
    assert target.read_text(encoding="utf-8") == "new" and _mode(target) == 0o600


def test_backups_are_numbered_and_never_replaced(tmp_path: Path) -> None:
    target = tmp_path / "README.md"
    assert atomic_write_text(target, "one\n", backup=True) is None
    assert atomic_write_text(target, "one\n", backup=True) is None  # unchanged: no write, no backup
    assert atomic_write_text(target, "two\n", backup=True) == tmp_path / "README.md.~1~"
    assert atomic_write_text(target, "three\n", backup=True) == tmp_path / "README.md.~2~"
    assert (tmp_path / "README.md.~1~").read_text(encoding="utf-8") == "one\n"
    assert (tmp_path / "README.md.~2~").read_text(encoding="utf-8") == "two\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["README.md", "README.md.~1~", "README.md.~2~"]  # no temp
    assert keep_backup(tmp_path / "absent") is None


def test_failed_write_leaves_the_old_file_and_no_temp(tmp_path: Path) -> None:
    target = tmp_path / "data.parquet"
    target.write_bytes(b"old")

    def broken(tmp: Path) -> None:
        tmp.write_bytes(b"half")
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        atomic_write_via(target, broken)
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data.parquet"]


def test_json_is_utf8_and_ends_with_newline(tmp_path: Path) -> None:
    target = tmp_path / "metrics.json"
    atomic_write_json(target, {"নাম": 1})
    assert target.read_text(encoding="utf-8") == '{\n  "নাম": 1\n}\n'


def test_publishable_tree_opens_up_a_private_temp_folder(tmp_path: Path) -> None:
    root = tmp_path / "export"
    (root / "sub").mkdir(parents=True)
    (root / "sub" / "model.safetensors").write_bytes(b"x")
    root.chmod(0o700)
    (root / "sub" / "model.safetensors").chmod(0o600)
    publishable_tree(root)
    assert _mode(root) == 0o777 & ~files._UMASK
    assert _mode(root / "sub" / "model.safetensors") == 0o666 & ~files._UMASK
