"""Planned work: a release or a maintenance run from a runbook, with reports, go/no-go, escalation and a work log.

A whole release is driven through signed Slack-shaped requests against the Slack stand-in, on
SQLite and PostgreSQL, with a reminder clock on intervals of seconds (REPORT_MINUTES=0.05 is 3 s,
a step's `!0.03m` timeout 1.8 s), and the app restarted halfway.
"""

from __future__ import annotations

import re
import time
from datetime import datetime, timedelta, timezone

import pytest

from bot.domain import command_parser as cp
from bot.domain import runbooks
from storage.models import RunbookStep
from tests.conftest import ANA, KEN, LEE, MIN, OUTSIDER, RunningBot, wait_until

FAST = {
    "NUDGE_MINUTES_P1": "0", "NUDGE_MINUTES_P2": "0", "NUDGE_MINUTES_P3": "0", "LEAD_NUDGE_MINUTES": "0",
    "CLOCK_POLL_SECONDS": "0.1", "REPORT_MINUTES": "0.05", "SCHEDULER": "embedded",
}


@pytest.fixture
def clocked(standin, database_url, bots):
    """Bots whose own clock runs reminders, with the settings a test chooses; stopped after the test."""
    bots()  # the shared database is migrated
    started: list[RunningBot] = []

    def start(**env: str) -> RunningBot:
        bot = RunningBot(standin, database_url, {**FAST, **env})
        started.append(bot)
        return bot

    yield start
    for bot in started:
        try:
            bot.stop()
        except Exception:  # noqa: BLE001 - already stopped by the test (a restart)
            pass


def _texts(standin, channel, fragment):
    return [m for m in standin.messages(channel) if fragment in (m.get("text") or "")]


def _buttons(message):
    return {
        (e["action_id"], e.get("value")): e.get("value")
        for b in message.get("blocks") or [] if b["type"] == "actions" for e in b["elements"]
    }


def _step_buttons(message, number):
    """{action id: value} of one step's row in the runbook message."""
    for block in message.get("blocks") or []:
        if block["type"] == "actions" and block.get("block_id") == f"runbook_step_{number}":
            return {e["action_id"]: e["value"] for e in block["elements"]}
    return {}


def _iso(seconds: float) -> str:
    return (datetime.now(timezone.utc) + timedelta(seconds=seconds)).replace(microsecond=0).isoformat()


def _plan(bot, text, user=ANA):
    reply = bot.command(user, f"plan {text}")
    match = re.search(r"#(\d+)", reply.get("text", ""))
    assert match and "Planned" in reply["text"], reply
    return bot.wait_for_incident(int(match[1]), lambda i: i.header_ts is not None)


def _steps(bot, incident_id):
    from sqlalchemy import select

    with bot.db.session() as session:
        return list(session.scalars(select(RunbookStep).where(RunbookStep.incident_id == incident_id).order_by(RunbookStep.number)))


def _runbook_message(standin, incident):
    wait_until(lambda: incident.runbook_ts or True)
    return next(m for m in standin.messages(incident.channel_id) if (m.get("text") or "").startswith("Runbook:"))


def _press(bot, standin, incident, user, number, action):
    bot_incident = bot.incident(incident.id)
    message = standin.message(incident.channel_id, bot_incident.runbook_ts)
    value = _step_buttons(message, number).get(f"runbook_step_{action}") or f"{incident.id}|{number}"
    return bot.slack.block_action(
        user, f"runbook_step_{action}", value=value, channel=incident.channel_id, message_ts=bot_incident.runbook_ts,
        block_id=f"runbook_step_{number}",
    )


def _refusal(standin, user, fragment):
    return standin.wait_for("chat.postEphemeral", lambda c: c.args.get("user") == user and fragment in c.args.get("text", ""))


# --- the pure rules ----------------------------------------------------------------------


def test_a_pasted_runbook_reads_owner_expected_and_timeout_anywhere_on_each_line():
    steps = runbooks.parse_pasted("- Stop the writers @ana ~10m !15m\n\n2. <@U0KEN> Back up the db !1h ~45m\nSmoke test")
    assert [(s.text, s.owner, s.expected, s.timeout) for s in steps] == [
        ("Stop the writers", "@ana", 10.0, 15.0), ("Back up the db", "U0KEN", 45.0, 60.0), ("Smoke test", None, None, None),
    ]
    for bad, why in [("Step ~soon", "duration"), ("Step @a @b", "one owner"), ("@ana ~5m", "what the step does"), ("", "at least one step")]:
        with pytest.raises(runbooks.RunbookError) as refused:
            runbooks.parse_pasted(bad)
        assert why in str(refused.value.message)


def test_a_checklist_file_keeps_its_items_and_ignores_the_prose():
    text = "# DB recreate\n\nRead this first.\n\n- [ ] Drain @dba ~5m !10m\n- [x] Recreate ~20m\n* [ ] Verify\n- not a step\n"
    assert [s.text for s in runbooks.parse_checklist(text, "db")] == ["Drain", "Recreate", "Verify"]
    with pytest.raises(runbooks.RunbookError):
        runbooks.parse_checklist("# nothing to do\n- a bullet\n", "empty")
    with pytest.raises(runbooks.RunbookError):
        runbooks.check_name("../etc/passwd")


def test_plan_reads_its_options_and_a_title_that_says_at():
    intent = cp.parse("plan release Checkout at scale at 2026-12-01 22:00 for 2h go-no-go 21:30 rollback-by 1h30m")
    assert (intent.kind, intent.title, intent.start_text, intent.duration_text, intent.go_no_go_text, intent.rollback_text) == (
        "release", "Checkout at scale", "2026-12-01 22:00", "2h", "21:30", "1h30m",
    )
    assert cp.parse("plan").kind == ""  # the form
    for bad in ("plan outage x at 22:00", "plan release Checkout", "plan release at 22:00", "plan release X at 22:00 soon 3"):
        with pytest.raises(cp.UsageError):
            cp.parse(bad)
    assert cp.parse("step 3 skip index exists").reason == "index exists"
    with pytest.raises(cp.UsageError):
        cp.parse("step three start")
