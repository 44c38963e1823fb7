"""Buttons: the incident header (status, severity, resolve) and the reminders (nudges, deadlines, action items)."""

from __future__ import annotations

import logging
from datetime import timedelta

from bot.slack import blocks
from bot.slack import texts
from bot.domain import deadlines, incidents, times
from bot.domain import action_items
from bot.domain.incidents import Change, IncidentError
from bot.reminders.rhythm import SNOOZE
from bot.domain.times import utcnow
from bot.slack.after_ack import Ephemeral, OpenForm, PublishHome, run_after_ack
from bot.slack.membership import MembershipUnknown, is_member
from bot.services import Services

log = logging.getLogger(__name__)


def register(app) -> None:
    app.action(blocks.UPDATE_STATUS)(ack=open_status_form, lazy=[run_after_ack])
    app.action(blocks.SET_SEVERITY)(ack=open_severity_form, lazy=[run_after_ack])
    app.action(blocks.RESOLVE)(ack=resolve_incident, lazy=[run_after_ack])
    app.action(blocks.NUDGE_UPDATE)(ack=open_update_form, lazy=[run_after_ack])
    app.action(blocks.NUDGE_SNOOZE)(ack=snooze_nudges, lazy=[run_after_ack])
    app.action(blocks.LEAD_ME)(ack=take_the_lead, lazy=[run_after_ack])
    for action_id in blocks.DECIDE.values():
        app.action(action_id)(ack=decide_at_deadline, lazy=[run_after_ack])
    app.action(blocks.ACTION_DONE)(ack=complete_action_item, lazy=[run_after_ack])
    app.action(blocks.ACTION_PUSH)(ack=push_action_item, lazy=[run_after_ack])


def open_status_form(ack, body: dict, action: dict, context, client, services: Services) -> None:
    ack()
    context["after_ack"] = _form_or_refusal(body, action, blocks.STATUS_FORM, client, services)


def open_severity_form(ack, body: dict, action: dict, context, client, services: Services) -> None:
    ack()
    context["after_ack"] = _form_or_refusal(body, action, blocks.SEVERITY_FORM, client, services)


def open_update_form(ack, body: dict, action: dict, context, client, services: Services) -> None:
    ack()
    context["after_ack"] = _form_or_refusal(body, action, blocks.UPDATE_FORM, client, services)


def resolve_incident(ack, body: dict, action: dict, context, client, services: Services) -> None:
    ack()

    def resolve(session, user, now):
        incident = _incident(session, action)
        _require_member(client, incident, user)
        return incidents.change_status(session, incident, "resolved", "", user, now)

    context["after_ack"] = _apply(body, services, resolve)


def snooze_nudges(ack, body: dict, action: dict, context, client, services: Services) -> None:
    ack()
    tz = services.settings.timezone

    def snooze(session, user, now):
        incident = _incident(session, action)
        _require_member(client, incident, user)
        until = now + SNOOZE
        # A second press within the same minute is the same snooze, not a longer one.
        if incident.nudge_snoozed_until and incident.nudge_snoozed_until >= until - timedelta(minutes=1):
            raise IncidentError(f"Nudges are already snoozed until {times.show(incident.nudge_snoozed_until, tz)}.")
        incident.nudge_snoozed_until = until
        incidents.record(session, incident, "snooze", user, "", now, {"until": until.isoformat()})
        return Change(incident.id, "snooze", user, f"until {times.show(until, tz)}", refresh_header=False)

    context["after_ack"] = _apply(body, services, snooze)


def take_the_lead(ack, body: dict, action: dict, context, client, services: Services) -> None:
    ack()

    def lead(session, user, now):
        incident = _incident(session, action)
        _require_member(client, incident, user)
        if incident.commander_id and incident.commander_id != user:
            raise IncidentError(f"<@{incident.commander_id}> already leads this incident.")
        return incidents.set_lead(session, incident, user, user, now)

    context["after_ack"] = _apply(body, services, lead)


