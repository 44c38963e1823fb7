"""Serving the Bolt app: gunicorn over HTTP at /slack/events, or Socket Mode."""

from __future__ import annotations

import logging
import os
from typing import Callable

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"


def wsgi_app(app: App) -> Callable:
    """/slack/events for Slack, /healthz for load balancers, 404 for anything else."""
    handler = SlackRequestHandler(app, path=EVENTS_PATH)

    def application(environ, start_response):
        if environ.get("PATH_INFO") == "/healthz":
            start_response("200 OK", [("Content-Type", "text/plain")])
            return [b"ok"]
        return handler(environ, start_response)

    return application


def serve_http(build: Callable[[], App], port: int) -> None:
    """A production server: gunicorn with threads, so acks never queue behind slow work."""
    from gunicorn.app.base import BaseApplication

    class Server(BaseApplication):
        def load_config(self) -> None:
            self.cfg.set("bind", f"0.0.0.0:{port}")
            self.cfg.set("worker_class", "gthread")
            # One worker process: lazy follow-ups run in its threads. Scale out with more
            # instances (see README), each its own process.
            self.cfg.set("workers", int(os.environ.get("WEB_CONCURRENCY", "1")))
            self.cfg.set("threads", int(os.environ.get("WEB_THREADS", "8")))
            self.cfg.set("timeout", 60)
            self.cfg.set("accesslog", None)

        def load(self):
            # Built in the worker, after fork, so no database connection crosses processes.
            return wsgi_app(build())

    Server().run()


def serve_socket_mode(app: App, app_token: str) -> None:
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    SocketModeHandler(app, app_token).start()
