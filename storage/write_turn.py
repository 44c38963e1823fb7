"""SQLite writers take turns in a queue instead of polling for the write lock.

Why: SQLite has one write lock per database file, and a writer that finds it taken sleeps in
steps of up to 100 ms (its busy handler) and tries again. While message events streamed, a slash
command lost that race again and again and waited up to a second for its lock (BENCHMARKS.md).
Now every write transaction of every process on the file first takes its turn: a thread lock
within the process, then an exclusive flock on `<database>-writers` across processes (the kernel
wakes the next waiter the moment the lock is released, with no polling). So a command waits for
at most the write transactions ahead of it, each a few milliseconds, and SQLite's own busy wait
is left for processes that do not take turns (the `sqlite3` shell).
"""

from __future__ import annotations

import fcntl
import os
import threading
from contextlib import contextmanager
from typing import Iterator

_turns: dict[str, "WriteTurn"] = {}
_turns_lock = threading.Lock()


class WriteTurn:
    """One per database file per process; re-entrant within a thread."""

    def __init__(self, path: str):
        self._path = path
        self._lock = threading.RLock()
        self._depth = 0
        self._fd: int | None = None
        self._pid = os.getpid()

    def acquire(self) -> None:
        self._lock.acquire()
        if self._depth == 0:
            try:
                fcntl.flock(self._descriptor(), fcntl.LOCK_EX)
            except BaseException:
                self._lock.release()
                raise
        self._depth += 1

    def release(self) -> None:
        self._depth -= 1
        if self._depth == 0 and self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
        self._lock.release()

    @contextmanager
    def held(self) -> Iterator[None]:
        self.acquire()
        try:
            yield
        finally:
            self.release()

    def _descriptor(self) -> int:
        # A descriptor of this process's own: one inherited across fork (gunicorn's workers) would
        # share its lock with the parent and the other workers.
        if self._fd is None or self._pid != os.getpid():
            self._fd = os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600)
            self._pid = os.getpid()
        return self._fd


def write_turn(database_path: str | None) -> WriteTurn | None:
    """The turn of the SQLite file at `database_path` (None for an in-memory database)."""
    if not database_path or database_path == ":memory:" or database_path.startswith("file::memory:"):
        return None
    path = os.path.abspath(database_path) + "-writers"
    with _turns_lock:
        turn = _turns.get(path)
        if turn is None or turn._pid != os.getpid():
            turn = _turns[path] = WriteTurn(path)
        return turn
