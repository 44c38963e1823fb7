"""Inserts that happen exactly once, whoever delivers the same thing twice.

The unique constraints decide (one entry per channel + ts, one mark per message + emoji +
person, one claim per reminder); these statements let a second copy be a no-op.
"""

from __future__ import annotations

from datetime import datetime
from functools import cache

from sqlalchemy import Connection, Insert
from sqlalchemy.dialects import postgresql, sqlite

from bot.domain import times
from bot.domain.records import SlackMessage
from bot.domain.storable_text import storable
from storage.models import TimelineEntry


def insert_ignoring_duplicates(connection: Connection, model, values: dict) -> bool:
    """INSERT … ON CONFLICT DO NOTHING on both backends; True when a row was added.

    Asks for the new row back rather than trusting rowcount, which psycopg reports as -1
    for some of these statements.
    """
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


def record_messages(connection: Connection, messages: list[tuple[int, SlackMessage, datetime]]) -> None:
    """Store several messages as entries, each once, in one statement: (incident id, message, recorded at)."""
    rows = [entry_values(incident_id, message, now) for incident_id, message, now in messages]
    statement = _insert_ignoring(connection.dialect.name, TimelineEntry.__table__, returning=False)
    # One row as a plain execute: a list, even of one, takes the slower executemany path.
    connection.execute(statement, rows[0] if len(rows) == 1 else rows)


def entry_values(incident_id: int, message: SlackMessage, now: datetime) -> dict:
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
