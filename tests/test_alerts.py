"""Alerts open incidents: Alertmanager, Grafana and PagerDuty webhooks over real HTTP to the running app.

Each test POSTs what the sender sends (their documented sample payloads, tests/support/alert_senders.py)
to the bot's /alerts/* endpoints beside /slack/events, and watches the record and the Slack stand-in:
declared once per group, joined after, nothing twice, nobody let in, bad input refused with a reason.
The real Alertmanager drives the same endpoint in tests/test_alertmanager.py.
"""

from __future__ import annotations

import json
import logging
import secrets
import threading
import time
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from bot.alerts.rules import RulesError, default_rules, parse_rules
from bot.config import ConfigError, Settings
from bot.domain.records import Alert
from storage.models import AlertGroup, AlertReceipt, Incident
from tests.conftest import ANA, KEN, LEE, OUTSIDER, wait_until
from tests.support.alert_senders import (
    GRAFANA_SAMPLE,
    PAGERDUTY_PING,
    alertmanager_alert,
    alertmanager_notification,
    pagerduty_event,
    pagerduty_signature,
    post,
)
from tests.support.records import milestones_of

TOKEN = "test-alert-token-0123456789"
PD_SECRET = "test-pagerduty-secret-0123"


def base(bot) -> str:
    return bot.url.rsplit("/slack/events", 1)[0]


def send(bot, payload, path: str = "/alerts/alertmanager", token: str | None = TOKEN, headers: dict | None = None):
    auth = {"Authorization": f"Bearer {token}"} if token is not None else {}
    return post(base(bot) + path, payload, {**auth, **(headers or {})})


def now() -> datetime:
    return datetime.now(timezone.utc)


def unique(prefix: str) -> str:
    return f"{prefix}{secrets.token_hex(3)}"


def counts(bot) -> tuple[int, int, int]:
    """Incidents, alert groups and receipts on record: a refused request must change none of them."""
    with bot.db.session() as session:
        return tuple(session.scalar(select(func.count()).select_from(model)) for model in (Incident, AlertGroup, AlertReceipt))


def channel_texts(standin, channel: str) -> list[str]:
    return [m.get("text") or "" for m in standin.messages(channel)]


def posted(standin, channel: str, fragment: str, timeout: float = 10.0) -> list[dict]:
    return wait_until(lambda: [m for m in standin.messages(channel) if fragment in json.dumps(m, ensure_ascii=False)],
                      timeout=timeout, message=f"nothing with {fragment!r} was posted in {channel}")


def button(message: dict, action_id: str) -> dict:
    return next(e for b in message.get("blocks") or [] if b["type"] == "actions" for e in b["elements"]
                if e["action_id"] == action_id)


@pytest.fixture
def alerting(bots, standin):
    announce = standin.create_channel(unique("alerts-"), members=["UBOT"])
    bot = bots(ALERT_WEBHOOK_TOKEN=TOKEN, PAGERDUTY_WEBHOOK_SECRET=PD_SECRET, INCIDENT_ANNOUNCE_CHANNEL=announce)
    bot.announce = announce
    with bot.db.session() as session:
        first = session.scalar(select(func.max(Incident.id))) or 0
    yield bot
    # Resolve what the test opened, so no reminder clock of a later test plans nudges for it.
    with bot.db.session() as session:
        opened = list(session.scalars(select(Incident).where(Incident.id > first, Incident.status != "resolved")))
    for incident in opened:
        incident = bot.wait_for_incident(incident.id, lambda i: i.header_ts is not None or i.setup_error is not None)
        if incident.channel_id:
            bot.command(ANA, "status resolved", channel=incident.channel_id)


def declared(bot, answer) -> Incident:
    status, body = answer
    assert (status, body.get("result")) == (200, "declared"), answer
    return bot.wait_for_incident(body["incident"], lambda i: i.header_ts is not None)


# --- Alertmanager ------------------------------------------------------------------------------


