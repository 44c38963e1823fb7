"""Channel messages and reactions become the incident's timeline.

The app runs with process_before_response, so Bolt acknowledges an event only
after these functions return, that is after the entry is committed: if we
crash first, Slack delivers the event again instead of it being lost.
"""

from __future__ import annotations

import logging

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.slack import membership
from bot.domain import timeline
from bot.domain.incidents import incident_for_channel
from bot.domain.marks import base_emoji
from bot.slack.objects import SPOKEN, is_user_id, message_from_slack, valid_channel, valid_ts
from bot.domain.timeline import SlackMessage
from bot.domain.times import utcnow
from bot.slack.after_ack import PublishHome, run_after_ack
from bot.services import Services

log = logging.getLogger(__name__)


def register(app) -> None:
    app.event("message")(on_message)
    app.event("reaction_added")(ack=on_reaction_added, lazy=[run_after_ack])
    app.event("reaction_removed")(ack=on_reaction_removed, lazy=[run_after_ack])
    # Membership decides who may change an incident (bot/slack/membership.py).
    app.event("member_joined_channel")(on_member_joined)
    app.event("member_left_channel")(on_member_left)
    app.event("app_home_opened")(ack=on_home_opened, lazy=[run_after_ack])


def on_member_joined(event: dict) -> None:
    # Whoever joins the incident channel may act on the incident at once.
    if event.get("channel") and event.get("user"):
        membership.joined(event["channel"], event["user"])


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
            with services.db.session() as session:
                timeline.edit_message(session, message, utcnow())
    elif subtype == "message_deleted":
        ts = valid_ts(event.get("deleted_ts"))
        if ts:
            with services.db.session() as session:
                timeline.delete_message(session, channel, ts, utcnow())
    else:
        message = message_from_slack(event, channel)
        if message is not None:
            services.timeline_writer.record(incident_id, message, utcnow())


def on_reaction_added(event: dict, context, client: WebClient, services: Services) -> None:
    _on_reaction(event, True, context, client, services)


def on_reaction_removed(event: dict, context, client: WebClient, services: Services) -> None:
    _on_reaction(event, False, context, client, services)


def _on_reaction(event: dict, added: bool, context, client: WebClient, services: Services) -> None:
    # Why the type checks: a malformed event must be dropped with a warning, not crash the
    # listener (Slack would get a 500 and deliver the same bad event again).
    item = event.get("item") if isinstance(event.get("item"), dict) else {}
    reaction = event.get("reaction") if isinstance(event.get("reaction"), str) else ""
    reactions = services.settings.reactions
    channel, ts = valid_channel(item.get("channel")), valid_ts(item.get("ts"))
    if item.get("type") != "message" or base_emoji(reaction) not in reactions:
        return
    event_ts = ts if event.get("event_ts") is None else valid_ts(event.get("event_ts"))
    if not channel or not ts or not event_ts or not is_user_id(event.get("user")):
        log.warning("reaction event without a usable channel, ts, event_ts or user: %r", event)
        return
    if added:
        _store_missing_message(channel, ts, client, services)
    with services.db.session() as session:
        change = timeline.apply_reaction(
            session,
            channel_id=channel,
            message_ts=ts,
            reaction=reaction,
            user_id=event["user"],
            added=added,
            event_ts=event_ts,
            reactions=reactions,
            now=utcnow(),
        )
    if change is not None:
        context["after_ack"] = change.all()


def _store_missing_message(channel: str, ts: str, client: WebClient, services: Services) -> None:
    """A mark on a message we never stored: fetch exactly that message so the mark quotes what was said."""
    with services.db.session() as session:
        if incident_for_channel(session, channel) is None or timeline.is_recorded(session, channel, ts):
            return
    raw = fetch_message(client, channel, ts)
    if raw is None:
        return
    message = message_from_slack(raw, channel)
    if message is not None:
        with services.db.session() as session:
            timeline.record_message(session, message, utcnow())


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
