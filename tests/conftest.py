"""The harness: the real Bolt app served over HTTP, a Slack stand-in on loopback, real databases.

Every test that touches storage runs once on SQLite and once on PostgreSQL
(TEST_BACKENDS=sqlite or =postgresql narrows it). PostgreSQL tests get a
database of their own, created on the server at TEST_PG_URL (default: the local
one) and dropped afterwards. When that server cannot be reached the PostgreSQL
half is skipped with one reason in the summary, unless CI is set or TEST_PG_URL
was given: there an unreachable server fails every PostgreSQL test.
"""

from __future__ import annotations

import functools
import json
import os
import threading
import time
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import psycopg
import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url

import app as entry
from bot.config import Settings
from bot.slack.server import wsgi_app
from bot.slack.client import make_client
from storage.db import Database
from storage.migrate import upgrade
from storage.models import Incident
from tests.support.slack_requests import SlackRequests
from tests.support.scratch_databases import PG_SERVER, scratch_database  # noqa: F401 - tests import them from here
from tests.support.slack_standin import SlackStandIn

SIGNING_SECRET = "test-signing-secret"
BOT_TOKEN = "xoxb-test-token"
BACKENDS = [b.strip() for b in os.environ.get("TEST_BACKENDS", "sqlite,postgresql").split(",") if b.strip()]
# Where PostgreSQL must be there: CI, or a server someone named. Elsewhere its tests skip when it is not.
POSTGRESQL_REQUIRED = bool(os.environ.get("CI") or os.environ.get("TEST_PG_URL"))

# People in the stand-in workspace.
ANA, KEN, MIN, LEE = "U0ANA", "U0KEN", "U0MIN", "U0LEE"
OUTSIDER = "U0OUTSIDER"  # in the workspace, never in an incident channel unless a test adds them


@functools.cache
def _postgresql_problem() -> str | None:
    """Why the PostgreSQL server cannot be used (one line), or None; asked once per run."""
    try:
        with psycopg.connect(PG_SERVER, connect_timeout=5):
            return None
    except psycopg.Error as error:
        return " ".join(str(error).split("\n", 1)[0].split())


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """The PostgreSQL half needs its server: without it, skip (or, where it is required, fail) each of its
    tests before any fixture runs. Raised from these lines for every test, the skips fold into one line of
    the summary."""
    callspec = getattr(item, "callspec", None)
    problem = _postgresql_problem() if callspec is not None and "postgresql" in callspec.params.values() else None
    if problem is None:
        return
    server = make_url(PG_SERVER).render_as_string(hide_password=True)
    if POSTGRESQL_REQUIRED:
        why = "CI is set" if os.environ.get("CI") else "TEST_PG_URL names it"
        pytest.fail(f"PostgreSQL at {server} is not reachable ({problem}); {why}, so its tests must run", pytrace=False)
    pytest.skip(f"PostgreSQL at {server} is not reachable: start it (scripts/test starts a local one), or run "
                f"one backend with TEST_BACKENDS=sqlite; with CI=1 or TEST_PG_URL set this is an error")


class _ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, *args) -> None:
        pass