def test_a_critical_alert_declares_from_the_first_notification_started_at_its_start_detected_on_arrival(alerting, standin):
    bot = alerting
    group = unique('{}:{alertname="CheckoutErrors"}/')
    first_start, second_start = now() - timedelta(minutes=9), now() - timedelta(minutes=4)
    alerts = [
        alertmanager_alert("CheckoutErrors", starts_at=second_start, summary="Checkout 5xx above 5% <!channel>",
                           service="checkout", instance="a"),
        alertmanager_alert("CheckoutErrors", starts_at=first_start, summary="Checkout 5xx above 5% <!channel>",
                           service="checkout", instance="b"),
    ]
    standin.answer_late("conversations.create", 2.0)  # Slack is slow today: the sender must not wait for it
    before = now()
    took = time.monotonic()
    answer = send(bot, alertmanager_notification(group, alerts))
    took = time.monotonic() - took
    after = now()
    assert took < 1.0, f"answered in {took:.2f}s"
    incident = declared(bot, answer)

    assert (incident.severity, incident.status, incident.declared_via) == ("P1", "investigating", "alert")
    assert incident.title == "Checkout 5xx above 5% &lt;!channel&gt;" and incident.declared_by == "UBOT"
    milestones = milestones_of(bot.db, incident.id)
    assert (milestones["started"].at, milestones["started"].source) == (first_start, "alert")
    assert milestones["detected"].source == "alert" and before <= milestones["detected"].at <= after
    assert [e.kind for e in bot.entries(incident.id, "alert")] == ["alert", "alert"]
    with bot.db.session() as session:
        assert session.get(Incident, incident.id).links[0]["url"].startswith("http://prometheus.example.org:9090/graph")
    tags = [e.text for e in bot.entries(incident.id, "tag")]
    assert tags == ["checkout"]

    # The channel: the header links the alert and says where its times came from; the alerts are listed.
    header = standin.message(incident.channel_id, incident.header_ts)
    shown = json.dumps(header["blocks"])
    assert "prometheus.example.org:9090/graph?g0.expr=CheckoutErrors|CheckoutErrors>" in shown and "(alert)" in shown
    listing = posted(standin, incident.channel_id, "2 alerts firing")[0]["text"]
    assert "<!channel>" not in listing and "Checkout 5xx above 5%" in listing
    announced = posted(standin, bot.announce, incident.channel_id)[0]["text"]
    assert "New P1 incident" in announced

    # A person's word beats the alert's guess, as a command or a reaction would.
    bot.standin.add_member(incident.channel_id, ANA)
    earlier = (first_start - timedelta(minutes=5)).strftime("%Y-%m-%d %H:%M")
    assert "Recorded" in bot.command(ANA, f"started {earlier}", channel=incident.channel_id)["text"]
    assert milestones_of(bot.db, incident.id)["started"].source == "command"
    noticed = bot.say(incident, KEN, "checkout dashboards red since a minute ago")
    bot.event(bot.slack.reaction_added(KEN, incident.channel_id, noticed["ts"], "rotating_light"))
    assert milestones_of(bot.db, incident.id)["detected"].source == "reaction"
    bot.event(bot.slack.reaction_removed(KEN, incident.channel_id, noticed["ts"], "rotating_light"))
    assert milestones_of(bot.db, incident.id)["detected"].source == "alert"  # the alerts' time comes back


