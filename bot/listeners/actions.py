"""Buttons on the incident header: update status, set severity, resolve."""

from __future__ import annotations

import logging

from bot import blocks, messages
from bot.domain import incidents
from bot.domain.incidents import IncidentError
from bot.domain.times import utcnow
from bot.followups import Ephemeral, OpenForm, run_followups
from bot.services import Services

log = logging.getLogger(__name__)


def register(app) -> None:
    app.action(blocks.UPDATE_STATUS)(ack=open_status_form, lazy=[run_followups])
    app.action(blocks.SET_SEVERITY)(ack=open_severity_form, lazy=[run_followups])
    app.action(blocks.RESOLVE)(ack=resolve_incident, lazy=[run_followups])


def open_status_form(ack, body: dict, action: dict, context, services: Services) -> None:
    ack()
    context["followups"] = _form_or_refusal(body, action, blocks.STATUS_FORM, services)


def open_severity_form(ack, body: dict, action: dict, context, services: Services) -> None:
    ack()
    context["followups"] = _form_or_refusal(body, action, blocks.SEVERITY_FORM, services)


def resolve_incident(ack, body: dict, action: dict, context, services: Services) -> None:
    ack()
    user, channel = body["user"]["id"], (body.get("channel") or {}).get("id", "")
    try:
        with services.db.session() as session:
            incident = _incident(session, action)
            change = incidents.change_status(session, incident, "resolved", "", user, utcnow())
        context["followups"] = change.all()
    except IncidentError as error:
        context["followups"] = [Ephemeral(channel, user, f":warning: {error}")]


def _form_or_refusal(body: dict, action: dict, form: str, services: Services) -> list:
    user, channel = body["user"]["id"], (body.get("channel") or {}).get("id", "")
    try:
        with services.db.session() as session:
            incident = _incident(session, action)
            incident_id = incident.id
    except IncidentError as error:
        return [Ephemeral(channel, user, f":warning: {error}")]
    return [OpenForm(trigger_id=body.get("trigger_id", ""), form=form, incident_id=incident_id)]


def _incident(session, action: dict):
    """The open incident a button names; buttons outlive incidents, so check."""
    value = str(action.get("value", ""))
    incident = incidents.get_incident(session, int(value)) if value.isdigit() else None
    if incident is None:
        raise IncidentError("This button belongs to an incident I cannot find.")
    if not incident.is_open:
        raise IncidentError(f"Incident #{incident.id} is already resolved. {messages.REOPEN_HINT}")
    return incident
