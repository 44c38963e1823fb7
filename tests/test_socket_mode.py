"""`python app.py` with SLACK_APP_TOKEN set: Socket Mode, end to end.

The bot asks the stand-in's `apps.connections.open` (with the app-level token) for a WebSocket,
connects to tests/support/slack_socket_mode.py, and handles envelopes exactly as it handles signed HTTP
requests: a slash command is acknowledged over the socket with its answer, a message event is
recorded. No signing secret is needed in this mode.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qsl

import pytest

from tests.conftest import ANA, BACKENDS, BOT_TOKEN, scratch_database, wait_until
from tests.support.slack_requests import SlackRequests
from tests.support.slack_socket_mode import SocketModeStandIn
from tests.support.slack_standin import SlackStandIn

ROOT = Path(__file__).resolve().parent.parent
APP_TOKEN = "xapp-1-A0INCIDENT-1234-socketmodetoken"


class Payloads(SlackRequests):
    """SlackRequests that hand back the body instead of posting it (Socket Mode sends payloads, not requests)."""

    def signed_post(self, body: bytes, content_type: str, *args, **kwargs):
        if content_type == "application/json":
            return json.loads(body)
        return dict(parse_qsl(body.decode()))


@pytest.mark.parametrize("backend", BACKENDS)
def test_socket_mode_takes_commands_and_events_over_the_websocket(backend, tmp_path):
    socket_mode = SocketModeStandIn()
    with SlackStandIn(token=BOT_TOKEN, app_token=APP_TOKEN) as slack, scratch_database(backend, tmp_path) as url:
        slack.socket_mode = socket_mode
        slack.add_user(ANA, "ana", "Ana Silva", tz="Asia/Tokyo")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "INCIDENT_", "DATABASE_URL", "PORT"))}
        env.update(SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_APP_TOKEN=APP_TOKEN, SLACK_API_URL=slack.base_url,
                   DATABASE_URL=url, INCIDENT_TIMEZONE="Asia/Tokyo", SCHEDULER="external")
        process = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT, text=True)
        payloads = Payloads("unused", "unused", slack)
        try:
            socket_mode.wait_connected(timeout=60)

            envelope = socket_mode.send("slash_commands", payloads.slash_command(ANA, "help"), accepts_response_payload=True)
            answer = socket_mode.ack(envelope)["payload"]
            assert answer["response_type"] == "ephemeral" and "/incident start" in answer["text"]

            envelope = socket_mode.send("slash_commands", payloads.slash_command(ANA, "start P2 決済APIが502を返す"),
                                        accepts_response_payload=True)
            assert "決済APIが502を返す" in socket_mode.ack(envelope)["payload"]["text"]
            channel = wait_until(lambda: next((c for c in slack.channel_ids() if slack.channel(c)["name"].startswith("inc-")), None),
                                 timeout=30, message="no incident channel was created")
            # As in Slack, the declarer speaks there once invited, which the bot does after recording the channel.
            wait_until(lambda: ANA in slack.channel(channel)["members"], timeout=30, message="the declarer was never invited")
            message = slack.post_human_message(channel, ANA, "DB の接続数が上限です")
            envelope = socket_mode.send("events_api", payloads.event(payloads.message_event(message, channel)),
                                        accepts_response_payload=False)
            socket_mode.ack(envelope)
            envelope = socket_mode.send("slash_commands", payloads.slash_command(ANA, "resolve", channel=channel),
                                        accepts_response_payload=True)
            socket_mode.ack(envelope)
            document = wait_until(lambda: next((f for f in slack.files() if channel in f["channels"] and f["name"].startswith("postmortem-")), None), timeout=30,
                                  message="no postmortem was posted")
            assert "DB の接続数が上限です" in document["content"].decode("utf-8")
        finally:
            process.terminate()
            output = process.communicate(timeout=30)[0]
            socket_mode.close()
    first = next(line for line in output.splitlines() if "starting:" in line)
    assert "Socket Mode" in first and "time zone Asia/Tokyo" in first and "database " in first, output
    assert APP_TOKEN not in output and BOT_TOKEN not in output
    assert len(slack.calls("apps.connections.open")) >= 1


def test_the_app_token_is_refused_where_slack_refuses_it():
    # The stand-in's rule the test above relies on: the two tokens are not interchangeable.
    with SlackStandIn(token=BOT_TOKEN, app_token=APP_TOKEN) as slack:
        from slack_sdk import WebClient
        from slack_sdk.errors import SlackApiError

        with pytest.raises(SlackApiError) as refused:
            WebClient(token=BOT_TOKEN, base_url=slack.base_url).apps_connections_open(app_token=BOT_TOKEN)
        assert refused.value.response["error"] == "not_allowed_token_type"
        with pytest.raises(SlackApiError) as refused:
            WebClient(token=APP_TOKEN, base_url=slack.base_url).auth_test()
        assert refused.value.response["error"] == "not_allowed_token_type"
