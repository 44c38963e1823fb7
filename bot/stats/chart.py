"""Charts as PNG bytes, drawn with matplotlib's Agg renderer.

matplotlib is imported inside the function: a worker that nobody asks for stats never loads it
(tens of MB). The object API (Figure + FigureCanvasAgg) keeps no global state, so charts can be
drawn from several request threads at once, which pyplot cannot.
"""

from __future__ import annotations

import io
from datetime import timedelta

from bot.stats.insights import Spread

WIDTH_INCHES, HEIGHT_INCHES, DPI = 8, 4, 100  # 800 x 400 px: readable inline in Slack
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")  # ASCII, whatever the locale
MAX_LABELS = 13


def ttr_trend_png(trend: list[tuple[str, Spread]], title: str) -> bytes:
    """Median and p90 time to resolve per month (`YYYY-MM`); a month without resolved incidents is a gap."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    scale, unit = _unit(trend)
    positions = list(range(len(trend)))
    # Every month is a point; with more than a year of them only every k-th is labelled.
    step = -(-len(trend) // MAX_LABELS)
    labelled = positions[::step]

    def values(kind: str) -> list[float]:
        return [
            getattr(spread, kind) / scale if spread.count and getattr(spread, kind) is not None else float("nan")
            for _, spread in trend
        ]

    figure = Figure(figsize=(WIDTH_INCHES, HEIGHT_INCHES), dpi=DPI)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    size = 6 if len(trend) <= 24 else 2
    axes.plot(positions, values("p90"), marker="o", markersize=size, linestyle="--", color="#d62728", label="p90")
    axes.plot(positions, values("median"), marker="o", markersize=size, color="#1f77b4", label="median")
    axes.set_xticks(labelled, [_label(*trend[i], compact=len(trend) > 6) for i in labelled], fontsize=8 if len(trend) > 6 else 10)
    axes.set_xlim(-0.5, len(trend) - 0.5)
    highest = max((v for v in values("p90") if v == v), default=1.0)  # v == v skips the NaN gaps
    axes.set_ylim(0, highest * 1.3 or 1.0)  # headroom for the legend
    axes.set_ylabel(f"time to resolve ({unit})")
    axes.set_title(title)
    axes.grid(axis="y", alpha=0.3)
    axes.legend(loc="upper left", ncol=2, frameon=False)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def _label(month: str, spread: Spread, compact: bool) -> str:
    """`2026-10` over the count of resolved incidents; `Oct` over `2026` when many months share the axis."""
    year, number = month.split("-")
    top = f"{MONTHS[int(number) - 1]}\n{year}" if compact else month
    return f"{top}\nn={spread.count}"


def _unit(trend: list[tuple[str, Spread]]) -> tuple[timedelta, str]:
    """Hours, unless everything resolves within two hours (then minutes) or takes days."""
    longest = max((s.p90 for _, s in trend if s.count and s.p90 is not None), default=timedelta(0))
    if longest < timedelta(hours=2):
        return timedelta(minutes=1), "minutes"
    if longest > timedelta(days=3):
        return timedelta(days=1), "days"
    return timedelta(hours=1), "hours"
