"""Every word a person reads, in their language: gettext catalogs (Babel) and Babel's formats.

- Texts are marked in the code with `t._("…")` / `t.ngettext(…)` where a Translator `t` is at
  hand, and with `N_("…")` where a text is defined before anyone reads it (module constants, a
  refusal raised by a domain rule): `N_` only marks it for extraction; whoever shows it
  translates it with `t._(text, **params)`.
- Placeholders are `{name}` fields filled after translation, so translators can move them.
  Parameters that are themselves words of the bot (a status, a milestone, a severity's
  description, an action class, a role, a decision) are passed as `Word(kind, key)` and shown
  in the reader's language; datetimes and timedeltas are formatted by Babel in the incident's
  time zone. People's own words are never translated: pass them as plain strings.
- Catalogs: `bot/locale/<lang>/LC_MESSAGES/messages.po`, kept with Babel's commands (README,
  "Languages"). They are compiled in memory when first used, so nothing compiled is committed
  and an installed package needs no build step.
"""

from __future__ import annotations

import gettext as gettext_module
import io
import re
import threading
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date
from babel.lists import format_list
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal, format_percent
from babel.units import format_unit
from jinja2 import BaseLoader, Environment

LANGUAGES = ("en", "ja", "ko")
DEFAULT_LANGUAGE = "en"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
DOMAIN = "messages"


def N_(message: str) -> str:
    """Marks a text for the catalog without translating it (it is translated where it is shown)."""
    return message


def NP_(context: str, message: str) -> str:
    """Marks a word of the vocabulary for the catalog with its context (its kind); `Translator.word` translates it."""
    return message


@dataclass(frozen=True)
class Word:
    """One of the bot's own words (a status, a milestone…), shown in the reader's language."""

    kind: str  # a key of VOCABULARY
    key: str


@dataclass(frozen=True)
class Message:
    """A text to translate later, with its parameters: what a domain refusal carries."""

    text: str
    params: dict = field(default_factory=dict, hash=False)

    def __str__(self) -> str:
        # Logs and tests outside Slack read it in English.
        return translator(DEFAULT_LANGUAGE, ZoneInfo("UTC"))._(self.text, **self.params)


