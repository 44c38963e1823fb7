"""Events arrive out of order, late and twice; the record is what their own timestamps say.

Slack delivers events concurrently and retries them late, so an edit or a
deletion can arrive before the message, a reaction's removal before its
addition, an old retry after newer events, and two edits newest first. One
incident's worth of events is built once in the order things happened in
Slack (so every `ts`, `edited.ts` and `event_ts` increases with real time),
then delivered in many shuffled orders, each to a fresh incident: the stored
timeline, the reaction marks and the milestones must be exactly what in-order
delivery gives.
"""

from __future__ import annotations

import random
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import pytest
from sqlalchemy import select

from bot.domain.lifecycle import milestones as milestones_now
from storage.incident_store import SqlIncidentStore, incident_record
from bot.domain.times import from_slack_ts
from storage.models import Incident, ReactionMark
from tests.conftest import ANA, KEN, LEE, MIN
from tests.support.incident_cleanup import resolve_what_the_test_opened  # noqa: F401  (autouse)

SEEDS = range(15)


@dataclass
class Delivery:
    """One event as Slack would deliver it, with its own event_id (a retry reuses it)."""

    name: str
    event: dict
    event_id: str
    retry_num: int | None = None


@dataclass
class Scenario:
    incident: Incident
    deliveries: list[Delivery]
    labels: dict[str, str] = field(default_factory=dict)  # Slack ts -> a name the same in every scenario

    def label(self, ts: str | None) -> str | None:
        return None if ts is None else self.labels.get(ts, f"unknown ts {ts}")


def build_scenario(bot, standin, title: str) -> Scenario:
    """A small incident, happening in Slack in this order; returns the events it produced, in that order."""
    incident = bot.declare(title)
    channel = incident.channel_id
    scenario = Scenario(incident, [])
    run = title.replace(" ", "")[-12:]

    def post(label: str, user: str, text: str, thread_ts: str | None = None) -> str:
        message = standin.post_human_message(channel, user, text, thread_ts=thread_ts)
        scenario.labels[message["ts"]] = label
        happened(f"message {label}", bot.slack.message_event(message, channel))
        return message["ts"]

    def happened(name: str, event: dict) -> None:
        scenario.labels.setdefault(event["event_ts"], name)  # a message's event_ts is its own ts, already named
        edited = (event.get("message") or {}).get("edited")
        if edited:
            scenario.labels[edited["ts"]] = name
        scenario.deliveries.append(Delivery(name, event, f"Ev0{run}{len(scenario.deliveries):03d}"))

    def react(user: str, ts: str, emoji: str, added: bool = True) -> None:
        build = bot.slack.reaction_added if added else bot.slack.reaction_removed
        event_ts = standin.next_ts()  # when the person clicked: later than everything before it
        verb = "add" if added else "remove"
        name = f"{verb} {emoji} by {user} on {scenario.labels[ts]}"
        happened(name, build(user, channel, ts, emoji, event_ts=event_ts))

    def edit(ts: str, text: str, user: str) -> None:
        happened(f"edit {scenario.labels[ts]} to {text!r}", bot.slack.message_changed(channel, ts, text, user))

    def delete(ts: str) -> None:
        happened(f"delete {scenario.labels[ts]}", bot.slack.message_deleted(channel, ts))

    alert = post("alert", ANA, "PagerDuty: p99 latency 4s on checkout <!here>")
    looking = post("looking", KEN, "looking")
    react(KEN, alert, "rotating_light")  # detected: the alert
    cause = post("cause", MIN, "it's the cache: hit rate 12%", thread_ts=alert)
    edit(looking, "looking at the cache", KEN)
    react(LEE, looking, "rotating_light")  # a later detected mark wins, until it is taken back below
    react(KEN, looking, "sparkles")  # a mark that sets no milestone
    rollback = post("rollback", LEE, "rolled back to v41")
    oops = post("oops", ANA, "wrong channel, sorry")
    react(KEN, oops, "sparkles")  # a mark on a message about to be deleted
    edit(looking, "looking at the cache cluster", KEN)  # the second edit of the same message
    react(LEE, looking, "rotating_light", added=False)  # taken back: detected falls back to the alert
    react(KEN, rollback, "adhesive_bandage")  # mitigated: the rollback
    react(MIN, cause, "sparkles")
    delete(oops)
    react(LEE, cause, "adhesive_bandage")  # a later mitigated mark wins, until it is taken back below
    react(MIN, cause, "sparkles", added=False)  # removed, then added again by the same person
    react(LEE, cause, "adhesive_bandage", added=False)  # taken back: mitigated falls back to the rollback
    react(MIN, cause, "sparkles")
    react(KEN, looking, "sparkles", added=False)  # removed and never re-added
    edit(rollback, "rolled back to v41; errors dropping", LEE)
    return scenario