class RunningBot:
    """One instance of the app, served on loopback, with helpers to talk to it like Slack does."""

    def __init__(self, standin: SlackStandIn, database_url: str, env: dict[str, str]):
        self.standin = standin
        self.env = {
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": standin.base_url,
            "DATABASE_URL": database_url,
            # Reminders run only where a test starts a clock, with the settings it chose.
            "SCHEDULER": "external",
            **env,
        }
        self.settings = Settings.from_env(self.env)
        self.db = Database(self.settings.database_url)
        client = make_client(self.settings)
        self.services = entry.start_clock(self.settings, self.db, client, runs_jobs=self.settings.scheduler_mode == "embedded")
        self.app = entry.build_app(self.settings, self.db, self.services)
        self.server = make_server("127.0.0.1", 0, wsgi_app(self.app), _ThreadingWSGIServer, _QuietHandler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/slack/events"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.slack = SlackRequests(self.url, SIGNING_SECRET, standin)

    def stop(self) -> None:
        self.services.clock.shutdown()
        self.server.shutdown()
        self.server.server_close()
        self.db.dispose()

    # --- talking to the bot ---------------------------------------------------------

    def command(self, user: str, text: str, channel: str = "C0GENERAL", join: bool = True) -> dict:
        """Send `/incident <text>`; return the acknowledgement body (the ephemeral reply).

        Slack lets a person type in a channel only once they are in it, so they join first
        (`join=False` to send it as from a channel they never joined).
        """
        if join and channel in self.standin.channel_ids():
            self.standin.add_member(channel, user)
        status, _headers, body = self.slack.slash_command(user, text, channel=channel)
        assert status == 200, (status, body)
        return json.loads(body) if body else {}

    def declare(self, title: str, user: str = ANA, severity: str = "P2") -> Incident:
        """Declare and wait until its channel is set up; returns the stored incident."""
        reply = self.command(user, f"start {severity} {title}")
        assert "Declared incident #" in reply["text"], reply
        incident_id = int(reply["text"].split("#", 1)[1].split(":", 1)[0])
        return self.wait_for_incident(incident_id, lambda i: i.header_ts is not None)

    def say(self, incident_or_channel, user: str, text: str, thread_ts: str | None = None, **event_extra) -> dict:
        """A person posts in a channel: the message exists in Slack, then its event reaches the bot."""
        channel = getattr(incident_or_channel, "channel_id", incident_or_channel)
        message = self.standin.post_human_message(channel, user, text, thread_ts=thread_ts)
        event = self.slack.message_event(message, channel)
        event.update(event_extra)
        status, _, body = self.slack.event(event)
        assert status == 200, (status, body)
        return message

    def submit(self, intent, actor: str = ANA, *, incident_id: int | None = None, at=None, via=None):
        """A request straight to the gate, as a listener would make it (for seeding past incidents)."""
        from bot.domain.requests import Request, Via

        request = Request(intent, actor=actor, via=via or Via.COMMAND, incident_id=incident_id, at=at)
        return self.services.gate.submit(request)

    def event(self, event: dict, **kwargs) -> int:
        status, _, body = self.slack.event(event, **kwargs)
        assert status == 200, (status, body)
        return status

    # --- reading the record -------------------------------------------------------------

    def incident(self, incident_id: int) -> Incident:
        with self.db.session() as session:
            return session.get(Incident, incident_id)

    def wait_for_incident(self, incident_id: int, condition, timeout: float = 10.0) -> Incident:
        deadline = time.monotonic() + timeout
        while True:
            incident = self.incident(incident_id)
            if incident is not None and condition(incident):
                return incident
            if time.monotonic() > deadline:
                raise AssertionError(f"incident {incident_id} never reached the expected state: {vars(incident) if incident else None}")
            time.sleep(0.02)

    def entries(self, incident_id: int, kind: str | None = None, include_deleted: bool = False):
        from storage.models import TimelineEntry

        with self.db.session() as session:
            query = select(TimelineEntry).where(TimelineEntry.incident_id == incident_id).order_by(TimelineEntry.occurred_at, TimelineEntry.id)
            rows = list(session.scalars(query))
        return [r for r in rows if (kind is None or r.kind == kind) and (include_deleted or not r.deleted)]


def wait_until(condition, timeout: float = 10.0, message: str = "condition never held"):
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(message)
        time.sleep(0.02)


@pytest.fixture(scope="session")
def standin(database_url):
    """A fresh Slack workspace for each database: channel names are unique in a workspace."""
    with SlackStandIn(token=BOT_TOKEN) as slack:
        slack.add_user(ANA, "ana", "Ana Silva", tz="Europe/Lisbon")
        slack.add_user(KEN, "ken", "山田 健", tz="Asia/Tokyo")
        slack.add_user(MIN, "min", "김민준", tz="Asia/Seoul")
        slack.add_user(LEE, "lee", "Lee Chen", tz="America/New_York")
        slack.add_user(OUTSIDER, "sam", "Sam Outside", tz="UTC")
        yield slack


@pytest.fixture(scope="session", params=BACKENDS)
def database_url(request, tmp_path_factory):
    with scratch_database(request.param, tmp_path_factory.mktemp("db")) as url:
        yield url


@pytest.fixture(scope="session")
def bots(standin, database_url):
    """Start bots on demand, one per distinct set of settings, all on the same database."""
    migrated = Database(Settings.from_env({"DATABASE_URL": database_url}, need_slack=False).database_url)
    upgrade(migrated.engine)
    migrated.dispose()
    running: dict[tuple, RunningBot] = {}

    def start(**env: str) -> RunningBot:
        key = tuple(sorted(env.items()))
        if key not in running:
            # Close the idle connections of the bots started before: each keeps its pool for the
            # session, and dozens of pools would fill PostgreSQL's default 100 connections.
            for started in running.values():
                started.db.dispose()
            running[key] = RunningBot(standin, database_url, env)
        return running[key]

    yield start
    for bot in running.values():
        bot.stop()


@pytest.fixture
def bot(bots) -> RunningBot:
    return bots()
