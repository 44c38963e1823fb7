"""Real `python app.py` processes: several instances on one database, and a crash mid-stream.

Nothing lost, nothing duplicated:
- two instances fed the same events at once (each event to both, some as Slack's retries,
  edits and reactions racing the messages they touch) keep exactly what one instance keeps
  from the same events sent once, in order;
- an instance killed with SIGKILL in the middle of a stream has committed every event it
  acknowledged, and redelivering the rest to a new process (as Slack retries what got no 200)
  leaves every message in the timeline exactly once.

Each test prints its figures (events sent, kept, duplicates, lost) so they can be quoted; run
with `-s` to see them.
"""

from __future__ import annotations

import json
import os
import random
import re
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from http.client import HTTPException
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.config import Settings
from bot.domain.lifecycle import milestones as milestones_now
from storage.incident_store import SqlIncidentStore, incident_record
from bot.domain.times import from_slack_ts
from storage.db import Database
from storage.models import Incident, ReactionMark, TimelineEntry
from tests.support import app_processes
from tests.conftest import ANA, BOT_TOKEN, KEN, LEE, MIN, SIGNING_SECRET
from tests.support.slack_requests import SlackRequests, random_id

PEOPLE = (ANA, KEN, MIN, LEE)
# Marks that set no milestone and marks that do (detected, identified); never `resolved`,
# which would end the incident in the middle of the stream.
EMOJI = ("pushpin", "sparkles", "warning", "rotating_light", "mag")
CONNECTIONS = 16  # concurrent deliveries to the two instances (each serves 8 threads)


# --- real processes ----------------------------------------------------------------------------


class AppProcess(app_processes.AppProcess):
    """`python app.py` in HTTP mode on a free port, with signed Slack requests to it."""

    def __init__(self, name: str, standin, database_url: str, log_dir: Path):
        env = dict(SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_SIGNING_SECRET=SIGNING_SECRET, SLACK_API_URL=standin.base_url,
                   DATABASE_URL=database_url, SCHEDULER="external")
        super().__init__(name, env, log_dir / f"{name}.log")
        self.slack = SlackRequests(self.base + "/slack/events", SIGNING_SECRET, standin)

    def declare(self, title: str, db: Database) -> Incident:
        status, _, body = self.slack.slash_command(ANA, f"start P2 {title}")
        assert status == 200, (status, body)
        found = re.search(r"Declared incident #(\d+)", body)
        assert found, body
        incident_id = int(found.group(1))
        deadline = time.monotonic() + 15
        while True:
            with db.session() as session:
                incident = session.get(Incident, incident_id)
            if incident is not None and incident.header_ts is not None:
                return incident
            assert time.monotonic() < deadline, f"incident {incident_id} never got its channel:\n{self.log()}"
            time.sleep(0.05)


def _database(database_url: str) -> Database:
    return Database(Settings.from_env({"DATABASE_URL": database_url}, need_slack=False).database_url)


def _problems_in(log: str) -> list[str]:
    """Lines of a process log that say something went wrong (errors, tracebacks, lock trouble)."""
    markers = ("Traceback", " ERROR ", "[ERROR]", "database is locked", "deadlock", "Exception", "CRITICAL")
    return [line for line in log.splitlines() if any(m in line for m in markers)]


@dataclass
class Sent:
    """What became of one HTTP delivery."""

    status: int | None  # None: no response (connection refused or reset)
    error: str = ""


def send(slack: SlackRequests, event: dict, event_id: str, retry_num: int | None = None) -> Sent:
    reason = "http_timeout" if retry_num else None
    try:
        status, _, body = slack.event(event, event_id=event_id, retry_num=retry_num, retry_reason=reason)
    except (urllib.error.URLError, ConnectionError, HTTPException, OSError) as error:
        return Sent(None, f"{type(error).__name__}: {error}")
    return Sent(status, "" if status == 200 else body[:200])


# --- a channel's worth of events -----------------------------------------------------------------


@dataclass
class Event:
    kind: str  # message | edit | reaction
    label: str  # the same in every script built from one seed
    event: dict
    event_id: str


@dataclass
class Script:
    """Events in the order they happened in Slack, and what they should leave behind."""

    incident: Incident
    events: list[Event] = field(default_factory=list)
    labels: dict[str, str] = field(default_factory=dict)  # Slack ts -> label
    texts: dict[str, str] = field(default_factory=dict)  # message label -> its newest text
    marks: dict[tuple[str, str, str], bool] = field(default_factory=dict)  # (message label, emoji, user) -> active

    def label(self, ts: str | None) -> str | None:
        return None if ts is None else self.labels.get(ts, f"unknown ts {ts}")


