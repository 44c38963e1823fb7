"""Channel messages and reactions become the incident's timeline.

The app runs with process_before_response, so Bolt acknowledges an event only
after these functions return, that is after the entry is committed: if we
crash first, Slack delivers the event again instead of it being lost.
"""

from __future__ import annotations

import logging
import re

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot import membership
from bot.domain import timeline
from bot.domain.incidents import incident_for_channel
from bot.domain.marks import base_emoji
from bot.domain.timeline import SlackMessage
from bot.domain.times import from_slack_ts, is_slack_ts, utcnow
from bot.followups import PublishHome, run_followups
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
    app.event("app_home_opened")(ack=on_home_opened, lazy=[run_followups])
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


def on_home_opened(event: dict, context) -> None:
    # Only the Home tab is ours to draw (the Messages tab is the DM with the bot); the view is
    # published after the ack, as Slack asks for an answer within 3 seconds.
    if event.get("tab") == "home" and _is_user_id(event.get("user")):
        context["followups"] = [PublishHome(event["user"])]


def on_message(event: dict, services: Services) -> None:
    subtype = event.get("subtype")
    with services.db.session() as session:
        if subtype == "message_changed":
            inner = event.get("message")
            message = _message(inner, event.get("channel")) if isinstance(inner, dict) else None
            if message is not None:
                edited = message.edited_ts or _ts(event.get("event_ts"))
                message = SlackMessage(**{**message.__dict__, "edited_ts": edited})
                timeline.edit_message(session, message, utcnow())
        elif subtype == "message_deleted":
            channel, ts = _channel(event.get("channel")), _ts(event.get("deleted_ts"))
            if channel and ts:
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
    # Why the type checks: a malformed event must be dropped with a warning, not crash the
    # listener (Slack would get a 500 and deliver the same bad event again).
    item = event.get("item") if isinstance(event.get("item"), dict) else {}
    reaction = event.get("reaction") if isinstance(event.get("reaction"), str) else ""
    reactions = services.settings.reactions
    channel, ts = _channel(item.get("channel")), _ts(item.get("ts"))
    if item.get("type") != "message" or base_emoji(reaction) not in reactions:
        return
    event_ts = ts if event.get("event_ts") is None else _ts(event.get("event_ts"))
    if not channel or not ts or not event_ts or not _is_user_id(event.get("user")):
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
    channel, ts = _channel(channel), _ts(raw.get("ts"))
    if not channel or not ts:
        return None
    if raw.get("bot_id") or raw.get("subtype") == "bot_message" or not raw.get("user"):
        return None  # the bot's own posts are already entries; other bots are not responders
    if not _is_user_id(raw["user"]):
        log.warning("message %s/%s with a malformed user %r: not recorded", channel, ts, raw["user"])
        return None
    files = raw.get("files") if isinstance(raw.get("files"), list) else []
    names = tuple(_file_name(f) for f in files if isinstance(f, dict))
    text = raw.get("text")
    edited = raw.get("edited") if isinstance(raw.get("edited"), dict) else {}
    return SlackMessage(
        channel_id=channel,
        ts=ts,
        user_id=raw["user"],
        text=text if isinstance(text, str) else "",
        thread_ts=_ts(raw.get("thread_ts")),
        files=names,
        # Why: a message fetched for an early reaction may already be edited; without its edit
        # time, an older edit's late event would roll the text back.
        edited_ts=_ts(edited.get("ts")),
    )


# Why the helpers below: Slack sends well-formed ids and timestamps, but a broken or hostile
# event must be dropped, not crash the listener (a 500 makes Slack deliver it again and again)
# or overflow a column (ids are at most 32 characters in the schema).
_USER_ID = re.compile(r"[UW][A-Z0-9]{1,31}")


def _ts(value: object) -> str | None:
    """A Slack ts that names a time a datetime can hold (not `999999999999.9`, year 33658), else None."""
    if not is_slack_ts(value):
        return None
    try:
        from_slack_ts(value)
    except (OverflowError, ValueError):
        return None
    return value


def _channel(value: object) -> str | None:
    return value if isinstance(value, str) and 0 < len(value) <= 32 else None


def _is_user_id(value: object) -> bool:
    return isinstance(value, str) and _USER_ID.fullmatch(value) is not None


def _file_name(file: dict) -> str:
    name = file.get("name") or file.get("title")
    return name if isinstance(name, str) and name else "file"
