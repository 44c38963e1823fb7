"""Message entries, stored by the driver on connections of the process's own; on SQLite committed
together (group commit).

Why: every message event in an incident channel is one row, and SQLAlchemy's execution, a writer
thread's hand-off and a commit (an fsync on SQLite) per row cost more than everything else the bot
does for it (BENCHMARKS.md). Each row is still its own INSERT … ON CONFLICT DO NOTHING (so a copy
of a message Slack sends twice, even in the same batch, adds nothing), compiled once
(storage/writes.py MessageInserts). An event returns, and is acknowledged, only after the
transaction holding its row has committed: nothing acked can be lost to a crash.

SQLite: one writer at a time anyway, so events handled at the same moment share one transaction
and one fsync, with no writer thread: the request thread that finds the writer free takes its turn
(storage/write_turn.py) and writes everything waiting, its own row and whatever queued meanwhile;
later arrivals queue for the next commit. Under light load a batch is one message.

PostgreSQL: each request thread writes its message on a connection of its own, in autocommit (one
round trip), as a statement prepared once and run by libpq (storage/writes.py). Concurrent commits
are flushed together by the server itself; batching here was slower (1,147–817 against 1,297–1,324 events/s, BENCHMARKS.md), as a
batch waits for the one before it. The connection is not checked before use (no pre-ping): one the
server dropped fails its statement, and the message is written once more on a new connection.
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
        self._local = threading.local()

    def record(self, incident_id: int, message: SlackMessage, now: datetime) -> None:
        """Store the message as an entry of the incident (once; a second copy is ignored).
        Returns when it is committed; raises what the database raised."""
        item = _Pending(self._inserts.parameters(incident_id, message, now), f"{message.channel_id}/{message.ts}")
        if not self._sqlite:
            self._record_alone(item)
            return
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

    def _record_alone(self, item: _Pending) -> None:
        """PostgreSQL: this thread's own connection, autocommit; reconnect and try once more when the
        server dropped it (a restart), else raise: the event gets no 200 and Slack redelivers it."""
        local = self._local
        for attempt in (1, 2):
            connection = getattr(local, "connection", None)
            if connection is None or local.pid != os.getpid():
                connection = local.connection = _own_connection(self._database)
                connection.autocommit = True
                local.pid = os.getpid()
            try:
                self._inserts.insert_one(connection, item.parameters)
                return
            except Exception as error:
                if not (connection.closed or connection.broken) or attempt == 2:
                    log.warning("could not store message %s: %s", item.label, error)
                    raise
                log.warning("the database connection for messages was lost; reconnecting")
                local.connection = None

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
        try:
            connection = self._connect()
        except Exception:
            self._connection = None
            raise
        self._inserts.insert_batch(connection, rows)  # the caller holds the turn

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
