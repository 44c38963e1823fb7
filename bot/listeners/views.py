"""Modal submissions: declare an incident, update its status, set its severity."""

from __future__ import annotations

from bot.slack import blocks
from bot.domain import incidents, times
from bot.domain.incidents import IncidentError
from bot.slack.after_ack import run_after_ack
from bot.services import Services
from bot.slack.formatting import markup_from_plain


def register(app) -> None:
    app.view(blocks.START_FORM)(ack=submit_start_form, lazy=[run_after_ack])
    app.view(blocks.STATUS_FORM)(ack=submit_status_form, lazy=[run_after_ack])
    app.view(blocks.SEVERITY_FORM)(ack=submit_severity_form, lazy=[run_after_ack])
    app.view(blocks.UPDATE_FORM)(ack=submit_update_form, lazy=[run_after_ack])


def submit_start_form(ack, body: dict, view: dict, context, services: Services) -> None:
    values = _values(view)
    user, now, tz = body["user"]["id"], times.utcnow(), services.settings.timezone
    title = markup_from_plain(values.get("title") or "").strip()
    if not title:
        return ack(response_action="errors", errors={"title": "Give the incident a title."})
    started_at = None
    if values.get("impact_start"):
        try:
            started_at = times.parse_user_time(values["impact_start"], tz, now)
            times.check_not_future(started_at, tz, now)
        except times.TimeInputError as error:
            return ack(response_action="errors", errors={"impact_start": str(error)})
    with services.db.session() as session:
        change = incidents.declare(
            session,
            title=title,
            severity=values.get("severity") or "P3",
            declared_by=user,
            now=now,
            team_id=(body.get("team") or {}).get("id"),
            origin_channel_id=view.get("private_metadata") or None,
            description=markup_from_plain(values.get("description") or ""),
            started_at=started_at,
            is_private="private" in (values.get("private") or "").split(","),
        )
    context["after_ack"] = [change]
    ack()


def submit_status_form(ack, body: dict, view: dict, context, services: Services) -> None:
    values = _values(view)
    _submit(
        ack,
        context,
        services,
        view,
        "message",
        lambda session, incident: incidents.change_status(
            session, incident, values.get("status") or "", markup_from_plain(values.get("message") or ""), body["user"]["id"], times.utcnow()
        ),
    )


def submit_severity_form(ack, body: dict, view: dict, context, services: Services) -> None:
    values = _values(view)
    _submit(
        ack,
        context,
        services,
        view,
        "severity",
        lambda session, incident: incidents.change_severity(session, incident, values.get("severity") or "", body["user"]["id"], times.utcnow()),
    )


def submit_update_form(ack, body: dict, view: dict, context, services: Services) -> None:
    """The nudge's "Post update": the same as `/incident update <text>`."""
    text = markup_from_plain(_values(view).get("update") or "").strip()
    if not text:
        return ack(response_action="errors", errors={"update": "Write the update to post."})

    def post(session, incident):
        if not incident.is_open:
            raise IncidentError(f"Incident #{incident.id} is already resolved.")
        return incidents.post_update(session, incident, text, body["user"]["id"], times.utcnow())

    _submit(ack, context, services, view, "update", post)


def _submit(ack, context, services: Services, view: dict, error_block: str, change_incident) -> None:
    """Apply a form to the incident named in its metadata; a refusal is shown in the form."""
    metadata = view.get("private_metadata") or ""
    try:
        with services.db.session() as session:
            incident = incidents.get_incident(session, int(metadata)) if metadata.isdigit() else None
            if incident is None:
                raise IncidentError("This form belongs to an incident I cannot find.")
            change = change_incident(session, incident)
    except IncidentError as error:
        return ack(response_action="errors", errors={error_block: str(error)})
    context["after_ack"] = change.all()
    ack()


def _values(view: dict) -> dict[str, str]:
    """{block_id: typed text or selected value} from a submitted view's state."""
    result: dict[str, str] = {}
    for block_id, actions in ((view.get("state") or {}).get("values") or {}).items():
        for element in actions.values():
            if element.get("type") == "static_select":
                result[block_id] = (element.get("selected_option") or {}).get("value") or ""
            elif element.get("type") == "checkboxes":
                result[block_id] = ",".join(o.get("value", "") for o in element.get("selected_options") or [])
            else:
                result[block_id] = element.get("value") or ""
    return result
