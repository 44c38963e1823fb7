"""Which time each milestone has, and which times a milestone may take.

A milestone can be set by a command (`/incident mitigated 14:05`), by an emoji
reaction on a person's message (the message's own time), implied by a status
change (`status identified`), or by an import. The rules, each in one function:

- `effective_milestones`: the latest explicit setting (command or reaction) wins;
  removing a reaction falls back to the one before it; a status change or an alert
  counts only when nothing explicit is left; `started` and `detected` fall back to the
  declaration time, and say so.
- `order_problem`: started ≤ detected ≤ mitigated ≤ resolved, and identified ≥ started.
- `time_for_now`: "now" tolerates the skew between Slack's clock and ours.
- `implausibly_early`: a time far before the declaration needs confirming.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.domain import times
from bot.domain.records import MILESTONES, Claim, MilestoneTime

# A person's word. Alerts' times (source "alert", bot/domain/alerts.py) are not explicit on purpose:
# they stand until a person says otherwise, and come back when that person's reaction is removed.
EXPLICIT_SOURCES = ("command", "reaction")
# The order milestones must keep: each is at or after the ones before it.
ORDER = ("started", "detected", "mitigated", "resolved")
DEFAULTS_TO_DECLARATION = ("started", "detected")
# Slack stamps a message with Slack's clock and we stamp "now" with ours; a message can look
# this far ahead of us. "Now" within this of a later milestone means "at that milestone".
CLOCK_SKEW = times.FUTURE_TOLERANCE
# A time this long before the declaration is more likely a typo (1999 for 2026) than a slow detection.
PLAUSIBLE_LOOKBACK = timedelta(days=30)


def effective_milestones(
    declared_at: datetime, claims: list[Claim], reopened_at: datetime | None = None
) -> dict[str, MilestoneTime]:
    result: dict[str, MilestoneTime] = {}
    for name in MILESTONES:
        mine = [c for c in claims if c.milestone == name]
        if name == "resolved" and reopened_at is not None:
            # A reopened incident is not resolved by what was said before it reopened.
            mine = [c for c in mine if c.recorded_at > reopened_at]
        explicit = [c for c in mine if c.source in EXPLICIT_SOURCES]
        chosen = max(explicit or mine, key=lambda c: c.recorded_at, default=None)
        if chosen is not None:
            result[name] = MilestoneTime(name, chosen.at, chosen.source)
        elif name in DEFAULTS_TO_DECLARATION:
            result[name] = MilestoneTime(name, declared_at, "declaration")
        else:
            result[name] = MilestoneTime(name, None, None)
    return result


def reaction_claim(mark: str, message_ts: str, event_ts: str) -> Claim:
    """A milestone mark: the marked message's time, claimed when the reaction was added."""
    return Claim(mark, times.from_slack_ts(message_ts), times.from_slack_ts(event_ts), "reaction")


@dataclass(frozen=True)
class OrderProblem:
    """Setting `milestone` would put it `relation` ("before"/"after") `other`, which is at `other_at`."""

    milestone: str
    relation: str
    other: str
    other_at: datetime
    other_defaulted: bool = False


def order_problem(name: str, at: datetime, current: dict[str, MilestoneTime]) -> OrderProblem | None:
    """What setting `name` to `at` would break in the milestone order, or None when it keeps it."""
    if name == "identified":
        started = current["started"]
        if started.at and at < started.at:
            return OrderProblem(name, "before", "started", started.at, started.defaulted)
        return None
    position = ORDER.index(name)
    for earlier in ORDER[:position]:
        other = current[earlier]
        if other.at is not None and at < other.at:
            return OrderProblem(name, "before", earlier, other.at, other.defaulted)
    for later in ORDER[position + 1 :]:
        other = current[later]
        # A defaulted `detected` moves with the declaration, but TTD must still not go negative.
        if other.at is not None and at > other.at:
            return OrderProblem(name, "after", later, other.at, other.defaulted)
    return None


def time_for_now(name: str, now: datetime, current: dict[str, MilestoneTime]) -> datetime:
    """The time "now" means for milestone `name`.

    Why: a message stamped by Slack a second ahead of our clock, marked mitigated, must not
    make `/incident resolve` typed at once "before mitigated". An earlier milestone that
    lies ahead of now by no more than CLOCK_SKEW is taken as now.
    """
    earlier = ("started",) if name == "identified" else ORDER[: ORDER.index(name)] if name in ORDER else ()
    latest = max((current[m].at for m in earlier if current[m].at is not None), default=None)
    if latest is not None and now < latest <= now + CLOCK_SKEW:
        return latest
    return now


def implausibly_early(at: datetime, declared_at: datetime) -> bool:
    return at < declared_at - PLAUSIBLE_LOOKBACK
