"""The run monitor and the Runs screen's widgets. What they show is `core.runstate.RunState`."""

from __future__ import annotations

from .curves import CurvePlot, Series
from .monitor import LogTail, RunMonitor

__all__ = ["CurvePlot", "LogTail", "RunMonitor", "Series"]
