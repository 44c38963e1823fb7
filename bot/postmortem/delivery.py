"""Post the postmortem draft in the incident channel: a summary message and the .md file."""

from __future__ import annotations

import logging

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.domain.times import utcnow
from bot.i18n import N_
from bot.postmortem import builder
from bot.postmortem.canvas import publish_canvas
from bot.postmortem.render import postmortem_filename, render_postmortem, render_summary
from bot.services import Services
from bot.slack.objects import user_name
from storage.incident_store import changing, reading, record_delivery

log = logging.getLogger(__name__)

MAX_NAME_LOOKUPS = 100  # users.info is Tier 4; a huge incident should not stall the post


def deliver_postmortem(incident_id: int, client: WebClient, services: Services, channel: str | None = None) -> str | None:
    """Post into `channel` (default the incident's own); returns Slack's error code when it could not."""
    settings = services.settings
    with reading(services.db) as store:
        incident = store.incident(incident_id)
        wanted = store.people_in(incident)
        unknown = wanted - set(store.known_names(wanted))
    names = look_up_names(client, sorted(unknown)[:MAX_NAME_LOOKUPS])
    now = utcnow()
    if names:
        with changing(services.db) as store:
            store.remember_names(names, now)
    with reading(services.db) as store:
        data = builder.build(store, incident, settings.timezone, now)
    channel = channel or incident.channel_id
    summary = render_summary(data, settings.postmortem_language)
    document = render_postmortem(data, settings.postmortem_language)
    try:
        client.chat_postMessage(channel=channel, text=summary)
        client.files_upload_v2(
            channel=channel,
            content=document.encode("utf-8"),
            filename=postmortem_filename(data),
            title=services.postmortem_t._(N_("Postmortem draft: incident #{id}"), id=incident.id),
        )
    except SlackApiError as error:
        code = error.response.get("error")
        log.error("postmortem for incident %s could not be posted: %s", incident_id, code)
        # Nothing is lost: the record stays, and the draft is rendered again on request.
        try:
            said = services.t._(
                N_(
                    "The postmortem draft could not be posted (`{error}`). Everything is kept: run "
                    "`/incident postmortem` to post it again, or `python app.py export {id}` to print it."
                ),
                error=code, id=incident.id,
            )
            client.chat_postMessage(channel=channel, text=f":warning: {said}")
        except SlackApiError:
            log.error("could not tell incident %s's channel that its postmortem failed", incident_id)
        return code or "unknown_error"
    record_delivery(services.db, incident_id, postmortem_posted_at=now)
    if settings.postmortem_canvas and channel == incident.channel_id:
        # Only once the draft is posted and recorded: the canvas is a second copy that may fail alone.
        # Only in the incident's own channel (an import may post elsewhere).
        publish_canvas(incident_id, document, client, services, now)
    return None


def look_up_names(client: WebClient, user_ids: list[str]) -> dict[str, str]:
    """users.info for each id; one that fails stays an id rather than stopping the postmortem."""
    names: dict[str, str] = {}
    for user_id in user_ids:
        try:
            user = client.users_info(user=user_id)["user"]
        except SlackApiError as error:
            log.info("users.info %s: %s", user_id, error.response.get("error"))
            continue
        names[user_id] = user_name(user) or user_id
    return names
