"""The catch-up: `/incident catchup`, and the same screen for whoever joins the incident channel."""

from __future__ import annotations

from tests.conftest import ANA, KEN, LEE, MIN, wait_until


def _busy_incident(bot):
    incident = bot.declare("Search is slow", user=ANA, severity="P2")
    channel = incident.channel_id
    bot.command(ANA, f"lead <@{KEN}>", channel=channel)
    bot.command(ANA, f"role comms <@{LEE}>", channel=channel)
    alert = bot.say(incident, LEE, "p99 latency 4s on search")
    bot.event(bot.slack.reaction_added(ANA, channel, alert["ts"], "rotating_light"))
    bot.command(KEN, "update Scaling the search cluster", channel=channel)
    bot.command(KEN, "deadline 23:59 fail over to the standby?", channel=channel)
    bot.command(KEN, "action add a latency alert per shard", channel=channel)
    return incident


def test_catchup_shows_where_the_incident_stands(bot, standin):
    incident = _busy_incident(bot)
    text = bot.command(KEN, "catchup", channel=incident.channel_id)["text"]
    assert f"Catch-up: incident #{incident.id}" in text and "P2" in text and "Search is slow" in text
    assert f"<@{KEN}>" in text and f"comms: <@{LEE}>" in text and "Open for" in text
    assert "detected" in text and "TTD" in text and "TTM running for" in text
    assert "Last stakeholder update" in text and "Scaling the search cluster" in text and "ago" in text
    assert ("Go/no-go deadline" in text and "fail over to the standby?" in text) or "already passed" in text
    assert "Key moments" in text and "p99 latency 4s on search" in text
    assert "Open action items" in text and "add a latency alert per shard" in text
    # Only reads: nothing recorded.
    assert not [e for e in bot.entries(incident.id) if "catch" in e.kind]


def test_catchup_speaks_the_readers_language(bot, standin):
    incident = _busy_incident(bot)
    text = bot.command(ANA, "経緯", channel=incident.channel_id)["text"]
    assert f"incident #{incident.id}" in text or f"#{incident.id}" in text


def test_whoever_joins_the_channel_gets_the_catchup_privately(bot, standin):
    incident = _busy_incident(bot)
    channel = incident.channel_id
    standin.add_member(channel, MIN)
    bot.event({"type": "member_joined_channel", "user": MIN, "channel": channel, "channel_type": "C", "team": "T0TEAM",
               "event_ts": standin.next_ts()})
    shown = wait_until(lambda: [e for e in standin.ephemerals(channel_id=channel, user_id=MIN) if "Catch-up" in e["text"]])
    assert "Scaling the search cluster" in shown[0]["text"]
    # The declarer, invited when the channel is made, is not told what they already know.
    bot.event({"type": "member_joined_channel", "user": ANA, "channel": channel, "channel_type": "C", "team": "T0TEAM",
               "event_ts": standin.next_ts()})
    bot.command(ANA, "note checked", channel=channel)  # something after, so a late catch-up would be seen
    assert not [e for e in standin.ephemerals(channel_id=channel, user_id=ANA) if "Catch-up" in e["text"]]


def test_catchup_on_join_can_be_turned_off(bots, standin):
    bot = bots(CATCHUP_ON_JOIN="false")
    incident = _busy_incident(bot)
    channel = incident.channel_id
    standin.add_member(channel, MIN)
    bot.event({"type": "member_joined_channel", "user": MIN, "channel": channel, "channel_type": "C", "team": "T0TEAM",
               "event_ts": standin.next_ts()})
    bot.command(MIN, "note joined quietly", channel=channel)
    wait_until(lambda: bot.entries(incident.id, "note"))
    assert not [e for e in standin.ephemerals(channel_id=channel, user_id=MIN) if "Catch-up" in e["text"]]


def test_help_lists_the_new_commands_in_each_language(bot, standin):
    english = bot.command(ANA, "help")["text"]
    for command in ("/incident summary", "/incident impact", "/incident trigger", "/incident cause", "/incident why",
                    "/incident factor", "/incident catchup", "--near-miss"):
        assert command in english, command
    if not _known(standin, "U0HANAKO"):  # a person whose Slack is in Japanese, whom no other test adds
        standin.add_user("U0HANAKO", "hanako", "花子", tz="Asia/Tokyo", locale="ja-JP")
    japanese = bot.command("U0HANAKO", "help")["text"]
    assert "`経緯` = `catchup`" in japanese and "`なぜ` = `why`" in japanese and "現状を一画面で" in japanese


def _known(standin, user: str) -> bool:
    try:
        standin.user(user)
        return True
    except KeyError:
        return False
