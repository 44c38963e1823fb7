"""Settings from the environment, checked once at start-up.

`Settings` is the one table of every environment variable the bot reads: each field is a row
naming its variable(s), default, one-line meaning and how the value is read and checked. The
README's configuration table, `.env.example` (`incident-bot settings` prints it) and this class
are checked against each other by tests/test_settings.py. Add a setting by adding a field.

Every problem raises ConfigError with one line that starts with the variable's name, so an
operator sees exactly what to fix instead of a stack trace.

Why not pydantic-settings: its errors are multi-line ValidationErrors we would translate back into
these lines, most checks here are the bot's own (emoji lists, durations, channel IDs, time zones)
and would stay as validators, and families such as REACTION_<MARK> are not one field per variable.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from dataclasses import dataclass, field, fields
from datetime import timedelta
from typing import Any, Callable, Mapping
from urllib.parse import urlparse
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from bot.alerts.rules import AlertRules, RulesError, default_rules, parse_rules
from bot.domain.marks import DEFAULT_EMOJI, parse_reaction_setting, setting_name
from bot.i18n import DEFAULT_LANGUAGE, LANGUAGES
from bot.reminders.rhythm import (
    DEFAULT_LEAD_NUDGE_MINUTES,
    DEFAULT_NUDGE_MINUTES,
    DEFAULT_POSTMORTEM_DUE_DAYS,
    DEFAULT_REPORT_MINUTES,
    Rhythm,
)
from bot.stats.insights import DEFAULT_TARGETS, METRICS, Targets, parse_duration_setting

DEFAULT_DATABASE_URL = "sqlite:///incidents.db"
DEFAULT_API_URL = "https://slack.com/api/"
# embedded: every web process also runs the reminder clock (one process is enough to run the bot);
# external: reminders run only in `python app.py clock` (the Procfile's clock process).
SCHEDULER_MODES = ("embedded", "external")
SQLITE_SYNCHRONOUS_LEVELS = ("FULL", "NORMAL")
WEB_SERVERS = ("granian", "gunicorn")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
DEFAULT_CLOCK_POLL_SECONDS = 5.0
DEFAULT_API_TIMEOUT_SECONDS = 15.0
_CHANNEL_ID = re.compile(r"^[CG][A-Z0-9]{2,}$")


class ConfigError(Exception):
    """A setting is missing or malformed; the message starts with the variable's name."""


class StartupError(Exception):
    """Start-up failed for a reason outside the settings (Slack or the network); the message is one line."""


# --- the table's rows -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Setting:
    """One row of the settings table: one variable, or a family of them (REACTION_<MARK>)."""

    label: str  # as the README's table names it: the variable, or the family's pattern
    meaning: str  # one line, for .env.example and `incident-bot settings`
    defaults: dict[str, str]  # every variable the row reads -> its default as written in the environment ("" = none)
    read: Callable[[Mapping[str, str]], Any]  # the environment -> the value; raises ConfigError naming the variable
    required: str = "no"  # "yes", "HTTP mode" or "no", as the README's table says
    shown_default: str = ""  # the README table's default column

    @property
    def variables(self) -> tuple[str, ...]:
        return tuple(self.defaults)


def variable(name: str, default: str | None, meaning: str, parse: Callable[[str, str], Any] | None = None,
             *, required: str = "no") -> Any:
    """A row for one variable. `parse(name, text)` gets the value, or the default when it is unset or blank;
    a variable without a default reads as None when unset."""

    def read(env: Mapping[str, str]) -> Any:
        text = _optional(env, name)
        if text is None:
            text = default
        if text is None:
            return None
        return parse(name, text) if parse else text

    row = Setting(name, meaning, {name: default or ""}, read, required, f"`{default}`" if default else "—")
    return field(default_factory=lambda: read({}), metadata={"setting": row})


def family(label: str, defaults: dict[str, str], meaning: str, read: Callable[[Mapping[str, str]], Any],
           shown_default: str) -> Any:
    """A row for variables that are read together, such as REACTION_<MARK>."""
    row = Setting(label, meaning, defaults, read, "no", shown_default)
    return field(default_factory=lambda: read({}), metadata={"setting": row})


# --- how values are read ---------------------------------------------------------------------------


def _optional(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name, "").strip()
    return value or None


