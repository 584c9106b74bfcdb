"""How run facts look, the same in the CLI and the app: status colours and durations.

Rich style strings only (no Textual import), so the CLI can use it at start-up. A missing
value is `core.display.NO_VALUE` here as everywhere.
"""

from __future__ import annotations

from bnner_tui.core.display import NO_VALUE

STATUS_STYLE: dict[str, str] = {
    "waiting": "dim",
    "created": "dim",
    "running": "bold cyan",
    "finished": "bold green",
    "failed": "bold red",
    "cancelled": "bold yellow",
    "killed": "bold red",
}


def format_duration(seconds: float | None) -> str:
    """'1h02m', '3m05s', '42s', or NO_VALUE when unknown."""
    if seconds is None:
        return NO_VALUE
    s = round(seconds)
    if s >= 3600:
        return f"{s // 3600}h{(s % 3600) // 60:02d}m"
    if s >= 60:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s}s"
