"""Charts as PNG bytes, drawn with matplotlib's Agg renderer, with their words in the reader's language.

matplotlib is imported inside the function: a worker that nobody asks for stats never loads it
(tens of MB). The object API (Figure + FigureCanvasAgg) keeps no global state, so charts can be
drawn from several request threads at once, which pyplot cannot.

Japanese and Korean need a font with their glyphs (matplotlib ships none): the chart uses the first
of FONTS_FOR the machine has (e.g. `fonts-noto-cjk`), and is drawn in English where it has none,
rather than as boxes. The title, comment and alt text around the chart are text, always translated.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable
from datetime import timedelta

from babel.dates import get_month_names

from bot.i18n import DEFAULT_LANGUAGE, Translator, translator
from bot.stats.insights import Spread

log = logging.getLogger(__name__)

WIDTH_INCHES, HEIGHT_INCHES, DPI = 8, 4, 100  # 800 x 400 px: readable inline in Slack
MAX_LABELS = 13
LATIN = "DejaVu Sans"  # matplotlib's own
FONTS_FOR = {
    "ja": ("Noto Sans CJK JP", "Noto Sans JP", "IPAexGothic", "IPAGothic", "TakaoGothic", "VL Gothic", "Hiragino Sans", "Yu Gothic"),
    "ko": ("Noto Sans CJK KR", "Noto Sans KR", "NanumGothic", "NanumBarunGothic", "Apple SD Gothic Neo", "Malgun Gothic"),
}
_missing_fonts_logged: set[str] = set()


def ttr_trend_png(trend: list[tuple[str, Spread]], title: str | Callable[[Translator], str], t: Translator) -> bytes:
    """Median and p90 time to resolve per month (`YYYY-MM`); a month without resolved incidents is a gap.

    `title` is the chart's title, or what makes it in a language (so a chart drawn in English for want
    of a font has an English title too).
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    families = _families(t.language)
    if families is None:
        t, families = translator(DEFAULT_LANGUAGE, t.tz), [LATIN]
    title = title(t) if callable(title) else title
    scale, unit = _unit(trend, t)
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
    axes.plot(positions, values("p90"), marker="o", markersize=size, linestyle="--", color="#d62728", label=t._("p90"))
    axes.plot(positions, values("median"), marker="o", markersize=size, color="#1f77b4", label=t._("median"))
    labels = [_label(*trend[i], t, compact=len(trend) > 6) for i in labelled]
    axes.set_xticks(labelled, labels, fontsize=8 if len(trend) > 6 else 10, fontfamily=families)
    axes.set_xlim(-0.5, len(trend) - 0.5)
    highest = max((v for v in values("p90") if v == v), default=1.0)  # v == v skips the NaN gaps
    axes.set_ylim(0, highest * 1.3 or 1.0)  # headroom for the legend
    axes.set_ylabel(t._("time to resolve ({unit})", unit=unit), fontfamily=families)
    axes.set_title(title, fontfamily=families)
    axes.grid(axis="y", alpha=0.3)
    axes.legend(loc="upper left", ncol=2, frameon=False, prop={"family": families})
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def _label(month: str, spread: Spread, t: Translator, compact: bool) -> str:
    """`2026-10` over the count of resolved incidents; `Oct` (`10月`) over `2026` when many months share the axis."""
    year, number = month.split("-")
    top = f"{get_month_names('abbreviated', locale=t.locale)[int(number)]}\n{year}" if compact else month
    return f"{top}\nn={spread.count}"


def _unit(trend: list[tuple[str, Spread]], t: Translator) -> tuple[timedelta, str]:
    """Hours, unless everything resolves within two hours (then minutes) or takes days."""
    longest = max((s.p90 for _, s in trend if s.count and s.p90 is not None), default=timedelta(0))
    if longest < timedelta(hours=2):
        return timedelta(minutes=1), t._("minutes")
    if longest > timedelta(days=3):
        return timedelta(days=1), t._("days")
    return timedelta(hours=1), t._("hours")


def _families(language: str) -> list[str] | None:
    """The fonts to draw `language` with, or None when this machine has none that has its glyphs."""
    wanted = FONTS_FOR.get(language)
    if not wanted:
        return [LATIN]
    from matplotlib import font_manager

    installed = {font.name for font in font_manager.fontManager.ttflist}
    found = [name for name in wanted if name in installed]
    if not found:
        if language not in _missing_fonts_logged:
            _missing_fonts_logged.add(language)
            log.warning("no font for %s is installed (e.g. fonts-noto-cjk): the stats chart is drawn in English", language)
        return None
    return [LATIN, *found]
