"""The deliveries a run sends: message events and slash commands, shaped by tests/support/slack_requests.py.

Every event body is exactly what SlackRequests.event(SlackRequests.message_event(...)) sends
(the same envelope, the same `message` event, the rich_text blocks Slack's clients attach);
only the sending is left to the load generator, which signs each delivery when it sends it.
Messages get their `ts` from the stand-in's clock, as in Slack, but are not stored in it: the
bot never fetches a message it got an event for, and the stand-in's thread bookkeeping is
linear in the channel's size.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field

from bench.texts import text as random_text
from tests.support.slack_requests import SlackRequests
from tests.support.slack_standin import TEAM_ID, SlackStandIn, rich_text_blocks

INCIDENT, OTHER = "incident", "other"
PAUSE_SECONDS = 2.0


class PreparedRequests(SlackRequests):
    """SlackRequests that hand back the body they would have signed and posted."""

    def signed_post(self, body: bytes, content_type: str, timestamp=None, secret=None, headers=None):
        return body


@dataclass
class Phase:
    name: str
    seconds: float
    events: list = field(default_factory=list)  # (class, body, retry_num)
    incident_ts: list = field(default_factory=list)  # ts of each incident-channel message, by event index
    commands: list = field(default_factory=list)  # (kind, body)
    command_interval: float = 0.0

    def spec(self, connections: int) -> dict:
        # A pause after each phase: the app finishes what the phase left (the commands' follow-ups,
        # a checkpoint) before the next phase is measured.
        return {"name": self.name, "seconds": self.seconds, "events": self.events, "commands": self.commands,
                "command_interval": self.command_interval, "connections": connections, "pause": PAUSE_SECONDS}


class StreamBuilder:
    def __init__(self, standin: SlackStandIn, incident_channel: str, other_channels: list[str],
                 command_channel: str, users: list[str], seed: int):
        self.standin = standin
        self.slack = PreparedRequests("http://unused/slack/events", "unused", standin)
        self.incident_channel = incident_channel
        self.other_channels = other_channels
        self.command_channel = command_channel
        self.users = users
        self.rng = random.Random(seed)
        self.top_level: dict[str, list[tuple[str, str]]] = {}  # channel -> recent (ts, user)
        self.declared = 0

    def message_event_body(self, channel: str) -> tuple[str, bytes]:
        rng = self.rng
        user = rng.choice(self.users)
        text = random_text(rng, self.users)
        message = {
            "client_msg_id": str(uuid.uuid4()),
            "type": "message",
            "text": text,
            "user": user,
            "ts": self.standin.next_ts(),
            "blocks": rich_text_blocks(text),
            "team": TEAM_ID,
        }
        parents = self.top_level.setdefault(channel, [])
        if parents and rng.random() < 0.15:
            parent_ts, parent_user = rng.choice(parents)
            message["thread_ts"] = parent_ts
            message["parent_user_id"] = parent_user
        else:
            parents.append((message["ts"], user))
            del parents[:-50]
        if rng.random() < 0.01:
            message["subtype"] = "file_share"
            message["files"] = [{"id": "F0" + uuid.uuid4().hex[:9].upper(), "name": f"grafana-{rng.randint(1, 99)}.png",
                                 "title": "screenshot", "mimetype": "image/png"}]
        event = self.slack.message_event(message, channel)
        return message["ts"], self.slack.event(event)

    def phase(self, name: str, seconds: float, count: int, incident_share: float, redeliver: float = 0.0,
              command_rate: float = 0.0) -> Phase:
        """`count` deliveries (more than the app can take in `seconds`), `incident_share` of them into the
        incident channel; `redeliver` of those sent again later as Slack's retry 1."""
        rng = self.rng
        phase = Phase(name, seconds)
        later: list[tuple[int, tuple, str]] = []
        while len(phase.events) < count:
            position = len(phase.events)
            while later and later[0][0] <= position:
                _at, delivery, ts = later.pop(0)
                phase.events.append(delivery)
                phase.incident_ts.append(ts)
            if rng.random() < incident_share:
                ts, body = self.message_event_body(self.incident_channel)
                phase.events.append((INCIDENT, body, None))
                phase.incident_ts.append(ts)
                if redeliver and rng.random() < redeliver:
                    later.append((position + rng.randint(20, 200), (INCIDENT, body, 1), ts))
                    later.sort(key=lambda item: item[0])
            else:
                _ts, body = self.message_event_body(rng.choice(self.other_channels))
                phase.events.append((OTHER, body, None))
                phase.incident_ts.append(None)
        del phase.events[count:], phase.incident_ts[count:]
        if command_rate:
            phase.command_interval = 1.0 / command_rate
            for k in range(int(seconds * command_rate) + 1):
                phase.commands.append(self.command(k))
        return phase

    def command(self, k: int) -> tuple[str, bytes]:
        """Alternately `/incident start` (anywhere) and `/incident update` (in the incident channel)."""
        rng = self.rng
        if k % 2 == 0:
            self.declared += 1
            title = rng.choice(("checkout 502s", "決済APIが502を返す", "login latency", "search timeouts"))
            body = self.slack.slash_command("U0ANA", f"start P{rng.randint(1, 4)} bench {self.declared} {title}",
                                            channel=self.command_channel)
            return "start", body
        body = self.slack.slash_command("U0ANA", "update " + random_text(rng, self.users), channel=self.incident_channel)
        return "update", body
