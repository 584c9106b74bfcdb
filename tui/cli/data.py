"""CLI commands for this area; see register()."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add this module's commands to the root app. (Placeholder until the area lands.)"""