def test_further_alerts_join_the_groups_incident_and_a_resent_notification_adds_nothing(alerting, standin):
    bot = alerting
    group = unique('{}:{alertname="QueueLag"}/')
    start = now() - timedelta(minutes=3)
    first = alertmanager_alert("QueueLag", starts_at=start, summary="Consumer lag over 10k", instance="a")
    incident = declared(bot, send(bot, alertmanager_notification(group, [first])))
    entries = len(bot.entries(incident.id))

    assert send(bot, alertmanager_notification(group, [first])) == (200, {"ok": True, "result": "nothing new"})
    second = alertmanager_alert("QueueLag", starts_at=now() - timedelta(minutes=1), summary="Consumer lag over 10k", instance="b")
    status, body = send(bot, alertmanager_notification(group, [first, second]))
    assert (status, body) == (200, {"ok": True, "result": "added", "incident": incident.id})
    posted(standin, incident.channel_id, "1 alert firing")
    assert len(bot.entries(incident.id)) == entries + 1
    # Alertmanager's repeat notification, and a retry of it, change nothing.
    for _ in range(2):
        assert send(bot, alertmanager_notification(group, [first, second]))[1]["result"] == "nothing new"
    assert len(bot.entries(incident.id, "alert")) == 2
    with bot.db.session() as session:
        assert session.scalar(select(func.count()).select_from(Incident).where(Incident.title == "Consumer lag over 10k")) == 1


def test_resolved_alerts_go_on_the_timeline_and_the_channel_is_offered_mitigated_at_the_last_end(alerting, standin):
    bot = alerting
    group = unique('{}:{alertname="DiskFull"}/')
    start = now() - timedelta(minutes=20)
    a = alertmanager_alert("DiskFull", starts_at=start, summary="Disk full on db-1", instance="db-1")
    b = alertmanager_alert("DiskFull", starts_at=start, summary="Disk full on db-2", instance="db-2")
    incident = declared(bot, send(bot, alertmanager_notification(group, [a, b])))
    bot.standin.add_member(incident.channel_id, KEN)

    first_end = now()  # after the first notification arrived: mitigated cannot come before detected
    a_done = alertmanager_alert("DiskFull", starts_at=start, summary="Disk full on db-1", instance="db-1", ends_at=first_end)
    assert send(bot, alertmanager_notification(group, [a_done, b]))[1]["result"] == "added"
    posted(standin, incident.channel_id, "1 alert resolved")
    assert not [m for m in standin.messages(incident.channel_id) if "Mark mitigated" in json.dumps(m)]

    last_end = now()
    b_done = alertmanager_alert("DiskFull", starts_at=start, summary="Disk full on db-2", instance="db-2", ends_at=last_end)
    assert send(bot, alertmanager_notification(group, [a_done, b_done]))[1]["result"] == "added"
    assert send(bot, alertmanager_notification(group, [a_done, b_done]))[1]["result"] == "nothing new"
    assert [e.kind for e in bot.entries(incident.id, "alert_resolved")] == ["alert_resolved", "alert_resolved"]
    offer = posted(standin, incident.channel_id, "Mark mitigated")
    assert len(offer) == 1
    mark = button(offer[0], "alerts_mark_mitigated")
    assert bot.incident(incident.id).status == "investigating"  # alerts do not resolve; people do

    # Someone outside the channel cannot press it; a member can, once.
    bot.slack.block_action(LEE, "alerts_mark_mitigated", channel=incident.channel_id, message_ts=offer[0]["ts"])
    wait_until(lambda: [r for r in standin.responses() if "Only members" in (r.get("text") or "")])
    assert milestones_of(bot.db, incident.id)["mitigated"].at is None
    bot.slack.block_action(KEN, "alerts_mark_mitigated", channel=incident.channel_id, message_ts=offer[0]["ts"])
    wait_until(lambda: milestones_of(bot.db, incident.id)["mitigated"].at is not None)
    mitigated = milestones_of(bot.db, incident.id)["mitigated"]
    assert mitigated.at == datetime.fromisoformat(mark["value"].split("|")[1]) == last_end
    assert mitigated.source == "command"
    bot.slack.block_action(KEN, "alerts_mark_mitigated", channel=incident.channel_id, message_ts=offer[0]["ts"])
    wait_until(lambda: [e for e in standin.ephemerals(user_id=KEN) if "already mitigated" in e["text"]])
    assert len(bot.entries(incident.id, "milestone")) == 3  # started, detected (the alerts), mitigated once


