"""Helpers for the data-source tests: write small data files exactly as a user would have them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest


@pytest.fixture
def write(tmp_path: Path) -> Callable[..., Path]:
    """write("name.conll", text_or_bytes) -> path in tmp_path (bytes are written as-is)."""

    def _write(name: str, content: str | bytes) -> Path:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
        return path

    return _write


def tags_of(loaded, split: str = "train") -> list[list[str]]:
    names = loaded.label_names
    return [[names[i] for i in row] for row in loaded.dataset[split]["ner_tags"]]
