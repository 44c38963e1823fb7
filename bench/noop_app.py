"""The no-op baseline: the same Bolt app and server as `python app.py`, with listeners that only ack.

The same Bolt App as bot.app.build_app (bot.slack.server.bolt_app: process_before_response, the same WebClient),
the same WSGI stack (bot.slack.server.wsgi_app: FormSafeBoltRequest, /healthz) on gunicorn gthread
(bot.slack.server.serve_gunicorn, WEB_CONCURRENCY / WEB_THREADS as given: the benchmark's floor runs
one worker per core × 4 threads). What is left out is everything the bot does: no database, no
migrations, no clock, no Slack calls.

Run: `python -m bench.noop_app` with SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET and PORT set.
"""

from __future__ import annotations

import logging
import os
import re
import sys

from slack_bolt import App

from bot.slack import server
from bot.config import ConfigError, Settings

# The events the real app listens to (manifest.yml subscribes to exactly these).
EVENTS = (
    "message", "reaction_added", "reaction_removed", "member_joined_channel", "member_left_channel",
    "app_home_opened",
)


def build_noop_app(settings: Settings) -> App:
    app = server.bolt_app(settings)

    def ack_command(ack) -> None:
        ack(response_type="ephemeral", text="ok")

    def ack_only(ack) -> None:
        ack()

    def nothing() -> None:
        return None

    app.command("/incident")(ack_command)
    for name in EVENTS:
        app.event(name)(nothing)
    app.action(re.compile(".*"))(ack_only)
    app.view(re.compile(".*"))(ack_only)
    return app


def main() -> int:
    logging.basicConfig(level=os.environ.get("LOG_LEVEL", "INFO"), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        settings = Settings.from_env(os.environ)
    except ConfigError as error:
        print(f"configuration error: {error}", file=sys.stderr)
        return 2
    logging.getLogger("bench.noop").info("starting the no-op app on port %s", settings.port)
    server.serve_http(lambda: build_noop_app(settings), settings)  # the floor: WEB_SERVER=gunicorn
    return 0


if __name__ == "__main__":
    sys.exit(main())
