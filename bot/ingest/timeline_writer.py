"""Message entries from concurrent events, committed together: one transaction, one flush to disk.

Why: every message event in an incident channel is one row, and a commit per row (an fsync on
SQLite, a WAL flush on PostgreSQL) cost more than everything else the bot does for it
(BENCHMARKS.md). Events handled at the same moment now share one commit, with no writer thread
to hand rows to: the request thread that finds the writer free writes everything waiting (its
own row and whatever queued behind the previous commit) in one transaction, while later
arrivals queue for the next one. Under light load a batch is one message and nothing waits.

Each row is still its own INSERT … ON CONFLICT DO NOTHING (so a copy of a message Slack sends
twice, even in the same batch, adds nothing), run by the driver on a connection of this
process's own (storage/writes.py MessageInserts). An event returns, and is acknowledged, only
after the transaction holding its row has committed: nothing acked can be lost to a crash.

The connection is not checked before use (no pre-ping): a connection the server dropped fails
its first statement, and the batch is written again once on a new connection.
"""

from __future__ import annotations

import logging
import os
import threading
from contextlib import nullcontext
from datetime import datetime

from bot.domain.records import SlackMessage
from storage.db import Database
from storage.write_turn import write_turn
from storage.writes import MessageInserts

log = logging.getLogger(__name__)

MAX_BATCH = 100  # rows per transaction: bounds how long a batch holds SQLite's write lock


class _Pending:
    __slots__ = ("parameters", "label", "done", "error")

    def __init__(self, parameters, label: str):
        self.parameters = parameters
        self.label = label
        self.done = False
        self.error: BaseException | None = None


class TimelineWriter:
    def __init__(self, database: Database, max_batch: int = MAX_BATCH):
        engine = database.engine
        self._database = database
        self._sqlite = engine.dialect.name == "sqlite"
        self._inserts = MessageInserts(engine.dialect)
        self._turn = write_turn(engine.url.database) if self._sqlite else None
        self._max_batch = max_batch
        self._pending: list[_Pending] = []
        self._queue_lock = threading.Lock()
        self._writer = threading.Lock()  # held by the thread writing a batch
        self._connection = None
        self._pid: int | None = None

    def record(self, incident_id: int, message: SlackMessage, now: datetime) -> None:
        """Store the message as an entry of the incident (once; a second copy is ignored).
        Returns when it is committed; raises what the database raised."""
        item = _Pending(self._inserts.parameters(incident_id, message, now), f"{message.channel_id}/{message.ts}")
        with self._queue_lock:
            self._pending.append(item)
        while not item.done:
            with self._writer:
                if item.done:
                    break
                # On SQLite, the turn first (storage/write_turn.py), then the rows: whatever queued
                # while another process was committing goes into this one commit.
                with self._turn.held() if self._turn is not None else nullcontext():
                    with self._queue_lock:
                        batch = self._pending[: self._max_batch]
                        del self._pending[: self._max_batch]
                    self._write(batch)
        if item.error is not None:
            raise item.error

    def _write(self, batch: list[_Pending]) -> None:
        try:
            self._insert([item.parameters for item in batch])
        except Exception as error:  # noqa: BLE001 - every waiting event must hear how it ended
            if len(batch) > 1 and self._connection is not None:
                # One bad row must not fail the others: write each on its own. (Without a
                # connection, the database is out of reach: each fails, and Slack retries it.)
                for item in batch:
                    self._write([item])
                return
            for item in batch:
                log.warning("could not store message %s: %s", item.label, error)
                item.error = error
        for item in batch:
            item.done = True

    def _insert(self, rows: list) -> None:
        for attempt in (1, 2):
            try:
                connection = self._connect()
            except Exception:
                self._connection = None
                raise
            try:
                if self._sqlite:
                    self._insert_sqlite(connection, rows)
                else:
                    self._insert_postgresql(connection, rows)
                return
            except Exception:
                if self._sqlite or not (connection.closed or connection.broken) or attempt == 2:
                    raise
                # The server went away (a restart, a failover): once more on a new connection.
                log.warning("the database connection for messages was lost; reconnecting")
                self._discard()

    def _insert_sqlite(self, connection, rows: list) -> None:
        cursor = connection.cursor()  # the caller holds the turn
        try:
            cursor.execute("BEGIN IMMEDIATE")
            try:
                cursor.executemany(self._inserts.sql, rows)
                cursor.execute("COMMIT")
            except BaseException:
                if connection.in_transaction:
                    cursor.execute("ROLLBACK")
                raise
        finally:
            cursor.close()

    def _insert_postgresql(self, connection, rows: list) -> None:
        with connection.cursor() as cursor:
            if len(rows) == 1:
                cursor.execute(self._inserts.sql, rows[0])  # autocommit: one round trip
            else:
                with connection.transaction():
                    cursor.executemany(self._inserts.sql, rows)

    def _connect(self):
        # Made in the process that serves events (gunicorn forks workers), taken out of the pool
        # so that it is this writer's alone; the pool's connect hooks (SQLite's pragmas) still run.
        if self._connection is None or self._pid != os.getpid():
            proxied = self._database.engine.raw_connection()
            proxied.detach()
            connection = proxied.dbapi_connection
            if not self._sqlite:
                connection.autocommit = True
            self._connection, self._pid = connection, os.getpid()
        return self._connection

    def _discard(self) -> None:
        connection, self._connection = self._connection, None
        try:
            connection.close()
        except Exception:  # noqa: BLE001 - it is already broken
            pass
