"""Line charts for the monitor and the Runs screen, on textual-plotext.

Why a subclass: `PlotextPlot` rebuilds the whole chart on every render, so the series are
kept here and the chart is rebuilt only when `set_series` is called (once per monitor
refresh, however many points arrived), and long series are thinned to what the width can
show, so a 50,000-step run costs the same to draw as a 500-step one.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from textual_plotext import PlotextPlot


@dataclass
class Series:
    """One line: x (steps), y, its legend label and which y axis it uses."""

    label: str
    x: Sequence[float]
    y: Sequence[float]
    yside: str = "left"
    color: str | None = None


def thin(x: Sequence[float], y: Sequence[float], limit: int) -> tuple[list[float], list[float]]:
    """At most `limit` points, always keeping the last one (the newest value matters most).

    Non-finite values (a diverged loss arrives as null → nan) are dropped: plotext cannot
    draw them and they carry no shape.
    """
    pairs = [(a, b) for a, b in zip(x, y, strict=False) if b is not None and math.isfinite(b)]
    if len(pairs) > limit > 1:
        stride = len(pairs) / (limit - 1)
        picked = [pairs[int(i * stride)] for i in range(limit - 1)]
        picked.append(pairs[-1])
        pairs = picked
    return [float(a) for a, _ in pairs], [float(b) for _, b in pairs]


class CurvePlot(PlotextPlot):
    """A titled line chart of one or more step-indexed series."""

    DEFAULT_CSS = """
    CurvePlot {
        height: 1fr;
        min-height: 8;
    }
    """

    def __init__(
        self,
        title: str,
        *,
        xlabel: str = "step",
        ylim: tuple[float, float] | None = None,
        name: str | None = None,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._title = title
        self._xlabel = xlabel
        self._ylim = ylim
        self.series: list[Series] = []
        self.redraws = 0
        self._draw()

    @property
    def title(self) -> str:
        return self._title

    def set_series(
        self, series: list[Series], *, title: str | None = None, ylim: tuple[float, float] | bool | None = False
    ) -> None:
        """Replace every line and redraw once; `title` and `ylim` (None: fit the data) change the axes too
        (the Runs screen's overlay plots whichever metric is chosen in one chart)."""
        self.series = series
        if title is not None:
            self._title = title
        if ylim is not False:
            self._ylim = ylim if isinstance(ylim, tuple) else None
        self._draw()
        self.redraws += 1
        self.refresh()

    def _draw(self) -> None:
        plt = self.plt
        # clear_figure also drops titles and limits; PlotextPlot.render re-applies size and theme.
        plt.clear_figure()
        plt.title(self._title)
        plt.xlabel(self._xlabel)
        width = max(20, self.size.width or 60)
        drawn = False
        for s in self.series:
            xs, ys = thin(s.x, s.y, limit=2 * width)
            if not xs:
                continue
            kwargs: dict[str, Any] = {"label": s.label, "yside": s.yside, "marker": "braille"}
            if s.color:
                kwargs["color"] = s.color
            plt.plot(xs, ys, **kwargs)
            drawn = True
        if self._ylim is not None and drawn:
            plt.ylim(*self._ylim)
