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

LANGUAGES = ("en", "ja", "ko")
DEFAULT_LANGUAGE = "en"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
DOMAIN = "messages"


def N_(message: str) -> str:
    """Marks a text for the catalog without translating it (it is translated where it is shown)."""
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


# The bot's vocabulary: every word a status, milestone, class… can be, marked for the catalog.
VOCABULARY: dict[str, dict[str, str]] = {
    "status": {
        "investigating": N_("investigating"),
        "identified": N_("identified"),
        "monitoring": N_("monitoring"),
        "resolved": N_("resolved"),
    },
    "milestone": {
        "started": N_("impact started"),
        "detected": N_("detected"),
        "identified": N_("cause identified"),
        "mitigated": N_("mitigated"),
        "resolved": N_("resolved"),
    },
    "severity": {
        "P1": N_("P1 · critical: most users affected"),
        "P2": N_("P2 · major: many users or a key feature"),
        "P3": N_("P3 · minor: some users, workaround exists"),
        "P4": N_("P4 · low: little or no user impact"),
    },
    "class": {"prevent": N_("prevent"), "process": N_("process"), "mitigate": N_("mitigate")},
    "decision": {"continue": N_("Continue"), "rollback": N_("Roll back"), "stop": N_("Stop")},
    "mark": {
        "key_event": N_("key event"),
        "detected": N_("detected"),
        "identified": N_("cause identified"),
        "mitigated": N_("mitigated"),
        "resolved": N_("resolved"),
        "action_item": N_("action item"),
        "went_well": N_("went well"),
        "went_wrong": N_("went wrong"),
        "lucky": N_("lucky"),
    },
    "item_status": {"open": N_("open"), "done": N_("done")},
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

    def ngettext(self, singular: str, plural: str, n: int, /, **params) -> str:
        return self._fill(self._catalog.ngettext(singular, plural, n), {"n": self.number(n), **params})

    def word(self, kind: str, key: str | None) -> str:
        if key is None:
            return ""
        known = VOCABULARY.get(kind, {}).get(key)
        return self._catalog.gettext(known) if known else key

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
        if isinstance(value, bool):
            return str(value)
        if isinstance(value, int):
            return self.number(value)
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
        local = value.astimezone(self.tz)
        return local.strftime("%Y-%m-%d %H:%M ") + (local.tzname() or "")

    def datetime_seconds(self, value: datetime) -> str:
        local = value.astimezone(self.tz)
        return local.strftime("%Y-%m-%d %H:%M:%S ") + (local.tzname() or "")

    def clock(self, value: datetime) -> str:
        return value.astimezone(self.tz).strftime("%H:%M")

    def date(self, value: date) -> str:
        return format_date(value, "yyyy-MM-dd", locale=self.locale)

    def number(self, value: int | float) -> str:
        return format_decimal(value, locale=self.locale)

    def percent(self, value: float) -> str:
        return format_percent(value, locale=self.locale)

    def list(self, items: list[str]) -> str:
        return format_list(list(items), style="standard", locale=self.locale) if items else ""


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
