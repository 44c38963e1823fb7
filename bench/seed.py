"""Large incidents written straight into the database with bulk inserts, for the postmortem timings.

An incident of N entries looks like a long one from real life: ~97% channel messages (English
and Japanese, mentions, links, code, a few long summaries; 15% in threads, 1% with files, a few
deleted), the rest what the bot records (declaration, status changes, updates, notes, severity,
commander and roles, milestones, action items, a go/no-go deadline and decision), reaction marks
on ~3% of messages, milestone claims, action items and the people's names.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

from sqlalchemy import insert

from bench.texts import PEOPLE, text as random_text
from storage.db import Database
from storage.models import ActionItem, Incident, MilestoneClaim, Person, ReactionMark, RoleAssignment, TimelineEntry

CHUNK = 5_000
MARK_EMOJI = {
    "key_event": "pushpin", "went_well": "sparkles", "went_wrong": "warning", "lucky": "four_leaf_clover",
    "action_item": "memo", "detected": "rotating_light", "identified": "mag", "mitigated": "adhesive_bandage",
}
BOT_ENTRY_SHARE = 0.03


def _ts(at: datetime) -> str:
    us = int(at.timestamp() * 1_000_000)
    return f"{us // 1_000_000}.{us % 1_000_000:06d}"


def seed_incident(db: Database, entries: int, channel_id: str, channel_name: str, seed: int) -> int:
    """Insert an incident of `entries` timeline entries (resolved, six hours long); returns its id."""
    rng = random.Random(seed)
    users = list(PEOPLE)
    now = datetime.now(timezone.utc).replace(microsecond=0)
    started = now - timedelta(days=1)
    declared = started + timedelta(minutes=9)
    span = timedelta(hours=6)
    step = span / entries
    resolved = declared + span + timedelta(minutes=1)

    with db.session() as session:
        incident = Incident(
            title=f"決済APIが502を返す / checkout returns 502 ({entries:,} entries)",
            description="Checkout requests failed with 502 after deploy 2026.11.22-3 (<https://status.example.com|status page>).",
            impact="~18% of checkouts failed for 84 minutes; 決済の失敗 約3,200件",
            severity="P1",
            status="resolved",
            is_private=False,
            team_id="T0TEAM",
            declared_by="U0ANA",
            declared_at=declared,
            origin_channel_id="C0GENERAL",
            channel_id=channel_id,
            channel_name=channel_name,
            commander_id="U0KEN",
            postmortem_posted_at=resolved,
        )
        session.add(incident)
        session.flush()
        incident_id = incident.id
        session.add_all([
            RoleAssignment(incident_id=incident_id, role="comms", user_id="U0LEE"),
            RoleAssignment(incident_id=incident_id, role="scribe", user_id="U0SAT"),
            MilestoneClaim(incident_id=incident_id, milestone="started", at=started, source="command", set_by="U0ANA",
                           recorded_at=declared + timedelta(minutes=3)),
            MilestoneClaim(incident_id=incident_id, milestone="resolved", at=resolved, source="status", set_by="U0KEN",
                           recorded_at=resolved),
        ])
        for n in range(6):
            session.add(ActionItem(
                incident_id=incident_id, text=rng.choice((
                    "Alert on connection pool saturation for checkout-api",
                    "デプロイ前に接続プール設定の差分をレビューする",
                    "Canary should compare 5xx rate against baseline",
                    "Runbook: how to roll back checkout in under 5 minutes",
                )), owner_id=rng.choice(users), due_date=(now + timedelta(days=7 + n)).date(),
                klass=rng.choice(("prevent", "process", "mitigate", None)), status=rng.choice(("open", "done")),
                created_by="U0ANA", created_at=declared + span / 2,
            ))
        session.add_all(Person(user_id=u, name=name, updated_at=now) for u, name in PEOPLE.items()
                        if session.get(Person, u) is None)

    rows: list[dict] = []
    marks: list[dict] = []
    message_ts: list[str] = []
    milestone_marked: set[str] = set()

    def bot_entry(kind: str, at: datetime, actor: str, text: str = "", data: dict | None = None) -> dict:
        return dict(incident_id=incident_id, kind=kind, channel_id=None, ts=None, thread_ts=None, author_id=actor,
                    text=text, files=None, data=data, occurred_at=at, edited_ts=None, deleted=False, recorded_at=at)

    def flush(force: bool = False) -> None:
        if rows and (force or len(rows) >= CHUNK):
            with db.session() as session:
                session.execute(insert(TimelineEntry), rows)
            rows.clear()
        if marks and (force or len(marks) >= CHUNK):
            with db.session() as session:
                session.execute(insert(ReactionMark), marks)
            marks.clear()

    rows.append(bot_entry("declared", declared, "U0ANA", "決済APIが502を返す / checkout returns 502", {"severity": "P2"}))
    statuses = iter(("identified", "monitoring"))
    previous_status = "investigating"
    for i in range(1, entries):
        at = declared + step * i
        if rng.random() < BOT_ENTRY_SHARE:
            kind = rng.choice(("update", "update", "note", "status", "severity", "milestone", "action", "role",
                               "lead", "deadline", "decision"))
            actor = rng.choice(users)
            if kind == "status":
                to = next(statuses, "monitoring")
                rows.append(bot_entry("status", at, actor, random_text(rng, users) if rng.random() < 0.5 else "",
                                      {"from": previous_status, "to": to}))
                previous_status = to
            elif kind == "severity":
                rows.append(bot_entry("severity", at, actor, "", {"from": "P2", "to": "P1"}))
            elif kind == "milestone":
                rows.append(bot_entry("milestone", at, actor, "detected",
                                      {"milestone": "detected", "at": (at - timedelta(minutes=3)).isoformat()}))
            elif kind == "action":
                rows.append(bot_entry("action", at, actor, random_text(rng, users),
                                      {"item": i, "owner": rng.choice(users), "due": None, "class": "prevent"}))
            elif kind == "role":
                rows.append(bot_entry("role", at, actor, "", {"role": "comms", "user": rng.choice(users)}))
            elif kind == "lead":
                rows.append(bot_entry("lead", at, actor, "", {"user": rng.choice(users)}))
            elif kind == "deadline":
                rows.append(bot_entry("deadline", at, actor, "roll back or keep the fix?",
                                      {"at": (at + timedelta(minutes=30)).isoformat()}))
            elif kind == "decision":
                rows.append(bot_entry("decision", at, actor, "roll back or keep the fix?",
                                      {"decision": rng.choice(("continue", "rollback", "stop")),
                                       "deadline": at.isoformat(),
                                       **({"new_deadline": (at + timedelta(minutes=30)).isoformat()}
                                          if rng.random() < 0.3 else {})}))
            else:
                rows.append(bot_entry(kind, at, actor, random_text(rng, users)))
        else:
            ts = _ts(at)
            thread_ts = rng.choice(message_ts[-200:]) if message_ts and rng.random() < 0.15 else None
            deleted = rng.random() < 0.005
            files = [f"grafana-{rng.randint(1, 99)}.png"] if rng.random() < 0.01 else None
            edited = _ts(at + timedelta(seconds=40)) if rng.random() < 0.05 else None
            rows.append(dict(
                incident_id=incident_id, kind="message", channel_id=channel_id, ts=ts, thread_ts=thread_ts,
                author_id=rng.choice(users), text="" if deleted else random_text(rng, users),
                files=None if deleted else files, data=None, occurred_at=at, edited_ts=edited, deleted=deleted,
                recorded_at=at,
            ))
            if not deleted:
                message_ts.append(ts)
                if rng.random() < 0.03:
                    mark = rng.choice(("key_event", "key_event", "went_well", "went_wrong", "lucky", "action_item",
                                       "detected", "identified", "mitigated"))
                    if mark in ("detected", "identified", "mitigated"):
                        if mark in milestone_marked:
                            mark = "key_event"
                        milestone_marked.add(mark)
                    for who in rng.sample(users, rng.choice((1, 1, 2))):
                        marks.append(dict(incident_id=incident_id, channel_id=channel_id, message_ts=ts,
                                          emoji=MARK_EMOJI[mark], user_id=who, mark=mark,
                                          active=rng.random() < 0.95, event_ts=_ts(at + timedelta(seconds=30)),
                                          marked_at=at + timedelta(seconds=30)))
        flush()
    rows.append(bot_entry("status", resolved, "U0KEN", "", {"from": previous_status, "to": "resolved"}))
    flush(force=True)
    return incident_id
