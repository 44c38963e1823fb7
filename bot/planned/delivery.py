"""The Slack side of planned work after a change: the runbook message, the before and after reports, the work log.

Run after the ack (bot/slack/after_ack.py), in the workspace's language; each Slack call fails
alone and never undoes what is recorded.
"""

from __future__ import annotations

import logging

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.domain.changes import Change
from bot.domain.records import IncidentRecord
from bot.domain.times import utcnow
from bot.i18n import N_
from bot.planned import worklog
from bot.services import Services
from bot.slack import work_blocks, work_texts
from bot.postmortem.delivery import MAX_NAME_LOOKUPS, look_up_names
from storage.incident_store import changing, reading, record_delivery

log = logging.getLogger(__name__)


def deliver(change: Change, incident: IncidentRecord, client: WebClient, services: Services) -> None:
    t, now = services.t, utcnow()
    with reading(services.db) as store:
        incident = store.incident(incident.id)
        steps = store.steps(incident.id)
    if change.runbook:
        text, blocks = work_blocks.runbook_message(incident, steps, now, t)
        posted = None
        if change.runbook == "update" and incident.runbook_ts:
            posted = _call("chat.update", client.chat_update, incident.id, channel=incident.channel_id, ts=incident.runbook_ts, text=text, blocks=blocks)
        if posted is None and (change.runbook == "post" or not incident.runbook_ts):
            posted = _call("chat.postMessage", client.chat_postMessage, incident.id, channel=incident.channel_id, text=text, blocks=blocks)
            if posted is not None:
                record_delivery(services.db, incident.id, runbook_ts=posted["ts"])
                _call("pins.add", client.pins_add, incident.id, channel=incident.channel_id, timestamp=posted["ts"])
        announce = services.settings.announce_channel
        if change.kind == "runbook" and incident.work_status == "planned" and announce:
            # The "before" report, now with its runbook.
            _call("chat.postMessage", client.chat_postMessage, incident.id, channel=announce, text=work_texts.before_report(incident, steps, t))
    if change.work_log:
        post_after_report(incident, client, services)


def post_after_report(incident: IncidentRecord, client: WebClient, services: Services) -> None:
    """The after report in the channel and the announce channel, and the work log uploaded beside it."""
    t, now, settings = services.t, utcnow(), services.settings
    remember_names(incident, client, services)
    with reading(services.db) as store:
        steps = store.steps(incident.id)
        report = work_texts.after_report(incident, steps, now, t)
        document = worklog.render(worklog.build(store, incident, settings.timezone, now), settings.postmortem_language)
    _call("chat.postMessage", client.chat_postMessage, incident.id, channel=incident.channel_id, text=report)
    if settings.announce_channel and settings.announce_channel != incident.channel_id:
        _call("chat.postMessage", client.chat_postMessage, incident.id, channel=settings.announce_channel, text=report)
    title = services.postmortem_t._(N_("Work log: {kind} #{id}"), kind=services.postmortem_t.word("work_kind", incident.kind), id=incident.id)
    _call(
        "files.upload_v2", client.files_upload_v2, incident.id,
        channel=incident.channel_id, content=document.encode("utf-8"), filename=worklog.filename(incident), title=title,
    )


def remember_names(incident: IncidentRecord, client: WebClient, services: Services) -> None:
    """The work log names people, as the postmortem does: ask Slack for those the bot has not met."""
    with reading(services.db) as store:
        wanted = store.people_in(incident)
        unknown = wanted - set(store.known_names(wanted))
    names = look_up_names(client, sorted(unknown)[:MAX_NAME_LOOKUPS])
    if names:
        with changing(services.db) as store:
            store.remember_names(names, utcnow())


def report_prefill(store, incident: IncidentRecord | None, services: Services) -> str | None:
    """The report form of planned work in progress, prefilled `HH:MM [in progress] step N/M: …`."""
    if incident is None or not incident.is_planned_work or incident.work_status != "in_progress":
        return None
    return work_blocks.status_line(incident, store.steps(incident.id), utcnow(), services.t)


def _call(method: str, function, incident: int, **kwargs) -> dict | None:
    try:
        return function(**kwargs).data
    except SlackApiError as error:
        log.warning("%s failed (planned work %s): %s", method, incident, error.response.get("error"))
        return None
