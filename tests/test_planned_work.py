"""Planned work: a release or a maintenance run from a runbook, with reports, go/no-go, escalation and a work log.

A whole release is driven through signed Slack-shaped requests against the Slack stand-in, on
SQLite and PostgreSQL, with a reminder clock on intervals of seconds (REPORT_MINUTES=0.05 is 3 s,
a step's `!0.03m` timeout 1.8 s), and the app restarted halfway.
"""

from __future__ import annotations

import json
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
    assert match and ":white_check_mark:" in reply["text"], reply
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


# --- a whole release ---------------------------------------------------------------------


def test_a_whole_release_from_plan_to_rollback_with_a_restart_halfway(clocked, standin):
    announce = standin.create_channel("release-feed", members=["UBOT"])
    settings = {"INCIDENT_ANNOUNCE_CHANNEL": announce, "ESCALATION_CHAIN": "@release-lead:0.04m,@po:0.04m"}
    bot = clocked(**settings)
    work = _plan(bot, f"release Checkout 2.4 at {_iso(2)} for 30m go-no-go {_iso(24)} rollback-by {_iso(30)}")
    channel = work.channel_id
    assert work.kind == "release" and work.work_status == "planned" and work.channel_name.startswith("rel-")
    assert work.commander_id == ANA and work.deadline_at == work.go_no_go_at
    before = wait_until(lambda: _texts(standin, announce, "Planned Release"), message="no before report")[0]["text"]
    assert "Checkout 2.4" in before and "Go/no-go" in before and "Rollback limit" in before and "Runbook: none" in before
    wait_until(lambda: _texts(standin, channel, "is due to start now"), message="no reminder at the planned start")

    # The runbook from the form; a release lead for the escalation chain.
    for person in (KEN, MIN, LEE):
        standin.add_member(channel, person)
    bot.command(ANA, f"role release-lead <@{MIN}>", channel=channel)
    standin.reset_calls()
    bot.command(ANA, "runbook", channel=channel)
    view = standin.wait_for("views.open")[0].args["view"]
    assert view["callback_id"] == "planned_work_runbook"
    pasted = "Stop the writers @ken ~0.02m !0.03m\nBack up the database @dba ~1m\nMigrate the schema ~2m !5m\nSmoke test"
    status, _, body = bot.slack.view_submission(ANA, "planned_work_runbook", {"steps": {"steps": {"type": "plain_text_input", "value": pasted}}}, private_metadata=str(work.id))
    assert status == 200 and "errors" not in body, body
    wait_until(lambda: bot.incident(work.id).runbook_ts is not None, message="no runbook message")
    assert [s.text for s in _steps(bot, work.id)] == ["Stop the writers", "Back up the database", "Migrate the schema", "Smoke test"]
    assert wait_until(lambda: _texts(standin, announce, "4 steps"))  # the before report again, with its runbook
    runbook = standin.message(channel, bot.incident(work.id).runbook_ts)
    assert set(_step_buttons(runbook, 1)) == {"runbook_step_start", "runbook_step_skip"}

    # Step 1 starts the work, runs past its timeout: one overrun nudge for its owner and the lead.
    _press(bot, standin, work, KEN, 1, "start")
    assert bot.wait_for_incident(work.id, lambda i: i.work_status == "in_progress").work_started_at is not None
    wait_until(lambda: set(_step_buttons(standin.message(channel, work_runbook_ts(bot, work)), 1)) == {"runbook_step_done", "runbook_step_failed", "runbook_step_skip"},
               message="the runbook message was not updated in place")
    started = wait_until(lambda: _texts(standin, channel, "[started] step 1: Stop the writers"))[0]["text"]
    assert f"<@{KEN}>" in started and re.search(r"\d\d:\d\d \[started\]", started)
    overrun = wait_until(lambda: _texts(standin, channel, "over its timeout"), message="no overrun nudge")[0]["text"]
    assert "@ken" in overrun and f"<@{ANA}>" in overrun and "step 1" in overrun
    report = wait_until(lambda: _texts(standin, channel, "a status report is due"), message="no report nudge")[0]
    assert re.search(r"`\d\d:\d\d \[in progress\] step 1/4: Stop the writers`", report["text"]), report["text"]

    # Restart: nothing is lost, nothing is sent again.
    bot.stop()
    time.sleep(1.5)
    bot = clocked(**settings)
    time.sleep(2.5)
    assert len(_texts(standin, channel, "over its timeout")) == 1
    assert _steps(bot, work.id)[0].state == "running"

    # The report nudge's button opens the update form prefilled; the report is an update.
    standin.reset_calls()
    [(action_id, value)] = [k for k in _buttons(report)]
    bot.slack.block_action(ANA, action_id, value=value, channel=channel, message_ts=report["ts"], block_id="report_actions")
    form = standin.wait_for("views.open")[0].args["view"]
    prefilled = form["blocks"][0]["element"]["initial_value"]
    assert re.fullmatch(r"\d\d:\d\d \[in progress\] step 1/4: Stop the writers", prefilled), prefilled
    state = {"update": {"update": {"type": "plain_text_input", "value": prefilled + " (writers draining)"}}}
    assert bot.slack.view_submission(ANA, "incident_update", state, private_metadata=str(work.id))[0] == 200
    assert wait_until(lambda: bot.entries(work.id, "update"))[0].text.endswith("(writers draining)")

    # Done; Done again is refused and changes nothing.
    _press(bot, standin, work, KEN, 1, "done")
    wait_until(lambda: _steps(bot, work.id)[0].state == "done")
    bot.slack.block_action(KEN, "runbook_step_done", value=f"{work.id}|1", channel=channel, message_ts=work_runbook_ts(bot, work), block_id="runbook_step_1")
    _refusal(standin, KEN, "Step 1 is already done")
    assert len(bot.entries(work.id, "step")) == 2
    # A step that does not exist.
    assert "There is no step 9" in bot.command(KEN, "step 9 start", channel=channel)["text"]

    # Step 2 fails: the escalation chain calls the release lead at once, then the PO, until acknowledged.
    _press(bot, standin, work, LEE, 2, "start")
    wait_until(lambda: _steps(bot, work.id)[1].state == "running")
    _press(bot, standin, work, LEE, 2, "failed")
    first = wait_until(lambda: _texts(standin, channel, "Escalation 1/2"), message="no escalation")[0]
    assert f"<@{MIN}>" in first["text"] and "step 2 failed" in first["text"]
    second = wait_until(lambda: _texts(standin, channel, "Escalation 2/2"), message="the chain did not go on")[0]
    assert "@po" in second["text"]
    ack = _buttons(second)
    [(ack_id, ack_value)] = list(ack)
    bot.slack.block_action(MIN, ack_id, value=ack_value, channel=channel, message_ts=second["ts"], block_id="escalation_actions")
    wait_until(lambda: bot.entries(work.id, "escalation_ack"))
    bot.slack.block_action(KEN, ack_id, value=ack_value, channel=channel, message_ts=second["ts"], block_id="escalation_actions")
    _refusal(standin, KEN, "already acknowledged")
    assert [e.text for e in bot.entries(work.id, "escalation")] == [f"<@{MIN}>", "@po"]
    assert len(bot.entries(work.id, "escalation_ack")) == 1

    # Step 3 is skipped with a reason (asked in a form); step 4 starts.
    standin.reset_calls()
    _press(bot, standin, work, ANA, 3, "skip")
    skip_form = standin.wait_for("views.open")[0].args["view"]
    assert skip_form["callback_id"] == "planned_work_skip"
    reason = {"reason": {"reason": {"type": "plain_text_input", "value": "schema already migrated on the replica"}}}
    assert bot.slack.view_submission(ANA, "planned_work_skip", reason, private_metadata=skip_form["private_metadata"])[0] == 200
    wait_until(lambda: _steps(bot, work.id)[2].state == "skipped")
    assert _steps(bot, work.id)[2].reason == "schema already migrated on the replica"
    assert "Recorded" in bot.command(ANA, "step 4 start", channel=channel)["text"]

    # The go/no-go prompt shows the progress; Continue leads to the rollback limit, where only Roll back or Stop remain.
    prompt = wait_until(lambda: _texts(standin, channel, "Go/no-go reached"), timeout=30, message="no go/no-go prompt")[0]
    assert "2 of 4 steps done" in prompt["text"] and "elapsed of 30m planned" in prompt["text"] and "failed: step 2" in prompt["text"]
    buttons = {action_id: value for action_id, value in _buttons(prompt)}
    assert set(buttons) == {"deadline_continue", "deadline_rollback", "deadline_stop"}
    bot.slack.block_action(ANA, "deadline_continue", value=buttons["deadline_continue"], channel=channel, message_ts=prompt["ts"], block_id="decision_actions")
    assert bot.wait_for_incident(work.id, lambda i: i.deadline_at == i.rollback_by)
    limit = wait_until(lambda: _texts(standin, channel, "Rollback limit reached"), timeout=30, message="no rollback-limit prompt")[0]
    assert "Only Roll back or Stop remain" in limit["text"]
    choices = {action_id: value for action_id, value in _buttons(limit)}
    assert set(choices) == {"deadline_rollback", "deadline_stop"}
    bot.slack.block_action(ANA, "deadline_continue", value=choices["deadline_rollback"], channel=channel, message_ts=limit["ts"], block_id="decision_actions")
    _refusal(standin, ANA, "only choices are Roll back or Stop")
    bot.slack.block_action(ANA, "deadline_rollback", value=choices["deadline_rollback"], channel=channel, message_ts=limit["ts"], block_id="decision_actions")
    done = bot.wait_for_incident(work.id, lambda i: i.work_status == "rolled_back")
    assert done.status == "resolved" and done.work_ended_at is not None

    # The after report, in the channel and the announce channel, and the work log.
    after = wait_until(lambda: _texts(standin, announce, "Release rolled back"), message="no after report")[0]["text"]
    assert "2 of 4 steps done" in after and "failed" in after
    assert _texts(standin, channel, "Release rolled back")
    log = wait_until(lambda: [f for f in standin.files() if channel in (f.get("channels") or []) and f["name"].startswith("worklog-")])[0]
    document = log["content"].decode()
    assert document.startswith("# Work log: Checkout 2.4")
    assert "| 1 | Stop the writers |" in document and "| 3 | Migrate the schema |" in document and "schema already migrated on the replica" in document
    assert "**Roll back**" in document and "**Continue**" in document and "(writers draining)" in document
    assert "Escalation acknowledged" in document and "| **Lead** | Ana Silva |" in document and "김민준" in document
    # Nothing more after the end: no nudges, buttons refused.
    count = len(standin.messages(channel))
    time.sleep(3.5)
    assert len([m for m in standin.messages(channel) if "a status report is due" in (m.get("text") or "")]) == len(_texts(standin, channel, "a status report is due"))
    _press(bot, standin, work, KEN, 4, "done")
    _refusal(standin, KEN, "already resolved")
    assert len(standin.messages(channel)) == count
    assert _steps(bot, work.id)[3].state == "running"