def decide_at_deadline(ack, body: dict, action: dict, context, client, services: Services) -> None:
    ack()
    decision = next(d for d, action_id in blocks.DECIDE.items() if action_id == action.get("action_id"))
    incident_ref, _, deadline_iso = str(action.get("value", "")).partition("|")

    def decide(session, user, now):
        incident = _incident(session, {"value": incident_ref}, must_be_open=False)
        _require_member(client, incident, user)
        return deadlines.decide(session, incident, decision, deadline_iso, user, now, services.settings.timezone)

    context["after_ack"] = _apply(body, services, decide)


def complete_action_item(ack, body: dict, action: dict, context, client, services: Services) -> None:
    ack()
    item_id, _ = _item_value(action)

    def complete(session, user, now):
        _require_owner_or_member(client, session, item_id, user)
        return action_items.complete(session, item_id, user, now)

    context["after_ack"] = _for_home(body, _apply(body, services, complete))


def push_action_item(ack, body: dict, action: dict, context, client, services: Services) -> None:
    ack()
    item_id, due = _item_value(action)

    def push(session, user, now):
        _require_owner_or_member(client, session, item_id, user)
        return action_items.push_a_week(session, item_id, due, user, now, services.settings.timezone)

    context["after_ack"] = _for_home(body, _apply(body, services, push))


def _apply(body: dict, services: Services, change_incident) -> list:
    """Run one button's change in one unit of work; a refusal goes privately to whoever pressed it."""
    user = body["user"]["id"]
    channel = (body.get("channel") or {}).get("id", "") or (body.get("container") or {}).get("channel_id", "")
    try:
        with services.db.session() as session:
            change = change_incident(session, user, utcnow())
        return change.all()
    except IncidentError as error:
        return [Ephemeral(channel, user, f":warning: {error}")]
    except MembershipUnknown as error:
        return [Ephemeral(channel, user, f":warning: Slack would not say who is in the incident channel (`{error}`); nothing was changed.")]


def _for_home(body: dict, steps: list) -> list:
    """A button on the App Home: redraw it first, with any refusal at its top (there is no channel to answer in)."""
    if (body.get("view") or {}).get("type") != "home":
        return steps
    refusals = [f.text for f in steps if isinstance(f, Ephemeral)]
    home = PublishHome(body["user"]["id"], notice=refusals[0] if refusals else None)
    return [home, *(f for f in steps if not isinstance(f, Ephemeral))]


def _form_or_refusal(body: dict, action: dict, form: str, client, services: Services) -> list:
    user, channel = body["user"]["id"], (body.get("channel") or {}).get("id", "")
    try:
        with services.db.session() as session:
            incident = _incident(session, action)
            _require_member(client, incident, user)
            incident_id = incident.id
    except IncidentError as error:
        return [Ephemeral(channel, user, f":warning: {error}")]
    except MembershipUnknown as error:
        return [Ephemeral(channel, user, f":warning: Slack would not say who is in the incident channel (`{error}`); nothing was changed.")]
    return [OpenForm(trigger_id=body.get("trigger_id", ""), form=form, incident_id=incident_id)]


def _incident(session, action: dict, must_be_open: bool = True):
    """The incident a button names; buttons outlive incidents, so check."""
    value = str(action.get("value", ""))
    incident = incidents.get_incident(session, int(value)) if value.isdigit() else None
    if incident is None:
        raise IncidentError("This button belongs to an incident I cannot find.")
    if must_be_open and not incident.is_open:
        raise IncidentError(f"Incident #{incident.id} is already resolved. {texts.REOPEN_HINT}")
    return incident


def _require_member(client, incident, user: str) -> None:
    """Only the incident channel's members may change the incident, whichever button they found."""
    if incident.channel_id and not is_member(client, incident.channel_id, user):
        raise IncidentError(texts.NOT_A_MEMBER)


def _require_owner_or_member(client, session, item_id: int, user: str) -> None:
    item = action_items.action_item(session, item_id)
    if item.owner_id != user:
        _require_member(client, incidents.get_incident(session, item.incident_id), user)


def _item_value(action: dict) -> tuple[int, str]:
    """`<item id>|<due date the button was made for>`; a malformed value names no item."""
    item, _, due = str(action.get("value", "")).partition("|")
    return (int(item) if item.isdigit() else 0), due
