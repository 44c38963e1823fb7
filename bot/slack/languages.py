"""Which language a person reads: the one they chose in Slack, when the catalogs have it.

What only one person reads (a command's reply, a refusal, a direct message, their App Home, a
form they open) is in their own language; everything in a channel is in the workspace's
(BOT_LANGUAGE). Slash commands and interactions carry nothing about the sender's language, so
it is asked of Slack once (users.info with include_locale: `ja-JP` → ja) and remembered.

users.info is a Tier 4 method and is sometimes asked on the ack path, so: remembered for hours
(a person rarely changes their Slack language), asked with a short timeout and no retries, and a
failure means the workspace's language (remembered for a minute, so a Slack outage or a rate
limit costs one slow ack a minute, not one per command).
"""

from __future__ import annotations

import logging
import threading
import time

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.i18n import language_of_locale

log = logging.getLogger(__name__)

REMEMBER_SECONDS = 6 * 3600.0
REMEMBER_FAILURE_SECONDS = 60.0
LOOKUP_TIMEOUT_SECONDS = 1.5  # well inside Slack's 3 s for an ack, and no retries

_lock = threading.Lock()
_known: dict[str, tuple[float, str | None]] = {}  # user id -> (until, their language or None)
_clients: dict[tuple[str, str], WebClient] = {}


def personal_language(client: WebClient | None, user_id: str | None) -> str | None:
    """The person's language when Slack says one the catalogs have; None for the workspace's."""
    if client is None or not user_id:
        return None
    now = time.monotonic()
    with _lock:
        known = _known.get(user_id)
    if known is not None and known[0] > now:
        return known[1]
    language, remember = _ask(client, user_id)
    with _lock:
        _known[user_id] = (time.monotonic() + remember, language)
    return language


def forget(user_id: str | None = None) -> None:
    """Ask Slack again next time (for one person, or everyone)."""
    with _lock:
        if user_id is None:
            _known.clear()
        else:
            _known.pop(user_id, None)


def _ask(client: WebClient, user_id: str) -> tuple[str | None, float]:
    try:
        user = _quick(client).users_info(user=user_id, include_locale=True).get("user") or {}
    except SlackApiError as error:
        log.info("users.info %s (for their language): %s; using the workspace's", user_id, error.response.get("error"))
        return None, REMEMBER_FAILURE_SECONDS
    except Exception as error:  # noqa: BLE001 - a timeout or a dropped connection: never fail the reply for it
        log.info("users.info %s (for their language) got no answer: %r; using the workspace's", user_id, error)
        return None, REMEMBER_FAILURE_SECONDS
    return language_of_locale(user.get("locale")), REMEMBER_SECONDS


def _quick(client: WebClient) -> WebClient:
    """The same Slack as `client`, with a short timeout and no retries (one slow answer, not three)."""
    key = (client.token or "", client.base_url)
    with _lock:
        quick = _clients.get(key)
        if quick is None:
            quick = _clients[key] = WebClient(
                token=client.token, base_url=client.base_url, timeout=LOOKUP_TIMEOUT_SECONDS, retry_handlers=[]
            )
    return quick