def work_runbook_ts(bot, work):
    return bot.incident(work.id).runbook_ts


# --- a runbook from a file, refusals, escalation to an incident ----------------------------------


def test_a_runbook_from_a_file_refusals_that_change_nothing_and_escalation_to_an_incident(bots, standin, tmp_path):
    folder = tmp_path / "runbooks"
    folder.mkdir()
    (folder / "db-recreate.md").write_text(
        "# Recreate the orders database\n\nAsk the DBA first.\n\n- [ ] Drain the writers @dba ~5m !10m\n- [ ] Recreate the database ~20m\n- [ ] Verify the row counts\n",
        encoding="utf-8",
    )
    (folder / "broken.md").write_text("# Steps\n\n- [ ] Restore ~later\n", encoding="utf-8")
    (folder / "prose.md").write_text("# Only words\n\nNothing to tick here.\n", encoding="utf-8")
    bot = bots(RUNBOOK_DIR=str(folder))
    work = _plan(bot, "maintenance Orders DB recreate at 23:30 rollback-by 2h")
    channel = work.channel_id
    assert work.channel_name.startswith("mnt-") and work.rollback_by - work.planned_start == timedelta(hours=2)

    def unchanged():
        return [(e.kind, e.text) for e in bot.entries(work.id)], [(s.number, s.text, s.state) for s in _steps(bot, work.id)]

    before = unchanged()
    for text, reason in [
        ("runbook use broken", "Line 3"),
        ("runbook use prose", "no checklist items"),
        ("runbook use missing", "There is no runbook `missing`"),
        ("runbook use ../../etc/passwd", "not a runbook name"),
        ("step 1 start", "There is no runbook yet"),
        ("finish sideways", "finish"),
        ("resolve", "Planned work ends with `/incident finish`"),
    ]:
        reply = bot.command(ANA, text, channel=channel)["text"]
        assert reason in reply, (text, reply)
        assert unchanged() == before, text
    assert "db-recreate" in bot.command(ANA, "runbook use missing", channel=channel)["text"]  # the ones there are listed

    assert "Recorded" in bot.command(ANA, "runbook use db-recreate", channel=channel)["text"]
    steps = _steps(bot, work.id)
    assert [(s.text, s.owner, s.expected, s.timeout) for s in steps] == [
        ("Drain the writers", "@dba", 5.0, 10.0), ("Recreate the database", None, 20.0, None), ("Verify the row counts", None, None, None),
    ]
    runbook = wait_until(lambda: standin.message(channel, bot.incident(work.id).runbook_ts) if bot.incident(work.id).runbook_ts else None)
    assert "db-recreate" in runbook["text"]
    # Someone outside the channel cannot press a step.
    bot.slack.block_action(OUTSIDER, "runbook_step_start", value=f"{work.id}|1", channel=channel, message_ts=runbook["ts"], block_id="runbook_step_1")
    _refusal(standin, OUTSIDER, "Only members")
    assert _steps(bot, work.id)[0].state == "pending"
    assert "Recorded" in bot.command(ANA, "step 1 start", channel=channel)["text"]
    assert "already started" in bot.command(ANA, "step 1 start", channel=channel)["text"]
    assert "Say why step 2 is skipped" in bot.command(ANA, "step 2 skip", channel=channel)["text"]
    assert "has not started yet" in bot.command(ANA, "step 2 done", channel=channel)["text"]
    assert "can no longer be replaced" in bot.command(ANA, "runbook use db-recreate", channel=channel)["text"]

    # Something breaks: it becomes an incident, keeping its timeline; finishing posts the work log and the postmortem.
    assert "now an incident (P1)" in bot.command(ANA, "escalate P1", channel=channel)["text"]
    assert "already an incident" in bot.command(ANA, "escalate", channel=channel)["text"]
    bot.say(work, KEN, "replication lag is climbing on the replica")
    assert "Recorded" in bot.command(ANA, "update replica lag 40s; holding the recreate", channel=channel)["text"]
    assert "Recorded" in bot.command(ANA, "finish stopped", channel=channel)["text"]
    stopped = bot.wait_for_incident(work.id, lambda i: i.postmortem_posted_at is not None)
    assert stopped.work_status == "stopped" and stopped.severity == "P1" and stopped.status == "resolved"
    names = [f["name"] for f in standin.files() if channel in (f.get("channels") or [])]
    assert any(n.startswith("worklog-mnt-") for n in names) and any(n.startswith("postmortem-mnt-") for n in names)
    postmortem = next(f for f in standin.files() if f["name"].startswith("postmortem-mnt-"))["content"].decode()
    assert "replication lag is climbing" in postmortem and "Escalated to an incident" in postmortem
    assert "is over" in bot.command(ANA, "step 1 done", channel=channel)["text"]

    # Stats count planned work apart from incidents.
    answered = len(standin.responses())
    bot.command(ANA, "stats 30d", channel=channel)
    text = wait_until(lambda: [r["text"] for r in standin.responses()[answered:] if "Planned work" in r.get("text", "")], timeout=15)[0]
    assert "Maintenance 1" in text and "stopped 1" in text and "became an incident" in text