def test_a_wrong_or_missing_token_is_401_and_an_unset_token_turns_the_endpoint_off(alerting, bots, caplog):
    bot = alerting
    payload = alertmanager_notification(unique("{}:{auth}/"), [alertmanager_alert("Auth", starts_at=now())])
    before = counts(bot)
    with caplog.at_level(logging.WARNING):
        assert send(bot, payload, token="not-the-token-at-all-123")[0] == 401
        assert send(bot, payload, token=None)[0] == 401
        assert send(bot, payload, path="/alerts/grafana", token=TOKEN[:-1])[0] == 401
        assert send(bot, payload, headers={"Authorization": f"Basic {TOKEN}"}, token=None)[0] == 401
    assert counts(bot) == before
    assert "missing or wrong bearer token" in caplog.text and TOKEN not in caplog.text
    assert post(base(bot) + "/alerts/alertmanager", b"", {"Authorization": f"Bearer {TOKEN}"}, method="GET")[0] == 405

    quiet = bots()  # no ALERT_WEBHOOK_TOKEN, no PAGERDUTY_WEBHOOK_SECRET
    for path in ("/alerts/alertmanager", "/alerts/grafana", "/alerts/pagerduty"):
        assert send(quiet, payload, path=path)[0] == 404
    assert send(bot, payload, path="/alerts/nagios")[0] == 404
    assert counts(bot) == before


def test_bad_input_is_refused_with_a_one_line_reason_and_nothing_is_stored(alerting, caplog):
    bot = alerting
    good = alertmanager_alert("Shape", starts_at=now())
    no_labels = dict(good, labels={})
    cases = {
        b"{not json": "not JSON",
        b"\xff\xfe": "not UTF-8",
        b"[1, 2]": "not an object",
        json.dumps({"status": "firing", "alerts": [good]}).encode(): "groupKey",
        json.dumps(dict(alertmanager_notification("{}:{x}", [good]), alerts="nope")).encode(): "alerts",
        json.dumps(alertmanager_notification("{}:{x}", [])).encode(): "alerts",
        json.dumps(alertmanager_notification("{}:{x}", [no_labels])).encode(): "alert 1 has no labels",
        json.dumps(alertmanager_notification("{}:{x}", [good, dict(good, startsAt="yesterday")])).encode(): "alert 2",
        json.dumps(alertmanager_notification("{}:{x}", [dict(good, labels={"a": 1})])).encode(): "map of strings",
        json.dumps(alertmanager_notification("{}:{x}", [dict(good, status="exploded")])).encode(): "not firing or resolved",
    }
    before = counts(bot)
    with caplog.at_level(logging.WARNING):
        for body, reason in cases.items():
            status, answer = send(bot, body)
            assert status == 400 and reason in answer["error"] and "\n" not in answer["error"], (body, answer)
        big = json.dumps(alertmanager_notification("{}:{big}", [dict(good, annotations={"x": "y" * (1024 * 1024)})])).encode()
        assert send(bot, big)[0] == 413
    assert counts(bot) == before
    assert caplog.text.count("refused POST /alerts/alertmanager") == len(cases) + 1


# --- Grafana -----------------------------------------------------------------------------------


