"""Declaring an incident: ack fast, store first, then the channel, header and announcement."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

import pytest

from tests.support.records import milestones_of
from tests.conftest import ANA, KEN, wait_until
from tests.support.incident_cleanup import resolve_what_the_test_opened  # noqa: F401  (autouse)


def test_declaring_opens_a_channel_with_header_topic_and_first_entry(bot, standin):
    started = time.monotonic()
    reply = bot.command(ANA, "start P1 Checkout API returns 502")
    assert time.monotonic() - started < 3.0  # Slack's limit for the acknowledgement
    assert reply["response_type"] == "ephemeral"
    incident_id = int(reply["text"].split("#", 1)[1].split(":", 1)[0])

    incident = bot.wait_for_incident(incident_id, lambda i: i.header_ts is not None)
    today = datetime.now(timezone.utc).strftime("%Y%m%d")
    assert incident.channel_name.startswith(f"inc-{today}-checkout-api-returns-502")
    assert (incident.severity, incident.status, incident.declared_by) == ("P1", "investigating", ANA)

    channel = standin.channel(incident.channel_id)
    assert ANA in channel["members"]
    assert "Checkout API returns 502" in channel["topic"]["value"]
    header = next(m for m in standin.messages(incident.channel_id) if m["ts"] == incident.header_ts)
    action_ids = [e["action_id"] for b in header["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert action_ids == ["incident_update_status", "incident_set_severity", "incident_resolve", "postmortem_fill"]
    header_text = str(header["blocks"])
    assert "P1" in header_text and "investigating" in header_text and "Started" in header_text

    first = bot.entries(incident_id)[0]
    assert (first.kind, first.author_id) == ("declared", ANA)
    # The declarer is told where the incident lives, through the command's response_url.
    wait_until(lambda: any(incident.channel_id in (r.get("text") or "") for r in standin.responses()))


def test_a_japanese_title_gives_a_valid_channel_name(bot, standin):
    incident = bot.declare("決済APIが502を返す", user=KEN)
    assert incident.channel_name.endswith("-決済apiが502を返す")
    assert incident.title == "決済APIが502を返す"
    assert standin.channel(incident.channel_id)["name"] == incident.channel_name


def test_a_taken_name_gets_a_numeric_suffix(bot, standin):
    first = bot.declare("Search latency spike")
    second = bot.declare("Search latency spike")
    assert second.channel_name == first.channel_name + "-2"
    assert first.channel_id != second.channel_id


def test_a_long_title_is_cut_to_slacks_limits(bot, standin):
    incident = bot.declare("Everything is on fire " * 11)  # 241 characters: under the title limit, over the topic's
    assert len(incident.channel_name) <= 80
    assert len(standin.channel(incident.channel_id)["topic"]["value"]) <= 250


def test_a_slack_failure_mid_declaration_keeps_the_incident_and_says_what_failed(bot, standin):
    standin.fail_next("conversations.create", error="restricted_action")
    reply = bot.command(ANA, "start P2 Payments webhook backlog")
    incident_id = int(reply["text"].split("#", 1)[1].split(":", 1)[0])
    incident = bot.wait_for_incident(incident_id, lambda i: i.setup_error is not None)
    assert incident.channel_id is None and "restricted_action" in incident.setup_error
    assert bot.entries(incident_id)[0].kind == "declared"  # nothing recorded is lost
    wait_until(lambda: any("restricted_action" in (r.get("text") or "") for r in standin.responses()))


def test_new_incidents_are_announced_when_an_announce_channel_is_set(bots, standin):
    announce = standin.create_channel("incidents", members=["UBOT"])
    bot = bots(INCIDENT_ANNOUNCE_CHANNEL=announce)
    incident = bot.declare("Login <!channel> broken & slow")
    post = wait_until(lambda: [m for m in standin.messages(announce) if incident.channel_id in m.get("text", "")])
    text = post[0]["text"]
    assert "New P2 incident" in text and "<!channel>" not in text


def test_start_without_a_title_opens_the_form_and_submitting_it_declares(bot, standin):
    standin.reset_calls()
    reply = bot.command(ANA, "start")
    assert reply.get("text", "") == ""
    view = standin.wait_for("views.open")[0].args["view"]
    view = view if isinstance(view, dict) else __import__("json").loads(view)
    assert view["callback_id"] == "incident_start"

    state = {
        "title": {"title": {"type": "plain_text_input", "value": "Queue <b>depth</b> & lag"}},
        "severity": {"severity": {"type": "static_select", "selected_option": {"value": "P1"}}},
        "description": {"description": {"type": "plain_text_input", "value": "consumers stuck"}},
        "impact_start": {"impact_start": {"type": "plain_text_input", "value": "25:99"}},
    }
    status, _, body = bot.slack.view_submission(ANA, "incident_start", state, private_metadata="C0GENERAL")
    assert status == 200 and "impact_start" in body  # refused in the form, nothing declared

    state["impact_start"]["impact_start"]["value"] = "1999-01-01T00:00:00Z"  # a typo for this year
    status, _, body = bot.slack.view_submission(ANA, "incident_start", state, private_metadata="C0GENERAL")
    assert status == 200 and "impact_start" in body and "more than 30 days before" in body

    impact_start = (datetime.now(timezone.utc) - timedelta(hours=2)).replace(microsecond=0)
    state["impact_start"]["impact_start"]["value"] = impact_start.isoformat()
    status, _, body = bot.slack.view_submission(ANA, "incident_start", state, private_metadata="C0GENERAL")
    assert status == 200 and "errors" not in body
    incident = wait_until(lambda: _incident_titled(bot, "Queue &lt;b&gt;depth&lt;/b&gt; &amp; lag"))
    incident = bot.wait_for_incident(incident.id, lambda i: i.header_ts is not None)
    assert incident.severity == "P1" and incident.description == "consumers stuck"

    started = milestones_of(bot.db, incident.id)["started"]
    assert started.at == impact_start and started.source == "command"


def _incident_titled(bot, title):
    from sqlalchemy import select

    from storage.models import Incident

    with bot.db.session() as session:
        return session.scalars(select(Incident).where(Incident.title == title)).first()


# --- `--private` wherever it is typed, and no flag we do not know ------------------------------------

PRIVATE_WAYS = [
    "P1 PayrollLeak after --private",  # the flag not first
    "-p P1 PayrollLeak after",
    "P1 PayrollLeak –private after",  # en dash: what a phone makes of --
    "P1 —private PayrollLeak after",  # em dash: what macOS makes of --
    "P1 －－private PayrollLeak after",  # full-width, from a Japanese keyboard
    "private P1 PayrollLeak after",
    "P1 private: PayrollLeak after",
    "P1 PayrollLeak after --PRIVATE:",
]


@pytest.mark.parametrize("text", PRIVATE_WAYS)
def test_a_private_flag_anywhere_declares_a_private_incident_announced_without_its_title(bots, standin, text):
    announce = standin.create_channel(f"incidents-private-{PRIVATE_WAYS.index(text)}", members=["UBOT"])
    bot = bots(INCIDENT_ANNOUNCE_CHANNEL=announce)
    reply = bot.command(ANA, f"start {text}")
    incident_id = int(reply["text"].split("#", 1)[1].split(":", 1)[0])
    incident = bot.wait_for_incident(incident_id, lambda i: i.header_ts is not None)
    assert (incident.is_private, incident.severity, incident.title) == (True, "P1", "PayrollLeak after")
    assert standin.channel(incident.channel_id)["is_private"] is True
    announced = wait_until(lambda: [m["text"] for m in standin.messages(announce) if f"#{incident_id}" in m.get("text", "")])
    assert "private" in announced[0] and "Payroll" not in " ".join(announced)


@pytest.mark.parametrize("text, flag", [
    ("P1 PayrollLeak --privat", "--privat"),
    ("-x P1 PayrollLeak", "-x"),
    ("P1 PayrollLeak --near-mis", "--near-mis"),
    ("P1 PayrollLeak —privte", "—privte"),
])
def test_an_unknown_flag_is_refused_with_the_usage_before_anything_is_created(bot, standin, text, flag):
    from sqlalchemy import func, select

    from storage.models import Incident

    with bot.db.session() as session:
        before = session.scalar(select(func.count()).select_from(Incident))
    creates = len(standin.calls("conversations.create"))
    reply = bot.command(ANA, f"start {text}")
    assert reply["response_type"] == "ephemeral"
    assert f"`{flag}` is not an option" in reply["text"] and "--private" in reply["text"] and "/incident start" in reply["text"]
    with bot.db.session() as session:
        assert session.scalar(select(func.count()).select_from(Incident)) == before
    assert len(standin.calls("conversations.create")) == creates


@pytest.mark.parametrize("title", ["API returns -1", "2024-01 batch failed", "500 errors – checkout", "re-deploy -- rollback"])
def test_dashes_in_a_title_are_not_flags(bot, standin, title):
    incident = bot.declare(title, severity="P1")
    assert (incident.title, incident.is_private) == (title, False)
    assert standin.channel(incident.channel_id)["is_private"] is False


# --- channel names in any script, and workspaces that take only ASCII ------------------------------------


@pytest.mark.parametrize("title, slug", [
    ("결제 API 502 오류", "결제-api-502-오류"),
    ("Ошибка API 500", "ошибка-api-500"),
    ("Σφάλμα πληρωμών", "σφάλμα-πληρωμών"),
    ("Café crème down", "café-crème-down"),
])
def test_a_title_in_any_script_names_the_channel_as_slack_takes_it(bot, standin, title, slug):
    incident = bot.declare(title)
    today = incident.declared_at.strftime("%Y%m%d")
    assert incident.channel_name == f"inc-{today}-{slug}"
    assert standin.channel(incident.channel_id)["name"] == incident.channel_name


def test_a_workspace_refusing_non_ascii_names_gets_the_ascii_slug_before_the_id_alone(bot, standin):
    standin.ascii_channel_names_only = True
    try:
        first = len(standin.calls("conversations.create"))
        hangul = bot.declare("결제 게이트웨이 API 504 오류")
        accented = bot.declare("Crème brûlée pipeline")
        nothing_ascii = bot.declare("결제 게이트웨이 장애")
    finally:
        standin.ascii_channel_names_only = False
    today = hangul.declared_at.strftime("%Y%m%d")
    assert hangul.channel_name == f"inc-{today}-api-504"
    assert accented.channel_name == f"inc-{today}-creme-brulee-pipeline"
    assert nothing_ascii.channel_name == f"inc-{today}-{nothing_ascii.id}"
    tried = [(c.args["name"], c.response.get("error")) for c in standin.calls("conversations.create")[first:]]
    assert tried == [
        (f"inc-{today}-결제-게이트웨이-api-504-오류", "invalid_name_specials"), (f"inc-{today}-api-504", None),
        (f"inc-{today}-crème-brûlée-pipeline", "invalid_name_specials"), (f"inc-{today}-creme-brulee-pipeline", None),
        (f"inc-{today}-결제-게이트웨이-장애", "invalid_name_specials"), (f"inc-{today}-{nothing_ascii.id}", None),
    ]
