"""Entry point: `python app.py` serves the bot; `python app.py clock|migrate|export …` are the other processes and tools."""

from __future__ import annotations

import logging
import os
import sys

from bot.app import build_app, clock, serve, start_clock  # noqa: F401 - tests build the app from here
from bot.config import ConfigError, Settings
from storage.db import Database
from storage.migrate import upgrade

USAGE = (
    "use: python app.py [serve|clock|migrate|export <incident> --format md|json"
    "|import <export-dir-or-zip> --channel <name> [--title …] [--severity P1-P4] [--post]]"
)


def main(argv: list[str]) -> int:
    command = argv[1] if len(argv) > 1 else "serve"
    try:
        # `import --post` talks to Slack like the clock does: a bot token, no signing secret.
        need_slack = command in ("serve", "clock") or (command == "import" and "--post" in argv[2:])
        settings = Settings.from_env(os.environ, need_slack=need_slack, need_signing=command == "serve")
    except ConfigError as error:
        print(f"configuration error: {error}", file=sys.stderr)
        return 2
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if command == "migrate":
        upgrade(Database(settings.database_url).engine)
        print("database schema is up to date")
        return 0
    if command == "export":
        from bot.transfer.export_command import export

        return export(argv[2:], settings)
    if command == "import":
        from bot.transfer.import_command import import_command

        return import_command(argv[2:], settings)
    if command == "clock":
        return clock(settings)
    if command != "serve":
        print(f"unknown command {command!r}; {USAGE}", file=sys.stderr)
        return 2
    return serve(settings)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