# The bot's vocabulary: every word a status, milestone, class… can be, marked for the catalog with its
# kind as context (msgctxt), so `resolved` the status and `resolved` the milestone may read differently.
VOCABULARY: dict[str, dict[str, str]] = {
    "status": {
        "investigating": NP_("status", "investigating"),
        "identified": NP_("status", "identified"),
        "monitoring": NP_("status", "monitoring"),
        "resolved": NP_("status", "resolved"),
    },
    "milestone": {
        "started": NP_("milestone", "impact started"),
        "detected": NP_("milestone", "detected"),
        "identified": NP_("milestone", "cause identified"),
        "mitigated": NP_("milestone", "mitigated"),
        "resolved": NP_("milestone", "resolved"),
    },
    "severity": {
        "P1": NP_("severity", "P1 · critical: most users affected"),
        "P2": NP_("severity", "P2 · major: many users or a key feature"),
        "P3": NP_("severity", "P3 · minor: some users, workaround exists"),
        "P4": NP_("severity", "P4 · low: little or no user impact"),
    },
    "class": {"prevent": NP_("class", "prevent"), "process": NP_("class", "process"), "mitigate": NP_("class", "mitigate")},
    "decision": {"continue": NP_("decision", "Continue"), "rollback": NP_("decision", "Roll back"), "stop": NP_("decision", "Stop")},
    "mark": {
        "key_event": NP_("mark", "key event"),
        "detected": NP_("mark", "detected"),
        "identified": NP_("mark", "cause identified"),
        "mitigated": NP_("mark", "mitigated"),
        "resolved": NP_("mark", "resolved"),
        "action_item": NP_("mark", "action item"),
        "went_well": NP_("mark", "went well"),
        "went_wrong": NP_("mark", "went wrong"),
        "lucky": NP_("mark", "lucky"),
    },
    "item_status": {"open": NP_("item_status", "open"), "done": NP_("item_status", "done")},
    # Roles: the commander, and the other roles the docs suggest (`/incident role comms @ana`); a
    # role someone names otherwise is their word, shown as they typed it.
    "role": {
        "commander": NP_("role", "commander"),
        "comms": NP_("role", "comms"),
        "scribe": NP_("role", "scribe"),
        "liaison": NP_("role", "liaison"),
    },
    # What each kind of timeline entry is called, in the postmortem's timeline and `/incident timeline`.
    "entry": {
        "declared": NP_("entry", "Declared"),
        "status": NP_("entry", "Status"),
        "update": NP_("entry", "Update"),
        "note": NP_("entry", "Note"),
        "severity": NP_("entry", "Severity"),
        "lead": NP_("entry", "Commander"),
        "role": NP_("entry", "Role"),
        "milestone": NP_("entry", "Milestone"),
        "action": NP_("entry", "Action item"),
        "reopened": NP_("entry", "Reopened"),
        "message": NP_("entry", "Message"),
        "deadline": NP_("entry", "Go/no-go deadline"),
        "decision": NP_("entry", "Go/no-go decision"),
        "action_done": NP_("entry", "Action item done"),
        "action_pushed": NP_("entry", "Action item pushed"),
        "postmortem_done": NP_("entry", "Postmortem reviewed"),
        "snooze": NP_("entry", "Nudges snoozed"),
        "tag": NP_("entry", "Tagged"),
        "untag": NP_("entry", "Untagged"),
        "summary": NP_("entry", "Summary"),
        "impact": NP_("entry", "Impact"),
        "trigger": NP_("entry", "Trigger"),
        "cause": NP_("entry", "Root cause"),
        "why": NP_("entry", "Why"),
        "factor": NP_("entry", "Contributing factor"),
        "planned": NP_("entry", "Planned"),
        "runbook": NP_("entry", "Runbook"),
        "step": NP_("entry", "Runbook step"),
        "finished": NP_("entry", "Work over"),
        "escalated": NP_("entry", "Escalated to an incident"),
        "escalation": NP_("entry", "Escalation"),
        "escalation_ack": NP_("entry", "Escalation acknowledged"),
    },
    # The parts of the postmortem the team writes during the incident (bot/domain/write_up.py).
    "write_up": {
        "summary": NP_("write_up", "summary"),
        "impact": NP_("write_up", "impact"),
        "trigger": NP_("write_up", "trigger"),
        "cause": NP_("write_up", "root cause"),
        "why": NP_("write_up", "why"),
        "factor": NP_("write_up", "factor"),
    },
    # The fishbone's categories.
    "factor": {
        "people": NP_("factor", "People"),
        "process": NP_("factor", "Process"),
        "technology": NP_("factor", "Technology"),
        "environment": NP_("factor", "Environment"),
    },
    # Planned work (bot/domain/planned_work.py).
    "work_kind": {"release": NP_("work_kind", "Release"), "maintenance": NP_("work_kind", "Maintenance")},
    "work_status": {
        "planned": NP_("work_status", "planned"),
        "in_progress": NP_("work_status", "in progress"),
        "completed": NP_("work_status", "completed"),
        "rolled_back": NP_("work_status", "rolled back"),
        "stopped": NP_("work_status", "stopped"),
    },
    "step_state": {
        "pending": NP_("step_state", "to do"),
        "running": NP_("step_state", "started"),
        "done": NP_("step_state", "done"),
        "failed": NP_("step_state", "failed"),
        "skipped": NP_("step_state", "skipped"),
    },
    "step_action": {
        "started": NP_("step_action", "started"),
        "done": NP_("step_action", "done"),
        "failed": NP_("step_action", "failed"),
        "skipped": NP_("step_action", "skipped"),
    },
}

_FIELD = re.compile(r"\{([a-z_][a-z0-9_]*)\}")


