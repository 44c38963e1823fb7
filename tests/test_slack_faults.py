"""Slack's faults on the Web API: rate limits, server errors and dropped connections are retried."""

from __future__ import annotations

import time

from tests.conftest import ANA, KEN, wait_until
from tests.support.slack_standin import DROP_CONNECTION


def _posted(standin, channel, fragment):
    return wait_until(lambda: [m for m in standin.messages(channel) if fragment in (m.get("text") or "")], message=f"{fragment!r} never posted")


def test_a_rate_limited_call_waits_for_retry_after_and_goes_through(bot, standin):
    incident = bot.declare("Rate limited")
    standin.reset_calls()
    standin.fail_next("chat.postMessage", status=429, retry_after=1)
    started = time.monotonic()
    bot.command(ANA, "note the cache warmed up", channel=incident.channel_id)
    _posted(standin, incident.channel_id, "the cache warmed up")
    assert time.monotonic() - started >= 0.9  # it waited as Slack asked
    statuses = [c.status for c in standin.calls("chat.postMessage")]
    assert statuses[:2] == [429, 200]


def test_server_errors_and_dropped_connections_are_retried_mid_declaration(bot, standin):
    standin.fail_next("conversations.create", error="internal_error", status=500)
    standin.fail_next("conversations.invite", status=DROP_CONNECTION)
    standin.fail_next("chat.postMessage", error="service_unavailable", status=503)
    incident = bot.declare("Flaky Slack", user=KEN)
    assert incident.setup_error is None and incident.channel_id
    assert KEN in standin.channel(incident.channel_id)["members"]


def test_a_fault_that_outlasts_the_retries_keeps_the_incident_and_says_what_failed(bot, standin):
    for _ in range(3):
        standin.fail_next("conversations.create", error="internal_error", status=500)
    reply = bot.command(ANA, "start P1 Slack is down too")
    incident_id = int(reply["text"].split("#", 1)[1].split(":", 1)[0])
    incident = bot.wait_for_incident(incident_id, lambda i: i.setup_error is not None)
    assert incident.channel_id is None and bot.entries(incident_id)[0].kind == "declared"
    wait_until(lambda: [r for r in standin.responses() if f"/incident retry {incident_id}" in (r.get("text") or "")])
    bot.command(ANA, f"retry {incident_id}")
    bot.wait_for_incident(incident_id, lambda i: i.header_ts is not None and i.setup_error is None)


def test_a_call_that_times_out_is_retried_unless_repeating_it_would_act_twice(bots, standin):
    bot = bots(SLACK_API_TIMEOUT="0.5")
    incident = bot.declare("Slow Slack")
    standin.reset_calls()
    standin.answer_late("chat.postMessage", 1.5)
    bot.command(ANA, "note answered late but posted", channel=incident.channel_id)
    # Slack acted on the first try; the client gave up waiting and tried again: posted, maybe twice, never lost.
    _posted(standin, incident.channel_id, "answered late but posted")
    wait_until(lambda: len(standin.calls("chat.postMessage")) >= 2)

    standin.reset_calls()
    standin.answer_late("conversations.create", 1.5)
    reply = bot.command(ANA, "start P2 Slow channel creation")
    incident_id = int(reply["text"].split("#", 1)[1].split(":", 1)[0])
    failed = bot.wait_for_incident(incident_id, lambda i: i.setup_error is not None)
    assert "Timeout" in failed.setup_error or "timed out" in failed.setup_error
    assert len(standin.calls("conversations.create")) == 1  # a second would have opened a second channel
