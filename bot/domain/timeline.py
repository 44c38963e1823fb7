"""What people say in an incident channel, as timeline entries.

Slack delivers events at least once and not always in order, so every rule
here is idempotent and decided by Slack's own timestamps, never by arrival:
- a message is stored once per (channel, ts), enforced by a unique constraint;
- an edit applies only if it is newer than the last edit applied;
- a deletion leaves a tombstone, so a late copy of the message stays deleted;
- a reaction mark keeps the newest add/remove per (message, emoji, person).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cache

from sqlalchemy import Connection, Insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from bot.domain import times
from bot.domain.incidents import Change, incident_for_channel, incident_id_for_channel, sync_resolution
from bot.domain.marks import MILESTONE_MARKS, base_emoji
from bot.domain.storable_text import storable
from storage.models import Incident, ReactionMark, TimelineEntry


@dataclass(frozen=True)
class SlackMessage:
    """The parts of a Slack message the timeline keeps."""

    channel_id: str
    ts: str
    user_id: str | None
    text: str
    thread_ts: str | None = None
    files: tuple[str, ...] = ()
    edited_ts: str | None = None


def insert_ignoring_duplicates(session: Session, model, values: dict) -> bool:
    """INSERT … ON CONFLICT DO NOTHING on both backends; True when a row was added.

    Asks for the new row back rather than trusting rowcount, which psycopg reports as -1
    for some of these statements.
    """
    connection = session.connection()
    statement = _insert_ignoring(connection.dialect.name, model.__table__, returning=True)
    return connection.execute(statement, values).first() is not None


@cache
def _insert_ignoring(dialect: str, table, returning: bool) -> Insert:
    # Built once per table and run as a Core statement: message events arrive by the hundred
    # per second, and building the statement and the ORM's bulk insert path cost more than the
    # database's own work (BENCHMARKS.md). Values are bound per call, so one statement (and one
    # compiled form) serves every row.
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(table).on_conflict_do_nothing()
    return statement.returning(next(iter(table.primary_key.columns))) if returning else statement


def record_message(session: Session, message: SlackMessage, now: datetime) -> bool:
    """Store a channel message as an entry, once; False when it is not an incident's or was already there.

    (Message events take the faster road, record_messages via bot/ingest/timeline_writer.py.)
    """
    incident_id = incident_id_for_channel(session.connection(), message.channel_id)
    if incident_id is None:
        return False
    return insert_ignoring_duplicates(session, TimelineEntry, _entry_values(incident_id, message, now))


def record_messages(connection: Connection, messages: list[tuple[int, SlackMessage, datetime]]) -> None:
    """Store several messages as entries, each once, in one statement: (incident id, message, recorded at)."""
    rows = [_entry_values(incident_id, message, now) for incident_id, message, now in messages]
    statement = _insert_ignoring(connection.dialect.name, TimelineEntry.__table__, returning=False)
    # One row as a plain execute: a list, even of one, takes the slower executemany path.
    connection.execute(statement, rows[0] if len(rows) == 1 else rows)


def edit_message(session: Session, message: SlackMessage, now: datetime) -> bool:
    """Apply an edit, unless a newer edit already won; an edit of an unseen message stores it."""
    incident = incident_for_channel(session, message.channel_id)
    if incident is None:
        return False
    # Why lock: two edits (or an edit and a deletion) delivered at once would otherwise both
    # read the row before either writes, and the older edit could overwrite the newer one.
    entry = _entry(session, message.channel_id, message.ts, for_update=True)
    if entry is None:
        # The edit arrived before the message itself: keep the edited text.
        if insert_ignoring_duplicates(session, TimelineEntry, _entry_values(incident.id, message, now)):
            return True
        entry = _entry(session, message.channel_id, message.ts, for_update=True)
    if entry.deleted or not _newer(message.edited_ts, entry.edited_ts):
        return False
    entry.text = storable(message.text)
    entry.files = [storable(name) for name in message.files] or None
    entry.edited_ts = message.edited_ts
    return True


def delete_message(session: Session, channel_id: str, ts: str, now: datetime) -> bool:
    incident = incident_for_channel(session, channel_id)
    if incident is None:
        return False
    entry = _entry(session, channel_id, ts, for_update=True)  # see edit_message
    if entry is None:
        # Deleted before we saw it: a tombstone keeps a late copy from appearing.
        tombstone = SlackMessage(channel_id=channel_id, ts=ts, user_id=None, text="")
        values = _entry_values(incident.id, tombstone, now) | {"deleted": True}
        if insert_ignoring_duplicates(session, TimelineEntry, values):
            return True
        entry = _entry(session, channel_id, ts, for_update=True)
    if entry.deleted:
        return False
    entry.deleted = True
    entry.text = ""  # a deleted message is gone from the record, not only hidden
    entry.files = None
    return True


def is_recorded(session: Session, channel_id: str, ts: str) -> bool:
    return _entry(session, channel_id, ts) is not None


def apply_reaction(
    session: Session,
    *,
    channel_id: str,
    message_ts: str,
    reaction: str,
    user_id: str,
    added: bool,
    event_ts: str,
    reactions: dict[str, str],
    now: datetime,
) -> Change | None:
    """Mark or unmark a message; returns a Change when a milestone or the status moved."""
    mark = reactions.get(base_emoji(reaction))
    if mark is None:
        return None
    incident = incident_for_channel(session, channel_id, for_update=True)
    if incident is None:
        return None
    values = dict(
        incident_id=incident.id,
        channel_id=channel_id,
        message_ts=message_ts,
        emoji=base_emoji(reaction),
        user_id=user_id,
        mark=mark,
        active=added,
        event_ts=event_ts,
        marked_at=now,
    )
    if not insert_ignoring_duplicates(session, ReactionMark, values):
        existing = session.scalars(
            select(ReactionMark).where(
                ReactionMark.channel_id == channel_id,
                ReactionMark.message_ts == message_ts,
                ReactionMark.emoji == values["emoji"],
                ReactionMark.user_id == user_id,
            )
        ).one()
        # The same event again, or an older one arriving late: the newest already stands.
        if not _newer(event_ts, existing.event_ts) or existing.active == added:
            existing.event_ts = max(existing.event_ts, event_ts, key=_ts_key)
            return None
        existing.active = added
        existing.event_ts = event_ts
        existing.marked_at = now
    if mark not in MILESTONE_MARKS:
        return None
    verb = "marked" if added else "unmarked"
    change = Change(incident.id, "mark", user_id, f"{verb} {mark}", post_in_channel=False)
    resolution = sync_resolution(session, incident, user_id, now)
    if resolution is not None:
        change.extra.append(resolution)
    return change


def marks_by_message(session: Session, incident: Incident) -> dict[str, list[str]]:
    """message ts -> active marks on it (several people marking the same thing count once)."""
    rows = session.execute(
        select(ReactionMark.message_ts, ReactionMark.mark).where(
            ReactionMark.incident_id == incident.id, ReactionMark.active.is_(True)
        ).order_by(ReactionMark.id)  # in the order they were marked, on every backend
    )
    result: dict[str, list[str]] = {}
    for ts, mark in rows:
        if mark not in result.setdefault(ts, []):
            result[ts].append(mark)
    return result


def _entry(session: Session, channel_id: str, ts: str, for_update: bool = False) -> TimelineEntry | None:
    query = select(TimelineEntry).where(TimelineEntry.channel_id == channel_id, TimelineEntry.ts == ts)
    if for_update:
        query = query.with_for_update()
    return session.scalars(query).one_or_none()


def _entry_values(incident_id: int, message: SlackMessage, now: datetime) -> dict:
    return dict(
        incident_id=incident_id,
        kind="message",
        channel_id=message.channel_id,
        ts=message.ts,
        thread_ts=message.thread_ts if message.thread_ts != message.ts else None,
        author_id=message.user_id,
        text=storable(message.text),
        files=[storable(name) for name in message.files] or None,
        occurred_at=times.from_slack_ts(message.ts),
        edited_ts=message.edited_ts,
        deleted=False,
        recorded_at=now,
    )


def _ts_key(ts: str | None) -> tuple[int, int]:
    if not ts:
        return (0, 0)
    seconds, _, micros = ts.partition(".")
    return (int(seconds), int((micros or "0").ljust(6, "0")[:6]))


def _newer(candidate: str | None, current: str | None) -> bool:
    return _ts_key(candidate) > _ts_key(current)
