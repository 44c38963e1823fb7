"""Print the postmortem (and the customer notice) of a whole incident run through the real bot.

    .venv/bin/python -m tests.support.example_postmortem [--notice] [--language ja]

The README's example postmortem comes from this: the bot served over HTTP, the Slack stand-in,
a scratch SQLite database, and an incident driven with signed slash commands, messages,
reactions and a go/no-go button, with every section of the draft written during the incident.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from bot.config import Settings
from bot.domain.requests import SetDeadline
from bot.domain.times import utcnow
from storage.db import Database
from storage.migrate import upgrade
from tests.conftest import ANA, BOT_TOKEN, KEN, LEE, MIN, RunningBot, wait_until
from tests.support.slack_standin import SlackStandIn


def run(language: str) -> tuple[str, str]:
    with tempfile.TemporaryDirectory() as scratch, SlackStandIn(token=BOT_TOKEN) as standin:
        for user, name, real, tz in (
            (ANA, "ana", "Ana Silva", "Europe/Lisbon"), (KEN, "ken", "山田 健", "Asia/Tokyo"),
            (MIN, "min", "김민준", "Asia/Seoul"), (LEE, "lee", "Lee Chen", "America/New_York"),
        ):
            standin.add_user(user, name, real, tz=tz)
        url = f"sqlite:///{Path(scratch) / 'example.db'}"
        database = Database(Settings.from_env({"DATABASE_URL": url}, need_slack=False).database_url)
        upgrade(database.engine)
        database.dispose()
        bot = RunningBot(standin, url, {"INCIDENT_TIMEZONE": "Asia/Tokyo", "POSTMORTEM_LANGUAGE": language})
        try:
            return _incident(bot, standin)
        finally:
            bot.stop()


def _incident(bot: RunningBot, standin: SlackStandIn) -> tuple[str, str]:
    now = utcnow()
    incident = bot.declare("Checkout API returns 502", user=ANA, severity="P1")
    channel = incident.channel_id

    def said(minutes_ago: float, user: str, text: str, thread_ts: str | None = None) -> dict:
        # The conversation is told as it happened, in the hour before the run: Slack stamps each message then.
        ts = f"{(now - timedelta(minutes=minutes_ago)).timestamp():.6f}"
        message = standin.post_human_message(channel, user, text, thread_ts=thread_ts, ts=ts)
        bot.event(bot.slack.message_event(message, channel))
        return message

    bot.command(ANA, f"lead <@{KEN}>", channel=channel)
    bot.command(ANA, f"role comms <@{LEE}>", channel=channel)
    bot.command(ANA, f"started {(now - timedelta(minutes=64)).isoformat(timespec='seconds')}", channel=channel)
    past = now - timedelta(minutes=50)
    bot.submit(SetDeadline((past + timedelta(minutes=5)).isoformat(), "page the database on-call?"), ANA,
               incident_id=incident.id, at=past)
    alert = said(60, LEE, "Alert: checkout 502 rate 38% <!channel>")
    bot.event(bot.slack.reaction_added(ANA, channel, alert["ts"], "rotating_light"))
    bot.command(KEN, "update Investigating 502s on checkout; next update in 15 minutes", channel=channel)
    cause = said(38, KEN, "原因: デプロイ 2026.11.22-3 で接続プールが 5 に | 設定ミス", thread_ts=alert["ts"])
    bot.event(bot.slack.reaction_added(ANA, channel, cause["ts"], "mag"))
    bot.command(KEN, "status identified connection pool exhausted after deploy 2026.11.22-3", channel=channel)
    bot.command(KEN, f"deadline {(now + timedelta(hours=1)).astimezone(bot.settings.timezone):%Y-%m-%d %H:%M} "
                     "roll back 2026.11.22-3 if 502s stay above 5%", channel=channel)
    deadline = bot.incident(incident.id).deadline_at
    bot.slack.block_action(KEN, "deadline_rollback", value=f"{incident.id}|{deadline.isoformat()}", channel=channel)
    wait_until(lambda: bot.entries(incident.id, "decision"))
    fix = said(21, MIN, "rolled back to 2026.11.22-2; 502s dropping")
    bot.event(bot.slack.reaction_added(KEN, channel, fix["ts"], "adhesive_bandage"))
    good = said(15, ANA, "the canary dashboards made the cause obvious")
    bot.event(bot.slack.reaction_added(KEN, channel, good["ts"], "sparkles"))
    wrong = said(12, LEE, "the pool size had no alert; we only saw it from 502s")
    bot.event(bot.slack.reaction_added(KEN, channel, wrong["ts"], "warning"))
    lucky = said(9, MIN, "it happened before the evening sale, not during it")
    bot.event(bot.slack.reaction_added(KEN, channel, lucky["ts"], "four_leaf_clover"))
    bot.command(KEN, "status monitoring 502s back under 0.1%", channel=channel)
    for text in (
        "summary For 43 minutes checkout returned 502 to EU customers after a deploy shrank the database connection pool "
        "to 5. The payment alert caught it; rolling the deploy back ended it.",
        "impact EU checkout failed or timed out users=12000 requests=150000 revenue=$5000 slo=98.7%",
        "trigger deploy 2026.11.22-3 changed the connection pool default from 50 to 5",
        "cause the pool size is a library default that no review or test compares with the expected load",
        "why the API could not get a database connection for most requests",
        "why the pool held 5 connections instead of 50",
        "why the new library version changed the default and our config did not set it",
        "why config review checks what we set, not the defaults we inherit",
        "why nothing tests the service at production load before a full rollout",
        "factor technology no alert on connection pool saturation",
        "factor process canary stage too short to reach peak load",
        "factor people the library upgrade's changelog was not read by the deployer",
        "factor environment Monday morning traffic peak in the EU",
        "tag db deploy",
        f"action add pool size check to the deploy pipeline <@{MIN}> due 2026-12-05 prevent",
        f"action alert on connection pool saturation above 80% <@{LEE}> due 2026-12-01 mitigate",
        f"action lengthen the canary to cover one traffic peak <@{KEN}> due 2026-12-10 process",
    ):
        reply = bot.command(KEN, text, channel=channel)["text"]
        assert "Recorded" in reply or "tag" in text, (text, reply)
    bot.command(KEN, "resolve", channel=channel)
    bot.wait_for_incident(incident.id, lambda i: i.postmortem_posted_at is not None)

    def latest(part: str) -> str:
        files = wait_until(lambda: [f for f in standin.files() if channel in json.dumps(f.get("channels") or "") and part in f["name"]])
        content = files[-1]["content"]
        return content.decode("utf-8") if isinstance(content, bytes) else content

    time.sleep(0.2)
    return latest("postmortem-"), latest("customer-notice")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--notice", action="store_true", help="print the customer notice instead of the postmortem")
    parser.add_argument("--language", default="en", choices=("en", "ja", "ko"))
    args = parser.parse_args(argv)
    document, notice = run(args.language)
    sys.stdout.write(notice if args.notice else document)
    return 0


if __name__ == "__main__":
    sys.exit(main())
