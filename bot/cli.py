"""The command line: `incident-bot <command>`, and `python app.py <command>` from the source tree.

argparse does the parsing and the help: `--help` on the program and on every command prints and
exits before anything starts; an unknown command or a bad argument prints the usage and exits 2.
Settings come from the environment (bot/config.py): a missing or malformed one, a database that
cannot be opened and a port that is taken are one line on stderr naming the variable, exit 2.
A start-up failure outside the settings (Slack unreachable in Socket Mode) is one line, exit 1.
Heavy modules (Bolt, gunicorn, the listeners) are imported only by the command that needs them.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable, Sequence
from importlib import metadata
from pathlib import Path

import bot
from bot.config import ConfigError, Settings, StartupError

DISTRIBUTION = "incident-bot"
DESCRIPTION = "A Slack bot that runs incidents, records their timeline and drafts the postmortem."
EPILOG = """\
With no command, serves Slack (the Procfile's web process).
Settings come from the environment: SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET (HTTP) or SLACK_APP_TOKEN
(Socket Mode), DATABASE_URL, … `{prog} settings` lists every one with its default. A missing or
malformed setting stops start-up with one line naming it and exit code 2.
`{prog} <command> --help` tells more about a command."""

SERVE = """\
Serve Slack: over HTTP with granian (or gunicorn: WEB_SERVER) on $PORT (default 3000) at
/slack/events, with /healthz for health checks, or over Socket Mode when SLACK_APP_TOKEN is set. The
database schema is brought up to date first. With SCHEDULER=embedded (the default) this process also sends the reminders (in
exactly one of its workers).

Needs SLACK_BOT_TOKEN, and SLACK_SIGNING_SECRET in HTTP mode. WEB_CONCURRENCY (default auto: one
per CPU core) worker processes with WEB_THREADS (default 8) threads each.

Exit codes: 2 for a setting to fix (named in the one line: a bad value, a database that cannot be
opened, a port already in use, an app token Slack refuses); 1 when Slack cannot be reached in
Socket Mode."""
CLOCK = """\
Run only the reminder clock: nudges, go/no-go prompts, review and action item reminders. Run one
beside web processes started with SCHEDULER=external (the Procfile's clock process). Needs
SLACK_BOT_TOKEN."""
MIGRATE = """\
Bring the schema of DATABASE_URL (default sqlite:///incidents.db) up to date. Serving and the clock
do this at start too; the Procfile runs it in the release phase."""
EXPORT = "Print an incident's postmortem draft (Markdown) or its full record (JSON), read from DATABASE_URL."
IMPORT = """\
Import a past incident from a Slack export (the folder, or the .zip Slack made) and draft its
postmortem: its messages and reactions go through the live bot's rules, in one transaction. A bad
export, option or time is one line on stderr and exit code 2, and nothing is written."""
IMPORT_EPILOG = "TIME is YYYY-MM-DD HH:MM in INCIDENT_TIMEZONE (default UTC), or ISO 8601."
SETTINGS = """\
Print every environment variable the bot reads, with its default and meaning, in .env format: the
repository's .env.example is this output."""
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class Parser(argparse.ArgumentParser):
    """argparse's parser; `one_line` makes a usage mistake one line, as `import` promises its callers."""

    one_line: str | None = None

    def error(self, message: str):
        if self.one_line:
            self.exit(2, f"{self.one_line}: {message} (see {self.prog} --help)\n")
        super().error(message)


def main(argv: Sequence[str] | None = None, *, prog: str = DISTRIBUTION) -> int:
    """Run one command; returns the exit code. `argv` excludes the program name (sys.argv[1:] by default)."""
    parser = build_parser(prog)
    try:
        options, extras = parser.parse_known_args(argv)
        if extras:
            getattr(options, "parser", parser).error(f"unrecognized arguments: {' '.join(extras)}")
    except SystemExit as stop:  # --help, --version and usage mistakes end here, before anything starts
        return stop.code if isinstance(stop.code, int) else 0 if stop.code is None else 1
    run: Callable[[argparse.Namespace], int] = getattr(options, "run", _serve)
    try:
        return run(options)
    except ConfigError as error:
        print(f"configuration error: {error}", file=sys.stderr)
        return 2
    except StartupError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1


def build_parser(prog: str = DISTRIBUTION) -> Parser:
    formatter = argparse.RawDescriptionHelpFormatter
    parser = Parser(prog=prog, description=DESCRIPTION, epilog=EPILOG.format(prog=prog), formatter_class=formatter)
    parser.add_argument("--version", action="version", version=f"%(prog)s {version()}")
    commands = parser.add_subparsers(title="commands", metavar="<command>", dest="command", parser_class=Parser)

    def command(name: str, summary: str, description: str, run: Callable[[argparse.Namespace], int], **kwargs) -> Parser:
        sub = commands.add_parser(name, help=summary, description=description, formatter_class=formatter, **kwargs)
        sub.set_defaults(run=run, parser=sub)
        return sub

    command("serve", "serve Slack over HTTP or Socket Mode (the default command)", SERVE, _serve)
    command("clock", "run only the reminder clock", CLOCK, _clock)
    command("migrate", "bring the database schema up to date", MIGRATE, _migrate)

    from bot.transfer import export_command, import_command

    export_command.add_arguments(command("export", "print an incident's postmortem or full record", EXPORT, _export))
    importer = command("import", "import a past incident from a Slack export", IMPORT, _import, epilog=IMPORT_EPILOG)
    importer.one_line = "import"
    import_command.add_arguments(importer)
    command("settings", "print every setting with its default (.env.example)", SETTINGS, _settings)
    helper = command("help", "show the help of the program or of a command", "Show the help of the program or of a command.",
                     lambda options: _help(commands.choices.get(options.topic, parser)))
    helper.add_argument("topic", nargs="?", metavar="command", choices=sorted(commands.choices), help="the command to explain")
    return parser


def version() -> str:
    """The installed distribution's version; running from a source tree, the version in bot/__init__.py."""
    try:
        installed = metadata.distribution(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        installed = None
    if installed is not None and Path(installed.locate_file("bot/__init__.py")).resolve() == Path(bot.__file__).resolve():
        return installed.version
    # A source tree: maybe beside an older installed copy, whose version would not be this code's.
    return f"{bot.__version__} (source tree {Path(bot.__file__).resolve().parent.parent})"


# --- the commands ------------------------------------------------------------------------------


def _settings_for(*, need_slack: bool = False, need_signing: bool = False) -> Settings:
    settings = Settings.from_env(os.environ, need_slack=need_slack, need_signing=need_signing)
    logging.basicConfig(level=settings.log_level, format=FORMAT)
    return settings


def _serve(_options: argparse.Namespace) -> int:
    settings = _settings_for(need_slack=True, need_signing=True)
    check_database(settings)
    from bot.app import serve

    return serve(settings)


def _clock(_options: argparse.Namespace) -> int:
    settings = _settings_for(need_slack=True)
    check_database(settings)
    from bot.app import clock

    return clock(settings)


def _migrate(_options: argparse.Namespace) -> int:
    settings = _settings_for()
    check_database(settings)
    from storage.db import Database
    from storage.migrate import upgrade

    database = Database(settings.database_url, settings.sqlite_synchronous)
    upgrade(database.engine)
    database.dispose()
    print("database schema is up to date")
    return 0


def _export(options: argparse.Namespace) -> int:
    settings = _settings_for()
    check_database(settings)
    from bot.transfer.export_command import export

    return export(options, settings)


def _import(options: argparse.Namespace) -> int:
    # `import --post` talks to Slack like the clock does: a bot token, no signing secret. The database
    # is checked by the import itself, after the export: bad input changes nothing and says so first.
    settings = _settings_for(need_slack=options.post)
    from bot.transfer.import_command import import_command

    return import_command(options, settings)


def _settings(_options: argparse.Namespace) -> int:
    from bot.config import env_example

    sys.stdout.write(env_example())
    return 0


def _help(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 0


# --- start-up checks ---------------------------------------------------------------------------


def check_database(settings: Settings) -> None:
    """A database that cannot be reached or opened is a setting to fix: one line naming DATABASE_URL."""
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import DBAPIError
    from sqlalchemy.pool import NullPool

    url = make_url(settings.database_url)
    shown = url.render_as_string(hide_password=True)
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        folder = Path(url.database).expanduser().absolute().parent
        if not folder.is_dir():
            raise ConfigError(f"DATABASE_URL {shown}: the folder {folder} does not exist")
    # Ten seconds for a host that never answers, instead of the system's minutes-long TCP timeout.
    connect_args = {"connect_timeout": 10} if url.get_backend_name() == "postgresql" else {}
    engine = create_engine(url, poolclass=NullPool, connect_args=connect_args)
    try:
        with engine.connect():
            pass
    except DBAPIError as error:
        reason = " ".join(str(error.orig or error).split("\n", 1)[0].split())
        raise ConfigError(f"DATABASE_URL {shown} cannot be opened: {reason}") from None
    finally:
        engine.dispose()
