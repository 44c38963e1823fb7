"""Serving the Bolt app: gunicorn over HTTP at /slack/events, or Socket Mode."""

from __future__ import annotations

import errno
import gc
import json
import logging
import socket
from typing import Callable
from urllib.parse import parse_qsl

from slack_bolt import App, BoltRequest, BoltResponse
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_bolt.request.internals import build_context

from bot.alerts import webhooks as alert_webhooks
from bot.config import ConfigError, Settings, StartupError
from bot.slack.client import configure_client

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"


class FormSafeBoltRequest(BoltRequest):
    """A BoltRequest that reads form bodies by their fields.

    Bolt 1.30 takes any form body that merely contains the word "payload" for an
    interactive payload, so `/incident note bad payload from the config service`
    reached no listener (Slack showed the person a failure). A slash command is
    form fields; only an interaction carries a `payload` field.
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        if self.mode == "http" and self.content_type == "application/x-www-form-urlencoded" and self.raw_body:
            fields = dict(parse_qsl(self.raw_body, keep_blank_values=True))
            body = json.loads(fields["payload"]) if "payload" in fields else fields
            if body != self.body:
                self.body = body
                self.context = build_context(self.context, body)

    def to_copyable(self) -> "FormSafeBoltRequest":
        # Lazy listeners get a copy; it must read the body the same way.
        return FormSafeBoltRequest(
            body=self.raw_body, query=self.query, headers=self.headers, context=self.context.to_copyable(), mode=self.mode
        )


class _RequestHandler(SlackRequestHandler):
    def dispatch(self, request) -> BoltResponse:
        try:
            bolt_request = FormSafeBoltRequest(body=request.get_body(), query=request.query_string, headers=request.get_headers())
        except (ValueError, TypeError, AttributeError) as error:
            # Not JSON, not UTF-8, or a shape Bolt cannot read: nothing Slack sends. Refuse it
            # before any listener (or signature check) runs, instead of a 500 and a traceback.
            log.warning("refused a malformed request to %s: %s", EVENTS_PATH, type(error).__name__)
            return BoltResponse(status=400, body="malformed request")
        body = bolt_request.body
        if not isinstance(body, dict) or (body.get("type") == "event_callback" and not isinstance(body.get("event"), dict)):
            log.warning("refused a request whose body is not a Slack payload")
            return BoltResponse(status=400, body="malformed request")
        return self.app.dispatch(bolt_request)


def wsgi_app(app: App) -> Callable:
    """/slack/events for Slack, /alerts/* for alerts (bot/alerts/webhooks.py), /healthz for load
    balancers, 404 for anything else."""
    handler = _RequestHandler(app, path=EVENTS_PATH)
    alerts = alert_webhooks.for_app(app)

    def application(environ, start_response):
        path = environ.get("PATH_INFO") or ""
        if path == "/healthz":
            start_response("200 OK", [("Content-Type", "text/plain")])
            return [b"ok"]
        if alerts is not None and path.startswith(alert_webhooks.PREFIX):
            return alerts(environ, start_response)
        return handler(environ, start_response)

    return application


def bolt_app(settings: Settings) -> App:
    """A Bolt App without listeners, on our Web API client settings (the real app's and the benchmark's).

    Bolt is handed the token, not a client: handed a client, it still reads SLACK_BOT_TOKEN from the
    environment and warns at every start that "token will be unused". So Bolt makes its client from
    the token, and configure_client gives that client SLACK_API_URL, the timeout and the retries.
    """
    app = App(
        token=settings.bot_token,
        signing_secret=settings.signing_secret or "unused-in-socket-mode",
        # Ack only after the listener has committed its work (see bot/listeners/events.py);
        # slow Slack calls run afterwards as lazy listeners.
        process_before_response=True,
        # auth.test at start-up would make a missing network look like a config error.
        token_verification_enabled=False,
    )
    configure_client(app.client, settings)
    return app


def listen(port: int) -> socket.socket:
    """The HTTP port, bound before anything else starts: a port in use is one line naming PORT, where
    gunicorn would retry for five seconds and then log "Can't connect"."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as gunicorn does: restarts need no wait
    try:
        listener.bind(("0.0.0.0", port))
    except OSError as error:
        listener.close()
        if error.errno == errno.EADDRINUSE:
            raise ConfigError(f"PORT {port} is already in use by another process; stop it or choose another PORT") from None
        raise ConfigError(f"PORT {port} cannot be used: {error.strerror or error}") from None
    return listener


# The collector's young-generation threshold in a worker (Python's default: 700 allocations).
GC_THRESHOLD = (10_000, 10, 100)


def worker_app(build: Callable[[], App]) -> Callable:
    """One worker's WSGI app, built in the worker after fork, so no database connection crosses
    processes. What it built to serve (modules, the app, compiled templates) lives as long as the
    worker: frozen out of the cyclic collector's sight, and the young generation collected less
    often, so a full collection under the event stream no longer walks it all. Both servers, the
    floor's gunicorn too. (PostgreSQL, bench: command ack p99 65 -> 42 ms, BENCHMARKS.md.)"""
    application = wsgi_app(build())
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLD)
    return application


def serve_http(build: Callable[[], App], settings: Settings, listener: socket.socket | None = None) -> None:
    """A production server (WEB_SERVER): WEB_CONCURRENCY worker processes of WEB_THREADS threads
    each, so acks never queue behind slow work; the app is built in each worker."""
    serve = serve_granian if settings.web_server == "granian" else serve_gunicorn
    serve(build, settings, listener)


def serve_gunicorn(build: Callable[[], App], settings: Settings, listener: socket.socket | None = None) -> None:
    """gunicorn's gthread workers (the benchmark's floor serves the no-op app with it)."""
    from gunicorn.app.base import BaseApplication

    # gunicorn serves the socket bound here (and closes this descriptor once it has its own copy).
    bound = (listener or listen(settings.port)).detach()

    class Server(BaseApplication):
        def load_config(self) -> None:
            self.cfg.set("bind", f"fd://{bound}")
            self.cfg.set("worker_class", "gthread")
            # One worker process per core by default (WEB_CONCURRENCY=auto): a process runs Python
            # on one core at a time. Lazy follow-ups run in each worker's threads.
            self.cfg.set("workers", settings.web_concurrency)
            self.cfg.set("threads", settings.web_threads)
            self.cfg.set("timeout", 60)
            self.cfg.set("accesslog", None)
            self.cfg.set("loglevel", settings.log_level.lower())
            # No control socket: nothing here uses gunicornc, and its default path
            # (~/.gunicorn/gunicorn.ctl) is one per user, so a second instance took over the first's.
            self.cfg.set("control_socket_disable", True)

        def load(self):
            return worker_app(build)

    Server().run()


def serve_granian(build: Callable[[], App], settings: Settings, listener: socket.socket | None = None) -> None:
    """Granian: HTTP parsed and answered in Rust, the WSGI app in WEB_THREADS Python threads of each
    worker. Why: gunicorn's HTTP handling, in Python, cost as much CPU per Slack event as all of
    Bolt's own work; under granian the no-op app spends half the CPU per event (BENCHMARKS.md)."""
    import multiprocessing

    from granian.constants import Interfaces
    from granian.log import LogLevels
    from granian.server import Server

    # Granian binds the port itself: the check in listen() has been made, hand the port over.
    (listener or listen(settings.port)).close()
    # Workers are forked, so they get the loader below (and the clock's lock file) as they are.
    multiprocessing.set_start_method("fork", force=True)
    server = Server(
        "bot.app:serve",  # names the app in logs; the loader below builds it
        address="0.0.0.0",
        port=settings.port,
        interface=Interfaces.WSGI,
        workers=settings.web_concurrency,
        blocking_threads=settings.web_threads,
        backlog=2048,
        log_level=LogLevels(settings.log_level.lower()),
        respawn_failed_workers=True,  # as gunicorn does: a worker that dies is replaced
        respawn_interval=1.0,
        # A worker still starting when SIGTERM came could miss it and run on; after this long the
        # master kills it (Slack wants every answer within 3 s; lazy follow-ups get the rest).
        workers_kill_timeout=10,
        log_dictconfig=GRANIAN_LOGGING,
    )
    server.serve(target_loader=lambda *_args: worker_app(build), wrap_loader=False)


class _GranianNotes:
    """Leaves out granian's start-up warning that WEB_THREADS is high for the cores: the threads of a
    Slack bot mostly wait for the database and Slack, which is why there are eight."""

    def filter(self, record) -> bool:
        return "Python threads" not in record.getMessage()


# Granian's lines go through the root logger, in the bot's format.
GRANIAN_LOGGING = {
    "filters": {"notes": {"()": _GranianNotes}},
    "loggers": {
        "_granian": {"handlers": [], "propagate": True, "filters": ["notes"]},
        "granian.access": {"handlers": [], "propagate": False},
    },
}


# apps.connections.open's answers that mean the app-level token itself is wrong.
_APP_TOKEN_REFUSALS = ("invalid_auth", "not_authed", "not_allowed_token_type", "account_inactive", "token_revoked",
                       "token_expired", "missing_scope")


def serve_socket_mode(app: App, settings: Settings) -> None:
    """Socket Mode; a first connection that fails is one line: exit 2 when Slack refuses SLACK_APP_TOKEN,
    exit 1 when Slack cannot be reached (the network, SLACK_API_URL). Later drops reconnect by themselves."""
    from slack_bolt.adapter.socket_mode import SocketModeHandler
    from slack_sdk.errors import SlackApiError, SlackClientError

    handler = SocketModeHandler(app, settings.app_token)
    try:
        handler.client.wss_uri = _first_connection_url(settings)
        handler.start()  # connects, then blocks; only the first connection's failure is raised here
    except SlackApiError as error:
        code = error.response.get("error")
        if code in _APP_TOKEN_REFUSALS:
            raise ConfigError(f"SLACK_APP_TOKEN was refused by Slack's apps.connections.open ({code})") from None
        raise StartupError(f"Socket Mode: Slack refused apps.connections.open ({code}) at {settings.api_url}") from None
    except (SlackClientError, OSError) as error:
        reason = getattr(error, "reason", None) or error
        raise StartupError(f"Socket Mode: cannot connect to Slack at {settings.api_url}: {reason}") from None


def _first_connection_url(settings: Settings) -> str:
    """apps.connections.open for the first connection, by a client of its own whose failed attempts are
    not logged one by one: the one line serve_socket_mode ends with says why (LOG_LEVEL=DEBUG shows them).
    Reconnections later go through Bolt's client and log as usual."""
    from slack_sdk import WebClient

    attempts = log.getChild("first_connection")
    attempts.setLevel(logging.DEBUG if settings.log_level == "DEBUG" else logging.CRITICAL)
    client = configure_client(WebClient(logger=attempts), settings)
    return client.apps_connections_open(app_token=settings.app_token)["url"]
