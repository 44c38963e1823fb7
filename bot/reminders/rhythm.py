"""The incident's rhythm: when to nudge for an update, when a deadline falls, when follow-ups are due.

Rules over times and the record (read through the domain's store port, bot/domain/store.py);
bot/reminders/planner.py turns them into clock jobs (bot/reminders/clock.py) and Slack messages.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.domain.changes import IncidentError
from bot.domain.milestones import effective_milestones
from bot.i18n import N_

DEFAULT_NUDGE_MINUTES = {"P1": 15.0, "P2": 30.0, "P3": 60.0, "P4": 0.0}
DEFAULT_LEAD_NUDGE_MINUTES = 5.0
DEFAULT_POSTMORTEM_DUE_DAYS = 5
DEFAULT_REPORT_MINUTES = 15.0  # planned work: a status report every quarter hour while it is in progress
SNOOZE = timedelta(minutes=30)
CONTINUE_FOR = timedelta(minutes=30)
DEADLINE_WARNING = timedelta(minutes=10)
OVERDUE_EVERY = timedelta(days=7)
# Action item reminders go out at this local time on the due day, not at midnight.
REMINDER_HOUR = time(9, 0)
# A reminder this late (no clock was running) is dropped, not sent; reviews and action items wait longer.
LATE_DROPPED_AFTER = timedelta(minutes=10)
LATE_DROPPED_AFTER_BY_KIND = {"review": timedelta(hours=12), "action": timedelta(hours=12)}
# The go/no-go prompt's choices and their buttons' labels (what each outcome is called is
# bot.i18n's vocabulary, "decision").
DECISIONS = {"continue": N_("Continue (+30 min)"), "rollback": N_("Roll back"), "stop": N_("Stop work")}


@dataclass(frozen=True)
class Rhythm:
    """How often each severity wants an update, and the other reminder settings."""

    nudge_minutes: dict[str, float]
    lead_nudge_minutes: float = DEFAULT_LEAD_NUDGE_MINUTES
    postmortem_due_days: int = DEFAULT_POSTMORTEM_DUE_DAYS
    report_minutes: float = DEFAULT_REPORT_MINUTES
    escalation: tuple = ()  # ESCALATION_CHAIN: ((who, timedelta), …), called in turn until acknowledged

    def cadence(self, severity: str) -> timedelta | None:
        minutes = self.nudge_minutes.get(severity, 0.0)
        return timedelta(minutes=minutes) if minutes > 0 else None


def next_nudge(
    severity: str,
    last_update_at: datetime,
    last_nudge_at: datetime | None,
    snoozed_until: datetime | None,
    rhythm: Rhythm,
    now: datetime,
) -> datetime | None:
    """One cadence after the last update (or the last nudge, so an ignored nudge repeats), not before a snooze ends.

    Nudges missed by more than LATE_DROPPED_AFTER (no clock was running) are skipped, not sent late
    in bulk: the next one falls on the same rhythm, at the first beat that is not yet that late.
    """
    cadence = rhythm.cadence(severity)
    if cadence is None:
        return None
    base = max(last_update_at, last_nudge_at or last_update_at)
    due = base + cadence
    if due < now - LATE_DROPPED_AFTER:
        due = base + cadence * math.ceil((now - LATE_DROPPED_AFTER - base) / cadence)
    return max(due, snoozed_until) if snoozed_until else due


def add_business_days(start: datetime, days: int, tz: ZoneInfo) -> datetime:
    """`days` working days after `start` in `tz`, skipping Saturday and Sunday."""
    local = start.astimezone(tz)
    day = local.date()
    remaining = days
    while remaining > 0:
        day += timedelta(days=1)
        if day.weekday() < 5:
            remaining -= 1
    return datetime.combine(day, local.timetz().replace(tzinfo=None), tzinfo=tz).astimezone(start.tzinfo)


def action_reminder_at(due: date, tz: ZoneInfo, last_reminded_at: datetime | None, now: datetime) -> datetime:
    """09:00 local on the due day, then weekly: the first such beat not yet sent and not too late to send."""
    at = datetime.combine(due, REMINDER_HOUR, tzinfo=tz)
    late = LATE_DROPPED_AFTER_BY_KIND["action"]
    while (last_reminded_at is not None and at <= last_reminded_at) or at < now - late:
        at += OVERDUE_EVERY
    return at


def deadline_warning_at(deadline: datetime, now: datetime) -> datetime | None:
    warning = deadline - DEADLINE_WARNING
    return warning if warning > now else None


@dataclass(frozen=True)
class Timer:
    """One reminder that should fire at `at`. The job id names the slot, so rescheduling replaces it."""

    job_id: str
    kind: str  # nudge | lead | deadline_warning | deadline | review | action
    subject_id: int  # the incident, or the action item for "action"
    at: datetime

    @property
    def dropped_after(self) -> timedelta:
        return LATE_DROPPED_AFTER_BY_KIND.get(self.kind, LATE_DROPPED_AFTER)

    @property
    def claim_key(self) -> str:
        # The same reminder at the same time is sent once, whichever scheduler gets there first.
        return f"{self.job_id}@{self.at.isoformat()}"


@dataclass(frozen=True)
class IncidentState:
    """What the rhythm of one incident depends on, read from storage by the caller."""

    incident_id: int
    is_open: bool
    severity: str
    declared_at: datetime
    commander_id: str | None
    last_update_at: datetime
    last_nudge_at: datetime | None
    snoozed_until: datetime | None
    deadline_at: datetime | None
    resolved_at: datetime | None
    postmortem_done: bool


def incident_timers(state: IncidentState, rhythm: Rhythm, tz: ZoneInfo, now: datetime) -> list[Timer]:
    """The reminders an incident wants: nudges and deadlines while open, the review once resolved."""
    ident = state.incident_id
    timers: list[Timer] = []
    if state.is_open:
        nudge = next_nudge(state.severity, state.last_update_at, state.last_nudge_at, state.snoozed_until, rhythm, now)
        if nudge is not None:
            timers.append(Timer(f"nudge:{ident}", "nudge", ident, nudge))
        if state.commander_id is None and rhythm.lead_nudge_minutes > 0:
            at = state.declared_at + timedelta(minutes=rhythm.lead_nudge_minutes)
            timers.append(Timer(f"lead:{ident}", "lead", ident, at))
        if state.deadline_at is not None:
            warning = deadline_warning_at(state.deadline_at, now)
            if warning is not None:
                timers.append(Timer(f"deadline_warning:{ident}", "deadline_warning", ident, warning))
            timers.append(Timer(f"deadline:{ident}", "deadline", ident, state.deadline_at))
    elif state.resolved_at is not None and not state.postmortem_done and rhythm.postmortem_due_days > 0:
        at = add_business_days(state.resolved_at, rhythm.postmortem_due_days, tz)
        timers.append(Timer(f"review:{ident}", "review", ident, at))
    return timers


def action_timer(
    item_id: int, owner_id: str | None, due: date | None, is_open: bool, last_reminded_at: datetime | None, tz: ZoneInfo, now: datetime
) -> Timer | None:
    """An open item with an owner and a due date: its owner hears on the due day, then weekly while overdue."""
    if not is_open or owner_id is None or due is None:
        return None
    return Timer(f"action:{item_id}", "action", item_id, action_reminder_at(due, tz, last_reminded_at, now))


# --- the record's side: which reminders an incident wants now, and sending one once -------------

# Entries that count as telling stakeholders where things stand.
UPDATE_KINDS = ("declared", "update", "status")


def timers_for(store, incident, rhythm: Rhythm, tz: ZoneInfo, now: datetime) -> list[Timer]:
    """Every reminder an incident (and its action items) wants, read through the store's port."""
    last_update = store.last_update_at(incident.id, UPDATE_KINDS)
    state = IncidentState(
        incident_id=incident.id,
        is_open=incident.is_open,
        severity=incident.severity,
        declared_at=incident.declared_at,
        commander_id=incident.commander_id,
        last_update_at=max(filter(None, (last_update, incident.declared_at))),
        last_nudge_at=incident.last_nudged_at,
        snoozed_until=incident.nudge_snoozed_until,
        deadline_at=incident.deadline_at,
        resolved_at=_resolved_at(store, incident) if not incident.is_open else None,
        postmortem_done=incident.postmortem_done_at is not None,
    )
    if incident.is_planned_work:
        timers = planned_work_timers(store, incident, state, rhythm, tz, now)
    else:
        timers = incident_timers(state, rhythm, tz, now)
    for item in store.action_items(incident.id):
        timer = action_timer(item.id, item.owner_id, item.due_date, item.status != "done", item.last_reminded_at, tz, now)
        if timer is not None:
            timers.append(timer)
    return timers


