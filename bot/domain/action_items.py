"""After the incident: action items done or pushed, the postmortem review, open follow-ups."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.domain.incidents import Change, IncidentError, record
from storage.models import ActionItem, Incident

PUSH_BY = timedelta(days=7)


def action_item(session: Session, item_id: int) -> ActionItem:
    item = session.get(ActionItem, item_id)
    if item is None:
        raise IncidentError(f"There is no action item #{item_id}.")
    return item


def complete(session: Session, item_id: int, actor: str, now: datetime) -> Change:
    item = action_item(session, item_id)
    if item.status == "done":
        raise IncidentError(f"Action item #{item.id} is already done.")
    item.status, item.done_at, item.done_by = "done", now, actor
    incident = session.get(Incident, item.incident_id)
    record(session, incident, "action_done", actor, item.text, now, {"item": item.id})
    return Change(incident.id, "action_done", actor, f"action item #{item.id} done", text=item.text, refresh_header=False)


def push_a_week(session: Session, item_id: int, expected_due: str, actor: str, now: datetime, tz: ZoneInfo) -> Change:
    """Push by a week; `expected_due` is the due date the button was made for, so a second press pushes nothing."""
    item = action_item(session, item_id)
    if item.status == "done":
        raise IncidentError(f"Action item #{item.id} is already done.")
    if item.due_date is None:
        raise IncidentError(f"Action item #{item.id} has no due date to push.")
    if item.due_date.isoformat() != expected_due:
        raise IncidentError(f"Action item #{item.id} was already moved; it is now due {item.due_date.isoformat()}.")
    today = now.astimezone(tz).date()
    item.due_date = max(item.due_date, today) + PUSH_BY
    incident = session.get(Incident, item.incident_id)
    record(session, incident, "action_pushed", actor, item.text, now, {"item": item.id, "due": item.due_date.isoformat()})
    return Change(incident.id, "action_pushed", actor, f"action item #{item.id} now due {item.due_date.isoformat()}", refresh_header=False, post_in_channel=False)


def open_action_items(session: Session) -> list[tuple[ActionItem, Incident]]:
    """Open action items across incidents, oldest due first (no due date last)."""
    query = (
        select(ActionItem, Incident)
        .join(Incident, Incident.id == ActionItem.incident_id)
        .where(ActionItem.status != "done")
        .order_by(ActionItem.due_date.is_(None), ActionItem.due_date, ActionItem.id)
    )
    return [(item, incident) for item, incident in session.execute(query)]


def open_items_of(session: Session, owner_id: str) -> list[tuple[ActionItem, Incident]]:
    """One person's open action items across incidents, oldest due first (no due date last)."""
    query = (
        select(ActionItem, Incident)
        .join(Incident, Incident.id == ActionItem.incident_id)
        .where(ActionItem.status != "done", ActionItem.owner_id == owner_id)
        .order_by(ActionItem.due_date.is_(None), ActionItem.due_date, ActionItem.id)
    )
    return [(item, incident) for item, incident in session.execute(query)]


def mark_postmortem_done(session: Session, incident: Incident, actor: str, now: datetime) -> Change:
    if incident.is_open:
        raise IncidentError("The postmortem is reviewed after the incident is resolved.")
    if incident.postmortem_done_at is not None:
        raise IncidentError("The postmortem is already marked done.")
    incident.postmortem_done_at = now
    record(session, incident, "postmortem_done", actor, "", now)
    return Change(incident.id, "postmortem_done", actor, "postmortem marked done", refresh_header=False)
