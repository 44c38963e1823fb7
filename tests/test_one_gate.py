"""One set of rules for every way in: commands, reactions, buttons, forms, deletions and the clock.

Each test drives the real app with Slack-signed requests and checks that a path other than the
`/incident` command keeps the rule the command keeps (membership, milestone order, state), and
that a refusal is told to the person who tried.
"""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta, timezone

from tests.conftest import ANA, KEN, LEE, MIN, OUTSIDER, wait_until
from tests.support.records import milestones_of


def _ts_at(moment: datetime) -> str:
    return f"{moment.timestamp():.6f}"


def _say_at(bot, incident, user, text, moment: datetime) -> dict:
    """A message stamped by Slack's clock at `moment` (which may run ahead of ours)."""
    bot.standin.add_member(incident.channel_id, user)
    event = {
        "type": "message", "user": user, "text": text, "ts": _ts_at(moment), "channel": incident.channel_id,
        "event_ts": _ts_at(moment), "channel_type": "channel", "team": "T0TEAM",
    }
    bot.event(event)
    return event


def _told(standin, user, fragment, timeout=10.0) -> str:
    """What `user` was told privately (ephemeral or, failing that, by direct message) containing `fragment`."""

    def found():
        texts = [e["text"] for e in standin.ephemerals(user_id=user)]
        texts += [m.get("text", "") for m in standin.messages(standin.dm_channel(user))]
        return next((t for t in texts if fragment in t), None)

    return wait_until(found, timeout=timeout, message=f"{user} was never told {fragment!r}")


def _postmortems(standin, channel) -> list[str]:
    files = [f for f in standin.files() if channel in json.dumps(f.get("channels") or f.get("channel") or "")]
    files = [f for f in files if f["name"].startswith("postmortem-")]  # not the customer notice beside it
    return [f["content"].decode() if isinstance(f["content"], bytes) else f["content"] for f in files]


# --- reactions -------------------------------------------------------------------------------


def test_a_milestone_mark_on_the_bots_own_header_or_post_counts_for_nothing_and_the_person_is_told(bot, standin):
    incident = bot.declare("Header mark")
    bot.event(bot.slack.reaction_added(KEN, incident.channel_id, incident.header_ts, "white_check_mark"))
    assert "people's messages" in _told(standin, KEN, "people's messages")
    notice = standin.post_other_bot_message(incident.channel_id, "deploy-bot: rollback finished")
    bot.event(bot.slack.reaction_added(KEN, incident.channel_id, notice["ts"], "adhesive_bandage"))
    wait_until(lambda: len([e for e in standin.ephemerals(user_id=KEN) if "people's messages" in e["text"]]) == 2)
    assert bot.incident(incident.id).status == "investigating"
    assert milestones_of(bot.db, incident.id)["mitigated"].at is None


def test_reactions_keep_the_milestone_order_that_commands_keep(bot, standin):
    incident = bot.declare("Order by reaction")
    early = bot.say(incident, KEN, "earlier: queue depth rising")
    later = bot.say(incident, KEN, "pager fired")
    bot.event(bot.slack.reaction_added(KEN, incident.channel_id, later["ts"], "rotating_light"))
    assert milestones_of(bot.db, incident.id)["detected"].source == "reaction"
    # Mitigated before detected: refused, with the reason, and TTM stays measurable.
    bot.event(bot.slack.reaction_added(MIN, incident.channel_id, early["ts"], "adhesive_bandage"))
    assert "would be before detected" in _told(standin, MIN, "would be before detected")
    assert milestones_of(bot.db, incident.id)["mitigated"].at is None
    # Resolved before impact started (a message stamped before the declaration): refused too.
    before = _say_at(bot, incident, KEN, "an hour-old alert", incident.declared_at - timedelta(minutes=10))
    bot.event(bot.slack.reaction_added(LEE, incident.channel_id, before["ts"], "white_check_mark"))
    assert "would be before impact started" in _told(standin, LEE, "would be before impact started")
    assert bot.incident(incident.id).status == "investigating"


def test_a_non_member_cannot_resolve_by_reaction_and_hears_why_by_direct_message(bot, standin):
    incident = bot.declare("Members only, by reaction")
    message = bot.say(incident, ANA, "fixed, error rate back to normal")
    outsider = OUTSIDER
    bot.event(bot.slack.reaction_added(outsider, incident.channel_id, message["ts"], "white_check_mark", join=False))
    dm = wait_until(lambda: [m for m in standin.messages(standin.dm_channel(outsider)) if "Only members" in m.get("text", "")])
    assert dm and bot.incident(incident.id).status == "investigating"


