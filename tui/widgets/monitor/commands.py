"""Command-palette entries for a screen's own actions, taken from its key bindings.

Why from the bindings: every action a key can trigger is then also reachable by name from
the palette (ctrl+p) without a second list to keep in sync.
"""

from __future__ import annotations

from functools import partial

from textual.binding import Binding
from textual.command import DiscoveryHit, Hit, Hits, Provider


class ScreenActions(Provider):
    """Offers the active screen's described bindings as palette commands."""

    def _commands(self) -> list[tuple[str, str, str]]:
        out: list[tuple[str, str, str]] = []
        for binding in getattr(self.screen, "BINDINGS", []):
            if isinstance(binding, Binding) and binding.description:
                out.append((binding.description, binding.action, binding.key))
        return out

    async def discover(self) -> Hits:
        for title, action, key in self._commands():
            yield DiscoveryHit(title, partial(self.screen.run_action, action), help=f"key: {key}")

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, action, key in self._commands():
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), partial(self.screen.run_action, action), help=f"key: {key}")
