"""Go/no-go deadlines: decided in advance, prompted on time, every decision on the record."""

from __future__ import annotations

from datetime import datetime

from bot.domain import times
from bot.domain.changes import Change, Context, IncidentError
from bot.domain.lifecycle import record
from bot.domain.records import IncidentRecord
from bot.domain.requests import ClearDeadline, Decide, SetDeadline
from bot.domain.store import IncidentStore
from bot.i18n import N_, Message
from bot.reminders.rhythm import CONTINUE_FOR, DECISIONS


def typed_time(text: str, ctx: Context, field: str | None = None) -> datetime:
    """A time as the asker typed it (`14:30`, `tomorrow 09:00`…), in their zone and on their clock;
    refused with the reason when it is not one. For a deadline and for planned work's times."""
    try:
        return times.parse_user_time(text, ctx.tz, ctx.now)
    except times.TimeInputError as error:
        raise IncidentError(error.message, field=field) from None


def set_deadline(store: IncidentStore, incident: IncidentRecord, intent: SetDeadline, ctx: Context) -> Change:
    _require_open(incident)
    at = typed_time(intent.time_text, ctx)
    if at <= ctx.now:
        raise IncidentError(
            Message(
                N_("The deadline {at} has already passed (it is now {now}). Give a time ahead."),
                {"at": times.show(at, ctx.tz), "now": times.show(ctx.now, ctx.tz)},
            )
        )
    what = intent.what
    incident.deadline_at, incident.deadline_what = at, what or None
    record(store, incident, "deadline", ctx, what, {"at": at.isoformat()})
    return Change(incident.id, "deadline", ctx.actor, {"at": at, "what": what})


def clear_deadline(store: IncidentStore, incident: IncidentRecord, intent: ClearDeadline, ctx: Context) -> Change:
    if incident.deadline_at is None:
        raise IncidentError(N_("There is no deadline to clear."))
    what = incident.deadline_what or ""
    incident.deadline_at, incident.deadline_what = None, None
    record(store, incident, "deadline", ctx, what, {"at": None})
    return Change(incident.id, "deadline", ctx.actor, {"at": None})


def decide(store: IncidentStore, incident: IncidentRecord, intent: Decide, ctx: Context) -> Change:
    """A choice from the decision prompt. The prompt names its deadline, so a second press is refused."""
    if incident.is_planned_work:
        from bot.domain import planned_work  # which builds on this module's neighbours

        return planned_work.decide(store, incident, intent, ctx)
    _require_open(incident)
    check_choice(incident, intent)
    decision = intent.decision
    deadline, what = incident.deadline_at, incident.deadline_what or ""
    # What was to be decided stays with the decision: the record must say what was rolled back.
    data = {"decision": decision, "deadline": deadline.isoformat(), "what": what}
    if decision == "continue":
        incident.deadline_at = max(deadline, ctx.now) + CONTINUE_FOR
        data["new_deadline"] = incident.deadline_at.isoformat()
        details = {"decision": decision, "next": incident.deadline_at}
    else:
        incident.deadline_at, incident.deadline_what = None, None
        details = {"decision": decision}
    record(store, incident, "decision", ctx, what, data)
    return Change(incident.id, "decision", ctx.actor, details, text=what, announce=decision != "continue")


def check_choice(incident: IncidentRecord, intent: Decide) -> None:
    """A choice the prompt offers, for the deadline the prompt was made for: a second press, or a
    press after the deadline moved, changes nothing. Incidents and planned work alike."""
    if intent.decision not in DECISIONS:
        raise IncidentError(N_("That is not a choice this prompt offers."))
    if incident.deadline_at is None or incident.deadline_at.isoformat() != intent.deadline_iso:
        raise IncidentError(N_("This deadline was already decided or moved; nothing was changed."))


def _require_open(incident: IncidentRecord) -> None:
    if not incident.is_open:
        raise IncidentError(Message(N_("Incident #{id} is resolved; its deadlines are over."), {"id": incident.id}))