def build_script(standin, slack: SlackRequests, incident: Incident, seed: int, messages: int) -> Script:
    """`messages` messages (some in threads), edits of some, reactions added and removed on some.

    Everything happens in the stand-in first, as in Slack, so every ts, edited.ts and event_ts
    grows with the order here; the same seed gives the same script in any channel.
    """
    rng = random.Random(seed)
    channel = incident.channel_id
    script = Script(incident)
    posted: list[tuple[str, str, str]] = []  # (label, ts, author)
    top_level: list[str] = []  # ts of messages a thread can start under
    edits: Counter = Counter()
    reactions = 0

    def happened(kind: str, label: str, event: dict) -> None:
        script.events.append(Event(kind, label, event, "Ev0" + random_id(9)))

    while len(posted) < messages or rng.random() < 0.5:
        roll = rng.random()
        if len(posted) < messages and (roll < 0.55 or len(posted) < 5):
            label = f"m{len(posted):03d}"
            user = rng.choice(PEOPLE)
            thread_ts = rng.choice(top_level) if top_level and rng.random() < 0.2 else None
            text = f"[{label}] {rng.choice(['checking', 'deploy', 'db', 'cache', 'rollback'])} {rng.randint(1, 999)}"
            message = standin.post_human_message(channel, user, text, thread_ts=thread_ts)
            script.labels[message["ts"]] = label
            script.texts[label] = text
            posted.append((label, message["ts"], user))
            if thread_ts is None:
                top_level.append(message["ts"])
            happened("message", label, slack.message_event(message, channel))
        elif roll < 0.75:
            label, ts, author = rng.choice(posted)
            edits[label] += 1
            text = f"[{label}] edit {edits[label]}: {rng.choice(['found it', 'not it', 'still 502', 'fixed'])}"
            event = slack.message_changed(channel, ts, text, author)
            script.labels[event["message"]["edited"]["ts"]] = f"{label}/edit{edits[label]}"
            script.texts[label] = text
            happened("edit", f"{label}/edit{edits[label]}", event)
        else:
            active = [key for key, on in script.marks.items() if on]
            if active and rng.random() < 0.3:  # take a mark back, often soon after it was made
                label, emoji, user = rng.choice(active[-8:])
                ts = next(p[1] for p in posted if p[0] == label)
            else:
                label, ts, _author = rng.choice(posted)
                emoji, user = rng.choice(EMOJI), rng.choice(PEOPLE)
            added = not script.marks.get((label, emoji, user), False)
            build = slack.reaction_added if added else slack.reaction_removed
            event = build(user, channel, ts, emoji)
            reactions += 1
            script.labels[event["event_ts"]] = f"r{reactions:03d}"
            script.marks[(label, emoji, user)] = added
            happened("reaction", f"r{reactions:03d}", event)
    return script


def outcome(db: Database, script: Script) -> dict:
    """What is stored, every Slack timestamp replaced by its label: comparable across channels."""
    incident_id = script.incident.id
    with db.session() as session:
        entries = sorted(
            (script.label(e.ts), e.deleted, e.text, e.author_id, script.label(e.thread_ts), script.label(e.edited_ts))
            for e in session.scalars(
                select(TimelineEntry).where(TimelineEntry.incident_id == incident_id, TimelineEntry.kind == "message")
            )
        )
        marks = sorted(
            (script.label(m.message_ts), m.emoji, m.user_id, m.mark, m.active, script.label(m.event_ts))
            for m in session.scalars(select(ReactionMark).where(ReactionMark.incident_id == incident_id))
        )
        incident = session.get(Incident, incident_id)
        milestones = {}
        for name, value in milestones_now(SqlIncidentStore(session), incident_record(incident)).items():
            at = value.at
            if at is not None:
                at = "declared" if at == incident.declared_at else next(
                    (lbl for ts, lbl in script.labels.items() if from_slack_ts(ts) == at), at
                )
            milestones[name] = (at, value.source)
        status = incident.status
    return {"entries": entries, "marks": marks, "milestones": milestones, "status": status}


def figures(script: Script, result: dict) -> dict:
    """Kept, duplicates, lost and stale against what the script says should be there."""
    kept = [e for e in result["entries"] if not e[1]]
    by_label = Counter(e[0] for e in kept)
    by_text = Counter(e[2] for e in kept)
    texts = {e[0]: e[2] for e in kept}
    active = {(m[0], m[1], m[2]) for m in result["marks"] if m[4]}
    expected_active = {key for key, on in script.marks.items() if on}
    return {
        "kept": len(kept),
        "duplicates": sum(n - 1 for n in by_label.values()) + sum(n - 1 for n in by_text.values()),
        "lost": len(set(script.texts) - set(by_label)),
        "unexpected": len(set(by_label) - set(script.texts)),
        "wrong_text": sum(1 for label, text in script.texts.items() if label in texts and texts[label] != text),
        "wrong_marks": len(active ^ expected_active),
        "active_marks": len(active),
    }


