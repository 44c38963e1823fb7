"""Engines and units of work."""

from __future__ import annotations

import select
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial

from sqlalchemy import Connection, Engine, create_engine, event, exc
from sqlalchemy.orm import Session, sessionmaker

from storage.write_turn import WriteTurn, write_turn


def make_engine(url: str, sqlite_synchronous: str = "FULL") -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", partial(_sqlite_pragmas, synchronous=sqlite_synchronous))
        turn = write_turn(engine.url.database)
        event.listen(engine, "begin", partial(_sqlite_begin_immediate, turn=turn))
        if turn is not None:
            _release_turn_after_transactions(engine.dialect)
        return engine
    # LIFO: the connection used last is taken first, so under load the same few stay in use and
    # need no check (below); the rest idle out of the way.
    engine = create_engine(url, pool_size=10, max_overflow=10, pool_use_lifo=True)
    event.listen(engine, "connect", _postgresql_session)
    _check_when_idle(engine)
    return engine


IDLE_CHECK_SECONDS = 30.0


def _check_when_idle(engine: Engine, idle_seconds: float = IDLE_CHECK_SECONDS) -> None:
    """Ping a pooled connection before use only when the server may have dropped it: it sent
    something while the connection sat in the pool (a server that stops or crashes closes its
    sockets), or the connection sat unused for `idle_seconds` (a network path may have dropped it).

    Why not pool_pre_ping: it pinged on every checkout, a round trip more in every unit of work, and
    a command makes two or three while events stream (BENCHMARKS.md). Looking at the socket costs
    no round trip. A connection that fails anyway fails its unit of work (a command says so, an
    event gets no 200 and Slack redelivers it), and SQLAlchemy then drops every older connection
    of the pool, so the next ones reconnect.
    """

    def checked_in(_dbapi_connection, record) -> None:
        record.info["idle_since"] = time.monotonic()

    def checked_out(dbapi_connection, record, _proxy) -> None:
        since = record.info.get("idle_since")
        if since is None:
            return  # just connected
        if not _server_spoke(dbapi_connection) and time.monotonic() - since < idle_seconds:
            return
        try:
            alive = engine.dialect.do_ping(dbapi_connection)
        except Exception:  # noqa: BLE001 - any failure to answer means: do not use it
            alive = False
        if not alive:
            raise exc.DisconnectionError("the database connection was lost while idle")  # the pool connects anew

    event.listen(engine, "checkin", checked_in)
    event.listen(engine, "checkout", checked_out)


def _server_spoke(dbapi_connection) -> bool:
    """Whether the server sent anything to a connection at rest (its closing, an error): nothing is
    due on it between statements. A look at the socket, no round trip."""
    try:
        readable, _, _ = select.select([dbapi_connection.fileno()], [], [], 0)
    except Exception:  # noqa: BLE001 - a socket that cannot be looked at is checked the slow way
        return True
    return bool(readable)


def _postgresql_session(dbapi_connection, _record) -> None:
    # Times come back in UTC, as the app keeps them: psycopg then gives them datetime.timezone.utc,
    # which UTCDateTime takes as it is, instead of converting each from the server's zone (a
    # postmortem reads 100,000 of them). Nothing depends on it but speed: any zone converts right.
    with dbapi_connection.cursor() as cursor:
        cursor.execute("SET TIME ZONE 'UTC'")
    dbapi_connection.commit()


def _sqlite_pragmas(dbapi_connection, _record, synchronous: str = "FULL") -> None:
    # Let SQLAlchemy's "begin" event issue BEGIN itself (see _sqlite_begin_immediate).
    dbapi_connection.isolation_level = None
    # WAL lets readers run beside the one writer; busy_timeout waits instead of failing.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA busy_timeout=30000")
    _switch_to_wal(cursor)
    cursor.execute("PRAGMA foreign_keys=ON")
    # FULL: a commit is on disk when it returns, so an acknowledged message survives a power cut;
    # NORMAL (WAL) only survives a crash of the process (RELIABILITY.md, SQLITE_SYNCHRONOUS).
    cursor.execute(f"PRAGMA synchronous={'NORMAL' if synchronous == 'NORMAL' else 'FULL'}")
    cursor.close()