def test_grafanas_documented_payload_declares_with_its_panel_and_dashboard_in_the_header(bots, standin):
    announce = standin.create_channel(unique("grafana-"), members=["UBOT"])
    bot = bots(ALERT_WEBHOOK_TOKEN=TOKEN, ALERT_RULES="team=blue -> P2 tags=zone", INCIDENT_ANNOUNCE_CHANNEL=announce)
    payload = json.loads(json.dumps(GRAFANA_SAMPLE))
    payload["groupKey"] = unique("{}:{}")
    first = payload["alerts"][0]
    first.update(panelURL="https://play.grafana.org/d/000000012/grafana-play-home?viewPanel=4",
                 dashboardURL="https://play.grafana.org/d/000000012/grafana-play-home")
    incident = declared(bot, send(bot, payload, path="/alerts/grafana"))
    assert (incident.severity, incident.title) == ("P2", "This alert was triggered for zone us-1")
    assert incident.description == "The system has high memory usage"
    milestones = milestones_of(bot.db, incident.id)
    assert milestones["started"].at == datetime(2021, 10, 12, 7, 51, 3, 157076, tzinfo=timezone.utc)
    header = json.dumps(standin.message(incident.channel_id, incident.header_ts)["blocks"])
    assert "viewPanel=4|panel>" in header and "grafana-play-home|dashboard>" in header
    assert "play.grafana.org/alerting/1afz29v7z/edit|High memory usage>" in header
    listing = posted(standin, incident.channel_id, "2 alerts firing")[0]["text"]
    assert "B=44.24, C=1" in listing and "silence" in listing
    assert [e.text for e in bot.entries(incident.id, "tag")] == ["us-1, eu-1"]  # from each matching alert's zone
    # The same notification again (Grafana retries): nothing new.
    assert send(bot, payload, path="/alerts/grafana")[1]["result"] == "nothing new"
    bot.standin.add_member(incident.channel_id, ANA)
    bot.command(ANA, "status resolved", channel=incident.channel_id)


# --- PagerDuty ---------------------------------------------------------------------------------


def send_pagerduty(bot, payload: dict, *secrets_: str):
    body = json.dumps(payload).encode()
    return post(base(bot) + "/alerts/pagerduty", body, {"X-PagerDuty-Signature": pagerduty_signature(body, *secrets_)})


def test_pagerduty_triggered_acknowledged_resolved_with_its_signature_checked(alerting, bots, standin, caplog):
    bot = alerting
    pd_incident = unique("PGR")
    created = now() - timedelta(minutes=7)

    def event(kind: str, at: datetime, event_id: str | None = None) -> dict:
        return pagerduty_event(f"incident.{kind}", incident_id=pd_incident, event_id=event_id or unique("ev-"),
                               occurred_at=at, created_at=created, title="Checkout API latency p99 over 2s")

    triggered = event("triggered", created + timedelta(seconds=30))
    before = counts(bot)
    with caplog.at_level(logging.WARNING):
        assert send_pagerduty(bot, triggered, "not-the-secret-0123")[0] == 401
        body = json.dumps(triggered).encode()
        assert post(base(bot) + "/alerts/pagerduty", body)[0] == 401  # no signature at all
        tampered = json.dumps(dict(triggered, extra=1)).encode()
        assert post(base(bot) + "/alerts/pagerduty", tampered,
                    {"X-PagerDuty-Signature": pagerduty_signature(body, PD_SECRET)})[0] == 401
    assert counts(bot) == before and "X-PagerDuty-Signature" in caplog.text

    # A secret being rotated: PagerDuty signs with both, and either one is enough.
    incident = declared(bot, send_pagerduty(bot, triggered, "the-old-secret-0123", PD_SECRET))
    assert (incident.severity, incident.title) == ("P2", "Checkout API latency p99 over 2s")  # urgency high -> P2
    assert milestones_of(bot.db, incident.id)["started"].at == created
    header = json.dumps(standin.message(incident.channel_id, incident.header_ts)["blocks"])
    assert f"https://acme.pagerduty.com/incidents/{pd_incident}|Checkout API latency" in header
    assert send_pagerduty(bot, triggered, PD_SECRET)[1]["result"] == "nothing new"  # PagerDuty delivers at least once

    acknowledged = event("acknowledged", now() - timedelta(minutes=5))
    assert send_pagerduty(bot, acknowledged, PD_SECRET)[1]["result"] == "added"
    assert send_pagerduty(bot, acknowledged, PD_SECRET)[1]["result"] == "nothing new"
    [ack] = bot.entries(incident.id, "alert_ack")
    assert "Tenex Engineer" in ack.text
    posted(standin, incident.channel_id, "Acknowledged in PagerDuty by Tenex Engineer")

    resolved_at = now()
    assert send_pagerduty(bot, event("resolved", resolved_at), PD_SECRET)[1]["result"] == "added"
    [entry] = bot.entries(incident.id, "alert_resolved")
    assert entry.occurred_at == resolved_at
    offer = posted(standin, incident.channel_id, "Mark mitigated")[0]
    assert button(offer, "alerts_mark_mitigated")["value"].startswith(f"{incident.id}|")
    assert bot.incident(incident.id).status == "investigating"

    assert send_pagerduty(bot, PAGERDUTY_PING, PD_SECRET) == (200, {"ok": True, "result": "ignored"})
    assert send_pagerduty(bots(ALERT_WEBHOOK_TOKEN=TOKEN), triggered, PD_SECRET)[0] == 404  # no secret: off


