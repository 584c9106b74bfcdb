"""The one parser of a data spec: ``demo``, ``wikiann``, ``hub:ID[:CONFIG]`` or a local path.

Everything that needs to know what a spec names (the loader, titles, the model card) asks
`DataSpec.parse` instead of looking at the string itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bnner_tui.core.errors import BnnerError

WIKIANN_ID = "unimelb-nlp/wikiann"
WIKIANN_CONFIG = "bn"
DEMO_NAME = "demo set (synthetic, bundled)"


@dataclass(frozen=True)
class DataSpec:
    """``kind``: demo, hub or local. ``repo_id``/``config`` for hub specs, ``path`` for local ones."""

    text: str
    kind: str
    repo_id: str | None = None
    config: str | None = None
    path: Path | None = None

    @classmethod
    def parse(cls, spec: str | Path | None) -> DataSpec:
        text = str(spec if spec is not None else "").strip() or "demo"
        low = text.lower()
        if low == "demo":
            return cls(text, "demo")
        if low == "wikiann":
            return cls(text, "hub", WIKIANN_ID, WIKIANN_CONFIG)
        if low.startswith("hub:"):
            repo, _, config = text[4:].partition(":")
            if not repo:
                raise BnnerError(f"{text!r}: give a hub dataset id, e.g. hub:unimelb-nlp/wikiann:bn")
            return cls(text, "hub", repo, config or None)
        return cls(text, "local", path=Path(text).expanduser())

    @property
    def is_wikiann(self) -> bool:
        return self.kind == "hub" and self.repo_id == WIKIANN_ID

    @property
    def display(self) -> str:
        """A short name for titles."""
        if self.kind == "demo":
            return DEMO_NAME
        if self.is_wikiann and self.config == WIKIANN_CONFIG:
            return f"WikiANN bn (hub: {WIKIANN_ID}, bn)"
        if self.kind == "hub":
            return f"hub dataset {self.repo_id}" + (f":{self.config}" if self.config else "")
        return str(self.path)
