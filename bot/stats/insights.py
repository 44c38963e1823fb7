"""Insights over many incidents: counts, TTD / TTM / TTR per month, missed targets, causes coming back.

Pure functions over IncidentFacts (read from storage by bot.stats.facts), so every
number here is testable without a database. The durations are KeyDurations from each
incident's effective milestones: the same numbers its postmortem shows.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.domain.durations import KeyDurations
from bot.i18n import N_, Message

METRICS = ("ttd", "ttm", "ttr")
METRIC_NAMES = {"ttd": "TTD", "ttm": "TTM", "ttr": "TTR"}
SEVERITIES = ("P1", "P2", "P3", "P4")
DEFAULT_RANGE = "30d"

# What each severity should take at most. P1's come from the issue; the rest widen with severity.
DEFAULT_TARGETS: dict[str, dict[str, timedelta | None]] = {
    "P1": {"ttd": timedelta(minutes=5), "ttm": timedelta(minutes=30), "ttr": timedelta(hours=4)},
    "P2": {"ttd": timedelta(minutes=15), "ttm": timedelta(hours=1), "ttr": timedelta(hours=8)},
    "P3": {"ttd": timedelta(hours=1), "ttm": timedelta(hours=4), "ttr": timedelta(days=1)},
    "P4": {"ttd": timedelta(days=1), "ttm": timedelta(days=2), "ttr": timedelta(days=7)},
}

_RANGE = re.compile(r"^(\d{1,5})\s*(d|days?|w|weeks?|m|months?|y|years?)$")
# Ten years at most: enough for any review, and a bound on what one answer reads.
_MAX_AMOUNT = {"d": 3660, "w": 522, "m": 120, "y": 10}
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)([smhd])")
_DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
RANGE_HELP = N_("Use `30d`, `90d` or `365d` (days), or e.g. `6w` (weeks), `12m` (months), `1y`.")
# For operators (TARGET_* settings): English, as every start-up error.
DURATION_HELP = "a duration such as 5m, 4h, 1h30m or 2d (0 or off for no target)"


class RangeError(ValueError):
    """A stats range that cannot be read; `message` says how to write one (in the asker's language)."""

    def __init__(self, message: Message):
        super().__init__(str(message))
        self.message = message


# --- the window ------------------------------------------------------------------------


@dataclass(frozen=True)
class StatsRange:
    """How far back stats look from now: `amount` days, weeks, calendar months or years."""

    amount: int
    unit: str  # d | w | m | y (bot.stats.text.range_label says it in words)

    def start(self, now: datetime, tz: ZoneInfo) -> datetime:
        """When the window opens; months and years are calendar ones in `tz` (12m ends on today's date)."""
        if self.unit in ("d", "w"):
            return now - timedelta(days=self.amount * (7 if self.unit == "w" else 1))
        months = self.amount * (12 if self.unit == "y" else 1)
        local = now.astimezone(tz)
        year, month = divmod(local.year * 12 + local.month - 1 - months, 12)
        month += 1
        day = min(local.day, _days_in(year, month))
        return local.replace(year=year, month=month, day=day).astimezone(now.tzinfo)


def parse_range(text: str | None) -> StatsRange:
    text = (text or DEFAULT_RANGE).strip().lower()
    match = _RANGE.match(text)
    if match is None:
        shown = "".join(char if char.isprintable() else "?" for char in text).replace("`", "'")[:40]
        shown = shown.replace("<", "&lt;").replace(">", "&gt;")  # no half `<!channel>` left by the cut
        raise RangeError(Message(N_("`{text}` is not a range I can read. {help}"), {"text": shown, "help": Message(RANGE_HELP)}))
    amount, unit = int(match[1]), match[2][0]
    if amount < 1:
        raise RangeError(Message(N_("A range has to cover some time. {help}"), {"help": Message(RANGE_HELP)}))
    if amount > _MAX_AMOUNT[unit]:
        raise RangeError(
            Message(N_("`{text}` is longer than I look back (10 years). {help}"), {"text": text, "help": Message(RANGE_HELP)})
        )
    return StatsRange(amount, unit)


def _days_in(year: int, month: int) -> int:
    following = datetime(year + month // 12, month % 12 + 1, 1)
    return (following - timedelta(days=1)).day


# --- targets --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Targets:
    """The most each severity should take per metric; None means no target."""

    limits: dict[str, dict[str, timedelta | None]] = field(
        default_factory=lambda: {severity: dict(limits) for severity, limits in DEFAULT_TARGETS.items()}
    )

    def get(self, severity: str, metric: str) -> timedelta | None:
        return self.limits.get(severity, {}).get(metric)


def parse_duration_setting(text: str) -> timedelta | None:
    """`5m`, `4h`, `1h30m`, `2d`, `90s` to a timedelta; `0` or `off` is no target."""
    text = text.strip().lower().replace(" ", "")
    if text in ("0", "off", "none"):
        return None
    if not text or _DURATION_PART.sub("", text):
        raise ValueError(f"must be {DURATION_HELP}")
    seconds = sum(float(number) * _DURATION_UNITS[unit] for number, unit in _DURATION_PART.findall(text))
    if not 0 < seconds < 366 * 86400:
        raise ValueError(f"must be {DURATION_HELP}, under a year")
    return timedelta(seconds=seconds)


# --- what is known about each incident ----------------------------------------------------------


@dataclass(frozen=True)
class IncidentFacts:
    id: int
    title: str
    severity: str
    is_private: bool
    declared_at: datetime
    started: datetime | None
    detected: datetime | None
    mitigated: datetime | None
    resolved: datetime | None
    tags: tuple[str, ...] = ()
    near_miss: bool = False  # no user impact: counted apart, never in the incidents' numbers

    @property
    def durations(self) -> KeyDurations:
        return KeyDurations.from_milestones(self.started, self.detected, self.mitigated, self.resolved)

    def took(self, metric: str) -> timedelta | None:
        """The metric, or None when not recorded; a span that runs backwards counts as not recorded,
        as the postmortem shows it."""
        value = getattr(self.durations, metric)
        return value if value is not None and value >= timedelta(0) else None

    def running(self, metric: str, now: datetime) -> timedelta | None:
        """How long a metric's span has run so far when it has not ended yet (an open incident)."""
        if self.resolved is not None:
            return None
        begin, end = {"ttd": (self.started, self.detected), "ttm": (self.detected, self.mitigated), "ttr": (self.started, None)}[metric]
        if begin is None or end is not None:
            return None
        return now - begin


# --- the answer ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Spread:
    """Median and 90th percentile of one metric over some incidents; `count` had the metric recorded."""

    count: int
    median: timedelta | None
    p90: timedelta | None


@dataclass(frozen=True)
class MonthStats:
    month: str  # YYYY-MM in the configured time zone
    incidents: int
    spreads: dict[str, Spread]  # by metric


@dataclass(frozen=True)
class Breach:
    incident: IncidentFacts
    metric: str
    took: timedelta
    target: timedelta
    ongoing: bool = False  # still open: it has taken this long so far


@dataclass(frozen=True)
class RepeatedTag:
    tag: str
    incidents: tuple[IncidentFacts, ...]  # the public ones, oldest first
    private: int = 0  # private incidents with the tag: counted, never listed

    @property
    def total(self) -> int:
        return len(self.incidents) + self.private


@dataclass(frozen=True)
class PlannedWorkStats:
    """Releases and maintenance in the window, counted apart from incidents."""

    total: int = 0
    by_kind: dict[str, int] = field(default_factory=dict)  # release | maintenance
    by_outcome: dict[str, int] = field(default_factory=dict)  # completed | rolled_back | stopped | planned | in_progress
    escalated: int = 0  # became incidents (and count among them too)
    steps: int = 0
    overran: int = 0  # steps that ran past their timeout or took longer than expected


@dataclass(frozen=True)
class Stats:
    range: StatsRange
    since: datetime
    until: datetime
    timezone: str
    total: int
    resolved: int
    by_severity: dict[str, int]  # every severity, zero included
    by_tag: tuple[tuple[str, int], ...]  # tags that may be named (see nameable_tags), most used first
    untagged: int
    months: tuple[MonthStats, ...]  # every month the window touches, oldest first
    breaches: dict[str, tuple[Breach, ...]]  # by metric, worst first
    repeated: tuple[RepeatedTag, ...]  # nameable tags on two or more incidents, most repeated first
    targets: Targets
    private_tags: int = 0  # tags on private incidents only: counted, never named
    private_repeated: int = 0  # of those, the ones on two or more incidents
    near_misses: int = 0  # declared as near misses in the window: counted apart from the incidents
    planned: PlannedWorkStats = field(default_factory=PlannedWorkStats)  # counted apart from incidents


def compute(
    facts: list[IncidentFacts], stats_range: StatsRange, now: datetime, tz: ZoneInfo, targets: Targets
) -> Stats:
    since = stats_range.start(now, tz)
    facts = sorted((f for f in facts if since <= f.declared_at <= now), key=lambda f: (f.declared_at, f.id))
    # A near miss caused no user impact: it is counted apart, and no median, target or tag counts it.
    near_misses = sum(1 for f in facts if f.near_miss)
    facts = [f for f in facts if not f.near_miss]
    tag_counts = Counter(tag for f in facts for tag in f.tags)
    nameable = nameable_tags(facts)
    by_month: dict[str, list[IncidentFacts]] = {month: [] for month in months_between(since, now, tz)}
    for f in facts:
        by_month.setdefault(month_of(f.declared_at, tz), []).append(f)
    return Stats(
        range=stats_range,
        since=since,
        until=now,
        timezone=tz.key,
        total=len(facts),
        resolved=sum(1 for f in facts if f.resolved is not None),
        by_severity={s: sum(1 for f in facts if f.severity == s) for s in SEVERITIES},
        by_tag=tuple(sorted(((t, n) for t, n in tag_counts.items() if t in nameable), key=lambda item: (-item[1], item[0]))),
        untagged=sum(1 for f in facts if not f.tags),
        months=tuple(
            MonthStats(month, len(group), {m: spread([f.took(m) for f in group]) for m in METRICS})
            for month, group in by_month.items()
        ),
        breaches={metric: breaches(facts, metric, targets, now) for metric in METRICS},
        repeated=repeated_tags(facts),
        targets=targets,
        private_tags=sum(1 for tag in tag_counts if tag not in nameable),
        private_repeated=sum(1 for tag, n in tag_counts.items() if tag not in nameable and n >= 2),
        near_misses=near_misses,
    )


def nameable_tags(facts: list[IncidentFacts]) -> set[str]:
    """Tags that may be named to anyone: those on at least one public incident. A stats answer goes to
    whoever asks, anywhere, and a tag used only on private incidents (`payroll-leak`) says what they are."""
    return {tag for f in facts if not f.is_private for tag in f.tags}


def spread(values: list[timedelta | None]) -> Spread:
    known = sorted(v for v in values if v is not None)
    return Spread(len(known), percentile(known, 0.5), percentile(known, 0.9))


def percentile(ordered: list[timedelta], q: float) -> timedelta | None:
    """Linear interpolation between the closest ranks (numpy's default, Excel's PERCENTILE.INC):
    the median of an even count is the mean of the middle two; one value is its own p90."""
    if not ordered:
        return None
    position = (len(ordered) - 1) * q
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def breaches(facts: list[IncidentFacts], metric: str, targets: Targets, now: datetime) -> tuple[Breach, ...]:
    found = []
    for f in facts:
        target = targets.get(f.severity, metric)
        if target is None:
            continue
        took, ongoing = f.took(metric), False
        if took is None:
            took, ongoing = f.running(metric, now), True
        if took is not None and took > target:
            found.append(Breach(f, metric, took, target, ongoing))
    return tuple(sorted(found, key=lambda b: (-(b.took / b.target), b.incident.id)))


def repeated_tags(facts: list[IncidentFacts]) -> tuple[RepeatedTag, ...]:
    """Nameable tags on two or more incidents: the same cause coming back. Only the public incidents
    are listed; the private ones with the tag are counted."""
    by_tag: dict[str, list[IncidentFacts]] = {}
    for f in facts:
        for tag in f.tags:
            by_tag.setdefault(tag, []).append(f)
    nameable = nameable_tags(facts)
    repeated = [
        RepeatedTag(tag, tuple(f for f in group if not f.is_private), sum(1 for f in group if f.is_private))
        for tag, group in by_tag.items()
        if len(group) >= 2 and tag in nameable
    ]
    return tuple(sorted(repeated, key=lambda r: (-r.total, r.tag)))


def month_of(moment: datetime, tz: ZoneInfo) -> str:
    return moment.astimezone(tz).strftime("%Y-%m")


def months_between(since: datetime, until: datetime, tz: ZoneInfo) -> list[str]:
    first, last = since.astimezone(tz), until.astimezone(tz)
    index, end = first.year * 12 + first.month - 1, last.year * 12 + last.month - 1
    return [f"{i // 12:04d}-{i % 12 + 1:02d}" for i in range(index, end + 1)]


def ttr_trend(stats: Stats) -> list[tuple[str, Spread]]:
    """The monthly TTR spreads worth drawing; empty when no incident in the window was resolved."""
    trend = [(month.month, month.spreads["ttr"]) for month in stats.months]
    return trend if any(spread.count for _, spread in trend) else []
