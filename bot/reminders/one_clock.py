"""Exactly one running reminder clock among the HTTP server workers of one instance (granian or gunicorn).

Why: `python app.py` serves with one worker process per core, and with SCHEDULER=embedded each
worker builds the app and its clock. Every worker stores jobs (its clock is paused), but only the
worker holding an exclusive lock on a file the server's master process made runs them. The kernel drops
the lock when that worker dies, however it dies, and another worker (or the one the server starts
in its place) takes it within `retry_seconds`. Reminders claimed in the database stay sent once
whatever happens (bot/reminders/planner.py); this keeps the clock's work, its polling and its
re-planning at start-up, to one process.
"""

from __future__ import annotations

import fcntl
import logging
import os
import tempfile
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)

RETRY_SECONDS = 1.0


def lock_file() -> str:
    """A new lock file for one instance (made in the master process, before the workers)."""
    descriptor, path = tempfile.mkstemp(prefix="incident-bot-clock-", suffix=".lock")
    os.close(descriptor)
    return path


class OneClock:
    """Runs `take_over` in the first worker to hold the lock on `path`; the others keep trying."""

    def __init__(self, path: str, take_over: Callable[[], None], retry_seconds: float = RETRY_SECONDS):
        self._path = path
        self._take_over = take_over
        self._retry = retry_seconds
        self._held: int | None = None  # the descriptor holding the lock, kept open for the process's life
        self._stop = threading.Event()

    def start(self) -> None:
        if not self._try():
            threading.Thread(target=self._wait_for_turn, name="one-clock", daemon=True).start()

    def stop(self) -> None:
        self._stop.set()

    @property
    def running(self) -> bool:
        return self._held is not None

    def _wait_for_turn(self) -> None:
        while not self._stop.wait(self._retry):
            if self._try():
                return

    def _try(self) -> bool:
        try:
            # Opened by each worker itself: a descriptor inherited from the master would share
            # one lock among every worker.
            descriptor = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as error:
            log.error("reminder clock lock %s cannot be opened: %s", self._path, error)
            return False
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(descriptor)
            return False
        self._held = descriptor
        log.info("reminder clock running in worker %d", os.getpid())
        try:
            self._take_over()
        except Exception:  # noqa: BLE001 - let another worker try rather than run no clock at all
            log.exception("the reminder clock could not start in worker %d", os.getpid())
            self._held = None
            os.close(descriptor)
            return False
        return True