def planned_work_timers(store, incident, state: IncidentState, rhythm: Rhythm, tz: ZoneInfo, now: datetime) -> list[Timer]:
    """Planned work's reminders: the planned start, a report every REPORT_MINUTES while in progress,
    one overrun nudge per step past its timeout, the go/no-go and rollback prompts (the deadline),
    and the escalation chain; once escalated, an incident's update nudges instead of the reports."""
    from bot.domain import planned_work  # which uses this module's decisions

    ident = incident.id
    if not incident.is_open:
        # An escalated one is an incident's record: its postmortem wants a review like any other.
        if incident.escalated_at is None:
            return []
        return incident_timers(state, rhythm, tz, now)
    escalated = incident.escalated_at is not None
    timers = [t for t in incident_timers(state, rhythm, tz, now) if t.kind != "nudge" or escalated]
    if incident.work_status == "planned" and incident.planned_start is not None:
        timers.append(Timer(f"start:{ident}", "start", ident, incident.planned_start))
    if incident.work_status == "in_progress" and not escalated and rhythm.report_minutes > 0:
        cadence = Rhythm({"work": rhythm.report_minutes})
        base = max(state.last_update_at, incident.work_started_at or state.last_update_at)
        at = next_nudge("work", base, incident.last_nudged_at, None, cadence, now)
        timers.append(Timer(f"report:{ident}", "report", ident, at))
    for step in store.steps(ident):
        at = planned_work.overrun_at(step)
        if at is not None:
            timers.append(Timer(f"overrun:{ident}:{step.number}", "overrun", ident, at))
    at = planned_work.escalation_due(incident, rhythm.escalation)
    if at is not None:
        timers.append(Timer(f"escalate:{ident}", "escalate", ident, at))
    return timers


