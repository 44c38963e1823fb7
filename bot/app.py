"""The bot's processes: the Bolt app with every listener (`build_app`), the reminder clock
(`start_clock`), and the `serve` and `clock` commands that run them."""

from __future__ import annotations

import logging
import os
import signal

from slack_bolt import App

from bot.config import Settings
from bot.listeners import register_listeners
from bot.postmortem import render
from bot.services import Services
from bot.slack.client import UseSafeClient, make_client
from bot.slack.server import bolt_app
from storage.db import Database
from storage.migrate import upgrade

log = logging.getLogger("incident-bot")


def build_app(settings: Settings, database: Database | None = None, services: Services | None = None,
              clock_lock: str | None = None) -> App:
    """The Bolt app with every listener, talking to Slack at settings.api_url.

    `clock_lock`: in a gunicorn worker, the file whose lock decides which one worker runs the
    embedded reminder clock (bot/reminders/one_clock.py); without it this process runs it."""
    database = database or Database(settings.database_url, settings.sqlite_synchronous)
    if services is None:
        embedded = settings.scheduler_mode == "embedded"
        services = start_clock(settings, database, make_client(settings), runs_jobs=embedded and clock_lock is None)
        if embedded and clock_lock is not None:
            _run_clock_in_one_worker(services, clock_lock)
    render.prepare(settings.postmortem_language, settings.timezone.key)
    app = bolt_app(settings)
    app.use(UseSafeClient())  # every text a listener sends is defused (bot/slack/client.py)
    register_listeners(app, services)
    return app


def start_clock(settings: Settings, database: Database, client, *, runs_jobs: bool, blocking: bool = False) -> Services:
    """Services with a reminder clock; one that runs jobs also re-plans every reminder first."""
    from bot.reminders import planner as reminders
    from bot.reminders.clock import Clock

    clock = Clock(database.engine, runs_jobs=runs_jobs, blocking=blocking, poll_seconds=settings.clock_poll_seconds)
    services = Services(settings, database, clock, client)
    if runs_jobs:
        reminders.install(services, client, clock)
        clock.replan_soon()  # reminders missed or changed while no clock ran
    if not blocking:
        clock.start()
    return services


def _run_clock_in_one_worker(services: Services, clock_lock: str) -> None:
    from bot.reminders import planner as reminders
    from bot.reminders.one_clock import OneClock

    def take_over() -> None:
        reminders.install(services, services.client, services.clock)
        services.clock.replan_soon()
        services.clock.run_jobs()

    OneClock(clock_lock, take_over).start()


def serve(settings: Settings) -> int:
    from bot.slack import server

    # Before anything is logged, so that a port in use is the only line.
    listener = None if settings.socket_mode else server.listen(settings.port)
    database = Database(settings.database_url, settings.sqlite_synchronous)
    upgrade(database.engine)
    database.dispose()
    mode = "Socket Mode" if settings.socket_mode else f"HTTP on port {settings.port} at /slack/events"
    log.info(
        "starting: %s · database %s · time zone %s · reminders %s",
        mode, _redacted(settings.database_url), settings.timezone.key, settings.scheduler_mode,
    )
    if settings.socket_mode:
        server.serve_socket_mode(build_app(settings), settings)
    else:
        clock_lock = None
        if settings.scheduler_mode == "embedded":
            from bot.reminders.one_clock import lock_file

            clock_lock = lock_file()
        master = os.getpid()
        try:
            server.serve_http(lambda: build_app(settings, clock_lock=clock_lock), settings, listener)
        finally:
            # Workers leave serve_http through here too (gunicorn ends them with SystemExit):
            # only the master, the last to go, removes the file.
            if clock_lock is not None and os.getpid() == master:
                os.unlink(clock_lock)
    return 0


def clock(settings: Settings) -> int:
    """The reminder clock alone: the Procfile's `clock` process when web runs with SCHEDULER=external."""
    database = Database(settings.database_url, settings.sqlite_synchronous)
    upgrade(database.engine)
    log.info("starting the reminder clock · database %s · time zone %s", _redacted(settings.database_url), settings.timezone.key)
    services = start_clock(settings, database, make_client(settings), runs_jobs=True, blocking=True)
    signal.signal(signal.SIGTERM, _stop)
    try:
        services.clock.start()
    except (KeyboardInterrupt, SystemExit):
        pass
    return 0


def _stop(*_args) -> None:
    """SIGTERM (a platform restart) stops the clock the way Ctrl-C does."""
    raise SystemExit(0)


def _redacted(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
