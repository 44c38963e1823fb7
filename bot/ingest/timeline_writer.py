"""Message entries from concurrent events: on SQLite committed together (group commit).

Why: on SQLite every commit is an fsync, which under a busy channel cost more CPU than
everything else the bot does for a message (BENCHMARKS.md). Events handled at the same moment
now share one INSERT and one commit. Each event still waits until its own entry is committed
before it is acknowledged, so nothing is acked that a crash could lose; under light load a
batch is one message and nothing waits for company.

On PostgreSQL each message is one autocommitted INSERT on the event's own thread: the server
does the flushing, and handing rows to one writer thread was slower there (its batches wait
for Python's GIL behind the request threads).
"""

from __future__ import annotations

import logging
import queue
import threading
from concurrent.futures import Future
from datetime import datetime

from bot.domain.records import SlackMessage
from storage.db import Database
from storage.writes import record_messages

log = logging.getLogger(__name__)

MAX_BATCH = 200


class TimelineWriter:
    def __init__(self, database: Database, max_batch: int = MAX_BATCH):
        self._database = database
        self._grouped = database.engine.dialect.name == "sqlite"
        self._max_batch = max_batch
        self._queue: queue.SimpleQueue[tuple[int, SlackMessage, datetime, Future]] = queue.SimpleQueue()
        self._started = False
        self._start_lock = threading.Lock()

    def record(self, incident_id: int, message: SlackMessage, now: datetime) -> None:
        """Store the message as an entry of the incident (once; a second copy is ignored).
        Returns when it is committed; raises what the database raised."""
        if not self._grouped:
            with self._database.write_one() as connection:
                record_messages(connection, [(incident_id, message, now)])
            return
        self._ensure_started()
        done: Future = Future()
        self._queue.put((incident_id, message, now, done))
        done.result()

    def _ensure_started(self) -> None:
        # Started on first use, in the process that serves events (gunicorn forks workers).
        if not self._started:
            with self._start_lock:
                if not self._started:
                    threading.Thread(target=self._run, name="timeline-writer", daemon=True).start()
                    self._started = True

    def _run(self) -> None:
        while True:
            batch = [self._queue.get()]
            while len(batch) < self._max_batch:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            self._write(batch)

    def _write(self, batch: list) -> None:
        try:
            with self._database.write_one() as connection:
                record_messages(connection, [(incident_id, message, now) for incident_id, message, now, _ in batch])
        except Exception as error:  # noqa: BLE001 - every waiting event must hear how it ended
            if len(batch) > 1:
                # One bad row must not fail the others: write each on its own.
                for item in batch:
                    self._write([item])
                return
            log.warning("could not store message %s/%s: %s", batch[0][1].channel_id, batch[0][1].ts, error)
            batch[0][3].set_exception(error)
            return
        for *_, done in batch:
            done.set_result(None)
