"""Channel messages and reactions become the incident's timeline.

The app runs with process_before_response, so Bolt acknowledges an event only
after these functions return, that is after the entry is committed: if we
crash first, Slack delivers the event again instead of it being lost.
"""

from __future__ import annotations

import logging

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.domain.changes import IncidentError
from bot.domain.marks import base_emoji
from bot.domain.records import SlackMessage
from bot.domain.requests import DeleteMessage, EditMessage, React, Request, Via
from bot.domain.timeline import WRITTEN_BY_A_BOT, WRITTEN_BY_A_PERSON
from bot.domain.times import utcnow
from bot.gate import NotAnIncident
from bot.services import Services
from bot.slack import membership
from bot.slack.after_ack import Ephemeral, PublishHome, run_after_ack
from bot.slack.catchup import ShowCatchup
from bot.slack.membership import MembershipUnknown
from bot.slack.objects import SPOKEN, is_user_id, message_from_slack, valid_channel, valid_ts
from storage.incident_store import reading

log = logging.getLogger(__name__)


def register(app) -> None:
    app.event("message")(on_message)
    app.event("reaction_added")(ack=on_reaction_added, lazy=[run_after_ack])
    app.event("reaction_removed")(ack=on_reaction_removed, lazy=[run_after_ack])
    # Membership decides who may change an incident (bot/slack/membership.py).
    app.event("member_joined_channel")(ack=on_member_joined, lazy=[run_after_ack])
    app.event("member_left_channel")(on_member_left)
    app.event("app_home_opened")(ack=on_home_opened, lazy=[run_after_ack])


def on_member_joined(event: dict, context, services: Services) -> None:
    # Whoever joins the incident channel may act on the incident at once.
    if event.get("channel") and event.get("user"):
        membership.joined(event["channel"], event["user"])
    channel, user = valid_channel(event.get("channel")), event.get("user")
    if not channel or not is_user_id(user):
        return
    # Someone joining halfway gets the catch-up (CATCHUP_ON_JOIN): not the bot, nor the declarer,
    # whom setting up the channel invites and who knows where things stand (post_catchup reads the
    # record after the ack and leaves them out).
    if not services.settings.catchup_on_join or user == context.get("bot_user_id"):
        return
    if services.incident_channels.incident_id(channel) is not None:
        context["after_ack"] = [ShowCatchup(channel, user)]


def on_member_left(event: dict) -> None:
    if event.get("channel") and event.get("user"):
        membership.left(event["channel"], event["user"])


def on_home_opened(event: dict, context) -> None:
    # Only the Home tab is ours to draw (the Messages tab is the DM with the bot); the view is
    # published after the ack, as Slack asks for an answer within 3 seconds.
    if event.get("tab") == "home" and is_user_id(event.get("user")):
        context["after_ack"] = [PublishHome(event["user"])]


def on_message(event: dict, services: Services) -> None:
    subtype = event.get("subtype")
    if subtype not in SPOKEN and subtype not in ("message_changed", "message_deleted"):
        return
    channel = valid_channel(event.get("channel"))
    # Most messages are not in an incident channel: decide that first, before any parsing or unit of work.
    incident_id = services.incident_channels.incident_id(channel) if channel else None
    if incident_id is None:
        return
    if subtype == "message_changed":
        inner = event.get("message")
        message = message_from_slack(inner, channel) if isinstance(inner, dict) else None
        if message is not None:
            edited = message.edited_ts or valid_ts(event.get("event_ts"))
            message = SlackMessage(**{**message.__dict__, "edited_ts": edited})
            _submit_message_change(services, EditMessage(message), message.user_id, incident_id)
    elif subtype == "message_deleted":
        ts = valid_ts(event.get("deleted_ts"))
        if ts:
            previous = event.get("previous_message") if isinstance(event.get("previous_message"), dict) else {}
            _submit_message_change(services, DeleteMessage(ts), previous.get("user"), incident_id)
    else:
        message = message_from_slack(event, channel)
        if message is not None:
            # New messages take the batched path (bot/ingest): a person's message in an incident
            # channel is stored once, and no other rule applies to it.
            services.timeline_writer.record(incident_id, message, utcnow())


