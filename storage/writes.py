"""Inserts that happen exactly once, whoever delivers the same thing twice.

The unique constraints decide (one entry per channel + ts, one mark per message + emoji +
person, one claim per reminder); these statements let a second copy be a no-op.
"""

from __future__ import annotations

import json
import re
import weakref
from datetime import datetime
from functools import cache

from psycopg.errors import error_from_result
from psycopg.pq import ExecStatus
from psycopg.types.json import Json
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
        self._libpq = dialect.name == "postgresql"
        self._dialect, self._names = dialect, names
        self._statements: dict[int, bytes] = {}  # PostgreSQL: rows per statement -> its SQL

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

    def insert_rows(self, connection, rows: list) -> None:
        """PostgreSQL: the rows in one statement on a psycopg connection in autocommit, so one commit
        serves them all: the server's flush of its log at each commit is half its work for a row
        (BENCHMARKS.md). Run by libpq itself as a statement prepared once per connection and number of
        rows (`pgconn.exec_prepared`, which lets go of the GIL while it waits for the server);
        psycopg's cursor around the same call took twice the CPU per row (46 against 22 µs)."""
        pgconn, count = connection.pgconn, len(rows)
        name = b"incident_bot_message_insert_%d" % count
        prepared = _PREPARED.get(connection)
        if prepared is None:
            if connection.info.encoding != "utf-8":
                raise RuntimeError(f"the message insert needs client_encoding UTF8, not {connection.info.encoding}")
            prepared = _PREPARED[connection] = set()
        if count not in prepared:
            _check(pgconn.prepare(name, self._statement(count), None))
            prepared.add(count)
        _check(pgconn.exec_prepared(name, rows[0] if count == 1 else [value for row in rows for value in row]))

    def _statement(self, count: int) -> bytes:
        """INSERT of `count` rows with libpq's numbered parameters, row after row in the order parameters() gives them."""
        if count not in self._statements:
            table, width = TimelineEntry.__table__, len(self._names)
            rows = [{name: bindparam(f"p{row * width + column + 1}") for column, name in enumerate(self._names)}
                    for row in range(count)]
            statement = _insert_ignoring("postgresql", table, returning=False).inline().values(rows)
            sql = statement.compile(dialect=self._dialect).string
            self._statements[count] = _PYFORMAT.sub(lambda match: f"${match[1][1:]}", sql).encode()
        return self._statements[count]

    def parameters(self, incident_id: int, message: SlackMessage, now: datetime) -> tuple | list:
        values = {name: (convert(value) if convert else value) for (name, value), convert
                  in zip(entry_values(incident_id, message, now).items(), self._convert.values())}
        if self._libpq:
            return [_text(value) for value in values.values()]
        return tuple(values[name] for name in self._order) if self._order is not None else values


_PYFORMAT = re.compile(r"%\((\w+)\)s")
# psycopg connection -> the numbers of rows it has a prepared message insert for
_PREPARED: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def _text(value) -> bytes | None:
    """A value in PostgreSQL's text format, as psycopg would send it (the statement casts each)."""
    if value is None:
        return None
    if isinstance(value, str):
        return value.encode()  # storable(): no NUL, which would end a text parameter
    if isinstance(value, bool):
        return b"t" if value else b"f"
    if isinstance(value, datetime):
        return value.isoformat().encode()
    if isinstance(value, Json):
        return (value.dumps or json.dumps)(value.obj).encode()
    return str(value).encode()


def _check(result) -> None:
    if result.status != ExecStatus.COMMAND_OK:
        raise error_from_result(result, encoding="utf-8")


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