class Translator:
    """One language in one time zone: texts, words, durations, times, numbers and lists."""

    def __init__(self, language: str, tz: ZoneInfo):
        self.language = language if language in LANGUAGES else DEFAULT_LANGUAGE
        self.tz = tz
        self.locale = Locale.parse(self.language)
        self._catalog = _catalog(self.language)

    # --- texts ----------------------------------------------------------------------------

    def _(self, message: str | Message, /, **params) -> str:
        """The text in this language, its `{fields}` filled (words translated, times formatted)."""
        if isinstance(message, Message):
            message, params = message.text, {**message.params, **params}
        return self._fill(self._catalog.gettext(message), params)

    def pgettext(self, context: str, message: str, /, **params) -> str:
        """A text whose English is the same as another's with another meaning (`month`, a range, vs `month`, a column)."""
        return self._fill(self._catalog.pgettext(context, message), params)

    def ngettext(self, singular: str, plural: str, n: int, /, **params) -> str:
        return self._fill(self._catalog.ngettext(singular, plural, n), {"n": self.number(n), **params})

    def word(self, kind: str, key: str | None) -> str:
        if key is None:
            return ""
        known = VOCABULARY.get(kind, {}).get(key)
        return self._catalog.pgettext(kind, known) if known else key

    def _fill(self, text: str, params: dict) -> str:
        if not params:
            return text
        shown = {name: self.show(value) for name, value in params.items()}
        # Only {name} fields are filled: a literal brace in a translation stays as written.
        return _FIELD.sub(lambda m: shown.get(m[1], m[0]), text)

    def show(self, value) -> str:
        if isinstance(value, Word):
            return self.word(value.kind, value.key)
        if isinstance(value, Message):
            return self._(value)
        if isinstance(value, datetime):
            return self.datetime(value)
        if isinstance(value, timedelta):
            return self.duration(value)
        if isinstance(value, date):
            return self.date(value)
        # An int is most often a reference (incident #1234, item #7): never grouped. Counts that read
        # better grouped go through `number`, as ngettext's `n` does.
        return str(value)

    # --- formats --------------------------------------------------------------------------

    def duration(self, delta: timedelta | None, missing: str | None = None) -> str:
        """`45s`, `12m`, `1h 24m` / `1時間24分` / `1시간 24분`, `2d 3h`: the two largest units a reader needs.

        A missing or negative span is `missing` (default "not recorded"), never invented.
        """
        if delta is None or delta < timedelta(0):
            return self._(N_("not recorded")) if missing is None else missing
        seconds = int(delta.total_seconds())
        days, rest = divmod(seconds, 86400)
        hours, rest = divmod(rest, 3600)
        minutes, secs = divmod(rest, 60)
        if days:
            shown = ((days, "day"), (hours, "hour")) if hours else ((days, "day"),)
        elif hours:
            shown = ((hours, "hour"), (minutes, "minute")) if minutes else ((hours, "hour"),)
        elif minutes:
            shown = ((minutes, "minute"),)  # under an hour, seconds are noise
        else:
            shown = ((secs, "second"),)
        return _units(self.language, shown)

    def datetime(self, value: datetime) -> str:
        """`2026-11-22 14:05 JST`, in the incident's time zone (numeric dates read the same in every language)."""
        from bot.domain import times  # which imports this module for its messages

        return times.show(value, self.tz)

    def datetime_seconds(self, value: datetime) -> str:
        from bot.domain import times

        return times.show_seconds(value, self.tz)

    def clock(self, value: datetime) -> str:
        return value.astimezone(self.tz).strftime("%H:%M")

    def date(self, value: date) -> str:
        return format_date(value, "yyyy-MM-dd", locale=self.locale)

    def number(self, value: int | float) -> str:
        return format_decimal(value, locale=self.locale)

    def percent(self, value: float) -> str:
        return format_percent(value, locale=self.locale)

    def list(self, items: list[str], style: str = "standard") -> str:
        """`a, b, and c` / `a、b、c` / `a, b 및 c`; `standard-narrow` leaves out the "and" (`a, b, c`)."""
        return format_list(list(items), style=style, locale=self.locale) if items else ""


def language_of_locale(locale: object) -> str | None:
    """The catalogs' language for a locale such as Slack's `ja-JP` (users.info), or None when we have none."""
    if not isinstance(locale, str):
        return None
    primary = locale.replace("_", "-").split("-")[0].strip().lower()
    return primary if primary in LANGUAGES else None


def jinja_environment(loader: BaseLoader, t: Translator, **options) -> Environment:
    """A Jinja2 environment that speaks `t`'s language through the same catalogs as the code.

    `_("…{name}…", name=…)` and `ngettext(…)` in a template are `t._` and `t.ngettext` (extracted by
    Babel's jinja2 extractor, babel.cfg). They are installed as they are, not wrapped in Jinja's
    "newstyle" gettext, which fills `%(name)s` fields: the catalog has one placeholder convention,
    `{name}`, whether a text is shown by Python or by a template. Globals format what varies by
    language: `duration`, `word` (the bot's vocabulary), `number` and `listed`.
    """
    env = Environment(loader=loader, extensions=["jinja2.ext.i18n"], **options)
    env.install_gettext_callables(gettext=t._, ngettext=t.ngettext, newstyle=False)
    env.globals.update(duration=t.duration, word=t.word, number=t.number, listed=t.list, language=t.language)
    return env


# Japanese writes a duration without spaces (1時間24分); Korean and English keep CLDR's narrow forms.
_UNIT_LENGTH = {"en": "narrow", "ko": "narrow", "ja": "short"}


@lru_cache(maxsize=4096)
def _units(language: str, parts: tuple[tuple[int, str], ...]) -> str:
    length = _UNIT_LENGTH.get(language, "narrow")
    shown = [format_unit(amount, f"duration-{unit}", length=length, locale=language) for amount, unit in parts]
    text = format_list(shown, style="unit-narrow", locale=language)
    return text.replace(" ", "").replace("\u00a0", "") if language == "ja" else text


_lock = threading.Lock()


@lru_cache(maxsize=None)
def _catalog(language: str) -> gettext_module.NullTranslations:
    """The language's catalog, compiled from its .po file in memory (English needs none)."""
    po = LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"
    if language == DEFAULT_LANGUAGE or not po.exists():
        return gettext_module.NullTranslations()
    with _lock, po.open("rb") as source:
        catalog = read_po(source, locale=language)
        compiled = io.BytesIO()
        write_mo(compiled, catalog, use_fuzzy=False)
    compiled.seek(0)
    return gettext_module.GNUTranslations(compiled)


@lru_cache(maxsize=64)
def translator(language: str, tz: ZoneInfo) -> Translator:
    return Translator(language, tz)
