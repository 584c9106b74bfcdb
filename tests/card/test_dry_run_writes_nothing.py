"""A publish dry run writes nothing to the user's folders: core and the CLI, with and without a card.

The snapshot is strict on purpose: every file and folder under the test's root with its size,
modification time (ns) and, for files, its bytes. A write-then-restore, a backup, or a temporary
file created and removed next to the run would all change it.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from typer.testing import CliRunner

from bnner_tui.core.publish import plan, publish
from bnner_tui.tui.cli import app

from .conftest import FakeHub

Snapshot = dict[str, tuple[str, int, int, str]]


def snapshot(root: Path) -> Snapshot:
    """Names, sizes, mtimes and content hashes of everything under `root` (folders included)."""
    out: Snapshot = {}
    for p in sorted([root, *root.rglob("*")]):
        st = p.lstat()
        kind = "dir" if p.is_dir() else "file"
        digest = hashlib.sha256(p.read_bytes()).hexdigest() if kind == "file" else ""
        out[str(p.relative_to(root))] = (kind, st.st_size, st.st_mtime_ns, digest)
    return out


def _with_a_user_card(run_dir: Path) -> Path:
    readme = run_dir / "model" / "README.md"
    readme.write_text("---\nlicense: mit\n---\n# My own words\n\nKeep this paragraph.\n", encoding="utf-8")
    return readme


def test_core_dry_run_and_plan_write_nothing(run_dir: Path, fake_hub: FakeHub) -> None:
    root = run_dir.parent.parent
    for with_card in (False, True):
        if with_card:
            _with_a_user_card(run_dir)
        before = snapshot(root)
        result = publish(run_dir, "alice/bn-ner", dry_run=True)
        plan(run_dir, "alice/bn-ner", card="---\nlicense: mit\n---\n# Unsaved editor text\n")
        assert snapshot(root) == before, f"with_card={with_card}"
        assert result.dry_run and result.card_backup is None
        assert result.plan.card_path == run_dir / "model" / "README.md"
    assert fake_hub.requests == []


def test_cli_dry_run_writes_nothing_and_says_what_publishing_would_write(run_dir: Path, fake_hub: FakeHub) -> None:
    root = run_dir.parent.parent
    readme = run_dir / "model" / "README.md"
    runner = CliRunner()
    for with_card in (False, True):
        if with_card:
            _with_a_user_card(run_dir)
        before = snapshot(root)
        result = runner.invoke(app, ["publish", str(run_dir), "--repo", "alice/bn-ner", "--dry-run"])
        assert result.exit_code == 0, result.output
        assert snapshot(root) == before, f"with_card={with_card}"
        out = " ".join(result.stdout.split())
        assert "nothing was uploaded or written" in out
        verb = "replace" if with_card else "create"
        assert f"publishing would also {verb} {readme}" in out, out
    assert fake_hub.requests == []
