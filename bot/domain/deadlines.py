"""Go/no-go deadlines: decided in advance, prompted on time, every decision on the record."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from bot.domain import times
from bot.domain.changes import Change, Context, IncidentError
from bot.domain.lifecycle import record
from bot.domain.records import IncidentRecord
from bot.domain.requests import ClearDeadline, Decide, SetDeadline
from bot.domain.store import IncidentStore
from bot.reminders.rhythm import CONTINUE_FOR, DECISIONS


def set_deadline(store: IncidentStore, incident: IncidentRecord, intent: SetDeadline, ctx: Context) -> Change:
    _require_open(incident)
    try:
        at = times.parse_user_time(intent.time_text, ctx.tz, ctx.now)
    except times.TimeInputError as error:
        raise IncidentError(str(error)) from None
    if at <= ctx.now:
        raise IncidentError(
            f"The deadline {times.show(at, ctx.tz)} has already passed (it is now {times.show(ctx.now, ctx.tz)}). Give a time ahead."
        )
    what = intent.what
    incident.deadline_at, incident.deadline_what = at, what or None
    record(store, incident, "deadline", ctx, what, {"at": at.isoformat()})
    decided = f": {what}" if what else ""
    return Change(incident.id, "deadline", ctx.actor, f"go/no-go at {times.show(at, ctx.tz)}{decided}")


def clear_deadline(store: IncidentStore, incident: IncidentRecord, intent: ClearDeadline, ctx: Context) -> Change:
    if incident.deadline_at is None:
        raise IncidentError("There is no deadline to clear.")
    what = incident.deadline_what or ""
    incident.deadline_at, incident.deadline_what = None, None
    record(store, incident, "deadline", ctx, what, {"at": None})
    return Change(incident.id, "deadline", ctx.actor, "deadline cleared")


def describe_deadline(incident: IncidentRecord, tz: ZoneInfo, now: datetime) -> str:
    if incident.deadline_at is None:
        return "No go/no-go deadline is set. Set one with `/incident deadline <time> [what is decided]`."
    what = f" to decide: {incident.deadline_what}" if incident.deadline_what else ""
    state = "passed" if incident.deadline_at <= now else "is"
    return f"The go/no-go deadline {state} {times.show(incident.deadline_at, tz)}{what}."


def decide(store: IncidentStore, incident: IncidentRecord, intent: Decide, ctx: Context) -> Change:
    """A choice from the decision prompt. The prompt names its deadline, so a second press is refused."""
    _require_open(incident)
    decision = intent.decision
    if decision not in DECISIONS:
        raise IncidentError("That is not a choice this prompt offers.")
    if incident.deadline_at is None or incident.deadline_at.isoformat() != intent.deadline_iso:
        raise IncidentError("This deadline was already decided or moved; nothing was changed.")
    deadline, what = incident.deadline_at, incident.deadline_what or ""
    # What was to be decided stays with the decision: the record must say what was rolled back.
    data = {"decision": decision, "deadline": deadline.isoformat(), "what": what}
    if decision == "continue":
        incident.deadline_at = max(deadline, ctx.now) + CONTINUE_FOR
        data["new_deadline"] = incident.deadline_at.isoformat()
        summary = f"{DECISIONS[decision]}: next go/no-go at {times.show(incident.deadline_at, ctx.tz)}"
    else:
        incident.deadline_at, incident.deadline_what = None, None
        summary = DECISIONS[decision]
    record(store, incident, "decision", ctx, what, data)
    return Change(incident.id, "decision", ctx.actor, summary, text=what, announce=decision != "continue")


def _require_open(incident: IncidentRecord) -> None:
    if not incident.is_open:
        raise IncidentError(f"Incident #{incident.id} is resolved; its deadlines are over.")
