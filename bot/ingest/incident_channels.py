"""Which channels are incident channels, remembered for a while so most message events need no lookup.

Why: every message in every channel the bot is in arrives as an event, and most of them are not
in an incident channel. Asking the database each time cost more than all of Bolt's own work per
event (BENCHMARKS.md). An answer is kept for `ttl` seconds.

Why a stale "not an incident channel" loses nothing: Slack sends message events only from
channels the bot is in, and the bot records an incident's channel (bot/slack/channel_setup.py) as
soon as conversations.create returns, before it invites anyone, so no person can speak in a new
incident channel before it is known. The one exception is an existing channel brought in by
`python app.py import`; a running bot records new messages there after at most `ttl` seconds.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict

from storage.db import Database
from storage.incident_store import incident_id_for_channel

DEFAULT_TTL_SECONDS = 30.0
MAX_CHANNELS = 10_000


class IncidentChannels:
    def __init__(self, database: Database, ttl: float = DEFAULT_TTL_SECONDS, max_channels: int = MAX_CHANNELS):
        self._database = database
        self._ttl = ttl
        self._max = max_channels
        self._known: OrderedDict[str, tuple[float, int | None]] = OrderedDict()  # channel -> (expires, incident id)
        self._lock = threading.Lock()

    def incident_id(self, channel_id: str) -> int | None:
        """The incident whose channel this is, or None."""
        now = time.monotonic()
        with self._lock:
            known = self._known.get(channel_id)
            if known is not None and known[0] > now:
                return known[1]
        found = incident_id_for_channel(self._database, channel_id)
        self.remember(channel_id, found, now)
        return found

    def remember(self, channel_id: str, incident_id: int | None, now: float | None = None) -> None:
        expires = (time.monotonic() if now is None else now) + self._ttl
        with self._lock:
            self._known[channel_id] = (expires, incident_id)
            self._known.move_to_end(channel_id)
            while len(self._known) > self._max:
                self._known.popitem(last=False)
