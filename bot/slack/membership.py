"""Who is in an incident channel: only its members may change the incident.

Asked of Slack (conversations.members) and remembered briefly, so a burst of
commands and button presses costs one call; a join we hear about counts at once.
"""

from __future__ import annotations

import logging
import threading
import time

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

log = logging.getLogger(__name__)

REMEMBER_SECONDS = 30.0
_lock = threading.Lock()
_members: dict[str, tuple[float, frozenset[str]]] = {}


class MembershipUnknown(Exception):
    """Slack would not say who is in the channel; nothing is changed rather than guessing."""


def is_member(client: WebClient, channel_id: str, user_id: str) -> bool:
    with _lock:
        known = _members.get(channel_id)
    if known is None or time.monotonic() - known[0] > REMEMBER_SECONDS or user_id not in known[1]:
        known = (time.monotonic(), _fetch(client, channel_id))
        with _lock:
            _members[channel_id] = known
    return user_id in known[1]


def joined(channel_id: str, user_id: str) -> None:
    """A member_joined_channel event: count them in without asking Slack again."""
    with _lock:
        known = _members.get(channel_id)
        if known is not None:
            _members[channel_id] = (known[0], known[1] | {user_id})


def left(channel_id: str, user_id: str) -> None:
    with _lock:
        known = _members.get(channel_id)
        if known is not None:
            _members[channel_id] = (known[0], known[1] - {user_id})


def _fetch(client: WebClient, channel_id: str) -> frozenset[str]:
    members: set[str] = set()
    cursor = None
    try:
        while True:
            page = client.conversations_members(channel=channel_id, limit=1000, cursor=cursor)
            members.update(page.get("members") or [])
            cursor = (page.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                return frozenset(members)
    except SlackApiError as error:
        log.warning("conversations.members %s failed: %s", channel_id, error.response.get("error"))
        raise MembershipUnknown(error.response.get("error")) from None
