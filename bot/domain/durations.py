"""TTD / TTM / TTR: the spans between milestones (a person reads them through bot.i18n's Translator.duration)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta


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
