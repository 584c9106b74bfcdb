"""The run monitor and the Runs screen's widgets (owned by the tui-runs area)."""

from __future__ import annotations

from .curves import CurvePlot, Series
from .monitor import LogTail, RunMonitor
from .state import MonitorState

__all__ = ["CurvePlot", "LogTail", "MonitorState", "RunMonitor", "Series"]
