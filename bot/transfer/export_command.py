"""`python app.py export <incident-id-or-channel> --format md|json`: the record, outside Slack."""

from __future__ import annotations

import argparse
import sys

from bot.config import Settings
from bot.domain.times import utcnow
from bot.i18n import LANGUAGES
from bot.postmortem import builder
from bot.postmortem.render import incident_json_text, render_postmortem
from storage.db import Database
from storage.incident_store import reading
from storage.migrate import upgrade


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The command's arguments, on the command line's `export` parser (bot/cli.py)."""
    parser.add_argument("incident", help="incident id (42), channel id (C0123…) or channel name (inc-20261122-…)")
    parser.add_argument("--format", choices=("md", "json"), default="md",
                        help="md: the postmortem draft; json: the full record (default: %(default)s)")
    parser.add_argument("--language", choices=LANGUAGES,
                        help="of the postmortem (default: POSTMORTEM_LANGUAGE, which is en when unset)")


def export(options: argparse.Namespace, settings: Settings) -> int:
    database = Database(settings.database_url, settings.sqlite_synchronous)
    upgrade(database.engine)  # a fresh or older database reads the same as a current one
    with reading(database) as store:
        incident = store.find(options.incident)
        if incident is None:
            print(f"no incident matches {options.incident!r} (give its id, channel id or channel name)", file=sys.stderr)
            return 1
        data = builder.build(store, incident, settings.timezone, utcnow(), settings.targets)
    if options.format == "json":
        sys.stdout.write(incident_json_text(data) + "\n")
    else:
        sys.stdout.write(render_postmortem(data, options.language or settings.postmortem_language))
    return 0