def deliver(bot, deliveries: list[Delivery]) -> None:
    for delivery in deliveries:
        reason = "http_timeout" if delivery.retry_num else None
        bot.event(delivery.event, event_id=delivery.event_id, retry_num=delivery.retry_num, retry_reason=reason)


def with_retries(deliveries: list[Delivery], rng: random.Random) -> list[Delivery]:
    """Slack retries some events (same event_id, X-Slack-Retry-Num), possibly after newer ones."""
    retried = rng.sample(deliveries, k=6)
    return deliveries + [Delivery(d.name, d.event, d.event_id, retry_num=rng.randint(1, 3)) for d in retried]


def outcome(bot, scenario: Scenario) -> dict:
    """What was stored, with every Slack timestamp replaced by the name of what it stands for."""
    incident_id = scenario.incident.id
    entries = sorted(
        (
            scenario.label(e.ts),
            e.deleted,
            e.text,
            None if e.deleted else e.author_id,
            None if e.deleted else scenario.label(e.thread_ts),
            None if e.deleted else scenario.label(e.edited_ts),
            e.files,
        )
        for e in bot.entries(incident_id, "message", include_deleted=True)
    )
    with bot.db.session() as session:
        incident = session.get(Incident, incident_id)
        marks = sorted(
            (scenario.label(m.message_ts), m.emoji, m.user_id, m.mark, m.active, scenario.label(m.event_ts))
            for m in session.scalars(select(ReactionMark).where(ReactionMark.incident_id == incident_id))
        )
        milestones = {}
        for name, value in milestones_now(SqlIncidentStore(session), incident_record(incident)).items():
            if value.at is None:
                at = None
            elif value.at == incident.declared_at:
                at = "declared"
            else:
                at = next((label for ts, label in scenario.labels.items() if from_slack_ts(ts) == value.at), value.at)
            milestones[name] = (at, value.source)
        status = incident.status
    return {"entries": entries, "marks": marks, "milestones": milestones, "status": status}


@pytest.fixture
def in_order(bot, standin) -> dict:
    scenario = build_scenario(bot, standin, "Latency in order")
    deliver(bot, scenario.deliveries)
    return outcome(bot, scenario)


def test_in_order_delivery_records_what_happened(in_order):
    """The reference itself, spelled out: edits applied, the deletion a tombstone, marks per person."""
    assert in_order["entries"] == [
        ("alert", False, "PagerDuty: p99 latency 4s on checkout <!here>", ANA, None, None, None),
        ("cause", False, "it's the cache: hit rate 12%", MIN, "alert", None, None),
        ("looking", False, "looking at the cache cluster", KEN, None,
         "edit looking to 'looking at the cache cluster'", None),
        ("oops", True, "", None, None, None, None),
        ("rollback", False, "rolled back to v41; errors dropping", LEE, None,
         "edit rollback to 'rolled back to v41; errors dropping'", None),
    ]
    active = [(m[0], m[1], m[2]) for m in in_order["marks"] if m[4]]
    assert active == [
        ("alert", "rotating_light", KEN),
        ("cause", "sparkles", MIN),
        ("oops", "sparkles", KEN),
        ("rollback", "adhesive_bandage", KEN),
    ]
    assert in_order["milestones"]["detected"] == ("alert", "reaction")
    assert in_order["milestones"]["mitigated"] == ("rollback", "reaction")
    assert in_order["milestones"]["started"] == ("declared", "declaration")
    assert in_order["milestones"]["resolved"] == (None, None)
    assert in_order["status"] == "investigating"