def test_the_plan_form_shows_a_refusal_beside_its_field_and_plans_when_right(bot, standin):
    standin.reset_calls()
    assert bot.command(ANA, "plan")["text"] == ""
    view = standin.wait_for("views.open")[0].args["view"]
    assert view["callback_id"] == "planned_work_plan"
    assert [b["block_id"] for b in view["blocks"]] == ["kind", "title", "start", "duration", "go_no_go", "rollback"]

    def state(**values):
        fields = {"kind": "maintenance", "title": "Rotate the TLS certificates", "start": "23:50", "duration": "", "go_no_go": "", "rollback": ""}
        fields.update(values)
        out = {"kind": {"kind": {"type": "static_select", "selected_option": {"value": fields.pop("kind")}}}}
        out.update({k: {k: {"type": "plain_text_input", "value": v}} for k, v in fields.items()})
        return out

    for values, field, reason in [
        ({"start": "soon"}, "start", "not a time"),
        ({"duration": "a while"}, "duration", "not a duration"),
        ({"go_no_go": "2001-01-01 10:00"}, "go_no_go", "already passed"),
        ({"rollback": "2001-01-01 10:00"}, "rollback", "must come after the start"),
    ]:
        status, _, body = bot.slack.view_submission(ANA, "planned_work_plan", state(**values), private_metadata="C0GENERAL")
        errors = (json.loads(body) if isinstance(body, str) and body else body or {}).get("errors", {})
        assert status == 200 and reason in errors.get(field, ""), (values, body)
    status, _, body = bot.slack.view_submission(ANA, "planned_work_plan", state(rollback="90m"), private_metadata="C0GENERAL")
    assert status == 200 and "errors" not in body, body
    said = standin.wait_for("chat.postMessage", lambda c: c.args.get("channel") == ANA and "is planned in" in c.args.get("text", ""))
    work_id = int(re.search(r"#(\d+)", said[-1].args["text"])[1])
    work = bot.wait_for_incident(work_id, lambda i: i.header_ts is not None)
    assert work.kind == "maintenance" and work.channel_name.startswith("mnt-") and work.rollback_by - work.planned_start == timedelta(minutes=90)