# --- 1. several instances --------------------------------------------------------------------------


def test_two_instances_fed_the_same_events_at_once_keep_what_one_keeps_in_order(standin, database_url, tmp_path):
    started = time.monotonic()
    db = _database(database_url)
    a = AppProcess("instance-a", standin, database_url, tmp_path)
    b = AppProcess("instance-b", standin, database_url, tmp_path)
    try:
        a.wait_ready()
        b.wait_ready()
        seed, messages = int(os.environ.get("INSTANCES_SEED", "20261122")), 300

        # The reference: one instance, every event once, in the order it happened.
        reference_incident = a.declare("Instances reference", db)
        reference = build_script(standin, a.slack, reference_incident, seed, messages)
        for e in reference.events:
            sent = send(a.slack, e.event, e.event_id)
            assert sent.status == 200, (e.label, sent)
        expected = outcome(db, reference)

        # The same events in another channel, each delivered to both instances at once: a few as
        # Slack's retries (X-Slack-Retry-Num), some a third time, in a locally shuffled order so
        # edits race their message and reactions race edits.
        incident = b.declare("Instances concurrent", db)
        script = build_script(standin, b.slack, incident, seed, messages)
        assert [e.label for e in script.events] == [e.label for e in reference.events]
        rng = random.Random(seed)
        deliveries = []
        for i, e in enumerate(script.events):
            first, second = (a, b) if rng.random() < 0.5 else (b, a)
            deliveries.append((i + rng.uniform(0, 8), first, e, None))
            deliveries.append((i + rng.uniform(0, 8), second, e, 1 if rng.random() < 0.3 else None))
            if rng.random() < 0.1:
                deliveries.append((i + rng.uniform(4, 16), rng.choice((a, b)), e, 2))
        deliveries.sort(key=lambda d: d[0])

        def deliver(delivery) -> tuple:
            _, process, e, retry = delivery
            return process.name, e.label, retry, send(process.slack, e.event, e.event_id, retry)

        fetches_before = len(standin.calls("conversations.history"))
        concurrent_started = time.monotonic()
        with ThreadPoolExecutor(max_workers=CONNECTIONS) as pool:
            results = list(pool.map(deliver, deliveries))
        concurrent_seconds = time.monotonic() - concurrent_started
        got = outcome(db, script)
        # A reaction that reached an instance before its message did makes it fetch the message from Slack.
        early_reactions = sum(
            1 for c in standin.calls("conversations.history")[fetches_before:] if c.args.get("channel") == incident.channel_id
        )

        failed = [r for r in results if r[3].status != 200]
        kinds = Counter(e.kind for e in script.events)
        numbers = figures(script, got)
        print(
            f"\n[{database_url.split(':', 1)[0]}] two instances, one database: "
            f"{len(script.events)} events ({kinds['message']} messages, {kinds['edit']} edits, "
            f"{kinds['reaction']} reaction adds/removes) sent as {len(deliveries)} deliveries "
            f"({sum(1 for d in deliveries if d[3])} as retries) in {concurrent_seconds:.1f}s on {CONNECTIONS} connections "
            f"({early_reactions} reactions got ahead of their message); "
            f"non-200 answers: {len(failed)}; messages kept {numbers['kept']} of {len(script.texts)}, "
            f"duplicates {numbers['duplicates']}, lost {numbers['lost']}, unexpected {numbers['unexpected']}, "
            f"stale edits {numbers['wrong_text']}, wrong marks {numbers['wrong_marks']} "
            f"(active marks {numbers['active_marks']}); equal to the in-order single instance: {got == expected}"
        )
        assert not failed, (failed[:10], a.log()[-3000:], b.log()[-3000:])
        # The reference itself keeps every message once, with its newest text and the right marks.
        reference_numbers = figures(reference, expected)
        assert reference_numbers == {**reference_numbers, "kept": messages, "duplicates": 0, "lost": 0,
                                     "unexpected": 0, "wrong_text": 0, "wrong_marks": 0}
        assert numbers["kept"] == len(script.texts) == messages
        assert numbers["duplicates"] == numbers["lost"] == numbers["unexpected"] == 0
        assert numbers["wrong_text"] == numbers["wrong_marks"] == 0
        assert got == expected
        for process in (a, b):
            assert _problems_in(process.log()) == [], process.log()
    finally:
        a.stop()
        b.stop()
        db.dispose()
        print(f"[{database_url.split(':', 1)[0]}] test took {time.monotonic() - started:.1f}s")