@pytest.mark.parametrize("seed", SEEDS)
def test_any_arrival_order_gives_the_in_order_record(bot, standin, in_order, seed):
    rng = random.Random(seed)
    scenario = build_scenario(bot, standin, f"Latency shuffled {seed}")
    deliveries = with_retries(scenario.deliveries, rng)
    rng.shuffle(deliveries)
    deliver(bot, deliveries)
    assert outcome(bot, scenario) == in_order, "arrival order: " + " | ".join(
        d.name + (f" (retry {d.retry_num})" if d.retry_num else "") for d in deliveries
    )


def test_reverse_order_gives_the_in_order_record(bot, standin, in_order):
    """Everything newest first: deletion before the message, removals before additions, edits newest first."""
    scenario = build_scenario(bot, standin, "Latency reversed")
    deliver(bot, list(reversed(scenario.deliveries)))
    assert outcome(bot, scenario) == in_order


@pytest.mark.parametrize("round_", range(3))
def test_concurrent_delivery_gives_the_in_order_record(bot, standin, in_order, round_):
    """Slack sends events in parallel: all of them (and their retries) at once, on many connections."""
    rng = random.Random(1000 + round_)
    scenario = build_scenario(bot, standin, f"Latency concurrent {round_}")
    deliveries = with_retries(scenario.deliveries, rng)
    rng.shuffle(deliveries)
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda d: deliver(bot, [d]), deliveries))
    assert outcome(bot, scenario) == in_order


def test_a_message_fetched_for_an_early_reaction_keeps_its_edit_time(bot, standin):
    """A reaction arrives first, so the bot fetches the message from Slack, already edited twice.

    The first edit's event then arrives late, and the second edit's event never does
    (Slack gives up after three retries): the record must keep what Slack showed.
    """
    incident = bot.declare("Fetched edited message")
    channel = incident.channel_id
    message = standin.post_human_message(channel, KEN, "disk at 90%")
    first_edit = bot.slack.message_changed(channel, message["ts"], "disk at 95%", KEN)
    bot.slack.message_changed(channel, message["ts"], "disk at 100% on db-3", KEN)  # never delivered
    bot.event(bot.slack.reaction_added(ANA, channel, message["ts"], "pushpin"))
    bot.event(first_edit)
    bot.event(bot.slack.message_event(message, channel))  # and the original message, late too
    [entry] = bot.entries(incident.id, "message")
    assert entry.text == "disk at 100% on db-3"


@pytest.mark.parametrize("round_", range(6))
def test_many_edits_and_a_deletion_delivered_at_once_keep_the_newest(bot, standin, round_):
    """Eight edits of one message (and, every other round, its deletion) all in flight together.

    Each must see what the others committed: the newest edit wins, and a deletion leaves
    no text behind even when an older edit was being applied beside it.
    """
    incident = bot.declare(f"Edit storm {round_}")
    channel = incident.channel_id
    message = bot.say(incident, KEN, "v0")
    events = [bot.slack.message_changed(channel, message["ts"], f"v{k}", KEN) for k in range(1, 9)]
    deleted = round_ % 2 == 1
    if deleted:
        events.append(bot.slack.message_deleted(channel, message["ts"]))
    random.Random(round_).shuffle(events)
    with ThreadPoolExecutor(max_workers=len(events)) as pool:
        list(pool.map(bot.event, events))
    [entry] = bot.entries(incident.id, "message", include_deleted=True)
    assert (entry.deleted, entry.text) == ((True, "") if deleted else (False, "v8"))
