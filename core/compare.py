"""Comparing runs: which settings differ, a config diff, sorting, curves per metric and their export.

Why here and not in the Runs screen: "what differs between these runs?" and "give me run B's
per-entity recall as a CSV" are questions about run folders, not about widgets. Everything
below is pure (plain values in, plain values out) except `load_configs` (reads config.toml)
and `export_curves` (writes through `core.files`, atomically, with a numbered backup of a
file it replaces). The screen composes widgets and calls these.

Standard library only (matplotlib, optional, only inside `write_png`): the Runs screen is
opened at start-up.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from bnner_tui.core.display import NO_VALUE
from bnner_tui.core.errors import BnnerError
from bnner_tui.core.runstate import RunState

# The settings a practitioner compares first, in the order the table shows them, with their
# column labels. Any other TrainConfig field that differs follows, in declaration order.
HPARAMS: tuple[tuple[str, str], ...] = (
    ("learning_rate", "lr"),
    ("batch_size", "batch"),
    ("epochs", "epochs"),
    ("max_steps", "max steps"),
    ("strategy", "strategy"),
    ("model", "model"),
    ("data", "data"),
    ("tokenizer", "tokenizer"),
    ("max_length", "max len"),
    ("warmup_ratio", "warmup"),
    ("weight_decay", "decay"),
    ("lr_scheduler", "schedule"),
    ("grad_accum", "accum"),
    ("seed", "seed"),
    ("precision", "precision"),
    ("offline_arch", "arch"),
    ("preset", "preset"),
)
HPARAM_LABELS = dict(HPARAMS)
# Fields that differ between any two runs, or that change where files go or how a run is
# watched, never what it learns: not "hyperparameters that differ".
NOT_HPARAMS = frozenset(
    {"run_name", "output_root", "tracking", "wandb_project", "wandb_entity", "wandb_tags", "dataloader_workers"}
)

# Columns of the runs table that are facts of the run, not of its config (sort keys).
RUN_COLUMNS = ("name", "status", "f1", "duration", "steps", "model", "data")
STATUS_ORDER = ("running", "created", "finished", "cancelled", "failed", "killed")


def load_configs(paths: Iterable[Path]) -> dict[str, dict[str, Any]]:
    """Each run folder's resolved config.toml as plain values, keyed by str(path).

    A run whose config cannot be read maps to {} (it differs in nothing it cannot show)."""
    from bnner_tui.core.config import TrainConfig

    out: dict[str, dict[str, Any]] = {}
    for path in paths:
        try:
            out[str(path)] = TrainConfig.from_toml(Path(path) / "config.toml").to_dict()
        except (BnnerError, OSError, ValueError):
            out[str(path)] = {}
    return out


def _field_order() -> list[str]:
    from bnner_tui.core.config import TrainConfig

    return [f.name for f in dataclasses.fields(TrainConfig)]


def differing_keys(configs: Sequence[dict[str, Any]]) -> list[str]:
    """The hyperparameters whose value is not the same in every config (HPARAMS first).

    Configs that could not be read ({}) are left out of the comparison; with fewer than two
    readable configs nothing differs."""
    readable = [c for c in configs if c]
    if len(readable) < 2:
        return []
    order = [k for k, _ in HPARAMS] + [k for k in _field_order() if k not in HPARAM_LABELS]
    return [key for key in order if key not in NOT_HPARAMS and len({_hashable(c.get(key)) for c in readable}) > 1]


def config_diff(configs: Sequence[dict[str, Any]]) -> list[tuple[str, list[Any]]]:
    """Every config field (run_name aside) whose value differs: (key, one value per config).

    The whole config, not only the hyperparameters: where a run's files went can matter too."""
    readable = [c for c in configs if c]
    if len(readable) < 2:
        return []
    keys = _field_order()
    keys += sorted({k for c in readable for k in c} - set(keys))
    return [
        (key, [c.get(key) for c in configs])
        for key in keys
        if key != "run_name" and len({_hashable(c.get(key)) for c in readable}) > 1
    ]