# --- 2. ack after commit, crash-safe --------------------------------------------------------------------


def test_an_instance_killed_mid_stream_loses_and_duplicates_nothing_once_slack_redelivers(standin, database_url, tmp_path):
    started = time.monotonic()
    db = _database(database_url)
    first = AppProcess("before-kill", standin, database_url, tmp_path)
    second = None
    try:
        first.wait_ready()
        incident = first.declare("Killed mid stream", db)
        channel = incident.channel_id
        total = 400
        events = []
        for n in range(total):
            message = standin.post_human_message(channel, PEOPLE[n % 4], f"crash stream message {n:03d}")
            events.append((message["ts"], message["text"], first.slack.message_event(message, channel), "Ev0" + random_id(9)))

        # Stream on eight connections; kill the process group once a third is acknowledged.
        acked = threading.Event()
        outcomes, streams = _start_stream(first.slack, events, acked)
        assert acked.wait(30), "the stream never got going"
        first.kill()
        for thread in streams:
            thread.join(60)
        assert len(outcomes) == total

        acked_before = {n for n, s in outcomes.items() if s.status == 200}
        not_acked = sorted(set(range(total)) - acked_before)
        refused = [outcomes[n] for n in not_acked]
        assert all(s.status is None for s in refused), [s for s in refused if s.status is not None][:5]

        committed = _stored_numbers(db, incident.id, events)
        # Ack after commit: every event that got its 200 is already in the database.
        assert acked_before <= committed, sorted(acked_before - committed)[:10]
        committed_unacked = committed - acked_before
        # Dropped: sent, then the connection died with the process; the rest found nothing listening.
        dropped = [n for n in not_acked if "refused" not in outcomes[n].error.lower()]

        # A new process on the same database; Slack redelivers what got no 200, as retry 1.
        second = AppProcess("after-kill", standin, database_url, tmp_path).wait_ready()
        redelivered = [send(second.slack, events[n][2], events[n][3], retry_num=1) for n in not_acked]
        assert all(s.status == 200 for s in redelivered), [s for s in redelivered if s.status != 200][:5]

        with db.session() as session:
            rows = list(session.scalars(
                select(TimelineEntry).where(TimelineEntry.incident_id == incident.id, TimelineEntry.kind == "message")
            ))
        by_ts = Counter(r.ts for r in rows)
        by_text = Counter(r.text for r in rows)
        expected = {ts: text for ts, text, *_ in events}
        duplicates = sum(n - 1 for n in by_ts.values()) + sum(n - 1 for n in by_text.values())
        lost = sorted(set(expected) - set(by_ts))
        wrong = [r.ts for r in rows if expected.get(r.ts) != r.text]
        print(
            f"\n[{database_url.split(':', 1)[0]}] SIGKILL mid-stream: sent {total}, acked before the kill "
            f"{len(acked_before)}, no answer {len(not_acked)} ({len(dropped)} dropped mid-request, "
            f"{len(committed_unacked)} of them committed but unacknowledged), redelivered {len(not_acked)} "
            f"(all 200), kept {len(rows)}, duplicates {duplicates}, lost {len(lost)}"
        )
        assert len(rows) == total and duplicates == 0 and not lost and not wrong
        assert _problems_in(second.log()) == [], second.log()
    finally:
        first.stop()
        if second is not None:
            second.stop()
        db.dispose()
        print(f"[{database_url.split(':', 1)[0]}] test took {time.monotonic() - started:.1f}s")


def _start_stream(slack, events: list, a_third: threading.Event, hold: tuple[int, threading.Event] | None = None,
                  pause: float = 0.0, connections: int = 8) -> tuple[dict[int, Sent], list[threading.Thread]]:
    """Send each of `events` (ts, text, event, event_id) once, on `connections` threads; `a_third` is set
    once a third of them got a 200. With `hold` (n, event), events from the n-th on wait for that event.
    Returns the outcomes, filled in as answers come, and the threads to join."""
    outcomes: dict[int, Sent] = {}
    lock = threading.Lock()
    queue = iter(range(len(events)))

    def stream() -> None:
        while True:
            with lock:
                n = next(queue, None)
            if n is None:
                return
            if hold is not None and n >= hold[0]:
                hold[1].wait(60)
            _ts, _text, event, event_id = events[n]
            sent = send(slack, event, event_id)
            with lock:
                outcomes[n] = sent
                if sum(1 for s in outcomes.values() if s.status == 200) >= len(events) // 3:
                    a_third.set()
            if pause:
                time.sleep(pause)

    threads = [threading.Thread(target=stream) for _ in range(connections)]
    for thread in threads:
        thread.start()
    return outcomes, threads


