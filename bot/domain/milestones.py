"""Which time each milestone has, when several people and commands set it.

A milestone can be set by a command (`/incident mitigated 14:05`), by an
emoji reaction on a message (the message's own time), or implied by a status
change (`status identified`). The rule: the latest explicit setting (command
or reaction) wins; removing a reaction falls back to the one before it; a
status change counts only when nothing explicit is left; `started` and
`detected` fall back to the declaration time, and say so.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.postmortem.data import MILESTONES, MilestoneTime

EXPLICIT_SOURCES = ("command", "reaction")
# The order milestones must keep: each is at or after the ones before it.
ORDER = ("started", "detected", "mitigated", "resolved")
DEFAULTS_TO_DECLARATION = ("started", "detected")


@dataclass(frozen=True)
class Claim:
    milestone: str
    at: datetime  # the moment the milestone names
    recorded_at: datetime  # when somebody said so; later claims win
    source: str  # "command" | "reaction" | "status"


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


@dataclass(frozen=True)
class OrderProblem:
    """Setting `milestone` would put it `relation` ("before"/"after") `other`, which is at `other_at`."""

    milestone: str
    relation: str
    other: str
    other_at: datetime


def order_problem(name: str, at: datetime, current: dict[str, MilestoneTime]) -> OrderProblem | None:
    """What setting `name` to `at` would break in the milestone order, or None when it keeps it."""
    if name == "identified":
        started = current["started"].at
        return OrderProblem(name, "before", "started", started) if started and at < started else None
    position = ORDER.index(name)
    for earlier in ORDER[:position]:
        other = current[earlier].at
        if other is not None and at < other:
            return OrderProblem(name, "before", earlier, other)
    for later in ORDER[position + 1 :]:
        other = current[later].at
        # A defaulted `detected` moves with the declaration, but TTD must still not go negative.
        if other is not None and at > other:
            return OrderProblem(name, "after", later, other)
    return None
