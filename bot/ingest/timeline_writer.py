"""Message entries, stored by the driver on connections of the process's own and committed
together (group commit).

Why: every message event in an incident channel is one row, and SQLAlchemy's execution, a writer
thread's hand-off and a commit per row (an fsync on SQLite; on PostgreSQL the flush of the server's
log, half its work for a row) cost more than everything else the bot does for it (BENCHMARKS.md).
Rows written together are still each inserted ON CONFLICT DO NOTHING (so a copy of a message Slack
sends twice, even in the same batch, adds nothing), by statements compiled once (storage/writes.py
MessageInserts). An event returns, and is acknowledged, only after the transaction holding its
row has committed: nothing acked can be lost to a crash.

There is no writer thread: a request thread that finds a writer's place free takes it and writes
everything waiting, its own row and whatever queued meanwhile; rows arriving while it writes wait,
and when it is done it passes its place to the thread of the oldest of them, which writes them all
as the next batch. Under light load a batch is one message.

SQLite: one writer's place (one writer at a time anyway), and the write turn across processes
(storage/write_turn.py); a batch is one transaction of single-row INSERTs.
PostgreSQL: POSTGRESQL_WRITERS places (one, two and three measured alike in the bench,
BENCHMARKS.md; two, so one slow commit does not hold every event of the process); each writer uses
a connection of its own in autocommit, and a batch is one multi-row INSERT (one round trip). The
connection is not checked before use (no pre-ping): one the server dropped fails its statement, and
the batch is written once more on a new connection.
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
POSTGRESQL_WRITERS = 2  # batches of one process written at once on PostgreSQL (see the module's text)


class _Pending:
    """One message waiting to be written, and the thread waiting for it."""

    __slots__ = ("parameters", "label", "done", "error", "writer", "_woken", "_signal")

    def __init__(self, parameters, label: str):
        self.parameters = parameters
        self.label = label
        self.done = False
        self.error: BaseException | None = None
        self.writer = False  # its thread holds one of the writers' places
        self._woken = False
        self._signal = threading.Lock()  # released to wake the waiting thread: the cheapest hand-off
        self._signal.acquire()

    def wake(self) -> None:
        """Done, or given a writer's place; called with the queue lock held."""
        if not self._woken:
            self._woken = True
            self._signal.release()

    def wait(self, queue_lock) -> None:
        self._signal.acquire()
        with queue_lock:
            self._woken = False


class TimelineWriter:
    def __init__(self, database: Database, max_batch: int = MAX_BATCH, postgresql_writers: int = POSTGRESQL_WRITERS):
        engine = database.engine
        self._database = database
        self._sqlite = engine.dialect.name == "sqlite"
        self._inserts = MessageInserts(engine.dialect)
        self._turn = write_turn(engine.url.database) if self._sqlite else None
        self._max_batch = max_batch
        self._pending: list[_Pending] = []
        self._queue_lock = threading.Lock()
        # Threads writing a batch at once: one on SQLite (one writer anyway), a few on PostgreSQL.
        self._places = 1 if self._sqlite else postgresql_writers
        self._writing = 0
        self._connection = None  # SQLite: the writer's own
        self._pid: int | None = None
        self._local = threading.local()  # PostgreSQL: each writing thread's own connection

    def record(self, incident_id: int, message: SlackMessage, now: datetime) -> None:
        """Store the message as an entry of the incident (once; a second copy is ignored).
        Returns when it is committed; raises what the database raised."""
        item = _Pending(self._inserts.parameters(incident_id, message, now), f"{message.channel_id}/{message.ts}")
        with self._queue_lock:
            self._pending.append(item)
            if self._writing < self._places:
                self._writing += 1
                item.writer = True
        # Until written, and without a writer's place: a place handed over while the row was going
        # into another writer's batch is still this thread's to pass on.
        while not item.done or item.writer:
            if item.writer:
                self._write_until_done(item)
            else:
                item.wait(self._queue_lock)
        if item.error is not None:
            raise item.error

    def _write_until_done(self, item: _Pending) -> None:
        """Write the oldest waiting rows, a batch at a time, until this thread's own row is written or
        in another writer's batch; then pass the writer's place to the thread of the oldest row still
        waiting, so each thread writes about one batch and answers its own event soon."""
        try:
            while True:
                # On SQLite, the turn first (storage/write_turn.py), then the rows: whatever queued
                # while another process was committing goes into this one commit.
                with self._turn.held() if self._turn is not None else nullcontext():
                    with self._queue_lock:
                        batch = self._pending[: self._max_batch]
                        del self._pending[: self._max_batch]
                    if batch:
                        self._write(batch)
                with self._queue_lock:
                    if item not in self._pending:  # written, or in another writer's batch
                        return
        finally:
            with self._queue_lock:
                item.writer = False
                successor = next((waiting for waiting in self._pending if not waiting.writer), None)
                if successor is None:
                    self._writing -= 1
                else:
                    successor.writer = True
                    successor.wake()

    def _write(self, batch: list[_Pending]) -> None:
        try:
            self._insert([item.parameters for item in batch])
        except Exception as error:  # noqa: BLE001 - every waiting event must hear how it ended
            if len(batch) > 1 and self._reachable():
                # One bad row must not fail the others: write each on its own. (Out of reach,
                # the database would fail each: they fail together, and Slack retries them.)
                for item in batch:
                    self._write([item])
                return
            for item in batch:
                log.warning("could not store message %s: %s", item.label, error)
                item.error = error
        with self._queue_lock:
            for item in batch:
                item.done = True
                item.wake()

    def _insert(self, rows: list) -> None:
        if not self._sqlite:
            self._insert_postgresql(rows)
            return
        try:
            connection = self._connect()
        except Exception:
            self._connection = None
            raise
        self._inserts.insert_batch(connection, rows)  # the caller holds the turn

    def _insert_postgresql(self, rows: list) -> None:
        """On this thread's own connection, in autocommit; reconnect and try once more when the server
        dropped it (a restart), else raise: the events get no 200 and Slack redelivers them."""
        local = self._local
        for attempt in (1, 2):
            connection = getattr(local, "connection", None)
            if connection is None or local.pid != os.getpid():
                connection = local.connection = _own_connection(self._database)
                connection.autocommit = True
                local.pid = os.getpid()
            try:
                self._inserts.insert_rows(connection, rows)
                return
            except Exception:
                if not (connection.closed or connection.broken) or attempt == 2:
                    raise
                log.warning("the database connection for messages was lost; reconnecting")
                local.connection = None

    def _reachable(self) -> bool:
        """Whether the connection the last batch failed on still works (so its rows can be tried one by one)."""
        if self._sqlite:
            return self._connection is not None
        connection = getattr(self._local, "connection", None)
        return connection is not None and not (connection.closed or connection.broken)

    def _connect(self):
        # Made in the process that serves events (gunicorn forks workers), taken out of the pool
        # so that it is this writer's alone; the pool's connect hooks (SQLite's pragmas) still run.
        if self._connection is None or self._pid != os.getpid():
            self._connection, self._pid = _own_connection(self._database), os.getpid()
        return self._connection


def _own_connection(database: Database):
    """A DBAPI connection taken out of the pool for good (made in the process that serves events;
    gunicorn and granian fork workers); the pool's connect hooks (SQLite's pragmas) have run."""
    proxied = database.engine.raw_connection()
    proxied.detach()
    return proxied.dbapi_connection