def test_deleting_a_marked_message_takes_its_mark_with_it(bot, standin):
    incident = bot.declare("Mark dies with its message")
    alert = bot.say(incident, KEN, "alert: 5xx at 40%")
    done = bot.say(incident, KEN, "all green now")
    bot.event(bot.slack.reaction_added(KEN, incident.channel_id, alert["ts"], "rotating_light"))
    bot.event(bot.slack.reaction_added(KEN, incident.channel_id, done["ts"], "white_check_mark"))
    bot.wait_for_incident(incident.id, lambda i: i.status == "resolved")
    assert milestones_of(bot.db, incident.id)["detected"].source == "reaction"

    bot.event(bot.slack.message_deleted(incident.channel_id, alert["ts"]))
    detected = milestones_of(bot.db, incident.id)["detected"]
    assert detected.source == "declaration" and detected.at == incident.declared_at

    bot.event(bot.slack.message_deleted(incident.channel_id, done["ts"]))
    reopened = bot.wait_for_incident(incident.id, lambda i: i.status != "resolved")
    assert reopened.status == "investigating" and milestones_of(bot.db, incident.id)["resolved"].at is None


# --- resolving twice, and clock skew ------------------------------------------------------------


def test_resolving_a_resolved_incident_is_refused_and_correcting_the_time_reposts_the_draft(bot, standin):
    incident = bot.declare("Resolve twice")
    bot.command(ANA, "resolve", channel=incident.channel_id)
    first = bot.wait_for_incident(incident.id, lambda i: i.postmortem_posted_at is not None)
    resolved_at = milestones_of(bot.db, incident.id)["resolved"].at

    reply = bot.command(ANA, "resolve", channel=incident.channel_id)["text"]
    assert "already resolved" in reply and "/incident resolve <time>" in reply
    assert milestones_of(bot.db, incident.id)["resolved"].at == resolved_at

    late = bot.say(incident, KEN, "(late) one more check: still fine")
    bot.event(bot.slack.reaction_added(KEN, incident.channel_id, late["ts"], "white_check_mark"))
    assert "already resolved" in _told(standin, KEN, "already resolved")
    assert milestones_of(bot.db, incident.id)["resolved"].at == resolved_at

    drafts = len(_postmortems(standin, incident.channel_id))
    corrected = (resolved_at + timedelta(seconds=30)).strftime("%Y-%m-%d %H:%M:%S")
    reply = bot.command(ANA, f"resolve {corrected}", channel=incident.channel_id)["text"]
    assert "Recorded" in reply, reply
    wait_until(lambda: len(_postmortems(standin, incident.channel_id)) == drafts + 1)
    # The delivery records its time just after the upload Slack has already shown: wait for that too.
    wait_until(lambda: bot.incident(incident.id).postmortem_posted_at > first.postmortem_posted_at,
               message="the repost's time was never recorded")


def test_now_tolerates_a_slack_clock_a_second_ahead_of_ours(bot, standin):
    incident = bot.declare("Skewed clocks")
    ahead = _say_at(bot, incident, KEN, "rolled back", datetime.now(timezone.utc) + timedelta(seconds=1.5))
    bot.event(bot.slack.reaction_added(KEN, incident.channel_id, ahead["ts"], "adhesive_bandage"))
    assert milestones_of(bot.db, incident.id)["mitigated"].source == "reaction"
    reply = bot.command(ANA, "resolve", channel=incident.channel_id)["text"]
    assert "Recorded" in reply, reply
    milestones = milestones_of(bot.db, incident.id)
    assert milestones["resolved"].at >= milestones["mitigated"].at


def test_a_status_change_keeps_the_order_with_a_skewed_mark(bot, standin):
    incident = bot.declare("Skewed status")
    ahead = _say_at(bot, incident, KEN, "mitigated on the edge", datetime.now(timezone.utc) + timedelta(seconds=1.5))
    bot.event(bot.slack.reaction_added(KEN, incident.channel_id, ahead["ts"], "adhesive_bandage"))
    assert "Recorded" in bot.command(ANA, "status resolved all good", channel=incident.channel_id)["text"]
    milestones = milestones_of(bot.db, incident.id)
    assert milestones["resolved"].at >= milestones["mitigated"].at


def test_a_refusal_shows_seconds_when_the_minutes_look_the_same(bot, standin):
    incident = bot.declare("Seconds matter")
    minute = datetime.now(timezone.utc).replace(second=0, microsecond=0)
    if datetime.now(timezone.utc) - minute > timedelta(seconds=50):
        time.sleep(11)  # keep the marked message and "now" in the same minute
        minute = datetime.now(timezone.utc).replace(second=0, microsecond=0)
    for milestone in ("started", "detected"):
        bot.command(ANA, f"{milestone} " + minute.strftime("%H:%M"), channel=incident.channel_id)
    marked = _say_at(bot, incident, KEN, "rolled back", minute + timedelta(seconds=8))
    bot.event(bot.slack.reaction_added(KEN, incident.channel_id, marked["ts"], "adhesive_bandage"))
    reply = bot.command(ANA, "resolve " + minute.strftime("%H:%M"), channel=incident.channel_id)["text"]
    assert "would be before mitigated" in reply
    assert minute.strftime("%H:%M:00") in reply and minute.strftime("%H:%M:08") in reply


