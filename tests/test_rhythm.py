"""The incident's rhythm: nudges, the lead nudge, go/no-go deadlines, follow-ups, and the clock itself.

Reminders run on cadences of seconds (NUDGE_MINUTES_P1=0.03 is 1.8 s) through the same
Bolt-over-HTTP harness; the clock's own guarantees (restart, two clocks on one database)
are tested with real `python app.py clock` processes.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.reminders.rhythm import IncidentState, Rhythm, add_business_days, action_reminder_at, incident_timers, next_nudge
from storage.models import ActionItem, ReminderClaim
from tests.conftest import ANA, BOT_TOKEN, KEN, LEE, MIN, RunningBot, wait_until

ROOT = Path(__file__).resolve().parent.parent
FAST = {"NUDGE_MINUTES_P1": "0.03", "NUDGE_MINUTES_P2": "0", "NUDGE_MINUTES_P3": "0", "LEAD_NUDGE_MINUTES": "0", "CLOCK_POLL_SECONDS": "0.1"}


@pytest.fixture
def clocked(standin, database_url, bots):
    """Start a bot whose own clock runs reminders, with the settings a test chooses; stopped after the test."""
    bots()  # the shared database is migrated
    started: list[RunningBot] = []

    def start(**env: str) -> RunningBot:
        bot = RunningBot(standin, database_url, {**FAST, "SCHEDULER": "embedded", **env})
        started.append(bot)
        return bot

    yield start
    for bot in started:
        bot.stop()


def _texts(standin, channel, fragment):
    return [m for m in standin.messages(channel) if fragment in (m.get("text") or "")]


def _buttons(message):
    return {e["action_id"]: e.get("value") for b in message.get("blocks") or [] if b["type"] == "actions" for e in b["elements"]}


# --- the pure rules ----------------------------------------------------------------------

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=timezone.utc)  # a Friday


def test_a_nudge_comes_one_cadence_after_the_last_update_or_nudge_and_not_during_a_snooze():
    rhythm = Rhythm({"P1": 15, "P2": 30, "P3": 60, "P4": 0})
    assert next_nudge("P1", NOW, None, None, rhythm, NOW) == NOW + timedelta(minutes=15)
    assert next_nudge("P1", NOW, NOW + timedelta(minutes=15), None, rhythm, NOW) == NOW + timedelta(minutes=30)
    assert next_nudge("P2", NOW, None, NOW + timedelta(minutes=45), rhythm, NOW) == NOW + timedelta(minutes=45)
    assert next_nudge("P4", NOW, None, None, rhythm, NOW) is None


def test_a_nudge_missed_by_hours_is_dropped_and_the_rhythm_carries_on():
    rhythm = Rhythm({"P1": 15})
    later = NOW + timedelta(hours=3, minutes=2)
    nudge = next_nudge("P1", NOW, None, None, rhythm, later)
    assert later - timedelta(minutes=10) <= nudge <= later + timedelta(minutes=15)
    assert (nudge - NOW) % timedelta(minutes=15) == timedelta(0)


def test_business_days_skip_the_weekend_in_the_incident_time_zone():
    tokyo = ZoneInfo("Asia/Tokyo")
    friday_evening_tokyo = datetime(2026, 11, 20, 10, 0, tzinfo=timezone.utc)  # 19:00 JST, Friday
    due = add_business_days(friday_evening_tokyo, 5, tokyo)
    assert due.astimezone(tokyo).date() == date(2026, 11, 27) and due.astimezone(tokyo).hour == 19
    assert add_business_days(friday_evening_tokyo, 1, tokyo).astimezone(tokyo).date() == date(2026, 11, 23)


def test_a_resolved_incident_wants_only_its_review_until_the_postmortem_is_done():
    tokyo = ZoneInfo("Asia/Tokyo")
    state = IncidentState(
        incident_id=7, is_open=False, severity="P1", declared_at=NOW, commander_id=None, last_update_at=NOW,
        last_nudge_at=None, snoozed_until=None, deadline_at=NOW + timedelta(hours=1), resolved_at=NOW, postmortem_done=False,
    )
    rhythm = Rhythm({"P1": 15}, lead_nudge_minutes=5, postmortem_due_days=5)
    [review] = incident_timers(state, rhythm, tokyo, NOW)
    assert (review.kind, review.at) == ("review", add_business_days(NOW, 5, tokyo))
    open_state = IncidentState(**{**state.__dict__, "is_open": True, "resolved_at": None})
    assert sorted(t.kind for t in incident_timers(open_state, rhythm, tokyo, NOW)) == ["deadline", "deadline_warning", "lead", "nudge"]
    done = IncidentState(**{**state.__dict__, "postmortem_done": True})
    assert incident_timers(done, rhythm, tokyo, NOW) == []


def test_action_items_are_reminded_on_the_due_day_then_weekly():
    tz = ZoneInfo("Asia/Seoul")
    first = action_reminder_at(date(2026, 11, 25), tz, None, NOW)
    assert first.astimezone(tz) == datetime(2026, 11, 25, 9, 0, tzinfo=tz)
    again = action_reminder_at(date(2026, 11, 25), tz, first, first + timedelta(minutes=1))
    assert again.astimezone(tz) == datetime(2026, 12, 2, 9, 0, tzinfo=tz)
    # Overdue with no clock running for weeks: the next beat, not a burst of missed ones.
    overdue = action_reminder_at(date(2026, 11, 3), tz, None, NOW)
    assert overdue.astimezone(tz) == datetime(2026, 11, 24, 9, 0, tzinfo=tz)


# --- nudges ------------------------------------------------------------------------------


def test_a_p1_without_updates_is_nudged_and_the_nudge_can_post_an_update_or_snooze(clocked, standin):
    bot = clocked()
    incident = bot.declare("Payments failing", severity="P1")
    bot.command(ANA, f"lead <@{KEN}>", channel=incident.channel_id)
    nudge = wait_until(lambda: _texts(standin, incident.channel_id, "no status update"), message="no nudge")[0]
    assert f"<@{KEN}>" in nudge["text"]
    buttons = _buttons(nudge)
    assert set(buttons) == {"nudge_post_update", "nudge_snooze"}

    standin.reset_calls()
    bot.slack.block_action(KEN, "nudge_post_update", value=buttons["nudge_post_update"], channel=incident.channel_id, message_ts=nudge["ts"], block_id="nudge_actions")
    view = standin.wait_for("views.open")[0].args["view"]
    assert view["callback_id"] == "incident_update"
    state = {"update": {"update": {"type": "plain_text_input", "value": "決済は回復傾向、次の報告は 15:30"}}}
    status, _, body = bot.slack.view_submission(KEN, "incident_update", state, private_metadata=str(incident.id))
    assert status == 200 and "errors" not in body
    assert [e.text for e in bot.entries(incident.id, "update")] == ["決済は回復傾向、次の報告は 15:30"]

    bot.slack.block_action(KEN, "nudge_snooze", value=buttons["nudge_snooze"], channel=incident.channel_id, message_ts=nudge["ts"], block_id="nudge_actions")
    snoozed = bot.wait_for_incident(incident.id, lambda i: i.nudge_snoozed_until is not None).nudge_snoozed_until
    assert timedelta(minutes=29) < snoozed - datetime.now(timezone.utc) <= timedelta(minutes=30)
    count = len(_texts(standin, incident.channel_id, "no status update"))
    time.sleep(3)  # more than one cadence: the snooze holds the nudges back
    assert len(_texts(standin, incident.channel_id, "no status update")) == count

    # Pressed twice: refused privately, nothing changes.
    standin.add_member(incident.channel_id, LEE)
    bot.slack.block_action(LEE, "nudge_snooze", value=buttons["nudge_snooze"], channel=incident.channel_id, message_ts=nudge["ts"], block_id="nudge_actions")
    standin.wait_for("chat.postEphemeral", lambda c: c.args.get("user") == LEE and "already snoozed" in c.args.get("text", ""))
    assert bot.incident(incident.id).nudge_snoozed_until == snoozed


def test_a_severity_change_changes_the_cadence_at_once_and_resolution_stops_nudges(clocked, standin):
    bot = clocked()
    incident = bot.declare("Reports slow", severity="P3")  # P3 is off in FAST
    time.sleep(2.5)
    assert not _texts(standin, incident.channel_id, "no status update")
    bot.command(ANA, "severity P1", channel=incident.channel_id)
    wait_until(lambda: _texts(standin, incident.channel_id, "no status update"), message="no nudge after raising severity")
    bot.command(ANA, "resolve", channel=incident.channel_id)
    bot.wait_for_incident(incident.id, lambda i: i.postmortem_posted_at is not None)
    time.sleep(0.5)
    count = len(_texts(standin, incident.channel_id, "no status update"))
    time.sleep(3)
    assert len(_texts(standin, incident.channel_id, "no status update")) == count


def test_nobody_leading_gets_a_lead_nudge_and_i_will_lead_sets_the_commander(clocked, standin):
    bot = clocked(LEAD_NUDGE_MINUTES="0.02", NUDGE_MINUTES_P1="0")
    incident = bot.declare("Search down", severity="P1")
    ask = wait_until(lambda: _texts(standin, incident.channel_id, "Nobody is leading"), message="no lead nudge")[0]
    standin.add_member(incident.channel_id, MIN)
    standin.add_member(incident.channel_id, LEE)
    bot.slack.block_action(MIN, "lead_me", value=_buttons(ask)["lead_me"], channel=incident.channel_id, message_ts=ask["ts"], block_id="lead_actions")
    assert bot.wait_for_incident(incident.id, lambda i: i.commander_id is not None).commander_id == MIN
    bot.slack.block_action(LEE, "lead_me", value=_buttons(ask)["lead_me"], channel=incident.channel_id, message_ts=ask["ts"], block_id="lead_actions")
    refusal = standin.wait_for("chat.postEphemeral", lambda c: c.args.get("user") == LEE and "already leads" in c.args.get("text", ""))
    assert refusal and bot.incident(incident.id).commander_id == MIN
    assert len(_texts(standin, incident.channel_id, "Nobody is leading")) == 1


# --- go/no-go deadlines ------------------------------------------------------------------


def test_a_deadline_prompts_before_and_at_it_and_every_choice_is_on_the_record(clocked, standin):
    bot = clocked(NUDGE_MINUTES_P1="0")
    incident = bot.declare("Migration stuck", severity="P1")
    channel = incident.channel_id
    assert "No go/no-go deadline" in bot.command(ANA, "deadline", channel=channel)["text"]
    soon = datetime.now(timezone.utc) + timedelta(seconds=3)
    reply = bot.command(ANA, f"deadline {soon.isoformat()} roll back if replication has not caught up", channel=channel)
    assert "Recorded" in reply["text"]
    assert "roll back if replication" in bot.command(KEN, "deadline", channel=channel)["text"]

    prompt = wait_until(lambda: _texts(standin, channel, "Go/no-go deadline reached"), timeout=20, message="no deadline prompt")[0]
    buttons = _buttons(prompt)
    assert set(buttons) == {"deadline_continue", "deadline_rollback", "deadline_stop"}
    bot.slack.block_action(KEN, "deadline_continue", value=buttons["deadline_continue"], channel=channel, message_ts=prompt["ts"], block_id="decision_actions")
    moved = bot.wait_for_incident(incident.id, lambda i: i.deadline_at is not None and i.deadline_at > soon + timedelta(minutes=29))
    assert moved.deadline_at <= datetime.now(timezone.utc) + timedelta(minutes=30)

    # The same prompt pressed again decides nothing more.
    standin.add_member(channel, LEE)
    bot.slack.block_action(LEE, "deadline_rollback", value=buttons["deadline_rollback"], channel=channel, message_ts=prompt["ts"], block_id="decision_actions")
    standin.wait_for("chat.postEphemeral", lambda c: c.args.get("user") == LEE and "already decided" in c.args.get("text", ""))
    [decision] = bot.entries(incident.id, "decision")
    assert decision.author_id == KEN and decision.data["decision"] == "continue"

    assert "Recorded" in bot.command(ANA, "deadline clear", channel=channel)["text"]
    assert bot.incident(incident.id).deadline_at is None

    bot.command(ANA, "resolve", channel=channel)
    bot.wait_for_incident(incident.id, lambda i: i.postmortem_posted_at is not None)
    document = wait_until(lambda: [f for f in standin.files() if channel in (f.get("channels") or [])])[-1]["content"].decode()
    assert "Go/no-go decision" in document and "**Continue**" in document


@pytest.mark.parametrize(
    "text, reason",
    [("deadline 2001-01-01 10:00 ship", "already passed"), ("deadline soon", "not a time"), ("deadline clear", "no deadline")],
)
def test_bad_deadlines_are_refused_and_change_nothing(bot, text, reason):
    incident = bot.declare("Deadline refusals")
    before = [(e.kind, e.text) for e in bot.entries(incident.id)]
    reply = bot.command(ANA, text, channel=incident.channel_id)
    assert reason in reply["text"], reply
    assert [(e.kind, e.text) for e in bot.entries(incident.id)] == before and bot.incident(incident.id).deadline_at is None


def test_reminder_buttons_on_a_resolved_incident_are_refused(bot, standin):
    incident = bot.declare("Already over")
    bot.command(ANA, "resolve", channel=incident.channel_id)
    bot.wait_for_incident(incident.id, lambda i: i.status == "resolved")
    standin.add_member(incident.channel_id, MIN)
    standin.reset_calls()
    for action_id in ("nudge_snooze", "nudge_post_update", "lead_me"):
        bot.slack.block_action(MIN, action_id, value=str(incident.id), channel=incident.channel_id, message_ts=incident.header_ts)

    def refusals():
        return [c for c in standin.calls("chat.postEphemeral") if c.args.get("user") == MIN and "already resolved" in c.args.get("text", "")]

    wait_until(lambda: len(refusals()) == 3)
    assert not standin.calls("views.open")
    stored = bot.incident(incident.id)
    assert stored.nudge_snoozed_until is None and stored.commander_id is None


# --- after resolution ----------------------------------------------------------------------


def test_postmortem_done_and_followups_across_incidents(bot, standin):
    first = bot.declare("Cert expiry")
    second = bot.declare("Disk pressure")
    bot.command(ANA, f"action renew certs automatically <@{LEE}> due 2099-03-01 prevent", channel=first.channel_id)
    bot.command(ANA, f"action alert on disk at 80% <@{MIN}> due 2098-01-15 mitigate", channel=second.channel_id)
    listing = bot.command(KEN, "followups", channel="C0GENERAL")["text"]
    assert listing.index("alert on disk") < listing.index("renew certs")
    assert "reviewed after the incident is resolved" in bot.command(ANA, "postmortem done", channel=first.channel_id)["text"]
    bot.command(ANA, "resolve", channel=first.channel_id)
    bot.wait_for_incident(first.id, lambda i: i.status == "resolved")
    assert "Recorded" in bot.command(ANA, "postmortem done", channel=first.channel_id)["text"]
    assert bot.incident(first.id).postmortem_done_at is not None
    assert "already marked done" in bot.command(ANA, "postmortem done", channel=first.channel_id)["text"]
    assert "postmortem done" in bot.command(ANA, "postmortem reviewed", channel=first.channel_id)["text"]


def _zone_where_the_reminder_hour_has_passed() -> str:
    """A time zone where it is now between 10:00 and 20:00, so an item due today is reminded at once."""
    for name in ("Asia/Tokyo", "Asia/Kolkata", "Europe/Berlin", "America/New_York", "America/Los_Angeles", "Pacific/Honolulu", "Pacific/Kiritimati"):
        if 10 <= datetime.now(ZoneInfo(name)).hour < 20:
            return name
    raise AssertionError("every hour of the day is covered by one of these zones")


def test_an_action_item_owner_is_reminded_by_direct_message_and_can_finish_or_push_it(clocked, standin):
    zone = _zone_where_the_reminder_hour_has_passed()
    bot = clocked(INCIDENT_TIMEZONE=zone, NUDGE_MINUTES_P1="0")
    incident = bot.declare("Queue backlog")
    today = datetime.now(ZoneInfo(zone)).date()
    bot.command(ANA, f"action add consumer lag alert <@{MIN}> due {today.isoformat()} mitigate", channel=incident.channel_id)
    bot.command(ANA, f"action document the replay runbook <@{LEE}> due {today.isoformat()} process", channel=incident.channel_id)
    with bot.db.session() as session:
        items = {i.owner_id: i.id for i in session.scalars(select(ActionItem).where(ActionItem.incident_id == incident.id))}

    def direct_messages(user, fragment):
        return [m for m in standin.messages(standin.dm_channel(user)) if fragment in (m.get("text") or "")]

    dm = wait_until(lambda: direct_messages(MIN, "consumer lag alert"), message="no reminder on the due day")[0]
    assert "due today" in dm["text"]
    done = _buttons(dm)["action_item_done"]
    bot.slack.block_action(MIN, "action_item_done", value=done, channel=standin.dm_channel(MIN), message_ts=dm["ts"], block_id="action_item_actions")
    wait_until(lambda: _item(bot, items[MIN]).status == "done")
    bot.slack.block_action(MIN, "action_item_done", value=done, channel=standin.dm_channel(MIN), message_ts=dm["ts"], block_id="action_item_actions")
    standin.wait_for("chat.postEphemeral", lambda c: c.args.get("user") == MIN and "already done" in c.args.get("text", ""))

    lee_dm = wait_until(lambda: direct_messages(LEE, "replay runbook"))[0]
    push = _buttons(lee_dm)["action_item_push"]
    bot.slack.block_action(LEE, "action_item_push", value=push, channel=standin.dm_channel(LEE), message_ts=lee_dm["ts"], block_id="action_item_actions")
    wait_until(lambda: _item(bot, items[LEE]).due_date == today + timedelta(days=7))
    bot.slack.block_action(LEE, "action_item_push", value=push, channel=standin.dm_channel(LEE), message_ts=lee_dm["ts"], block_id="action_item_actions")
    standin.wait_for("chat.postEphemeral", lambda c: c.args.get("user") == LEE and "already moved" in c.args.get("text", ""))
    assert _item(bot, items[LEE]).due_date == today + timedelta(days=7)
    assert len(direct_messages(MIN, "consumer lag alert")) == 1  # one reminder per beat
    unknown = bot.slack.block_action(LEE, "action_item_done", value="999999|2026-01-01", channel=standin.dm_channel(LEE), message_ts=lee_dm["ts"])
    assert unknown[0] == 200
    standin.wait_for("chat.postEphemeral", lambda c: c.args.get("user") == LEE and "no action item #999999" in c.args.get("text", ""))

    # The postmortem's action table shows the current status on re-export.
    bot.command(ANA, "resolve", channel=incident.channel_id)
    bot.wait_for_incident(incident.id, lambda i: i.postmortem_posted_at is not None)
    document = [f for f in standin.files() if incident.channel_id in (f.get("channels") or [])][-1]["content"].decode()
    row = next(line for line in document.splitlines() if "add consumer lag alert" in line and line.startswith("|"))
    assert row.rstrip().endswith("| done |"), row


def _item(bot, item_id):
    with bot.db.session() as session:
        return session.get(ActionItem, item_id)


# --- the clock: restart and two clocks on one database ----------------------------------------


def _clock_process(standin, database_url, log_path, **env):
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "NUDGE_", "LEAD_", "DATABASE_URL"))}
    environment.update({"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_API_URL": standin.base_url, "DATABASE_URL": database_url, **FAST, **env})
    # Its log goes to a file, not a pipe read only at the end: on the session's database the clock
    # re-plans every earlier test's incident, and once a pipe's 64 KiB were full it stopped, mid-line.
    with open(log_path, "w") as log:
        process = subprocess.Popen([sys.executable, "app.py", "clock"], cwd=ROOT, env=environment, stdout=log, stderr=subprocess.STDOUT)
    process.log_path = log_path
    return process


def _stop(process, sig=signal.SIGTERM) -> str:
    process.send_signal(sig)
    process.wait(timeout=30)
    return process.log_path.read_text()


def test_a_reminder_pending_across_a_restart_fires_once(bots, standin, database_url, tmp_path):
    settings = {"LEAD_NUDGE_MINUTES": "0.1", "NUDGE_MINUTES_P1": "0"}
    web = bots(**settings)  # stores jobs; runs none (SCHEDULER=external)
    first = _clock_process(standin, database_url, tmp_path / "first.log", **settings)
    time.sleep(1.0)
    incident = web.declare("Restart me", severity="P1")
    _stop(first, signal.SIGKILL)  # killed before the reminder is due (6 s after declaring)
    time.sleep(6.5)
    assert not _texts(standin, incident.channel_id, "Nobody is leading")
    second = _clock_process(standin, database_url, tmp_path / "second.log", **settings)
    try:
        wait_until(lambda: _texts(standin, incident.channel_id, "Nobody is leading"), timeout=20, message="the missed reminder never fired")
        time.sleep(2)
    finally:
        output = _stop(second)
    assert len(_texts(standin, incident.channel_id, "Nobody is leading")) == 1, output


def test_two_clocks_on_one_database_send_each_reminder_once(bots, standin, database_url, tmp_path):
    settings = {"LEAD_NUDGE_MINUTES": "0.08", "NUDGE_MINUTES_P1": "0.05"}
    web = bots(**settings)
    clocks = [_clock_process(standin, database_url, tmp_path / f"clock-{n}.log", **settings) for n in range(2)]
    try:
        time.sleep(1.5)
        incident = web.declare("Two clocks", severity="P1")
        wait_until(lambda: _texts(standin, incident.channel_id, "Nobody is leading"), timeout=20)
        wait_until(lambda: len(_texts(standin, incident.channel_id, "no status update")) >= 3, timeout=30)
        time.sleep(1.5)
    finally:
        outputs = [_stop(c) for c in clocks]
        print(*outputs, sep="\n")  # shown by pytest when the test fails
    assert len(_texts(standin, incident.channel_id, "Nobody is leading")) == 1, outputs
    nudges = sorted(float(m["ts"]) for m in _texts(standin, incident.channel_id, "no status update"))
    gaps = [b - a for a, b in zip(nudges, nudges[1:])]
    assert all(gap > 2.0 for gap in gaps), (gaps, outputs)  # one per 3 s beat, never two at once
    with web.db.session() as session:
        keys = list(session.scalars(select(ReminderClaim.key).where(ReminderClaim.key.like(f"%:{incident.id}@%"))))
    assert len(keys) == len(set(keys)) == len(nudges) + 1


def test_the_embedded_clock_runs_in_exactly_one_of_several_workers_and_moves_when_it_dies(bots, standin, database_url, tmp_path):
    """`python app.py` with three gunicorn workers and SCHEDULER=embedded: one worker runs the clock;
    when it is killed, exactly one other takes over, and reminders keep coming, each once."""
    from tests.support.app_processes import AppProcess
    from tests.support.slack_requests import SlackRequests
    from tests.conftest import SIGNING_SECRET

    settings = {"LEAD_NUDGE_MINUTES": "0", "NUDGE_MINUTES_P1": "0.05"}  # a nudge every 3 s
    web = bots(**settings)  # the database, migrated; and a reader of it
    env = dict(SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_SIGNING_SECRET=SIGNING_SECRET, SLACK_API_URL=standin.base_url,
               DATABASE_URL=database_url, SCHEDULER="embedded", WEB_CONCURRENCY="3", **{**FAST, **settings})
    app = AppProcess("three-workers", env, tmp_path / "three-workers.log").wait_ready()

    def running() -> list[int]:
        return [int(pid) for pid in re.findall(r"reminder clock running in worker (\d+)", app.log())]

    try:
        workers = wait_until(lambda: len(app.worker_pids()) == 3 and app.worker_pids(), message="three workers")
        first = wait_until(running, message="no worker runs the clock")
        time.sleep(2.5)  # every worker has tried the lock more than once
        assert running() == first and first[0] in workers, app.log()

        slack = SlackRequests(app.base + "/slack/events", SIGNING_SECRET, standin)
        status, _, body = slack.slash_command(ANA, "start P1 Three workers, one clock")
        incident_id = int(re.search(r"#(\d+)", body).group(1))
        incident = web.wait_for_incident(incident_id, lambda i: i.channel_id is not None)
        wait_until(lambda: _texts(standin, incident.channel_id, "no status update"), timeout=20, message="no nudge")

        os.kill(first[0], signal.SIGKILL)
        second = wait_until(lambda: running()[1:], timeout=15, message="no worker took the clock over")
        before = len(_texts(standin, incident.channel_id, "no status update"))
        wait_until(lambda: len(_texts(standin, incident.channel_id, "no status update")) >= before + 2, timeout=30,
                   message="no nudge after the take-over")
        time.sleep(2.5)
        assert len(running()) == 2 and second[0] != first[0], app.log()
    finally:
        app.stop()
    nudges = sorted(float(m["ts"]) for m in _texts(standin, incident.channel_id, "no status update"))
    gaps = [b - a for a, b in zip(nudges, nudges[1:])]
    assert all(gap > 2.0 for gap in gaps), gaps  # one per 3 s beat, never two at once
    log = app.log_path.read_text()
    assert "Traceback" not in log, log