def _stored_numbers(db, incident_id: int, events: list) -> set[int]:
    """Which of `events` (by position) are in the incident's timeline now."""
    with db.session() as session:
        stored = set(session.scalars(select(TimelineEntry.ts).where(
            TimelineEntry.incident_id == incident_id, TimelineEntry.kind == "message")))
    index = {ts: n for n, (ts, *_rest) in enumerate(events)}
    return {index[ts] for ts in stored}


# --- 3. the database server crashes mid-stream (PostgreSQL) -----------------------------------------------


def test_a_postgresql_crash_mid_stream_loses_no_acked_message_and_the_app_carries_on(standin, database_url, tmp_path):
    """On a PostgreSQL server of the test's own: the server is crashed (`pg_ctl stop -m immediate`) and
    started again while messages stream. Every message acknowledged before, during or after is in
    the timeline once the server has recovered; what was refused is redelivered as Slack would,
    and the timeline ends with every message exactly once. Commands work again after the restart."""
    if not database_url.startswith("postgresql"):
        pytest.skip("a PostgreSQL server crash")
    from tests.support.private_postgresql import PrivatePostgreSQL, binaries

    if binaries() is None:
        pytest.skip("no PostgreSQL binaries to run a server of the test's own")
    started = time.monotonic()
    server = PrivatePostgreSQL()
    server.start()
    db = _database(server.url)
    app = None
    try:
        app = AppProcess("pg-crash", standin, server.url, tmp_path)
        app.wait_ready()
        incident = app.declare("Database crash mid stream", db)
        channel = incident.channel_id
        total = 600
        events = []
        for n in range(total):
            message = standin.post_human_message(channel, PEOPLE[n % 4], f"pg crash stream message {n:03d}")
            events.append((message["ts"], message["text"], app.slack.message_event(message, channel), "Ev0" + random_id(9)))

        a_third, restarted = threading.Event(), threading.Event()
        last_third = 2 * total // 3
        # A steady stream through the outage; the last third goes to the recovered server.
        outcomes, streams = _start_stream(app.slack, events, a_third, hold=(last_third, restarted), pause=0.005)
        assert a_third.wait(60), "the stream never got going"
        server.crash()
        time.sleep(1.0)
        server.start()
        restarted.set()
        for thread in streams:
            thread.join(120)
        assert len(outcomes) == total

        acked = {n for n, s in outcomes.items() if s.status == 200}
        refused = sorted(set(range(total)) - acked)
        committed = _stored_numbers(db, incident.id, events)
        # Acked means stored, through the crash.
        assert acked <= committed, sorted(acked - committed)[:10]
        acked_after_restart = sum(1 for n in acked if n >= last_third)

        # Slack redelivers what got no 200; the app, on connections made after the restart, takes it.
        redelivered = [send(app.slack, events[n][2], events[n][3], retry_num=1) for n in refused]
        assert all(s.status == 200 for s in redelivered), [s for s in redelivered if s.status != 200][:5]
        status, _, body = app.slack.slash_command(ANA, "update the database is back", channel=channel)
        assert status == 200, body
        # On pooled connections that were in use when the server went down: checked, not failed.
        assert "Recorded" in json.loads(body)["text"], body

        with db.session() as session:
            rows = list(session.scalars(select(TimelineEntry).where(
                TimelineEntry.incident_id == incident.id, TimelineEntry.kind == "message")))
        by_ts = Counter(r.ts for r in rows)
        expected = {ts: text for ts, text, *_ in events}
        duplicates = sum(n - 1 for n in by_ts.values())
        lost = sorted(set(expected) - set(by_ts))
        print(
            f"\n[postgresql] server crashed mid-stream: sent {total}, acked {len(acked)} "
            f"({acked_after_restart} of them after the restart), refused or unanswered {len(refused)} "
            f"({len(committed - acked)} of them committed anyway), redelivered {len(refused)} (all 200), "
            f"kept {len(rows)}, duplicates {duplicates}, lost {len(lost)}"
        )
        assert len(rows) == total and duplicates == 0 and not lost
        assert all(expected[r.ts] == r.text for r in rows)
        # Messages sent once the server is back are taken at once (connections made anew, not refused).
        assert acked_after_restart >= (total - last_third) * 0.9, acked_after_restart
    finally:
        if app is not None:
            app.stop()
        db.dispose()
        server.stop()
        print(f"[postgresql] test took {time.monotonic() - started:.1f}s")