def _app_token(name: str, value: str) -> str:
    if not value.startswith("xapp-"):
        raise ConfigError(f"{name} must be an app-level token starting with 'xapp-'")
    return value


def _api_url(name: str, value: str) -> str:
    parsed = urlparse(value)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise ConfigError(f"{name} must be an http(s) URL such as https://slack.com/api/, got {value!r}")
    # slack_sdk joins base_url and method name with no separator.
    return value if value.endswith("/") else value + "/"


def _database_url(name: str, value: str) -> str:
    # Heroku-style platforms hand out postgres://; we drive PostgreSQL with psycopg 3.
    for prefix in ("postgres://", "postgresql://"):
        if value.startswith(prefix):
            value = "postgresql+psycopg://" + value[len(prefix):]
    try:
        url = make_url(value)
    except ArgumentError:
        raise ConfigError(f"{name} is not a database URL: {value!r}") from None
    if url.get_backend_name() not in ("sqlite", "postgresql"):
        raise ConfigError(f"{name} must be sqlite:/// or postgresql://, got {url.get_backend_name()!r}")
    return value


def _timezone(name: str, value: str) -> ZoneInfo:
    try:
        return ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"{name} must be an IANA time zone such as Asia/Tokyo, got {value!r}") from None


def _channel_id(name: str, value: str) -> str:
    if not _CHANNEL_ID.match(value):
        raise ConfigError(f"{name} must be a channel ID such as C0123ABCD (not a #name), got {value!r}")
    return value


def _port(name: str, value: str) -> int:
    if not value.isdigit() or not 0 < int(value) < 65536:
        raise ConfigError(f"{name} must be a TCP port number from 1 to 65535, got {value!r}")
    return int(value)


def _one_of(choices: tuple[str, ...], *, upper: bool = False) -> Callable[[str, str], str]:
    def parse(name: str, value: str) -> str:
        chosen = value.upper() if upper else value.lower()
        if chosen not in choices:
            raise ConfigError(f"{name} must be one of {', '.join(choices)}, got {value!r}")
        return chosen

    return parse


def _whole_number(minimum: int, what: str) -> Callable[[str, str], int]:
    def parse(name: str, value: str) -> int:
        if not value.isdigit() or int(value) < minimum:
            raise ConfigError(f"{name} must be a whole number of {what}, {minimum} or more, got {value!r}")
        return int(value)

    return parse