# --- alerts no rule matched --------------------------------------------------------------------


def test_unmatched_alerts_are_posted_once_with_a_declare_button_that_anyone_may_press(alerting, standin):
    bot = alerting
    group = unique('{}:{alertname="SlowQueries"}/')
    warning = alertmanager_alert("SlowQueries", starts_at=now() - timedelta(minutes=2), severity="warning",
                                 summary="p95 query time over 400ms")
    assert send(bot, alertmanager_notification(group, [warning]))[1]["result"] == "no rule matched"
    post_ = posted(bot.standin, bot.announce, "matched no rule")[0]
    assert "SlowQueries" in post_["text"] and "p95 query time over 400ms" in post_["text"]
    for _ in range(2):  # the repeat notification, and a retry
        assert send(bot, alertmanager_notification(group, [warning]))[1]["result"] == "nothing new"
    time.sleep(0.3)
    assert len([m for m in standin.messages(bot.announce) if "matched no rule" in (m.get("text") or "")]) == 1

    # Someone in no incident channel at all presses Declare: they declare it, and are invited.
    bot.slack.block_action(OUTSIDER, "alerts_declare", channel=bot.announce, message_ts=post_["ts"])
    incident_id = wait_until(lambda: _incident_titled(bot, "p95 query time over 400ms"))
    incident = bot.wait_for_incident(incident_id, lambda i: i.header_ts is not None)
    assert (incident.severity, incident.declared_by, incident.declared_via) == ("P3", OUTSIDER, "button")
    assert OUTSIDER in standin.channel(incident.channel_id)["members"]
    assert milestones_of(bot.db, incident.id)["started"].source == "alert"
    posted(standin, incident.channel_id, "1 alert firing")
    # A second press finds it declared; the group's next notification joins it.
    bot.slack.block_action(KEN, "alerts_declare", channel=bot.announce, message_ts=post_["ts"])
    wait_until(lambda: [r for r in standin.responses() + standin.ephemerals(user_id=KEN)
                        if "already have an open incident" in (r.get("text") or "")])
    again = alertmanager_alert("SlowQueries", starts_at=now(), severity="warning", summary="p95 query time over 400ms",
                               instance="replica")
    assert send(bot, alertmanager_notification(group, [warning, again]))[1] == {
        "ok": True, "result": "added", "incident": incident.id}


def _incident_titled(bot, title: str) -> int | None:
    with bot.db.session() as session:
        return session.scalar(select(Incident.id).where(Incident.title == title))


# --- several at once ---------------------------------------------------------------------------


