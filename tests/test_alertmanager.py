"""The real Prometheus Alertmanager drives the bot: alerts posted to Alertmanager's own API reach the
bot's /alerts/alertmanager through Alertmanager's webhook receiver (bearer token, short group timings).

Watched in the Slack stand-in and the record, on SQLite and PostgreSQL: the first notification
declares, further alerts join the same incident, Alertmanager's retry of a notification whose answer
was lost and its repeat notifications add nothing, and the resolution arrives as "alert resolved"
entries with the offer to mark the incident mitigated.

Needs the Debian package prometheus-alertmanager (scripts/test installs it when missing and it can;
CI does); without it these tests skip and say so.
"""

from __future__ import annotations

import json
import secrets
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from storage.models import AlertGroup, Incident
from tests.conftest import ANA, wait_until
from tests.support import alertmanager
from tests.support.alert_senders import rfc3339
from tests.support.records import milestones_of

TOKEN = "alertmanager-test-token-0123456789"


@pytest.fixture
def alertmanager_binary() -> str:
    found = alertmanager.binary()
    if found is None:
        pytest.skip("prometheus-alertmanager is not installed: scripts/test installs the Debian package when it runs "
                    "as root with apt (CI does); or `apt-get install prometheus-alertmanager`")
    return found


@pytest.fixture
def bot_behind_alertmanager(alertmanager_binary, bots, standin, tmp_path):
    announce = standin.create_channel(f"am-{secrets.token_hex(3)}", members=["UBOT"])
    bot = bots(ALERT_WEBHOOK_TOKEN=TOKEN, INCIDENT_ANNOUNCE_CHANNEL=announce)
    relay = alertmanager.Relay(bot.url.rsplit("/slack/events", 1)[0] + "/alerts/alertmanager")
    manager = alertmanager.Alertmanager(tmp_path, relay.url, TOKEN).wait_ready()
    yield bot, manager, relay
    manager.stop()
    relay.stop()
    with bot.db.session() as session:
        opened = list(session.scalars(select(Incident).where(Incident.declared_via == "alert", Incident.status != "resolved")))
    for incident in opened:
        if incident.channel_id:
            bot.command(ANA, "status resolved", channel=incident.channel_id)


def _alert(name: str, instance: str, starts_at: datetime, ends_at: datetime | None = None) -> dict:
    """An alert as Prometheus posts it to Alertmanager's API."""
    alert = {
        "labels": {"alertname": name, "severity": "critical", "service": "payments", "instance": instance},
        "annotations": {"summary": f"{name}: payments API returns 503"},
        "startsAt": rfc3339(starts_at),
        "generatorURL": f"http://prometheus.example.org:9090/graph?g0.expr=up%7Bjob%3D%22{name}%22%7D",
    }
    if ends_at is not None:
        alert["endsAt"] = rfc3339(ends_at)
    return alert


def _firing(delivery) -> set[str]:
    return {a["labels"]["instance"] for a in delivery.body["alerts"] if a["status"] == "firing"}


def test_the_real_alertmanager_declares_joins_and_resolves_and_its_retries_and_repeats_stay_single(
    bot_behind_alertmanager, standin
):
    bot, manager, relay = bot_behind_alertmanager
    name = f"PaymentsDown{secrets.token_hex(3)}"
    title = f"{name}: payments API returns 503"
    now = datetime.now(timezone.utc)
    first, second = now - timedelta(minutes=6), now - timedelta(minutes=2)

    # The first notification is stored, but its answer is lost: Alertmanager sends it again.
    relay.fail_after_forwarding(1)
    manager.post_alerts([_alert(name, "a", first), _alert(name, "b", second)])
    incident_id = wait_until(lambda: _incident_titled(bot, title), timeout=20, message="no incident was declared")
    incident = bot.wait_for_incident(incident_id, lambda i: i.header_ts is not None)
    assert (incident.severity, incident.declared_via, incident.status) == ("P1", "alert", "investigating")
    retried = wait_until(lambda: [d for d in relay.seen() if d.status == 200], timeout=20,
                         message=f"Alertmanager never retried:\n{manager.log()[-3000:]}")
    assert relay.seen()[0].status == 500 and _firing(relay.seen()[0]) == _firing(retried[0]) == {"a", "b"}
    milestones = milestones_of(bot.db, incident_id)
    assert (milestones["started"].at, milestones["started"].source) == (first, "alert")
    assert milestones["detected"].source == "alert" and milestones["detected"].at >= now
    header = json.dumps(standin.message(incident.channel_id, incident.header_ts)["blocks"])
    assert f"|{name}>" in header and "prometheus.example.org:9090/graph" in header

    # Nothing changes; Alertmanager repeats the notification after repeat_interval: nothing is added.
    wait_until(lambda: len([d for d in relay.seen() if _firing(d) == {"a", "b"}]) >= 3, timeout=20,
               message="no repeat notification came")
    assert len(bot.entries(incident_id, "alert")) == 2

    # A third alert of the group joins the incident.
    third = datetime.now(timezone.utc)
    manager.post_alerts([_alert(name, "c", third)])
    wait_until(lambda: len(bot.entries(incident_id, "alert")) == 3, timeout=20, message="the new alert never joined")
    wait_until(lambda: [m for m in standin.messages(incident.channel_id) if "1 alert firing" in (m.get("text") or "")])

    # Everything resolves: an entry per alert, and people are offered to mark it mitigated.
    ended = datetime.now(timezone.utc)
    manager.post_alerts([_alert(name, i, start, ended) for i, start in (("a", first), ("b", second), ("c", third))])
    wait_until(lambda: len(bot.entries(incident_id, "alert_resolved")) == 3, timeout=20,
               message=f"the resolution never arrived:\n{manager.log()[-3000:]}")
    offer = wait_until(lambda: [m for m in standin.messages(incident.channel_id) if "Mark mitigated" in json.dumps(m)])
    assert len(offer) == 1 and bot.incident(incident_id).status == "investigating"

    # Everything Alertmanager sent, first try, retry and repeats, made one incident with one entry per event.
    assert all(d.authorization == f"Bearer {TOKEN}" for d in relay.seen())
    assert len({d.body["groupKey"] for d in relay.seen()}) == 1
    assert len(relay.seen()) >= 5
    kinds = [e.kind for e in bot.entries(incident_id)]
    assert kinds.count("alert") == 3 and kinds.count("alert_resolved") == 3 and kinds.count("declared") == 1
    with bot.db.session() as session:
        assert session.scalar(select(func.count()).select_from(Incident).where(Incident.title == title)) == 1
        group = session.scalars(select(AlertGroup).where(AlertGroup.group_key == relay.seen()[0].body["groupKey"])).one()
        assert group.incident_id == incident_id


def _incident_titled(bot, title: str) -> int | None:
    with bot.db.session() as session:
        return session.scalar(select(Incident.id).where(Incident.title == title))