def usable_cores() -> int:
    """The CPU cores this process may run on (its affinity mask: a container's limit), at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def _workers(name: str, value: str) -> int:
    # Why one per core: a worker is one Python process, so one GIL; with one worker the bot used
    # half of a 2-core machine (BENCHMARKS.md).
    if value.lower() == "auto":
        return usable_cores()
    return _whole_number(1, "worker processes, or auto")(name, value)


def _number(*, allow_zero: bool) -> Callable[[str, str], float]:
    """Minutes or seconds; fractions allowed (0.05 min = 3 s for demos), 0 turns a reminder off."""

    def parse(name: str, value: str) -> float:
        try:
            number = float(value)
        except ValueError:
            number = -1.0
        if number != number or number < 0 or number == float("inf") or (number == 0 and not allow_zero):
            floor = "0 or more (0 turns it off)" if allow_zero else "more than 0"
            raise ConfigError(f"{name} must be a number {floor}, such as 15 or 0.5, got {value!r}")
        return number

    return parse


_TRUE = ("true", "1", "yes", "on")
_FALSE = ("false", "0", "no", "off")


def _boolean(name: str, value: str) -> bool:
    if value.lower() in _TRUE:
        return True
    if value.lower() in _FALSE:
        return False
    raise ConfigError(f"{name} must be true or false, got {value!r}")


def _reactions(env: Mapping[str, str]) -> dict[str, str]:
    try:
        return parse_reaction_setting(env)
    except ValueError as error:
        raise ConfigError(str(error)) from None


def _nudge_name(severity: str) -> str:
    return f"NUDGE_MINUTES_{severity}"


def _nudge_minutes(env: Mapping[str, str]) -> dict[str, float]:
    parse = _number(allow_zero=True)
    return {
        severity: parse(_nudge_name(severity), text) if (text := _optional(env, _nudge_name(severity))) else default
        for severity, default in DEFAULT_NUDGE_MINUTES.items()
    }


def _target_name(metric: str, severity: str) -> str:
    return f"TARGET_{metric.upper()}_{severity}"


def _targets(env: Mapping[str, str]) -> Targets:
    """TARGET_TTD_P1=5m, TARGET_TTR_P2=8h, …: each overrides one default; 0 or off drops it."""
    limits = Targets().limits
    for severity, defaults in limits.items():
        for metric in METRICS:
            name = _target_name(metric, severity)
            value = _optional(env, name)
            if value is None:
                continue
            try:
                defaults[metric] = parse_duration_setting(value)
            except ValueError as error:
                raise ConfigError(f"{name} {error}, got {value!r}") from None
    return Targets(limits)


def _duration_text(delta: timedelta | None) -> str:
    """A default target as an operator writes it: 5m, 4h, 1d (off for none)."""
    if delta is None:
        return "off"
    seconds = int(delta.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def _number_text(number: float) -> str:
    return f"{number:g}"


def _postmortem_language(env: Mapping[str, str]) -> str:
    """POSTMORTEM_LANGUAGE, or BOT_LANGUAGE's when unset: the team's language unless they choose another."""
    name = "POSTMORTEM_LANGUAGE" if _optional(env, "POSTMORTEM_LANGUAGE") else "BOT_LANGUAGE"
    return _one_of(LANGUAGES)(name, _optional(env, name) or DEFAULT_LANGUAGE)


def _secret(min_length: int) -> Callable[[str, str], str]:
    """A shared secret for a webhook: long enough not to be guessed, and sendable in a header."""

    def parse(name: str, value: str) -> str:
        if len(value) < min_length or not value.isascii() or any(c.isspace() for c in value):
            raise ConfigError(f"{name} must be at least {min_length} characters of ASCII without spaces (it is {len(value)} long)")
        return value

    return parse


def _alert_rules(env: Mapping[str, str]) -> AlertRules:
    """ALERT_RULES: the rules themselves, or @/path/to/a/file holding them (bot/alerts/rules.py)."""
    value = _optional(env, "ALERT_RULES")
    if value is None:
        return default_rules()
    if value.startswith("@"):
        try:
            value = open(value[1:], encoding="utf-8").read()
        except (OSError, UnicodeDecodeError) as error:
            raise ConfigError(f"ALERT_RULES names a file that cannot be read: {value[1:]!r} ({type(error).__name__})") from None
    try:
        return parse_rules(value)
    except RulesError as error:
        raise ConfigError(f"ALERT_RULES {error}") from None


def _folder(name: str, value: str) -> Path:
    path = Path(value).expanduser()
    if not path.is_dir():
        raise ConfigError(f"{name} must be a folder of Markdown runbooks, got {value!r} (not a folder)")
    return path


_CHAIN_ENTRY = re.compile(r"^(@?[\w.\-]{1,80}|<@[UW][A-Z0-9]+(?:\|[^>]*)?>):(.+)$")


def _escalation_chain(name: str, value: str) -> tuple:
    """`@release-lead:3m,@po:5m,@cto:10m`: whom to call in turn, and how long each has before the next."""
    chain = []
    for part in (p.strip() for p in value.split(",")):
        match = _CHAIN_ENTRY.match(part)
        try:
            interval = parse_duration_setting(match[2]) if match else None
        except ValueError:
            interval = None
        if interval is None:
            raise ConfigError(f"{name} must be a comma-separated list of @person:duration, such as @release-lead:3m,@po:5m, got {part!r}")
        chain.append((match[1], interval))
    return tuple(chain)


# --- the table -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Settings:
    """Every setting, one row each, in the order the README's table lists them."""

    bot_token: str = variable(
        "SLACK_BOT_TOKEN", "", "bot token, xoxb-… (OAuth & Permissions); needed to serve, to run the clock and for import --post",
        required="yes")
    signing_secret: str | None = variable(
        "SLACK_SIGNING_SECRET", None, "verifies that requests come from Slack (Basic Information → Signing Secret)",
        required="HTTP mode")
    app_token: str | None = variable(
        "SLACK_APP_TOKEN", None, "app-level token xapp-…; when set the bot uses Socket Mode instead of HTTP", _app_token)
    api_url: str = variable(
        "SLACK_API_URL", DEFAULT_API_URL, "Slack Web API base URL (e.g. GovSlack's); every call uses it", _api_url)
    database_url: str = variable(
        "DATABASE_URL", DEFAULT_DATABASE_URL, "sqlite:///file.db, or postgresql://user:pass@host/db in production",
        _database_url)
    port: int = variable("PORT", "3000", "HTTP port; Slack posts to /slack/events, health checks to /healthz", _port)
    timezone: ZoneInfo = variable(
        "INCIDENT_TIMEZONE", "UTC", "IANA time zone for every time a person reads or types, e.g. Asia/Tokyo", _timezone)
    announce_channel: str | None = variable(
        "INCIDENT_ANNOUNCE_CHANNEL", None, "channel ID (C0123…) that hears of new incidents, updates and resolutions",
        _channel_id)
    language: str = variable(
        "BOT_LANGUAGE", DEFAULT_LANGUAGE,
        f"language of everything posted in channels, and of replies to people whose Slack language is not one of "
        f"ours: {', '.join(LANGUAGES)}", _one_of(LANGUAGES))
    postmortem_language: str = family(
        "POSTMORTEM_LANGUAGE", {"POSTMORTEM_LANGUAGE": ""},
        f"language of the postmortem draft: {', '.join(LANGUAGES)} (unset: BOT_LANGUAGE's)", _postmortem_language,
        "BOT_LANGUAGE's")
    postmortem_canvas: bool = variable(
        "POSTMORTEM_CANVAS", "false", "true also puts the postmortem in a canvas in the incident channel", _boolean)
    catchup_on_join: bool = variable(
        "CATCHUP_ON_JOIN", "true", "true shows whoever joins an incident channel where it stands (only they see it)", _boolean)
    reactions: dict[str, str] = family(
        "REACTION_<MARK>", {setting_name(mark): emoji for mark, emoji in DEFAULT_EMOJI.items()},
        "emoji that mark a message, comma-separated, one variable per mark", _reactions,
        "per mark, in [Emoji marks](#emoji-marks)")
    nudge_minutes: dict[str, float] = family(
        "NUDGE_MINUTES_P<n>", {_nudge_name(s): _number_text(m) for s, m in DEFAULT_NUDGE_MINUTES.items()},
        "minutes without an update before a nudge, per severity (0 is off; fractions allowed)", _nudge_minutes,
        "P1 `15`, P2 `30`, P3 `60`, P4 `0`")
    targets: Targets = family(
        "TARGET_<METRIC>_P<n>",
        {_target_name(metric, severity): _duration_text(limits[metric])
         for severity, limits in DEFAULT_TARGETS.items() for metric in METRICS},
        "the most TTD / TTM / TTR each severity should take, for /incident stats (0 or off: no target)", _targets,
        "P1 TTD `5m` … P4 TTR `7d` (the `settings` command lists all 12)")
    lead_nudge_minutes: float = variable(
        "LEAD_NUDGE_MINUTES", _number_text(DEFAULT_LEAD_NUDGE_MINUTES),
        "ask who leads when nobody does this many minutes after declaring (0 is off)", _number(allow_zero=True))
    postmortem_due_days: int = variable(
        "POSTMORTEM_DUE_DAYS", str(DEFAULT_POSTMORTEM_DUE_DAYS),
        "business days after resolution before the postmortem review reminder (0 is off)",
        _whole_number(0, "business days"))
    report_minutes: float = variable(
        "REPORT_MINUTES", _number_text(DEFAULT_REPORT_MINUTES),
        "planned work in progress: minutes between status reports before a nudge (0 is off; fractions allowed)",
        _number(allow_zero=True))
    escalation_chain: tuple = variable(
        "ESCALATION_CHAIN", None,
        "planned work: whom to call in turn when a step fails or a prompt goes unanswered, e.g. @release-lead:3m,@po:5m,@cto:10m",
        _escalation_chain)
    runbook_dir: Path | None = variable(
        "RUNBOOK_DIR", None, "folder of Markdown checklists for /incident runbook use <name> (<name>.md)", _folder)
    api_timeout_seconds: float = variable(
        "SLACK_API_TIMEOUT", _number_text(DEFAULT_API_TIMEOUT_SECONDS),
        "seconds to wait for a Web API answer before retrying", _number(allow_zero=False))
    scheduler_mode: str = variable(
        "SCHEDULER", "embedded", "embedded: the web process also sends reminders; external: only the clock process does",
        _one_of(SCHEDULER_MODES))
    clock_poll_seconds: float = variable(
        "CLOCK_POLL_SECONDS", _number_text(DEFAULT_CLOCK_POLL_SECONDS),
        "how often a clock looks for reminders other processes stored", _number(allow_zero=False))
    sqlite_synchronous: str = variable(
        "SQLITE_SYNCHRONOUS", "FULL",
        "SQLite only: FULL keeps every acknowledged message through a power cut; NORMAL only through a crash of the bot",
        _one_of(SQLITE_SYNCHRONOUS_LEVELS, upper=True))
    web_server: str = variable(
        "WEB_SERVER", "granian", "the HTTP server: granian (HTTP handled in Rust; faster) or gunicorn",
        _one_of(WEB_SERVERS))
    web_concurrency: int = variable(
        "WEB_CONCURRENCY", "auto", "HTTP server worker processes in one instance (auto: one per CPU core it may use)",
        _workers)
    web_threads: int = variable(
        "WEB_THREADS", "8", "threads per HTTP server worker", _whole_number(1, "threads"))
    alert_webhook_token: str | None = variable(
        "ALERT_WEBHOOK_TOKEN", None,
        "bearer token Alertmanager and Grafana send to /alerts/alertmanager and /alerts/grafana (unset: both off)",
        _secret(16))
    pagerduty_webhook_secret: str | None = variable(
        "PAGERDUTY_WEBHOOK_SECRET", None, "signs PagerDuty's webhooks to /alerts/pagerduty (unset: off)", _secret(8))
    alert_rules: AlertRules = family(
        "ALERT_RULES", {"ALERT_RULES": ""},
        "which alerts declare an incident and at which severity, or @/path/to/rules (see Alerts)", _alert_rules,
        "`severity=critical -> P1; severity=page -> P2; urgency=high -> P2`")
    log_level: str = variable(
        "LOG_LEVEL", "INFO", f"how much to log: {', '.join(LOG_LEVELS)}", _one_of(LOG_LEVELS, upper=True))

    @property
    def socket_mode(self) -> bool:
        return self.app_token is not None

    @property
    def rhythm(self) -> Rhythm:
        return Rhythm(
            dict(self.nudge_minutes), self.lead_nudge_minutes, self.postmortem_due_days, self.report_minutes, self.escalation_chain or (),
        )

    @classmethod
    def from_env(cls, env: Mapping[str, str], *, need_slack: bool = True, need_signing: bool = True) -> "Settings":
        """Read and check every setting; `need_slack=False` for offline commands (export, migrate),
        `need_signing=False` for the clock, which sends to Slack but receives nothing from it."""
        settings = cls(**{f.name: f.metadata["setting"].read(env) for f in fields(cls)})
        if need_slack:
            if not settings.bot_token:
                raise ConfigError("SLACK_BOT_TOKEN is not set (the bot token, 'xoxb-…', from OAuth & Permissions)")
            if not settings.bot_token.startswith("xoxb-"):
                raise ConfigError("SLACK_BOT_TOKEN must be a bot token starting with 'xoxb-'")
            # Socket Mode receives no signed HTTP requests, so only HTTP mode needs the secret.
            if need_signing and not settings.socket_mode and settings.signing_secret is None:
                raise ConfigError("SLACK_SIGNING_SECRET is not set (Basic Information → Signing Secret)")
        return settings


SETTINGS: tuple[Setting, ...] = tuple(f.metadata["setting"] for f in fields(Settings))


def env_example() -> str:
    """Every variable with its default, as .env.example holds them (`incident-bot settings` prints this)."""
    lines = [
        "# incident-bot settings: every variable the bot reads, with its default.",
        "# Required ones are uncommented; a commented line shows the default the bot uses when it is unset.",
        "# The README's Configuration section explains each one.",
    ]
    for row in SETTINGS:
        lines += ["", f"# {row.meaning}" + ("" if row.required == "no" else f" (required: {row.required})")]
        for name, default in row.defaults.items():
            lines.append(f"{name}={default}" if row.required != "no" else f"# {name}={default}")
    return "\n".join(lines) + "\n"

