"""TTD / TTM / TTR and how a person reads a duration."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta


def format_duration(delta: timedelta | None, missing: str = "not recorded") -> str:
    """`45s`, `12m`, `1h 24m`, `2d 3h`: the two largest units a reader needs.

    A missing or negative span is shown as `missing` rather than invented.
    """
    if delta is None or delta < timedelta(0):
        return missing
    seconds = int(delta.total_seconds())
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h" if hours else f"{days}d"
    if hours:
        return f"{hours}h {minutes}m" if minutes else f"{hours}h"
    if minutes:
        return f"{minutes}m"
    return f"{secs}s"


def span(start: datetime | None, end: datetime | None) -> timedelta | None:
    if start is None or end is None:
        return None
    return end - start


@dataclass(frozen=True)
class KeyDurations:
    """The three numbers every postmortem reports."""

    ttd: timedelta | None  # detected - started
    ttm: timedelta | None  # mitigated - detected
    ttr: timedelta | None  # resolved - started

    @classmethod
    def from_milestones(
        cls,
        started: datetime | None,
        detected: datetime | None,
        mitigated: datetime | None,
        resolved: datetime | None,
    ) -> "KeyDurations":
        return cls(
            ttd=span(started, detected),
            ttm=span(detected, mitigated),
            ttr=span(started, resolved),
        )
