"""Nobody let in, nothing lost: channel membership, private incidents, and finishing what Slack refused."""

from __future__ import annotations

from tests.conftest import ANA, KEN, LEE, MIN, wait_until


def test_only_members_of_the_incident_channel_may_change_it(bot, standin):
    incident = bot.declare("Members only")
    before = [(e.kind, e.text) for e in bot.entries(incident.id)]
    standin.reset_calls()
    # A header button reached by someone outside the channel (a shared link, an old message).
    bot.slack.block_action(LEE, "incident_resolve", value=str(incident.id), channel=incident.channel_id, message_ts=incident.header_ts)
    bot.slack.block_action(LEE, "incident_set_severity", value=str(incident.id), channel=incident.channel_id, message_ts=incident.header_ts)
    # Slack refuses an ephemeral message to someone outside the channel, so the refusal reaches
    # them through the button's response_url.
    refusals = wait_until(lambda: len([r for r in standin.responses() if "Only members" in (r.get("text") or "")]) >= 2)
    assert refusals and not standin.calls("views.open")
    reply = bot.command(LEE, "severity P1", channel=incident.channel_id, join=False)
    assert "Only members" in reply["text"]
    assert bot.incident(incident.id).status == "investigating" and bot.incident(incident.id).severity == "P2"
    assert [(e.kind, e.text) for e in bot.entries(incident.id)] == before

    # Joining is enough, at once.
    standin.add_member(incident.channel_id, LEE)
    bot.event(bot.slack.channel_join(incident.channel_id, LEE))
    assert "Recorded" in bot.command(LEE, "severity P1", channel=incident.channel_id)["text"]


def test_a_private_incident_gets_a_private_channel_and_is_never_announced_with_its_title(bots, standin):
    announce = standin.create_channel("incident-feed", members=["UBOT"])
    bot = bots(INCIDENT_ANNOUNCE_CHANNEL=announce)
    reply = bot.command(ANA, "start --private P1 Payroll export leaks salaries")
    incident_id = int(reply["text"].split("#", 1)[1].split(":", 1)[0])
    incident = bot.wait_for_incident(incident_id, lambda i: i.header_ts is not None)
    assert incident.is_private and standin.channel(incident.channel_id)["is_private"]
    bot.command(ANA, "update contained; rotating credentials", channel=incident.channel_id)
    bot.command(ANA, "resolve", channel=incident.channel_id)
    bot.wait_for_incident(incident_id, lambda i: i.postmortem_posted_at is not None)
    announced = " ".join(m.get("text") or "" for m in standin.messages(announce))
    assert f"#{incident_id}" in announced and "private" in announced
    assert "Payroll" not in announced and "rotating credentials" not in announced and incident.channel_id not in announced
    listing = bot.command(KEN, "list", channel="C0GENERAL")["text"]
    assert "Payroll" not in listing


def test_a_declaration_slack_refused_is_finished_by_retry(bot, standin):
    standin.fail_next("conversations.create", error="restricted_action")
    reply = bot.command(MIN, "start P2 Webhook deliveries stalled")
    incident_id = int(reply["text"].split("#", 1)[1].split(":", 1)[0])
    bot.wait_for_incident(incident_id, lambda i: i.setup_error is not None)
    told = wait_until(lambda: [r for r in standin.responses() if "restricted_action" in (r.get("text") or "")])
    assert f"/incident retry {incident_id}" in told[-1]["text"]

    assert "Only whoever declared" in bot.command(LEE, f"retry {incident_id}")["text"]
    reply = bot.command(MIN, "retry")
    assert f"#{incident_id}" in reply["text"]
    incident = bot.wait_for_incident(incident_id, lambda i: i.header_ts is not None and i.setup_error is None)
    assert MIN in standin.channel(incident.channel_id)["members"]
    assert [e.kind for e in bot.entries(incident_id)][:1] == ["declared"]
    assert "already set up" in bot.command(MIN, f"retry {incident_id}")["text"]
    assert "no incident #99999" in bot.command(MIN, "retry 99999")["text"]


def test_a_postmortem_that_could_not_be_uploaded_is_posted_again_on_request(bot, standin):
    incident = bot.declare("Upload fails")
    standin.fail_next("files.completeUploadExternal", error="internal_error", status=500)
    standin.fail_next("files.completeUploadExternal", error="internal_error", status=500)
    standin.fail_next("files.completeUploadExternal", error="internal_error", status=500)
    bot.command(ANA, "resolve", channel=incident.channel_id)
    wait_until(lambda: [m for m in standin.messages(incident.channel_id) if "/incident postmortem" in (m.get("text") or "")])
    assert bot.incident(incident.id).postmortem_posted_at is None
    assert "Posting the postmortem draft again" in bot.command(ANA, "postmortem", channel=incident.channel_id)["text"]
    bot.wait_for_incident(incident.id, lambda i: i.postmortem_posted_at is not None)
    assert [f for f in standin.files() if incident.channel_id in (f.get("channels") or [])]
    assert "when the incident is resolved" in bot.command(ANA, "postmortem", channel=bot.declare("Still open").channel_id)["text"]
