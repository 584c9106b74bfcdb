"""Errors that reach a person: each carries one clear sentence, never a traceback.

The CLI and the TUI catch `BnnerError` and show `str(err)`; anything else is a bug.
"""

from __future__ import annotations

from pathlib import Path


class BnnerError(Exception):
    """An expected failure whose message is written for the user."""


class DataFormatError(BnnerError):
    """A malformed data file: names the file, the line and what is wrong."""

    def __init__(self, path: str | Path, line: int | None, problem: str) -> None:
        self.path = str(path)
        self.line = line
        self.problem = problem
        where = f"{self.path}, line {line}" if line is not None else self.path
        super().__init__(f"{where}: {problem}")


class HubUnavailableError(BnnerError):
    """The Hugging Face Hub cannot be reached (offline, DNS, firewall) or offline mode is set."""


class ConfigError(BnnerError):
    """An invalid run configuration value."""


class ModelNotFoundError(BnnerError):
    """A model path or hub id that cannot be loaded."""
