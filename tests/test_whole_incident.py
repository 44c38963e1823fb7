"""One incident from `/incident start` to the postmortem draft in the channel, then exported."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import ANA, KEN, LEE, MIN, wait_until

ROOT = Path(__file__).resolve().parent.parent


def _run_incident(bot, standin, title):
    incident = bot.declare(title, user=ANA, severity="P1")
    channel = incident.channel_id
    bot.command(ANA, f"lead <@{KEN}>", channel=channel)
    alert = bot.say(incident, LEE, "Alert: checkout 502 rate 38% <!channel>")
    cause = bot.say(incident, KEN, "原因: デプロイ 2026.11.22-3 で接続プールが 5 に | 設定ミス", thread_ts=alert["ts"])
    fix = bot.say(incident, MIN, "rolled back to 2026.11.22-2; 502s dropping # finally")
    good = bot.say(incident, ANA, "the canary dashboards made the cause obvious")
    bot.event(bot.slack.reaction_added(ANA, channel, alert["ts"], "rotating_light"))
    bot.event(bot.slack.reaction_added(ANA, channel, cause["ts"], "mag"))
    bot.event(bot.slack.reaction_added(KEN, channel, fix["ts"], "adhesive_bandage"))
    bot.event(bot.slack.reaction_added(KEN, channel, good["ts"], "sparkles"))
    bot.command(KEN, "update Rolled back; watching error rates", channel=channel)
    bot.command(KEN, f"action add pool size check to deploy pipeline <@{MIN}> due 2099-12-01 prevent", channel=channel)
    reply = bot.command(KEN, "resolve", channel=channel)
    assert "Recorded" in reply["text"], reply
    return bot.wait_for_incident(incident.id, lambda i: i.postmortem_posted_at is not None), (alert, cause, fix, good)


def _uploaded_markdown(standin, channel):
    files = wait_until(lambda: [f for f in standin.files() if channel in json.dumps(f.get("channels") or f.get("channel") or "")])
    content = files[-1]["content"]
    return content.decode("utf-8") if isinstance(content, bytes) else content, files[-1]


def test_a_whole_incident_ends_with_a_postmortem_draft_in_the_channel(bot, standin):
    incident, (alert, cause, fix, good) = _run_incident(bot, standin, "Checkout API returns 502")
    channel = incident.channel_id

    summary = wait_until(lambda: [m for m in standin.messages(channel) if "TTR" in m.get("text", "")])[0]["text"]
    assert "Checkout API returns 502" in summary and "P1" in summary

    document, uploaded = _uploaded_markdown(standin, channel)
    assert uploaded["name"].endswith(".md")
    for section in ("Summary", "Impact", "Timeline", "Root cause", "What went well", "What went wrong", "lucky", "Action items"):
        assert section in document, section
    assert "TTD" in document and "TTM" in document and "TTR" in document
    # Quoted exactly (Markdown-escaped but the same words), with the author's name from Slack.
    assert "デプロイ 2026" in document and "設定ミス" in document
    assert "山田 健" in document or "ken" in document
    assert "<!channel>" not in document and "@channel" in document.replace("\u200b", "")
    assert "add pool size check to deploy pipeline" in document and "prevent" in document
    assert "\n# finally" not in document  # a message cannot add a heading


def test_the_incident_exports_as_json_and_markdown_from_the_command_line(bot, standin):
    incident, _ = _run_incident(bot, standin, "Export me")
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLACK_")}
    env.update(DATABASE_URL=bot.env["DATABASE_URL"], INCIDENT_TIMEZONE="Asia/Tokyo")
    result = subprocess.run(
        [sys.executable, "app.py", "export", str(incident.id), "--format", "json"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    exported = json.loads(result.stdout)
    assert exported["title"] == "Export me"
    assert any("設定ミス" in json.dumps(e, ensure_ascii=False) for e in exported["timeline"])
    result = subprocess.run(
        [sys.executable, "app.py", "export", incident.channel_name, "--format", "md"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0 and "Export me" in result.stdout, result.stderr
    missing = subprocess.run(
        [sys.executable, "app.py", "export", "inc-nope"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert missing.returncode == 1 and "no incident matches" in missing.stderr


def test_the_postmortem_can_be_written_in_japanese(bots, standin):
    bot = bots(POSTMORTEM_LANGUAGE="ja", INCIDENT_TIMEZONE="Asia/Tokyo")
    incident, _ = _run_incident(bot, standin, "決済APIの障害")
    document, _ = _uploaded_markdown(standin, incident.channel_id)
    assert "決済APIの障害" in document and "JST" in document
    assert "タイムライン" in document
