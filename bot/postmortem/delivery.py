"""Post the postmortem draft in the incident channel: a summary message and the .md file."""

from __future__ import annotations

import dataclasses
import logging

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.domain.times import utcnow
from bot.i18n import N_
from bot.postmortem import builder
from bot.postmortem.canvas import publish_canvas
from bot.postmortem.data import PostmortemData
from bot.postmortem.render import (
    CUSTOMER_NOTICE_FILENAME,
    postmortem_filename,
    render_customer_notice,
    render_postmortem,
    render_summary,
)
from bot.services import Services
from bot.slack import blocks
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
        data = builder.build(store, incident, settings.timezone, now, settings.targets)
    data = with_permalinks(data, client)
    channel = channel or incident.channel_id
    language = settings.postmortem_language
    summary = render_summary(data, language)
    document = render_postmortem(data, language)
    try:
        # The summary carries the "Fill in the postmortem" button (in the channel's language: anyone may press it).
        client.chat_postMessage(channel=channel, text=summary, blocks=blocks.postmortem_summary(summary, incident.id, services.t))
        uploads = [{
            "content": document.encode("utf-8"),
            "filename": postmortem_filename(data),
            "title": services.postmortem_t._(N_("Postmortem draft: incident #{id}"), id=incident.id),
        }]
        if not data.near_miss:
            # Beside the postmortem, a notice for customers (none for a near miss: nobody saw anything).
            # One upload, so both arrive together; the postmortem is the newest file in the channel.
            uploads.insert(0, {
                "content": render_customer_notice(data, language).encode("utf-8"),
                "filename": CUSTOMER_NOTICE_FILENAME,
                "title": services.postmortem_t._(N_("Customer notice draft: incident #{id}"), id=incident.id),
            })
        client.files_upload_v2(channel=channel, file_uploads=uploads)
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


def with_permalinks(data: PostmortemData, client: WebClient) -> PostmortemData:
    """Each milestone's marked message gets its Slack permalink; one Slack will not give stays without."""
    if data.channel_id is None or not any(e.message and e.message.ts for e in data.evidence):
        return data
    evidence = []
    for found in data.evidence:
        if found.message is not None and found.message.ts:
            try:
                link = client.chat_getPermalink(channel=data.channel_id, message_ts=found.message.ts).get("permalink")
                found = dataclasses.replace(found, permalink=link)
            except SlackApiError as error:
                log.info("chat.getPermalink %s/%s: %s", data.channel_id, found.message.ts, error.response.get("error"))
        evidence.append(found)
    return dataclasses.replace(data, evidence=tuple(evidence))


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
