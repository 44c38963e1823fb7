"""Inserts that happen exactly once, whoever delivers the same thing twice.

The unique constraints decide (one entry per channel + ts, one mark per message + emoji +
person, one claim per reminder); these statements let a second copy be a no-op.
"""

from __future__ import annotations

from datetime import datetime
from functools import cache

from sqlalchemy import Connection, Insert, bindparam
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


class MessageInserts:
    """The entry INSERT … ON CONFLICT DO NOTHING as the driver runs it: the SQL compiled once, each
    value converted by its column's own type (JSON, UTC times) exactly as SQLAlchemy would.

    Why not through SQLAlchemy's execute: for every message event, building the parameters and
    running the statement there cost three times the driver's own work (BENCHMARKS.md).
    """

    def __init__(self, dialect):
        table = TimelineEntry.__table__
        names = list(entry_values(0, SlackMessage("C0", "1.000001", None, ""), times.utcnow()))
        # inline(): no RETURNING of the new id, which nothing here reads.
        compiled = _insert_ignoring(dialect.name, table, returning=False).inline().values(
            {name: bindparam(name) for name in names}).compile(dialect=dialect)
        self.sql = compiled.string
        self._order = list(compiled.positiontup) if compiled.positional else None
        self._convert = {name: table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in names}

    def insert_batch(self, connection, rows: list) -> None:
        """SQLite: the rows in one transaction (one fsync), each its own INSERT; on a DBAPI
        connection in autocommit mode (isolation_level None), whose caller holds the write turn."""
        cursor = connection.cursor()
        try:
            cursor.execute("BEGIN IMMEDIATE")
            try:
                cursor.executemany(self.sql, rows)
                cursor.execute("COMMIT")
            except BaseException:
                if connection.in_transaction:
                    cursor.execute("ROLLBACK")
                raise
        finally:
            cursor.close()

    def insert_one(self, connection, row) -> None:
        """PostgreSQL: one row on a psycopg connection in autocommit, as a prepared statement."""
        connection.execute(self.sql, row, prepare=True)

    def parameters(self, incident_id: int, message: SlackMessage, now: datetime) -> tuple | dict:
        values = {name: (convert(value) if convert else value) for (name, value), convert
                  in zip(entry_values(incident_id, message, now).items(), self._convert.values())}
        return tuple(values[name] for name in self._order) if self._order is not None else values


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