def _resolved_at(store, incident) -> datetime | None:
    return effective_milestones(incident.declared_at, store.claims(incident.id), incident.reopened_at)["resolved"].at


class ReminderSkipped(IncidentError):
    """A reminder the clock does not send: for its log, never shown to a person."""


def reminder_sent(store, incident, intent, ctx):
    """The clock may send a reminder only if the record still wants it at that time, and only once."""
    # Planned as of just before `at`: is this timer, at this time, still what the record wants?
    wanted = {t.claim_key for t in timers_for(store, incident, ctx.rhythm, ctx.tz, intent.at - timedelta(microseconds=1))}
    if intent.claim_key not in wanted:
        raise ReminderSkipped(f"reminder {intent.claim_key} is no longer wanted")
    if not store.claim_reminder(intent.claim_key, ctx.now):
        raise ReminderSkipped(f"reminder {intent.claim_key} was already sent by another clock")
    if intent.kind in ("nudge", "report"):
        incident.last_nudged_at = intent.at
    elif intent.kind == "overrun":
        step = next(s for s in store.steps(incident.id) if s.number == intent.step)
        step.overrun_nudged_at = intent.at
        store.save_step(step)
    elif intent.kind == "escalate":
        from bot.domain import planned_work

        person = ctx.rhythm.escalation[incident.escalation_level][0]
        planned_work.escalation_sent(store, incident, person, intent.at)
    elif intent.kind == "deadline" and incident.is_planned_work:
        from bot.domain import planned_work

        planned_work.prompt_went_out(incident, intent.at, ctx.rhythm.escalation)
    elif intent.kind == "action":
        item = store.action_item(intent.item_id)
        item.last_reminded_at = intent.at
        store.save_action_item(item)
    return None