def _switch_to_wal(cursor, patience: float = 30.0) -> None:
    # Why retry: turning a new file to WAL takes an exclusive lock, and there SQLite answers
    # "database is locked" at once instead of waiting out busy_timeout; several instances
    # starting together on a fresh database crashed at start-up on it.
    deadline = time.monotonic() + patience
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def _sqlite_begin_immediate(connection, turn: WriteTurn | None = None) -> None:
    # A deferred transaction that reads and then writes fails at once under WAL when
    # another writer got there first; taking the write lock up front makes it wait.
    options = connection.get_execution_options()
    if options.get(ONE_STATEMENT):
        return  # SQLite runs a lone statement as its own transaction, waiting out busy_timeout
    # Database.read() only reads, so it need not queue behind writers.
    if options.get(READ_ONLY):
        connection.exec_driver_sql("BEGIN")
        return
    if turn is None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")
        return
    # Writers queue for their turn (storage/write_turn.py); it is given back after COMMIT or ROLLBACK.
    turn.acquire()
    try:
        connection.exec_driver_sql("BEGIN IMMEDIATE")
    except BaseException:
        turn.release()
        raise
    connection.connection.info[_HOLDS_TURN] = turn


_HOLDS_TURN = "incident_bot_write_turn"


def _release_turn_after_transactions(dialect) -> None:
    """The turn goes back once COMMIT or ROLLBACK has run: SQLAlchemy's commit and rollback events
    come before them, and the next writer would find SQLite's lock still taken."""
    commit, rollback = dialect.do_commit, dialect.do_rollback

    def release(dbapi_connection) -> None:
        try:
            info = dbapi_connection.info  # a pool's connection; a bare DBAPI connection has none
        except (AttributeError, NotImplementedError):
            return
        turn = info.pop(_HOLDS_TURN, None)
        if turn is not None:
            turn.release()

    def do_commit(dbapi_connection) -> None:
        try:
            commit(dbapi_connection)
        finally:
            release(dbapi_connection)

    def do_rollback(dbapi_connection) -> None:
        try:
            rollback(dbapi_connection)
        finally:
            release(dbapi_connection)

    # This engine's own dialect object only (each engine has one).
    dialect.do_commit, dialect.do_rollback = do_commit, do_rollback


READ_ONLY = "incident_bot_read_only"
ONE_STATEMENT = "incident_bot_one_statement"


class Database:
    """One engine, and a fresh session for each unit of work."""

    def __init__(self, url: str, sqlite_synchronous: str = "FULL"):
        self.url = url
        self.engine = make_engine(url, sqlite_synchronous)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """Commit when the block ends cleanly, roll back when it raises."""
        with self._sessions() as session:
            with session.begin():
                yield session

    @contextmanager
    def write_one(self) -> Iterator[Connection]:
        """A bare connection for ONE Core write statement, on the busiest path (every message event),
        where a Session's bookkeeping is all overhead.

        A single statement is atomic on its own, so it runs as its own transaction: autocommit on
        PostgreSQL (no BEGIN and COMMIT round trips), no BEGIN IMMEDIATE on SQLite.
        """
        with self.engine.connect() as connection:
            self._each_statement_alone(connection)
            with connection.begin():
                yield connection

    @contextmanager
    def read(self, snapshot: bool = True) -> Iterator[Connection]:
        """A connection for reads only (Core statements), in a transaction that takes no write lock.

        `snapshot=False`: each statement on its own, seeing what is committed when it runs, with no
        transaction around them; for a lookup of one statement, it saves PostgreSQL's BEGIN and
        ROLLBACK round trips (a command's, while events stream: BENCHMARKS.md)."""
        with self.engine.connect() as connection:
            if snapshot:
                connection.execution_options(**{READ_ONLY: True})
            else:
                self._each_statement_alone(connection)
            with connection.begin():
                yield connection

    def _each_statement_alone(self, connection: Connection) -> None:
        """Each statement its own transaction: autocommit on PostgreSQL, no BEGIN on SQLite."""
        if self.engine.dialect.name == "sqlite":
            connection.execution_options(**{ONE_STATEMENT: True})
        else:
            connection.execution_options(isolation_level="AUTOCOMMIT")

    @contextmanager
    def read_session(self, snapshot: bool = True) -> Iterator[Session]:
        """A session for reads only (stats, exports): on SQLite it takes no write lock, so a long
        read never makes message events wait. Nothing it changes is committed. `snapshot`: see read()."""
        with self.read(snapshot) as connection, self._sessions(bind=connection) as session:
            yield session

    def dispose(self) -> None:
        self.engine.dispose()
