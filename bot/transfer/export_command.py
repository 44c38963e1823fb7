"""`python app.py export <incident-id-or-channel> --format md|json`: the record, outside Slack."""

from __future__ import annotations

import argparse
import json
import sys

from bot.config import Settings
from bot.domain import incidents
from bot.postmortem import builder as postmortem_builder
from bot.domain.times import utcnow
from bot.postmortem.render import incident_as_json, render_postmortem
from storage.db import Database
from storage.migrate import upgrade


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The command's arguments, on the command line's `export` parser (bot/cli.py)."""
    parser.add_argument("incident", help="incident id (42), channel id (C0123…) or channel name (inc-20261122-…)")
    parser.add_argument("--format", choices=("md", "json"), default="md",
                        help="md: the postmortem draft; json: the full record (default: %(default)s)")
    parser.add_argument("--language", choices=("en", "ja"),
                        help="of the postmortem (default: POSTMORTEM_LANGUAGE, which is en when unset)")


def export(options: argparse.Namespace, settings: Settings) -> int:
    database = Database(settings.database_url)
    upgrade(database.engine)  # a fresh or older database reads the same as a current one
    with database.session() as session:
        incident = incidents.find_incident(session, options.incident)
        if incident is None:
            print(f"no incident matches {options.incident!r} (give its id, channel id or channel name)", file=sys.stderr)
            return 1
        data = postmortem_builder.build(session, incident, settings.timezone, utcnow())
    if options.format == "json":
        sys.stdout.write(json.dumps(incident_as_json(data), ensure_ascii=False, indent=2) + "\n")
    else:
        sys.stdout.write(render_postmortem(data, options.language or settings.postmortem_language))
    return 0
