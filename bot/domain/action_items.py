"""Action items: recorded during the incident, done or pushed afterwards."""

from __future__ import annotations

from datetime import date, timedelta

from bot.domain import times
from bot.domain.changes import Change, Context, IncidentError
from bot.domain.lifecycle import record
from bot.domain.records import ActionItemRecord, IncidentRecord
from bot.domain.requests import AddActionItem, CompleteActionItem, PushActionItem
from bot.domain.store import IncidentStore
from bot.i18n import N_, Message

PUSH_BY = timedelta(days=7)


def add_action(store: IncidentStore, incident: IncidentRecord, intent: AddActionItem, ctx: Context) -> Change:
    due: date | None = None
    if intent.due_text is not None:
        try:
            due = times.parse_due_date(intent.due_text)
        except times.TimeInputError as error:
            raise IncidentError(error.message) from None
        if due < ctx.now.astimezone(ctx.tz).date():
            raise IncidentError(Message(N_("The due date {due} is in the past."), {"due": due.isoformat()}))
    item = ActionItemRecord(
        id=0,
        incident_id=incident.id,
        text=intent.text,
        owner_id=intent.owner_id,
        due_date=due,
        klass=intent.klass,
        status="open",
        created_by=ctx.actor,
        created_at=ctx.now,
    )
    item.id = store.add_action_item(item)
    data = {"item": item.id, "owner": intent.owner_id, "due": intent.due_text, "class": intent.klass}
    record(store, incident, "action", ctx, intent.text, data)
    details = {"item": item.id, "owner": intent.owner_id, "due": due, "class": intent.klass}
    return Change(incident.id, "action", ctx.actor, details, text=intent.text, refresh_header=False)


def complete(store: IncidentStore, incident: IncidentRecord, intent: CompleteActionItem, ctx: Context) -> Change:
    item = action_item(store, intent.item_id)
    if item.status == "done":
        raise IncidentError(_already_done(item))
    item.status, item.done_at, item.done_by = "done", ctx.now, ctx.actor
    store.save_action_item(item)
    record(store, incident, "action_done", ctx, item.text, {"item": item.id})
    return Change(incident.id, "action_done", ctx.actor, {"item": item.id}, text=item.text, refresh_header=False)


def push_a_week(store: IncidentStore, incident: IncidentRecord, intent: PushActionItem, ctx: Context) -> Change:
    """Push by a week; the button names the due date it was made for, so a second press pushes nothing."""
    item = action_item(store, intent.item_id)
    if item.status == "done":
        raise IncidentError(_already_done(item))
    if item.due_date is None:
        raise IncidentError(Message(N_("Action item #{item} has no due date to push."), {"item": item.id}))
    if item.due_date.isoformat() != intent.expected_due:
        raise IncidentError(
            Message(N_("Action item #{item} was already moved; it is now due {due}."), {"item": item.id, "due": item.due_date.isoformat()})
        )
    today = ctx.now.astimezone(ctx.tz).date()
    item.due_date = max(item.due_date, today) + PUSH_BY
    store.save_action_item(item)
    record(store, incident, "action_pushed", ctx, item.text, {"item": item.id, "due": item.due_date.isoformat()})
    return Change(
        incident.id, "action_pushed", ctx.actor, {"item": item.id, "due": item.due_date}, refresh_header=False, post_in_channel=False
    )


def action_item(store: IncidentStore, item_id: int) -> ActionItemRecord:
    item = store.action_item(item_id)
    if item is None:
        raise IncidentError(Message(N_("There is no action item #{item}."), {"item": item_id}))
    return item


def _already_done(item: ActionItemRecord) -> Message:
    return Message(N_("Action item #{item} is already done."), {"item": item.id})