def test_two_instances_given_the_same_notification_at_once_declare_once(alerting, bots):
    first = alerting
    second = bots(ALERT_WEBHOOK_TOKEN=TOKEN, PAGERDUTY_WEBHOOK_SECRET=PD_SECRET,
                  INCIDENT_ANNOUNCE_CHANNEL=first.announce, LOG_LEVEL="INFO")
    assert second is not first
    group = unique('{}:{alertname="Race"}/')
    alerts = [alertmanager_alert("Race", starts_at=now() - timedelta(minutes=1), summary=f"Race {group}", instance=str(n))
              for n in range(3)]
    payload = alertmanager_notification(group, alerts)
    answers: list = []
    gate = threading.Barrier(8)

    def deliver(bot):
        gate.wait()
        answers.append(send(bot, payload))

    threads = [threading.Thread(target=deliver, args=(bot,)) for bot in (first, second) * 4]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(status == 200 for status, _ in answers), answers
    results = sorted(body["result"] for _, body in answers)
    assert results.count("declared") == 1 and results.count("nothing new") == 7, results
    incident_id = next(body["incident"] for _, body in answers if body["result"] == "declared")
    with first.db.session() as session:
        assert session.scalar(select(func.count()).select_from(Incident).where(Incident.title == f"Race {group}")) == 1
    assert len(first.entries(incident_id, "alert")) == 3 and len(first.entries(incident_id, "declared")) == 1
    first.wait_for_incident(incident_id, lambda i: i.header_ts is not None)


# --- ALERT_RULES -------------------------------------------------------------------------------


def _alert(**labels) -> Alert:
    return Alert("f" + "".join(labels.values()), "firing", labels.get("alertname", "A"), now(),
                 labels=tuple(sorted(labels.items())))


def test_alert_rules_pick_the_first_matching_rule_the_most_severe_severity_and_tags_from_labels():
    rules = parse_rules("""
        # payments pages at P1, the rest of the critical ones at P2
        team=payments, severity=critical|page -> P1 tags=service,team
        severity=critical -> P2 tags=service
        ; env=staging -> p4
    """)
    payments = _alert(alertname="Payments", team="payments", severity="page", service="Card Auth")
    other = _alert(alertname="Other", severity="critical", service="search")
    assert rules.declaration((other, payments)).severity == "P1"
    assert rules.declaration((other, payments)).tags == ("search", "card-auth", "payments")
    assert rules.declaration((_alert(env="staging"),)).severity == "P4"
    assert rules.declaration((_alert(severity="warning"),)) is None
    assert default_rules().declaration((_alert(severity="critical"),)).severity == "P1"
    assert default_rules().declaration((_alert(urgency="high"),)).severity == "P2"
    assert parse_rules("* -> P3").declaration((_alert(anything="x"),)).severity == "P3"
    for bad in ("severity=critical", "severity=critical -> P7", "9x=1 -> P1", "a=b -> P1 tag=x", "  # only a comment"):
        with pytest.raises(RulesError):
            parse_rules(bad)


@pytest.mark.parametrize("env, variable", [
    ({"ALERT_RULES": "severity=critical => P1"}, "ALERT_RULES"),
    ({"ALERT_RULES": "@/no/such/rules/file"}, "ALERT_RULES"),
    ({"ALERT_WEBHOOK_TOKEN": "short"}, "ALERT_WEBHOOK_TOKEN"),
    ({"PAGERDUTY_WEBHOOK_SECRET": "has a space in it"}, "PAGERDUTY_WEBHOOK_SECRET"),
])
def test_a_malformed_alert_setting_stops_start_up_with_one_line_naming_it(env, variable):
    with pytest.raises(ConfigError) as refused:
        Settings.from_env({"DATABASE_URL": "sqlite://", **env}, need_slack=False)
    assert str(refused.value).startswith(variable) and "\n" not in str(refused.value)


def test_alert_rules_can_live_in_a_file(tmp_path):
    rules = tmp_path / "alert-rules"
    rules.write_text("service=checkout -> P1\n* -> P4\n", encoding="utf-8")
    settings = Settings.from_env({"DATABASE_URL": "sqlite://", "ALERT_RULES": f"@{rules}"}, need_slack=False)
    assert settings.alert_rules.declaration((_alert(service="checkout"),)).severity == "P1"
    assert settings.alert_rules.declaration((_alert(service="search"),)).severity == "P4"