def _hashable(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def label_of(key: str) -> str:
    """The column label of a config key (its own name when it has no short label)."""
    return HPARAM_LABELS.get(key, key)


def show(value: Any) -> str:
    """A config value as a table cell: floats without noise, None and [] as "--"."""
    if value is None or value == []:
        return NO_VALUE
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    return str(value)


# ---- sorting -------------------------------------------------------------------------------------


def sort_value(summary: Any, column: str, config: dict[str, Any]) -> Any:
    """What a runs-table column sorts by for one run (`core.runs.RunSummary`); None: unknown."""
    if column == "name":
        return summary.name
    if column == "status":
        return STATUS_ORDER.index(summary.status) if summary.status in STATUS_ORDER else len(STATUS_ORDER)
    if column == "f1":
        return summary.best_f1
    if column == "duration":
        return summary.duration_s
    if column == "steps":
        return summary.last_step
    if column in ("model", "data"):  # what the table shows (the model's resolved name when known)
        return getattr(summary, column, None) or config.get(column)
    return config.get(column)


def _order_key(value: Any) -> tuple[int, Any]:
    """Numbers before strings, each among their own kind (eval_every holds both: 200 and "epoch")."""
    if isinstance(value, bool):
        return (0, int(value))
    if isinstance(value, (int, float)):
        return (0, value) if not math.isnan(value) else (2, 0)
    if isinstance(value, list):
        return (1, ",".join(map(str, value)))
    return (1, str(value).casefold())


def sort_runs(
    summaries: Sequence[Any], column: str, configs: dict[str, dict[str, Any]], *, descending: bool = False
) -> list[Any]:
    """The runs ordered by `column`; runs without a value for it always go last, in their order.

    The sort is stable: equal values keep the listing's order (newest first)."""
    known: list[tuple[tuple[int, Any], Any]] = []
    unknown: list[Any] = []
    for s in summaries:
        value = sort_value(s, column, configs.get(str(s.path), {}))
        if value is None:
            unknown.append(s)
        else:
            known.append((_order_key(value), s))
    known.sort(key=lambda pair: pair[0], reverse=descending)
    return [s for _, s in known] + unknown


# ---- curves --------------------------------------------------------------------------------------

OVERALL_METRICS: tuple[tuple[str, str], ...] = (
    ("f1", "validation F1 (word-level)"),
    ("precision", "validation precision"),
    ("recall", "validation recall"),
    ("eval_loss", "validation loss"),
    ("loss", "training loss"),
    ("lr", "learning rate"),
)
ENTITY_SCORES = ("f1", "precision", "recall")
_SCORE_NAMES = {"f1": "F1", "precision": "precision", "recall": "recall"}


@dataclass(frozen=True)
class Curve:
    """One run's values of one metric, step by step (nan where a step has none)."""

    label: str
    metric: str
    steps: tuple[int, ...]
    values: tuple[float, ...]


def available_metrics(states: Iterable[RunState]) -> list[str]:
    """The metric ids to choose from: the overall ones, then per entity type for each type seen.

    Ids: "f1", "precision", "recall", "eval_loss", "loss", "lr", and "f1:PER", "recall:LOC"..."""
    types = sorted({name for st in states for name in (*st.type_f1, *st.type_precision, *st.type_recall)})
    return [m for m, _ in OVERALL_METRICS] + [f"{score}:{t}" for t in types for score in ENTITY_SCORES]


def metric_title(metric: str) -> str:
    """A metric id as a plot title: "f1:PER" -> "PER F1 (validation)"."""
    titles = dict(OVERALL_METRICS)
    if metric in titles:
        return titles[metric]
    score, _, entity = metric.partition(":")
    if score in _SCORE_NAMES and entity:
        return f"{entity} {_SCORE_NAMES[score]} (validation)"
    raise BnnerError(f"No metric {metric!r}: choose one of f1, precision, recall, eval_loss, loss, lr or SCORE:TYPE.")


def is_score(metric: str) -> bool:
    """Scores live in [0, 1] (their plots get that y range); losses and learning rates do not."""
    return metric.split(":")[0] in ENTITY_SCORES


def curve(state: RunState, metric: str, label: str) -> Curve:
    """One metric's series out of a run's fold (`RunState` folded with curves)."""
    metric_title(metric)  # refuses an unknown id with one sentence
    steps: Sequence[int]
    values: Sequence[float]
    if metric == "f1":
        steps, values = state.eval_steps, state.eval_f1
    elif metric == "precision":
        steps, values = state.eval_steps, state.eval_precision
    elif metric == "recall":
        steps, values = state.eval_steps, state.eval_recall
    elif metric == "eval_loss":
        steps, values = state.eval_steps, state.eval_loss
    elif metric == "loss":
        steps, values = state.loss_steps, state.loss
    elif metric == "lr":
        steps, values = state.lr_steps, state.lr
    else:
        score, _, entity = metric.partition(":")
        table = {"f1": state.type_f1, "precision": state.type_precision, "recall": state.type_recall}[score]
        points = table.get(entity, [])
        steps, values = [s for s, _ in points], [v for _, v in points]
    n = min(len(steps), len(values))
    return Curve(label, metric, tuple(int(s) for s in steps[:n]), tuple(float(v) for v in values[:n]))


# ---- export --------------------------------------------------------------------------------------

EXPORT_FORMATS = (".svg", ".png", ".csv")
PALETTE = ("#1f9bcf", "#f28e2b", "#59a14f", "#b07aa1", "#e15759", "#4e79a7", "#edc948", "#9c755f")
PNG_NEEDS = (
    "PNG export needs matplotlib: pip install 'bnner-tui[plots]' (or pip install matplotlib); SVG and CSV need nothing."
)


def curves_csv(curves: Sequence[Curve]) -> str:
    """Long format, one row per point: run,metric,step,value (runs on their own step grids)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["run", "metric", "step", "value"])
    for c in curves:
        for step, value in zip(c.steps, c.values, strict=True):
            writer.writerow([c.label, c.metric, step, "" if math.isnan(value) else repr(value)])
    return buf.getvalue()


def _nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values covering [low, high] (1, 2 or 5 times a power of ten apart)."""
    if not (math.isfinite(low) and math.isfinite(high)) or high <= low:
        return [low]
    raw = (high - low) / max(1, count - 1)
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    first = math.ceil(low / step - 1e-9) * step
    ticks = []
    t = first
    while t <= high + step * 1e-9:
        ticks.append(round(t, 12))
        t += step
    return ticks


def _fmt(x: float) -> str:
    return f"{x:.1f}".rstrip("0").rstrip(".") if abs(x - round(x)) > 1e-9 else str(round(x))


def _tick_label(x: float) -> str:
    return f"{x:.3g}"


def curves_svg(curves: Sequence[Curve], title: str, *, width: int = 800, height: int = 480) -> str:
    """The curves as a small standalone SVG: axes with round ticks, one polyline per run, a legend.

    Written directly (no plotting library), so an export needs nothing installed; a nan value
    breaks its line rather than drawing through the gap."""
    left, right, top, bottom = 70, 170, 40, 50
    pw, ph = width - left - right, height - top - bottom
    points = [(float(s), v) for c in curves for s, v in zip(c.steps, c.values, strict=True) if math.isfinite(v)]
    x0: float
    x1: float
    if points:
        x0, x1 = min(p[0] for p in points), max(p[0] for p in points)
        y0, y1 = min(p[1] for p in points), max(p[1] for p in points)
    else:
        x0, x1, y0, y1 = 0.0, 1.0, 0.0, 1.0
    if curves and all(is_score(c.metric) for c in curves):
        y0, y1 = min(0.0, y0), max(1.0, y1)
    if x1 <= x0:
        x1 = x0 + 1
    if y1 <= y0:
        y0, y1 = y0 - 0.5, y1 + 0.5

    def px(x: float) -> float:
        return left + (x - x0) / (x1 - x0) * pw

    def py(y: float) -> float:
        return top + ph - (y - y0) / (y1 - y0) * ph

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">',
        f'<rect width="{width}" height="{height}" fill="white"/>',
        f'<text x="{left + pw / 2:.1f}" y="24" text-anchor="middle" font-size="15">{escape(title)}</text>',
        f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="none" stroke="#444"/>',
    ]
    for t in _nice_ticks(y0, y1):
        y = py(t)
        out.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + pw}" y2="{y:.1f}" stroke="#ddd"/>')
        out.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{_tick_label(t)}</text>')
    for t in _nice_ticks(x0, x1):
        x = px(t)
        out.append(f'<line x1="{x:.1f}" y1="{top + ph}" x2="{x:.1f}" y2="{top + ph + 5}" stroke="#444"/>')
        out.append(f'<text x="{x:.1f}" y="{top + ph + 18}" text-anchor="middle">{_fmt(t)}</text>')
    out.append(f'<text x="{left + pw / 2:.1f}" y="{height - 10}" text-anchor="middle">step</text>')
    for i, c in enumerate(curves):
        color = PALETTE[i % len(PALETTE)]
        for segment in _segments(c):
            coords = " ".join(f"{px(s):.1f},{py(v):.1f}" for s, v in segment)
            if len(segment) == 1:
                (s, v) = segment[0]
                out.append(f'<circle cx="{px(s):.1f}" cy="{py(v):.1f}" r="2.5" fill="{color}"/>')
            else:
                out.append(f'<polyline points="{coords}" fill="none" stroke="{color}" stroke-width="2"/>')
        ly = top + 10 + 18 * i
        lx = left + pw + 12
        out.append(f'<line x1="{lx}" y1="{ly}" x2="{lx + 18}" y2="{ly}" stroke="{color}" stroke-width="3"/>')
        out.append(f'<text x="{lx + 24}" y="{ly + 4}">{escape(c.label)}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _segments(c: Curve) -> list[list[tuple[int, float]]]:
    segments: list[list[tuple[int, float]]] = [[]]
    for s, v in zip(c.steps, c.values, strict=True):
        if math.isfinite(v):
            segments[-1].append((s, v))
        elif segments[-1]:
            segments.append([])
    return [seg for seg in segments if seg]


def write_png(path: Path, curves: Sequence[Curve], title: str) -> None:
    """The curves as a PNG with matplotlib, when it is installed; otherwise one sentence saying what to install."""
    try:
        import matplotlib

        matplotlib.use("Agg", force=True)
        from matplotlib.figure import Figure
    except ImportError:
        raise BnnerError(PNG_NEEDS) from None
    from bnner_tui.core.files import atomic_write_via

    fig = Figure(figsize=(8, 4.8), dpi=100)
    ax = fig.add_subplot()
    for i, c in enumerate(curves):
        ax.plot(c.steps, c.values, label=c.label, color=PALETTE[i % len(PALETTE)])
    ax.set_title(title)
    ax.set_xlabel("step")
    if curves and all(is_score(c.metric) for c in curves):
        ax.set_ylim(0.0, 1.0)
    ax.legend(loc="best")

    def save(tmp: Path) -> None:
        fig.savefig(tmp, format="png")

    atomic_write_via(path, save)


def export_curves(path: str | Path, curves: Sequence[Curve], title: str) -> Path | None:
    """Writes the curves to `path`, the format by its suffix (.svg, .png, .csv).

    Atomic, and an existing file is first kept as `NAME.~N~`; returns that backup's path."""
    from bnner_tui.core.files import atomic_write_text, keep_backup

    target = Path(path).expanduser()
    suffix = target.suffix.lower()
    if suffix not in EXPORT_FORMATS:
        raise BnnerError(f"Cannot export to {target.name}: name the file .svg, .png or .csv.")
    if not curves:
        raise BnnerError("No curves to export: mark runs (space) whose curves have points.")
    writers: dict[str, Callable[[], str]] = {
        ".svg": lambda: curves_svg(curves, title),
        ".csv": lambda: curves_csv(curves),
    }
    if suffix in writers:
        return atomic_write_text(target, writers[suffix](), backup=True)
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise BnnerError(PNG_NEEDS) from None
    kept = keep_backup(target)
    write_png(target, curves, title)
    return kept


def default_export_name(metric: str, suffix: str = ".svg") -> str:
    """compare-f1.svg, compare-recall-PER.csv: a file name that says what it holds."""
    return "compare-" + metric.replace(":", "-") + suffix


__all__ = [
    "HPARAMS",
    "Curve",
    "available_metrics",
    "config_diff",
    "curve",
    "curves_csv",
    "curves_svg",
    "default_export_name",
    "differing_keys",
    "export_curves",
    "label_of",
    "load_configs",
    "metric_title",
    "show",
    "sort_runs",
]
