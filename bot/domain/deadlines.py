"""Go/no-go deadlines: decided in advance, prompted on time, every decision on the record."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from bot.domain import times
from bot.domain.incidents import Change, IncidentError, record
from bot.reminders.rhythm import CONTINUE_FOR, DECISIONS
from storage.models import Incident


def set_deadline(session: Session, incident: Incident, time_text: str, what: str, actor: str, now: datetime, tz: ZoneInfo) -> Change:
    _require_open(incident)
    try:
        at = times.parse_user_time(time_text, tz, now)
    except times.TimeInputError as error:
        raise IncidentError(str(error)) from None
    if at <= now:
        raise IncidentError(f"The deadline {times.show(at, tz)} has already passed (it is now {times.show(now, tz)}). Give a time ahead.")
    incident.deadline_at, incident.deadline_what = at, what or None
    record(session, incident, "deadline", actor, what, now, {"at": at.isoformat()})
    decided = f": {what}" if what else ""
    return Change(incident.id, "deadline", actor, f"go/no-go at {times.show(at, tz)}{decided}")


def clear_deadline(session: Session, incident: Incident, actor: str, now: datetime) -> Change:
    if incident.deadline_at is None:
        raise IncidentError("There is no deadline to clear.")
    incident.deadline_at, incident.deadline_what = None, None
    record(session, incident, "deadline", actor, "", now, {"at": None})
    return Change(incident.id, "deadline", actor, "deadline cleared")


def describe_deadline(incident: Incident, tz: ZoneInfo, now: datetime) -> str:
    if incident.deadline_at is None:
        return "No go/no-go deadline is set. Set one with `/incident deadline <time> [what is decided]`."
    what = f" to decide: {incident.deadline_what}" if incident.deadline_what else ""
    state = "passed" if incident.deadline_at <= now else "is"
    return f"The go/no-go deadline {state} {times.show(incident.deadline_at, tz)}{what}."


def decide(session: Session, incident: Incident, decision: str, deadline_iso: str, actor: str, now: datetime, tz: ZoneInfo) -> Change:
    """A choice from the decision prompt. The prompt names its deadline, so a second press is refused."""
    _require_open(incident)
    if decision not in DECISIONS:
        raise IncidentError("That is not a choice this prompt offers.")
    if incident.deadline_at is None or incident.deadline_at.isoformat() != deadline_iso:
        raise IncidentError("This deadline was already decided or moved; nothing was changed.")
    deadline = incident.deadline_at
    data = {"decision": decision, "deadline": deadline.isoformat()}
    if decision == "continue":
        incident.deadline_at = max(deadline, now) + CONTINUE_FOR
        data["new_deadline"] = incident.deadline_at.isoformat()
        summary = f"{DECISIONS[decision]}: next go/no-go at {times.show(incident.deadline_at, tz)}"
    else:
        incident.deadline_at, incident.deadline_what = None, None
        summary = DECISIONS[decision]
    record(session, incident, "decision", actor, incident.deadline_what or "", now, data)
    return Change(incident.id, "decision", actor, summary, announce=decision != "continue")


def _require_open(incident: Incident) -> None:
    if not incident.is_open:
        raise IncidentError(f"Incident #{incident.id} is resolved; its deadlines are over.")
