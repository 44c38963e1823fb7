"""What a postmortem is made of, as plain values.

Built from storage by `bot.postmortem.builder` and rendered by
`bot.postmortem.render`; the two meet only here, so either can change alone.
All datetimes are timezone-aware UTC; the renderer shows them in `timezone`.
Texts are exactly as Slack sent them (Slack markup such as `<@U1>` included):
the renderer is the one place that turns them into safe Markdown.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import NamedTuple

from bot.domain.durations import KeyDurations
from bot.domain.records import MARKS, MILESTONES, MilestoneTime  # noqa: F401 - the data's vocabulary


@dataclass(frozen=True)
class Person:
    user_id: str
    name: str  # display name; the user id itself when Slack never told us


class TimelineItem(NamedTuple):
    """One entry as the postmortem quotes it. A named tuple, not a frozen dataclass: one is made per
    entry, 100,000 for a long incident, and a frozen dataclass's __init__ took four times as long."""

    at: datetime
    # "message" for what people said in the channel; otherwise what the bot
    # recorded: "declared", "status", "update", "note", "severity", "lead",
    # "role", "milestone", "action", "reopened", "tag", "untag".
    kind: str
    author: Person | None
    text: str
    marks: tuple[str, ...] = ()  # subset of MARKS, in MARKS order
    in_thread: bool = False
    files: tuple[str, ...] = ()  # names of files attached to the message
    # What the bot recorded, as data the template says in its language; `text` stays the person's
    # own words (a status message, an update, what a deadline decides), never a sentence of ours.
    outcome: str | None = None  # a go/no-go decision's: "continue" | "rollback" | "stop"
    before: str | None = None  # a status or severity change: from (a status key, or P1..P4)
    after: str | None = None  # … and to
    milestone: str | None = None  # a milestone's name (a key of MILESTONES)
    moment: datetime | None = None  # the time a milestone, a deadline or a continued decision's next deadline names
    person: str | None = None  # the user id a lead or role entry names
    role: str | None = None  # a role entry's role, as typed
    severity: str | None = None  # a declaration's severity
    cleared: bool = False  # a deadline entry that removed the deadline
    ts: str | None = None  # a message's Slack ts (its permalink is asked for by it)
    category: str | None = None  # a contributing factor's fishbone category


@dataclass(frozen=True)
class StatusReport:
    """An `/incident update` or a status change, as release and maintenance teams report: `HH:MM [status] text`."""

    at: datetime
    status: str  # where things stood: the status after the change, or the status an update was posted in
    text: str  # the person's words (empty for a bare status change)
    author: Person | None
    before: str | None = None  # a status change's previous status; None for an update


@dataclass(frozen=True)
class Decision:
    """One go/no-go deadline, from when it was set to what was decided (or that nothing was)."""

    what: str  # what was to be decided, as typed
    set_at: datetime
    set_by: Person | None
    deadline: datetime
    # continue | rollback | stop | cleared (removed) | moved (a new deadline replaced it) |
    # unanswered (it passed with no decision) | pending (still ahead)
    outcome: str
    decided_by: Person | None = None
    decided_at: datetime | None = None
    prompted: bool = False  # the prompt at the deadline was sent


@dataclass(frozen=True)
class Evidence:
    """What set a milestone: a marked message, a command, a status change, the alerts or the declaration."""

    milestone: str
    at: datetime
    source: str  # as MilestoneTime.source
    by: Person | None  # who reacted, typed the command, changed the status or declared
    recorded_at: datetime | None = None  # when they did
    message: TimelineItem | None = None  # the marked message
    emoji: str | None = None  # the reaction
    status: str | None = None  # the status change that implied it
    permalink: str | None = None  # chat.getPermalink of the message, when Slack gave one


@dataclass(frozen=True)
class ActionItemRow:
    text: str
    owner: Person | None
    due: date | None
    klass: str | None  # "prevent" | "process" | "mitigate" | None
    status: str  # "open" | "done"


@dataclass(frozen=True)
class PostmortemData:
    incident_id: int
    title: str
    status: str  # investigating | identified | monitoring | resolved
    severity: str  # P1..P4
    timezone: str  # IANA name every time is shown in
    channel_name: str | None
    declared_at: datetime
    declared_by: Person
    milestones: dict[str, MilestoneTime]  # keyed by every name in MILESTONES
    durations: KeyDurations
    commander: Person | None
    roles: tuple[tuple[str, Person], ...]  # (role name, holder), commander excluded
    participants: tuple[Person, ...]  # everyone who spoke or held a role
    description: str | None
    impact: str | None
    # Milestones, status changes, updates, notes and every marked message, in time order.
    key_timeline: tuple[TimelineItem, ...]
    # Marked messages grouped by mark (every MARKS key present, maybe empty).
    marked: dict[str, tuple[TimelineItem, ...]]
    action_items: tuple[ActionItemRow, ...]
    full_log: tuple[TimelineItem, ...]  # every entry, in time order (appendix)
    generated_at: datetime
    people: dict[str, str] = field(default_factory=dict)  # user id -> name, for <@U…> in texts
    tags: tuple[str, ...] = ()  # cause classes (`db`, `deploy`), alphabetical
    imported_from: str | None = None  # set when read from a Slack export, not recorded live
    # What the team wrote during the incident (bot/domain/write_up.py); people's words as written.
    summary: str | None = None
    trigger: str | None = None
    cause: str | None = None
    impact_figures: dict = field(default_factory=dict)
    whys: tuple[str, ...] = ()
    factors: dict[str, tuple[str, ...]] = field(default_factory=dict)  # every FACTOR_CATEGORIES key
    near_miss: bool = False
    # The severity's TARGET_* settings and whether each was met: metric -> (target or None, met or None).
    targets: dict[str, tuple] = field(default_factory=dict)
    status_reports: tuple[StatusReport, ...] = ()
    decisions: tuple[Decision, ...] = ()
    evidence: tuple[Evidence, ...] = ()
    channel_id: str | None = None
