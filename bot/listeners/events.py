"""Channel messages and reactions become the incident's timeline.

The app runs with process_before_response, so Bolt acknowledges an event only
after these functions return, that is after the entry is committed: if we
crash first, Slack delivers the event again instead of it being lost.
"""

from __future__ import annotations

import logging

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot import membership
from bot.domain import timeline
from bot.domain.incidents import incident_for_channel
from bot.domain.marks import base_emoji
from bot.domain.timeline import SlackMessage
from bot.domain.times import is_slack_ts, utcnow
from bot.followups import run_followups
from bot.services import Services

log = logging.getLogger(__name__)

# Message subtypes that are something a person said; the rest (joins, topic changes…) are not.
SPOKEN = (None, "thread_broadcast", "file_share", "me_message")


def register(app) -> None:
    app.event("message")(on_message)
    app.event("reaction_added")(ack=on_reaction_added, lazy=[run_followups])
    app.event("reaction_removed")(ack=on_reaction_removed, lazy=[run_followups])
    # Subscribed for the channel lifecycle; nothing to record, but acknowledge quietly.
    app.event("member_joined_channel")(on_member_joined)
    app.event("member_left_channel")(on_member_left)
    app.event("channel_created")(ignore)
    app.event("pin_added")(ignore)


def ignore() -> None:
    return None


def on_member_joined(event: dict) -> None:
    # Whoever joins the incident channel may act on the incident at once.
    if event.get("channel") and event.get("user"):
        membership.joined(event["channel"], event["user"])


def on_member_left(event: dict) -> None:
    if event.get("channel") and event.get("user"):
        membership.left(event["channel"], event["user"])


def on_message(event: dict, services: Services) -> None:
    subtype = event.get("subtype")
    with services.db.session() as session:
        if subtype == "message_changed":
            message = _message(event.get("message") or {}, event.get("channel"))
            if message is not None:
                edited = (event["message"].get("edited") or {}).get("ts") or event.get("event_ts")
                message = SlackMessage(**{**message.__dict__, "edited_ts": edited})
                timeline.edit_message(session, message, utcnow())
        elif subtype == "message_deleted":
            channel, ts = event.get("channel"), event.get("deleted_ts")
            if channel and is_slack_ts(ts):
                timeline.delete_message(session, channel, ts, utcnow())
        elif subtype in SPOKEN:
            message = _message(event, event.get("channel"))
            if message is not None:
                timeline.record_message(session, message, utcnow())


def on_reaction_added(event: dict, context, client: WebClient, services: Services) -> None:
    _on_reaction(event, True, context, client, services)


def on_reaction_removed(event: dict, context, client: WebClient, services: Services) -> None:
    _on_reaction(event, False, context, client, services)


def _on_reaction(event: dict, added: bool, context, client: WebClient, services: Services) -> None:
    item = event.get("item") or {}
    reactions = services.settings.reactions
    channel, ts = item.get("channel"), item.get("ts")
    if item.get("type") != "message" or base_emoji(event.get("reaction", "")) not in reactions:
        return
    if not channel or not is_slack_ts(ts) or not event.get("user"):
        log.warning("reaction event without channel, ts or user: %r", event)
        return
    if added:
        _store_missing_message(channel, ts, client, services)
    with services.db.session() as session:
        change = timeline.apply_reaction(
            session,
            channel_id=channel,
            message_ts=ts,
            reaction=event["reaction"],
            user_id=event["user"],
            added=added,
            event_ts=event.get("event_ts") or ts,
            reactions=reactions,
            now=utcnow(),
        )
    if change is not None:
        context["followups"] = change.all()


def _store_missing_message(channel: str, ts: str, client: WebClient, services: Services) -> None:
    """A mark on a message we never stored: fetch exactly that message so the mark quotes what was said."""
    with services.db.session() as session:
        if incident_for_channel(session, channel) is None or timeline.is_recorded(session, channel, ts):
            return
    raw = fetch_message(client, channel, ts)
    if raw is None:
        return
    message = _message(raw, channel)
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


def _message(raw: dict, channel: str | None) -> SlackMessage | None:
    """A person's message in the shape the timeline keeps; None for bots and malformed ones."""
    if not channel or not is_slack_ts(raw.get("ts")):
        return None
    if raw.get("bot_id") or raw.get("subtype") == "bot_message" or not raw.get("user"):
        return None  # the bot's own posts are already entries; other bots are not responders
    files = tuple(f.get("name") or f.get("title") or "file" for f in raw.get("files") or [] if isinstance(f, dict))
    text = raw.get("text")
    return SlackMessage(
        channel_id=channel,
        ts=raw["ts"],
        user_id=raw["user"],
        text=text if isinstance(text, str) else "",
        thread_ts=raw.get("thread_ts"),
        files=files,
        # Why: a message fetched for an early reaction may already be edited; without its edit
        # time, an older edit's late event would roll the text back.
        edited_ts=edited.get("ts") if isinstance(edited := raw.get("edited"), dict) else None,
    )