def test_planned_work_speaks_the_workspace_language(bots, standin):
    bot = bots(BOT_LANGUAGE="ja", POSTMORTEM_LANGUAGE="ko")
    work = _plan(bot, "release 決済 2.5 at 23:55", user=KEN)
    channel = work.channel_id
    standin.reset_calls()
    bot.command(KEN, "runbook", channel=channel)
    view = standin.wait_for("views.open")[0].args["view"]
    assert view["title"]["text"] == "ランブック"
    steps = {"steps": {"steps": {"type": "plain_text_input", "value": "手順を確認 @ken ~5m !10m\nデプロイ ~10m"}}}
    assert bot.slack.view_submission(KEN, "planned_work_runbook", steps, private_metadata=str(work.id))[0] == 200
    runbook = wait_until(lambda: bot.incident(work.id).runbook_ts and standin.message(channel, bot.incident(work.id).runbook_ts))
    assert runbook["text"].startswith("ランブック: 2 手順中 0 完了")
    assert {e["text"]["text"] for b in runbook["blocks"] if b["type"] == "actions" for e in b["elements"]} == {"開始", "スキップ"}
    bot.command(KEN, "step 1 start", channel=channel)
    assert wait_until(lambda: _texts(standin, channel, "[開始] 手順 1: 手順を確認"))
    bot.command(KEN, "finish", channel=channel)
    assert wait_until(lambda: _texts(standin, channel, "リリース: 完了"))
    log = wait_until(lambda: [f for f in standin.files() if channel in (f.get("channels") or []) and f["name"].startswith("worklog-")])[0]
    document = log["content"].decode()
    assert document.startswith("# 작업 로그: 決済 2.5")  # people's words are never translated
    assert "## 단계: 예정 대비 실제" in document and "| 1 | 手順を確認 |" in document


def test_a_resolved_mark_does_not_end_planned_work(bot, standin):
    work = _plan(bot, "maintenance Kernel patching at 23:59")
    message = bot.say(work, ANA, "all hosts patched")
    bot.event(bot.slack.reaction_added(ANA, work.channel_id, message["ts"], "white_check_mark"))
    wait_until(lambda: bot.entries(work.id, "message"))
    time.sleep(0.5)
    stored = bot.incident(work.id)
    assert stored.status != "resolved" and stored.work_status == "planned"
    assert "Recorded" in bot.command(ANA, "finish", channel=work.channel_id)["text"]
    assert bot.wait_for_incident(work.id, lambda i: i.work_status == "completed").status == "resolved"
