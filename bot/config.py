"""Settings from the environment, checked once at start-up.

Every problem raises ConfigError with one line naming the variable, so an
operator sees exactly what to fix instead of a stack trace.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Mapping
from urllib.parse import urlparse
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from bot.alerts.rules import AlertRules, RulesError, default_rules, parse_rules
from bot.i18n import DEFAULT_LANGUAGE, LANGUAGES
from bot.stats.insights import METRICS, Targets, parse_duration_setting
from bot.domain.marks import DEFAULT_REACTIONS, parse_reaction_setting
from bot.reminders.rhythm import DEFAULT_LEAD_NUDGE_MINUTES, DEFAULT_NUDGE_MINUTES, DEFAULT_POSTMORTEM_DUE_DAYS, Rhythm

DEFAULT_DATABASE_URL = "sqlite:///incidents.db"
# embedded: every web process also runs the reminder clock (one process is enough to run the bot);
# external: reminders run only in `python app.py clock` (the Procfile's clock process).
SCHEDULER_MODES = ("embedded", "external")
DEFAULT_CLOCK_POLL_SECONDS = 5.0
DEFAULT_API_TIMEOUT_SECONDS = 15.0
_CHANNEL_ID = re.compile(r"^[CG][A-Z0-9]{2,}$")


class ConfigError(Exception):
    """A setting is missing or malformed; the message names the variable."""


@dataclass(frozen=True)
class Settings:
    bot_token: str
    signing_secret: str | None
    app_token: str | None
    api_url: str | None
    database_url: str
    timezone: ZoneInfo
    announce_channel: str | None
    port: int
    postmortem_language: str
    reactions: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_REACTIONS))
    rhythm: Rhythm = field(default_factory=lambda: Rhythm(dict(DEFAULT_NUDGE_MINUTES)))
    scheduler_mode: str = "embedded"
    clock_poll_seconds: float = DEFAULT_CLOCK_POLL_SECONDS
    api_timeout_seconds: float = DEFAULT_API_TIMEOUT_SECONDS
    targets: Targets = field(default_factory=Targets)  # TTD / TTM / TTR per severity, for /incident stats
    postmortem_canvas: bool = False  # also put the postmortem in a canvas in the incident channel
    # Alerts (bot/alerts/): each endpoint is off (404) while its secret is unset.
    alert_webhook_token: str | None = None  # /alerts/alertmanager and /alerts/grafana: Authorization: Bearer …
    pagerduty_webhook_secret: str | None = None  # /alerts/pagerduty: X-PagerDuty-Signature
    alert_rules: AlertRules = field(default_factory=default_rules)  # which alerts declare, at which severity
    language: str = DEFAULT_LANGUAGE  # the workspace's: channel messages, and whoever's Slack locale has none of ours

    @property
    def socket_mode(self) -> bool:
        return self.app_token is not None

    @classmethod
    def from_env(cls, env: Mapping[str, str], *, need_slack: bool = True, need_signing: bool = True) -> "Settings":
        """Read and check every setting; `need_slack=False` for offline commands (export, migrate),
        `need_signing=False` for the clock, which sends to Slack but receives nothing from it."""
        app_token = _optional(env, "SLACK_APP_TOKEN")
        if app_token is not None and not app_token.startswith("xapp-"):
            raise ConfigError("SLACK_APP_TOKEN must be an app-level token starting with 'xapp-'")
        bot_token = _optional(env, "SLACK_BOT_TOKEN")
        signing_secret = _optional(env, "SLACK_SIGNING_SECRET")
        if need_slack:
            if bot_token is None:
                raise ConfigError("SLACK_BOT_TOKEN is not set (the bot token, 'xoxb-…', from OAuth & Permissions)")
            if not bot_token.startswith("xoxb-"):
                raise ConfigError("SLACK_BOT_TOKEN must be a bot token starting with 'xoxb-'")
            # Socket Mode receives no signed HTTP requests, so only HTTP mode needs the secret.
            if need_signing and app_token is None and signing_secret is None:
                raise ConfigError("SLACK_SIGNING_SECRET is not set (Basic Information → Signing Secret)")
        return cls(
            bot_token=bot_token or "",
            signing_secret=signing_secret,
            app_token=app_token,
            api_url=_api_url(env),
            database_url=_database_url(env),
            timezone=_timezone(env),
            announce_channel=_announce_channel(env),
            port=_port(env),
            postmortem_language=_language(env, "POSTMORTEM_LANGUAGE", default=_language(env, "BOT_LANGUAGE")),
            reactions=_reactions(env),
            rhythm=_rhythm(env),
            scheduler_mode=_scheduler_mode(env),
            clock_poll_seconds=_positive_number(env, "CLOCK_POLL_SECONDS", DEFAULT_CLOCK_POLL_SECONDS, allow_zero=False),
            api_timeout_seconds=_positive_number(env, "SLACK_API_TIMEOUT", DEFAULT_API_TIMEOUT_SECONDS, allow_zero=False),
            targets=_targets(env),
            postmortem_canvas=_boolean(env, "POSTMORTEM_CANVAS", default=False),
            alert_webhook_token=_secret(env, "ALERT_WEBHOOK_TOKEN", min_length=16),
            pagerduty_webhook_secret=_secret(env, "PAGERDUTY_WEBHOOK_SECRET", min_length=8),
            alert_rules=_alert_rules(env),
            language=_language(env, "BOT_LANGUAGE"),
        )


def _optional(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name, "").strip()
    return value or None


def _api_url(env: Mapping[str, str]) -> str | None:
    value = _optional(env, "SLACK_API_URL")
    if value is None:
        return None
    parsed = urlparse(value)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise ConfigError(f"SLACK_API_URL must be an http(s) URL such as https://slack.com/api/, got {value!r}")
    # slack_sdk joins base_url and method name with no separator.
    return value if value.endswith("/") else value + "/"


def _database_url(env: Mapping[str, str]) -> str:
    value = _optional(env, "DATABASE_URL") or DEFAULT_DATABASE_URL
    # Heroku-style platforms hand out postgres://; we drive PostgreSQL with psycopg 3.
    for prefix in ("postgres://", "postgresql://"):
        if value.startswith(prefix):
            value = "postgresql+psycopg://" + value[len(prefix):]
    try:
        url = make_url(value)
    except ArgumentError:
        raise ConfigError(f"DATABASE_URL is not a database URL: {value!r}") from None
    if url.get_backend_name() not in ("sqlite", "postgresql"):
        raise ConfigError(f"DATABASE_URL must be sqlite:/// or postgresql://, got {url.get_backend_name()!r}")
    return value


def _timezone(env: Mapping[str, str]) -> ZoneInfo:
    name = _optional(env, "INCIDENT_TIMEZONE") or "UTC"
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"INCIDENT_TIMEZONE must be an IANA time zone such as Asia/Tokyo, got {name!r}") from None


def _announce_channel(env: Mapping[str, str]) -> str | None:
    value = _optional(env, "INCIDENT_ANNOUNCE_CHANNEL")
    if value is not None and not _CHANNEL_ID.match(value):
        raise ConfigError(
            f"INCIDENT_ANNOUNCE_CHANNEL must be a channel ID such as C0123ABCD (not a #name), got {value!r}"
        )
    return value


def _port(env: Mapping[str, str]) -> int:
    value = _optional(env, "PORT") or "3000"
    if not value.isdigit() or not 0 < int(value) < 65536:
        raise ConfigError(f"PORT must be a TCP port number from 1 to 65535, got {value!r}")
    return int(value)


def _language(env: Mapping[str, str], name: str, default: str = DEFAULT_LANGUAGE) -> str:
    """BOT_LANGUAGE, POSTMORTEM_LANGUAGE: a language the catalogs have (bot/locale), e.g. ja."""
    value = (_optional(env, name) or default).lower()
    if value not in LANGUAGES:
        raise ConfigError(f"{name} must be one of {', '.join(LANGUAGES)}, got {value!r}")
    return value


def _reactions(env: Mapping[str, str]) -> dict[str, str]:
    try:
        return parse_reaction_setting(env)
    except ValueError as error:
        raise ConfigError(str(error)) from None


def _rhythm(env: Mapping[str, str]) -> Rhythm:
    nudges = {
        severity: _positive_number(env, f"NUDGE_MINUTES_{severity}", default)
        for severity, default in DEFAULT_NUDGE_MINUTES.items()
    }
    days = _optional(env, "POSTMORTEM_DUE_DAYS") or str(DEFAULT_POSTMORTEM_DUE_DAYS)
    if not days.isdigit():
        raise ConfigError(f"POSTMORTEM_DUE_DAYS must be a whole number of business days such as 5, got {days!r}")
    return Rhythm(
        nudge_minutes=nudges,
        lead_nudge_minutes=_positive_number(env, "LEAD_NUDGE_MINUTES", DEFAULT_LEAD_NUDGE_MINUTES),
        postmortem_due_days=int(days),
    )


def _positive_number(env: Mapping[str, str], name: str, default: float, *, allow_zero: bool = True) -> float:
    """Minutes or seconds; fractions allowed (0.05 min = 3 s for demos), 0 turns a reminder off."""
    value = _optional(env, name)
    if value is None:
        return default
    try:
        number = float(value)
    except ValueError:
        number = -1.0
    if number != number or number < 0 or number == float("inf") or (number == 0 and not allow_zero):
        floor = "0 or more (0 turns it off)" if allow_zero else "more than 0"
        raise ConfigError(f"{name} must be a number {floor}, such as 15 or 0.5, got {value!r}")
    return number


def _scheduler_mode(env: Mapping[str, str]) -> str:
    value = (_optional(env, "SCHEDULER") or "embedded").lower()
    if value not in SCHEDULER_MODES:
        raise ConfigError(f"SCHEDULER must be one of {', '.join(SCHEDULER_MODES)}, got {value!r}")
    return value


def _targets(env: Mapping[str, str]) -> Targets:
    """TARGET_TTD_P1=5m, TARGET_TTR_P2=8h, …: each overrides one default; 0 or off drops it."""
    limits = Targets().limits
    for severity, defaults in limits.items():
        for metric in METRICS:
            name = f"TARGET_{metric.upper()}_{severity}"
            value = _optional(env, name)
            if value is None:
                continue
            try:
                defaults[metric] = parse_duration_setting(value)
            except ValueError as error:
                raise ConfigError(f"{name} {error}, got {value!r}") from None
    return Targets(limits)


_TRUE = ("true", "1", "yes", "on")
_FALSE = ("false", "0", "no", "off")


def _boolean(env: Mapping[str, str], name: str, *, default: bool) -> bool:
    value = _optional(env, name)
    if value is None:
        return default
    if value.lower() in _TRUE:
        return True
    if value.lower() in _FALSE:
        return False
    raise ConfigError(f"{name} must be true or false, got {value!r}")


def _secret(env: Mapping[str, str], name: str, *, min_length: int) -> str | None:
    """A shared secret for a webhook: long enough not to be guessed, and sendable in a header."""
    value = _optional(env, name)
    if value is not None and (len(value) < min_length or not value.isascii() or any(c.isspace() for c in value)):
        raise ConfigError(f"{name} must be at least {min_length} characters of ASCII without spaces (it is {len(value)} long)")
    return value


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
