"""`python app.py import <export> --channel <name>`: a past incident from a Slack export.

Reads the export (bot/transfer/slack_export.py), records the channel as an
incident the way the live bot would have (bot/transfer/incident_import.py), in one
unit of work, then prints the postmortem, writes it to a file, or posts it to
Slack with the live bot's own delivery. Bad input gets one line on stderr, exit
code 2, and leaves the database untouched.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import os
import re
import sys
from datetime import datetime
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError, OperationalError

from bot.config import Settings
from bot.domain import times
from bot.domain.records import SEVERITIES
from bot.i18n import LANGUAGES
from bot.postmortem import builder
from bot.postmortem.render import render_postmortem
from bot.services import Services
from bot.transfer.incident_import import ImportRefused, check_started, import_history, read_history
from bot.transfer.slack_export import ExportError, open_export
from storage.db import Database
from storage.incident_store import reading
from storage.migrate import upgrade

log = logging.getLogger(__name__)

DEFAULT_SEVERITY = "P3"  # as `/incident start` without one
_CHANNEL_ID = re.compile(r"^[CG][A-Z0-9]{2,31}$")


class BadInput(Exception):
    """One line for the person at the terminal; nothing has been written."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The command's arguments, on the command line's `import` parser (bot/cli.py), whose usage
    mistakes are one line too."""
    parser.add_argument("export", help="the export folder, or the .zip Slack made")
    parser.add_argument("--channel", required=True, help="the incident's channel, by name (inc-…) or id (C0…)")
    parser.add_argument("--title", help="default: the channel's purpose, else its topic, else its name")
    parser.add_argument("--severity", type=_severity, default=DEFAULT_SEVERITY, help=f"P1-P4 (default: {DEFAULT_SEVERITY})")
    parser.add_argument("--from", dest="since", metavar="TIME", help="import only messages from this time on")
    parser.add_argument("--to", dest="until", metavar="TIME", help="import only messages up to this time")
    parser.add_argument("--started", metavar="TIME", help="when impact began (default: the first message)")
    parser.add_argument("--language", choices=LANGUAGES,
                        help="of the postmortem (default: POSTMORTEM_LANGUAGE, which is en when unset)")
    parser.add_argument("--out", metavar="FILE", help="write the postmortem here instead of printing it")
    parser.add_argument("--post", action="store_true", help="post the postmortem to Slack (needs SLACK_BOT_TOKEN)")
    parser.add_argument("--post-channel", metavar="CHANNEL_ID", help="post there instead of the incident's channel")


def import_command(options: argparse.Namespace, settings: Settings) -> int:
    try:
        return _import(options, settings)
    except BadInput as error:
        print(f"import: {error}", file=sys.stderr)
        return 2


def _import(options: argparse.Namespace, settings: Settings) -> int:
    language = options.language or settings.postmortem_language
    tz, now = settings.timezone, times.utcnow()
    since = _time(options.since, "--from", settings, now)
    until = _time(options.until, "--to", settings, now)
    started = _time(options.started, "--started", settings, now)
    if since and until and since > until:
        raise BadInput(f"--from {times.show(since, tz)} is after --to {times.show(until, tz)}")
    if options.post_channel and not _CHANNEL_ID.match(options.post_channel):
        raise BadInput(f"--post-channel must be a channel ID such as C0123ABCD (not a #name), got {options.post_channel!r}")
    if options.post_channel and not options.post:
        raise BadInput("--post-channel goes with --post")
    out = _writable(options.out) if options.out else None
    try:
        export = open_export(options.export)
        history = read_history(export, options.channel, settings.reactions, since, until, tz)
        check_started(history, started, tz)
    except (ExportError, ImportRefused) as error:
        raise BadInput(str(error)) from None
    channel = history.channel
    title = options.title if options.title is not None else (channel.purpose or channel.topic or channel.name)
    if not title.strip():
        raise BadInput("--title is empty; give the incident a title or leave --title out to use the channel's")

    database = Database(settings.database_url, settings.sqlite_synchronous)
    # A fresh database takes an import like a current one; the migration's chatter would bury
    # the one line this command prints (`python app.py migrate` shows it).
    _quiet("alembic", logging.WARNING)
    try:
        upgrade(database.engine)
    except OperationalError as error:
        reason = str(error.orig or error).strip().splitlines()[0]
        raise BadInput(f"cannot use the database {_redacted(settings.database_url)}: {reason}") from None
    services = Services(dataclasses.replace(settings, postmortem_language=language), database)
    try:
        with services.gate.batch() as batch:
            imported = import_history(
                batch, history, title=title, severity=options.severity, reactions=settings.reactions,
                now=now, tz=tz, started_at=started,
            )
    except ImportRefused as error:
        raise BadInput(str(error)) from None
    except IntegrityError:
        # Another import of the same channel committed between our check and our insert.
        raise BadInput(f"#{channel.name} ({channel.id}) was imported by another run just now; nothing imported") from None

    with reading(database) as store:
        incident = store.incident(imported.incident_id)
        document = render_postmortem(builder.build(store, incident, tz, times.utcnow()), language)
    if out is not None:
        out.write_text(document, encoding="utf-8")
    elif not options.post:
        sys.stdout.write(document)
    closed = " (nobody marked it resolved: resolved at its last message from a person)" if imported.closed_by_import else ""
    print(
        f"imported #{channel.name} as incident #{imported.incident_id}: "
        f"{imported.messages} messages, {imported.marks} marks{closed}",
        file=sys.stderr,
    )
    if options.post:
        return _post(imported.incident_id, options.post_channel or channel.id, services)
    return 0


def _post(incident_id: int, channel: str, services: Services) -> int:
    """The live bot's delivery (summary + Markdown file), into a channel the bot joins first if it can."""
    from slack_sdk.errors import SlackApiError

    from bot.postmortem.delivery import deliver_postmortem
    from bot.slack.client import make_client

    client = make_client(services.settings)
    try:
        # Files can only be shared where the bot is a member; a public channel it can join itself.
        client.conversations_join(channel=channel)
    except SlackApiError as error:
        # A private channel cannot be joined (the bot may already be in it); delivery says if not.
        log.debug("conversations.join %s: %s", channel, error.response.get("error"))
    # The delivery logs a refusal for operators of the live bot; here the one line below says it.
    _quiet("bot.postmortem.delivery", logging.CRITICAL)
    error = deliver_postmortem(incident_id, client, services, channel=channel)
    if error is not None:
        print(
            f"import: incident #{incident_id} is imported, but Slack refused its postmortem in {channel} ({error}); "
            f"print it with `python app.py export {incident_id}`",
            file=sys.stderr,
        )
        return 1
    print(f"posted the postmortem of incident #{incident_id} in {channel}", file=sys.stderr)
    return 0


def _quiet(logger: str, level: int) -> None:
    """Keep a logger below `level` off stderr, unless LOG_LEVEL=DEBUG asks for everything."""
    if logging.getLogger().getEffectiveLevel() > logging.DEBUG:
        logging.getLogger(logger).setLevel(level)


def _redacted(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


def _severity(value: str) -> str:
    if value.upper() not in SEVERITIES:
        raise argparse.ArgumentTypeError(f"must be one of {', '.join(SEVERITIES)}, got {value!r}")
    return value.upper()


def _time(text: str | None, option: str, settings: Settings, now: datetime) -> datetime | None:
    if text is None:
        return None
    try:
        value = times.parse_user_time(text, settings.timezone, now)
        times.check_not_future(value, settings.timezone, now)
    except times.TimeInputError as error:
        raise BadInput(f"{option}: {error}") from None
    return value


def _writable(name: str) -> Path:
    """Checked before importing, so a bad --out does not leave an incident behind without its output."""
    path = Path(name).expanduser()
    if path.is_dir():
        raise BadInput(f"--out {name}: is a folder; give a file name")
    folder = path.parent
    if not folder.is_dir() or not os.access(folder, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise BadInput(f"--out {name}: cannot write there")
    return path
