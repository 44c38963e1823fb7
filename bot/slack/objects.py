"""The parts of Slack's message and user objects the record keeps.

One set of rules whichever way the object arrives: in a live event, in a Web
API answer, or read back from a workspace export (`python app.py import`), so
an imported incident's timeline is the one the live bot would have recorded.
Plain Python over dicts; nothing here calls Slack.
"""

from __future__ import annotations

import logging
import re

from bot.domain.records import SlackMessage
from bot.domain.times import from_slack_ts, is_slack_ts

log = logging.getLogger(__name__)

# Message subtypes that are something a person said; the rest (joins, topic changes…) are not.
# `file_comment` is a comment on a shared file, as Slack showed them until file threads (2018):
# exports from then still hold them.
SPOKEN = (None, "thread_broadcast", "file_share", "me_message", "file_comment")

# Why the checks below: Slack sends well-formed ids and timestamps, but a broken or hostile
# event must be dropped, not crash the listener (a 500 makes Slack deliver it again and again)
# or overflow a column (ids are at most 32 characters in the schema).
_USER_ID = re.compile(r"[UW][A-Z0-9]{1,31}")


def message_from_slack(raw: dict, channel: str | None) -> SlackMessage | None:
    """A person's message in the shape the timeline keeps; None for bots and malformed ones."""
    channel, ts = valid_channel(channel), valid_ts(raw.get("ts"))
    if not channel or not ts:
        return None
    user = author(raw)
    if raw.get("bot_id") or raw.get("subtype") == "bot_message" or not user:
        return None  # the bot's own posts are already entries; other bots are not responders
    if not is_user_id(user):
        log.warning("message %s/%s with a malformed user %r: not recorded", channel, ts, user)
        return None
    names = tuple(file_name(f) for f in files_of(raw))
    comment = raw.get("comment") if raw.get("subtype") == "file_comment" and isinstance(raw.get("comment"), dict) else None
    # A file comment is the comment's words on the file it is about, as Slack showed it; its `text`
    # is Slack's own "<@U…> commented on <@U…>'s file …:" line around them.
    text = comment.get("comment") if comment is not None else raw.get("text")
    edited = raw.get("edited") if isinstance(raw.get("edited"), dict) else {}
    return SlackMessage(
        channel_id=channel,
        ts=ts,
        user_id=user,
        text=text if isinstance(text, str) else "",
        thread_ts=valid_ts(raw.get("thread_ts")),
        files=names,
        # Why: a message fetched for an early reaction may already be edited; without its edit
        # time, an older edit's late event would roll the text back.
        edited_ts=valid_ts(edited.get("ts")),
    )


def author(raw: dict) -> object:
    """Who wrote a message: its `user`, or for a `file_comment` the comment's (those carry no `user`)."""
    comment = raw.get("comment")
    if raw.get("subtype") == "file_comment" and isinstance(comment, dict):
        return comment.get("user")
    return raw.get("user")


def files_of(raw: dict) -> list[dict]:
    """The files a message carries: `files`, or the single `file` that messages (and exports) had
    before 2019, when Slack replaced it with the list."""
    if isinstance(raw.get("files"), list):
        return [f for f in raw["files"] if isinstance(f, dict)]
    return [raw["file"]] if isinstance(raw.get("file"), dict) else []


def user_name(user: dict) -> str:
    """The name people know someone by, from a users.info / users.json user (or a message's user_profile
    wrapped as {"profile": …}); the user id when Slack gives no name."""
    profile = user.get("profile") if isinstance(user.get("profile"), dict) else {}
    for name in (profile.get("display_name"), profile.get("real_name"), user.get("real_name"), user.get("name")):
        if isinstance(name, str) and name.strip():
            return name.strip()
    return str(user.get("id") or "")


def valid_ts(value: object) -> str | None:
    """A Slack ts that names a time a datetime can hold (not `999999999999.9`, year 33658), else None."""
    if not is_slack_ts(value):
        return None
    try:
        from_slack_ts(value)
    except (OverflowError, ValueError):
        return None
    return value


def valid_channel(value: object) -> str | None:
    return value if isinstance(value, str) and 0 < len(value) <= 32 else None


def is_user_id(value: object) -> bool:
    return isinstance(value, str) and _USER_ID.fullmatch(value) is not None


def file_name(file: dict) -> str:
    name = file.get("name") or file.get("title")
    return name if isinstance(name, str) and name else "file"