def _submit_message_change(services: Services, intent, actor: str | None, incident_id: int) -> None:
    """An edit or a deletion is Slack's own record changing: the author (or an admin) did it in the channel."""
    request = Request(intent, actor=actor if is_user_id(actor) else None, via=Via.MESSAGE, incident_id=incident_id)
    services.gate.submit(request)


def on_reaction_added(event: dict, context, client: WebClient, services: Services) -> None:
    _on_reaction(event, True, context, client, services)


def on_reaction_removed(event: dict, context, client: WebClient, services: Services) -> None:
    _on_reaction(event, False, context, client, services)


def _on_reaction(event: dict, added: bool, context, client: WebClient, services: Services) -> None:
    # Why the type checks: a malformed event must be dropped with a warning, not crash the
    # listener (Slack would get a 500 and deliver the same bad event again).
    item = event.get("item") if isinstance(event.get("item"), dict) else {}
    reaction = event.get("reaction") if isinstance(event.get("reaction"), str) else ""
    channel, ts = valid_channel(item.get("channel")), valid_ts(item.get("ts"))
    if item.get("type") != "message" or base_emoji(reaction) not in services.settings.reactions:
        return
    event_ts = ts if event.get("event_ts") is None else valid_ts(event.get("event_ts"))
    user = event.get("user")
    if not channel or not ts or not event_ts or not is_user_id(user):
        log.warning("reaction event without a usable channel, ts, event_ts or user: %r", event)
        return
    incident_id = services.incident_channels.incident_id(channel)
    if incident_id is None:
        return
    written_by = _store_missing_message(channel, ts, client, services, incident_id) if added else None
    request = Request(React(ts, reaction, added, event_ts, written_by), actor=user, via=Via.REACTION, incident_id=incident_id)
    try:
        change = services.gate.submit(request)
    except NotAnIncident:
        return
    except IncidentError as error:
        # Said to the person who reacted (privately; by direct message if they are not in the channel).
        context["after_ack"] = [Ephemeral(channel, user, error.message)]
        return
    except MembershipUnknown as error:
        log.warning("reaction by %s in %s not applied: Slack would not say who is in the channel (%s)", user, channel, error)
        raise  # Slack delivers the event again
    if change is not None:
        context["after_ack"] = change.all()


def _store_missing_message(channel: str, ts: str, client: WebClient, services: Services, incident_id: int) -> str | None:
    """A mark on a message we never stored: fetch exactly that message so the mark quotes what was said.

    Returns who wrote it as far as Slack said (a person or a bot), or None when it is already
    on the record or Slack would not say.
    """
    with reading(services.db) as store:
        if store.message(channel, ts) is not None:
            return None
    raw = fetch_message(client, channel, ts)
    if raw is None:
        return None
    message = message_from_slack(raw, channel)
    if message is None:
        return WRITTEN_BY_A_BOT
    services.timeline_writer.record(incident_id, message, utcnow())
    return WRITTEN_BY_A_PERSON


def fetch_message(client: WebClient, channel: str, ts: str) -> dict | None:
    """Exactly the message at `ts`: from the channel's history, else from its thread."""
    try:
        history = client.conversations_history(channel=channel, latest=ts, oldest=ts, inclusive=True, limit=1)
        for message in history.get("messages", []):
            if message.get("ts") == ts:
                return message
        replies = client.conversations_replies(channel=channel, ts=ts, latest=ts, oldest=ts, inclusive=True, limit=1)
        for message in replies.get("messages", []):
            if message.get("ts") == ts:
                return message
    except SlackApiError as error:
        log.warning("could not fetch message %s/%s for a reaction: %s", channel, ts, error.response.get("error"))
    return None
