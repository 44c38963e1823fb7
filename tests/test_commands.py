"""`/incident` subcommands inside an incident channel, and their refusals."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from tests.support.records import milestones_of
from tests.conftest import ANA, KEN, LEE, MIN, wait_until


def _milestones(bot, incident_id):
    return milestones_of(bot.db, incident_id)


def _posted(standin, channel, fragment):
    return wait_until(lambda: [m for m in standin.messages(channel) if fragment in m.get("text", "")], message=f"{fragment!r} never posted")


def test_status_changes_are_entries_and_redraw_the_header(bot, standin):
    incident = bot.declare("Feature flags not loading")
    reply = bot.command(KEN, "status identified bad flag payload from the config service", channel=incident.channel_id)
    assert "Recorded" in reply["text"]
    assert bot.incident(incident.id).status == "identified"
    [entry] = bot.entries(incident.id, "status")
    assert entry.data == {"from": "investigating", "to": "identified"} and entry.author_id == KEN
    _posted(standin, incident.channel_id, "bad flag payload")
    update = wait_until(lambda: [c for c in standin.calls("chat.update") if c.args.get("ts") == incident.header_ts])
    assert "identified" in str(update[-1].args.get("blocks"))
    assert _milestones(bot, incident.id)["identified"].source == "status"


def test_updates_go_to_the_channel_and_the_announce_channel(bots, standin):
    announce = standin.create_channel("incident-updates", members=["UBOT"])
    bot = bots(INCIDENT_ANNOUNCE_CHANNEL=announce)
    incident = bot.declare("Email delivery delayed")
    bot.command(ANA, "update Queue draining, next update 15:30 <!here>", channel=incident.channel_id)
    assert [e.text for e in bot.entries(incident.id, "update")] == ["Queue draining, next update 15:30 <!here>"]
    in_channel = _posted(standin, incident.channel_id, "Queue draining")[0]["text"]
    announced = _posted(standin, announce, "Queue draining")[0]["text"]
    assert "<!here>" not in in_channel and "<!here>" not in announced


def test_severity_lead_roles_and_notes(bot, standin):
    incident = bot.declare("Search index corrupt", severity="P3")
    bot.command(ANA, "severity P1", channel=incident.channel_id)
    bot.command(ANA, f"lead <@{KEN}|ken>", channel=incident.channel_id)
    bot.command(KEN, f"role comms <@{MIN}>", channel=incident.channel_id)
    bot.command(KEN, "note rebuilding index from snapshot 03:00", channel=incident.channel_id)
    stored = bot.incident(incident.id)
    assert (stored.severity, stored.commander_id) == ("P1", KEN)
    assert [e.kind for e in bot.entries(incident.id)][-4:] == ["severity", "lead", "role", "note"]
    wait_until(lambda: {KEN, MIN} <= set(standin.channel(incident.channel_id)["members"]))
    assert "already" in bot.command(ANA, "severity P1", channel=incident.channel_id)["text"]


def test_milestones_from_commands_in_the_incident_time_zone(bots, standin):
    bot = bots(INCIDENT_TIMEZONE="Asia/Tokyo")
    incident = bot.declare("Batch job overran")
    tokyo = ZoneInfo("Asia/Tokyo")
    earlier = (datetime.now(timezone.utc) - timedelta(hours=2)).astimezone(tokyo)
    reply = bot.command(ANA, f"started {earlier:%Y-%m-%d %H:%M}", channel=incident.channel_id)
    assert "JST" in reply["text"]
    milestones = _milestones(bot, incident.id)
    assert milestones["started"].at == earlier.replace(second=0, microsecond=0).astimezone(timezone.utc)
    bot.command(ANA, "mitigated", channel=incident.channel_id)
    assert _milestones(bot, incident.id)["mitigated"].source == "command"


@pytest.mark.parametrize(
    "text, reason",
    [
        ("detected 23:59 tomorrow", "not a time"),
        ("started 2999-01-01 00:00", "future"),
        ("resolve 2000-01-01 00:00", "before"),
        ("action ship it due 2001-01-01", "past"),
        ("action ship it due 2026-02-30", "not a due date"),
        ("status resolvedd", "Status must be one of"),
        ("lead everyone", "Mention the person"),
        ("dance", "not an /incident command"),
    ],
)
def test_bad_input_is_refused_clearly_and_records_nothing(bot, standin, text, reason):
    incident = bot.declare("Refusals")
    before = [(e.kind, e.text) for e in bot.entries(incident.id)]
    reply = bot.command(ANA, text, channel=incident.channel_id)
    assert reply["response_type"] == "ephemeral" and reason in reply["text"], reply
    assert [(e.kind, e.text) for e in bot.entries(incident.id)] == before
    assert bot.incident(incident.id).status == "investigating"


def test_incident_commands_outside_an_incident_channel_name_the_problem(bot):
    reply = bot.command(ANA, "status monitoring", channel="C0GENERAL")
    assert "not an incident channel" in reply["text"]


def test_action_items_timeline_list_and_help(bot, standin):
    incident = bot.declare("Cert expired on api gateway")
    reply = bot.command(ANA, f"action automate cert renewal <@{LEE}> due 2099-01-31 prevent", channel=incident.channel_id)
    assert "action item #" in reply["text"]
    [item] = _items(bot, incident.id)
    assert (item.text, item.owner_id, str(item.due_date), item.klass, item.status) == (
        "automate cert renewal", LEE, "2099-01-31", "prevent", "open"
    )
    bot.say(incident, KEN, "renewed manually at 10:02")
    timeline = bot.command(ANA, "timeline", channel=incident.channel_id)["text"]
    assert "renewed manually at 10:02" in timeline and "[Declared]" in timeline
    listing = bot.command(ANA, "list", channel="C0GENERAL")["text"]
    assert f"<#{incident.channel_id}>" in listing
    assert "/incident start" in bot.command(ANA, "help", channel="C0GENERAL")["text"]


def _items(bot, incident_id):
    from sqlalchemy import select

    from storage.models import ActionItem

    with bot.db.session() as session:
        return list(session.scalars(select(ActionItem).where(ActionItem.incident_id == incident_id)))


def test_header_buttons_open_forms_and_resolve(bot, standin):
    incident = bot.declare("Push notifications delayed")
    standin.reset_calls()
    status, _, _ = bot.slack.block_action(ANA, "incident_update_status", value=str(incident.id), channel=incident.channel_id, message_ts=incident.header_ts)
    assert status == 200
    view = standin.wait_for("views.open")[0].args["view"]
    assert (view if isinstance(view, dict) else __import__("json").loads(view))["callback_id"] == "incident_status"

    state = {
        "status": {"status": {"type": "static_select", "selected_option": {"value": "monitoring"}}},
        "message": {"message": {"type": "plain_text_input", "value": "fix deployed <script>"}},
    }
    status, _, body = bot.slack.view_submission(ANA, "incident_status", state, private_metadata=str(incident.id))
    assert status == 200 and "errors" not in body
    assert bot.incident(incident.id).status == "monitoring"
    assert bot.entries(incident.id, "status")[-1].text == "fix deployed &lt;script&gt;"

    bot.slack.block_action(ANA, "incident_resolve", value=str(incident.id), channel=incident.channel_id, message_ts=incident.header_ts)
    resolved = bot.wait_for_incident(incident.id, lambda i: i.postmortem_posted_at is not None)
    assert resolved.status == "resolved"

    # A button on a resolved incident is refused, privately, and changes nothing.
    bot.slack.block_action(KEN, "incident_set_severity", value=str(incident.id), channel=incident.channel_id, message_ts=incident.header_ts)
    refusal = standin.wait_for("chat.postEphemeral", lambda c: c.args.get("user") == KEN)[0]
    assert "already resolved" in refusal.args["text"]
