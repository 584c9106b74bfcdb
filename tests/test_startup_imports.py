"""Start-up guarantees: the CLI and the TUI's first frame never import the heavy stack, and core never imports Textual.

Each check runs in a fresh interpreter, so what another test imported cannot hide a regression.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

HEAVY = ("torch", "transformers", "datasets", "seqeval", "sklearn", "wandb", "nervaluate")
LIGHT_CORE = (
    "bnner_tui.core",
    "bnner_tui.core.errors",
    "bnner_tui.core.display",
    "bnner_tui.core.labels",
    "bnner_tui.core.textnorm",
    "bnner_tui.core.align",
    "bnner_tui.core.data",
    "bnner_tui.core.config",
    "bnner_tui.core.events",
    "bnner_tui.core.runs",
    "bnner_tui.core.metrics",
    "bnner_tui.core.tagger",
    "bnner_tui.core.card",
    "bnner_tui.core.card.facts",
    "bnner_tui.core.card.render",
    "bnner_tui.core.card.validate",
    "bnner_tui.core.publish",
    "bnner_tui.core.analysis",
    "bnner_tui.core.train",
)
SCREEN_MODULES = (
    "bnner_tui.tui.app",
    "bnner_tui.tui.screens.data",
    "bnner_tui.tui.screens.tag",
    "bnner_tui.tui.screens.card",
    "bnner_tui.tui.screens.publish",
    "bnner_tui.tui.screens.help",
    "bnner_tui.tui.screens.train",
    "bnner_tui.tui.screens.runs",
)


def _modules_after(imports: list[str]) -> dict[str, list[str]]:
    code = textwrap.dedent(
        f"""
        import importlib, json, sys
        missing = []
        for name in {imports!r}:
            try:
                importlib.import_module(name)
            except ModuleNotFoundError as err:
                if err.name and name.startswith(err.name):
                    missing.append(name)  # not written yet
                else:
                    raise
        print(json.dumps({{"modules": sorted(sys.modules), "missing": missing}}))
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _heavy(modules: list[str]) -> list[str]:
    return sorted({m.split(".")[0] for m in modules if m.split(".")[0] in HEAVY})


def test_cli_and_app_import_nothing_heavy() -> None:
    result = _modules_after(["bnner_tui.tui.cli", "bnner_tui.tui.app"])
    assert not result["missing"]
    assert _heavy(result["modules"]) == []


@pytest.mark.parametrize("module", SCREEN_MODULES)
def test_each_screen_module_imports_nothing_heavy(module: str) -> None:
    result = _modules_after([module])
    if result["missing"]:
        pytest.skip(f"{module} does not exist yet")
    assert _heavy(result["modules"]) == [], f"{module} imports heavy modules at top level"


def test_core_modules_never_import_textual() -> None:
    """harlequin-style: the engine stays headless (one process for all: any Textual import is a failure)."""
    result = _modules_after(list(LIGHT_CORE))
    modules = result["modules"]
    assert not [m for m in modules if m == "textual" or m.startswith("textual.")]
    assert not [m for m in modules if m.startswith("bnner_tui.tui")]
    assert set(LIGHT_CORE) - set(result["missing"]) <= set(modules)


@pytest.mark.parametrize("flag", ["--help", "--version"])
def test_help_and_version_exit_zero(flag: str) -> None:
    code = f"import sys; sys.argv = ['bnner-tui', {flag!r}]; from bnner_tui.tui.cli import main; main()"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert ("bnner-tui" in out.stdout) and ("Usage" in out.stdout if flag == "--help" else "0." in out.stdout)


def test_first_frame_imports_nothing_heavy(tmp_path) -> None:
    """Run the app headless to its first frame in a fresh process and list what got imported."""
    code = textwrap.dedent(
        """
        import asyncio, json, sys, tempfile
        from pathlib import Path
        from bnner_tui.tui.app import BnnerApp

        class Probe(BnnerApp):
            seen = None

            def _mark_first_frame(self):
                super()._mark_first_frame()
                if Probe.seen is None:
                    Probe.seen = sorted(sys.modules)

        async def main():
            app = Probe(runs_root=Path(tempfile.mkdtemp()) / "runs")
            async with app.run_test(size=(120, 40)) as pilot:
                await pilot.pause()
                assert type(app.screen).__name__ == "DataScreen"
                assert app.first_frame_at is not None
            print(json.dumps(Probe.seen))

        asyncio.run(main())
        """
    )
    script = tmp_path / "first_frame.py"  # Textual reads an App subclass's source file: no `-c`
    script.write_text(code, encoding="utf-8")
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    modules = json.loads(out.stdout.strip().splitlines()[-1])
    assert "textual.app" in modules
    assert _heavy(modules) == []