def test_a_time_far_before_the_declaration_asks_for_confirmation(bot, standin):
    incident = bot.declare("Latent since 1999?")
    reply = bot.command(ANA, "started 1999-01-01 00:00", channel=incident.channel_id)["text"]
    assert "more than 30 days before" in reply and "started 1999-01-01 00:00 confirm" in reply
    assert milestones_of(bot.db, incident.id)["started"].source == "declaration"
    a_month_ago = (datetime.now(timezone.utc) - timedelta(days=40)).strftime("%Y-%m-%d %H:%M")
    assert "Recorded" in bot.command(ANA, f"started {a_month_ago} confirm", channel=incident.channel_id)["text"]
    assert milestones_of(bot.db, incident.id)["started"].source == "command"


# --- forms and buttons -------------------------------------------------------------------------


def test_a_non_member_cannot_change_the_severity_by_form(bot, standin):
    incident = bot.declare("Severity by form", severity="P1")
    state = {"severity": {"severity": {"type": "static_select", "selected_option": {"value": "P4"}}}}
    status, _, body = bot.slack.view_submission(OUTSIDER, "incident_severity", state, private_metadata=str(incident.id))
    assert status == 200 and "Only members" in body
    assert bot.incident(incident.id).severity == "P1"


def test_a_status_form_submitted_after_resolution_does_not_reopen(bot, standin):
    incident = bot.declare("Stale status form")
    bot.command(ANA, "resolve", channel=incident.channel_id)
    bot.wait_for_incident(incident.id, lambda i: i.status == "resolved")
    state = {
        "status": {"status": {"type": "static_select", "selected_option": {"value": "monitoring"}}},
        "message": {"message": {"type": "plain_text_input", "value": "watching"}},
    }
    status, _, body = bot.slack.view_submission(ANA, "incident_status", state, private_metadata=str(incident.id))
    assert status == 200 and "already resolved" in body
    assert bot.incident(incident.id).status == "resolved"


def test_a_form_declaration_tells_the_declarer_where_it_is_by_direct_message(bot, standin):
    state = {
        "title": {"title": {"type": "plain_text_input", "value": "Form declared outage"}},
        "severity": {"severity": {"type": "static_select", "selected_option": {"value": "P2"}}},
    }
    status, _, body = bot.slack.view_submission(MIN, "incident_start", state, private_metadata="C0GENERAL")
    assert status == 200 and "errors" not in body
    told = _told(standin, MIN, "is open in <#")
    assert "Incident #" in told

    standin.fail_next("conversations.create", "restricted_action")
    state["title"]["title"]["value"] = "Form declared, setup refused"
    bot.slack.view_submission(MIN, "incident_start", state, private_metadata="C0GENERAL")
    told = _told(standin, MIN, "restricted_action")
    assert "/incident retry" in told


# --- decisions and announcements ---------------------------------------------------------------


def test_a_go_no_go_decision_keeps_what_was_being_decided(bot, standin):
    incident = bot.declare("Decide the rollback")
    channel = incident.channel_id
    at = (datetime.now(timezone.utc) + timedelta(hours=1)).strftime("%H:%M")
    if at < datetime.now(timezone.utc).strftime("%H:%M"):
        at = (datetime.now(timezone.utc) + timedelta(hours=1)).strftime("%Y-%m-%d %H:%M")
    bot.command(ANA, f"deadline {at} roll back release 2026.11.29-1 if checkout errors stay above 1%", channel=channel)
    deadline = bot.incident(incident.id).deadline_at
    bot.slack.block_action(ANA, "deadline_rollback", value=f"{incident.id}|{deadline.isoformat()}", channel=channel)
    [decision] = wait_until(lambda: bot.entries(incident.id, "decision"))
    assert decision.data["decision"] == "rollback" and "release 2026.11.29-1" in decision.data["what"]
    bot.command(ANA, "resolve", channel=channel)
    bot.wait_for_incident(incident.id, lambda i: i.postmortem_posted_at is not None)
    document = _postmortems(standin, channel)[-1]
    line = next(line for line in document.splitlines() if "Go/no-go decision" in line)
    assert "**Roll back**" in line and "release 2026.11.29-1" in line


def test_restating_resolved_with_a_message_does_not_announce_resolved_again(bots, standin):
    announce = standin.create_channel("incident-announcements-gate", members=["UBOT"])
    bot = bots(INCIDENT_ANNOUNCE_CHANNEL=announce)
    incident = bot.declare("Announce once")
    bot.command(ANA, "resolve", channel=incident.channel_id)
    bot.wait_for_incident(incident.id, lambda i: i.postmortem_posted_at is not None)
    wait_until(lambda: [m for m in standin.messages(announce) if "*Resolved*" in m.get("text", "")])
    assert "Recorded" in bot.command(ANA, "status resolved customers notified", channel=incident.channel_id)["text"]
    wait_until(lambda: [m for m in standin.messages(announce) if "customers notified" in m.get("text", "")])
    assert len([m for m in standin.messages(announce) if "*Resolved*" in m.get("text", "")]) == 1
