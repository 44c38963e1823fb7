"""Times as people type them, and Slack timestamps, to aware UTC datetimes."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from bot.i18n import N_, Message

# A typed time may run slightly ahead of the server clock (minute rounding, clock skew).
FUTURE_TOLERANCE = timedelta(seconds=59)

_HH_MM = re.compile(r"^(\d{1,2}):(\d{2})$")
_DATE_HH_MM = re.compile(r"^(\d{4})-(\d{2})-(\d{2})[ T](\d{1,2}):(\d{2})(?::(\d{2}))?$")

TIME_FORMATS_HELP = N_("HH:MM (today), YYYY-MM-DD HH:MM, or ISO 8601 such as 2026-11-22T14:05:00+09:00")


class TimeInputError(ValueError):
    """A typed time that cannot be used; `message` says why, for the person who typed it (in their language)."""

    def __init__(self, message: Message):
        super().__init__(str(message))
        self.message = message


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def parse_user_time(text: str, tz: ZoneInfo, now: datetime) -> datetime:
    """Read `HH:MM` (today in tz), `YYYY-MM-DD HH:MM` (in tz) or ISO 8601 (tz when no offset)."""
    text = text.strip()
    local_now = now.astimezone(tz)
    try:
        if match := _HH_MM.match(text):
            hour, minute = int(match[1]), int(match[2])
            value = datetime.combine(local_now.date(), datetime.min.time()).replace(hour=hour, minute=minute)
        elif match := _DATE_HH_MM.match(text):
            year, month, day, hour, minute = (int(match[i]) for i in range(1, 6))
            value = datetime(year, month, day, hour, minute, int(match[6] or 0))
        else:
            value = datetime.fromisoformat(text.replace("Z", "+00:00"))
        if value.tzinfo is None:
            value = value.replace(tzinfo=tz)
        return value.astimezone(timezone.utc)
    except (ValueError, OverflowError):  # OverflowError: a time at the calendar's edge, shifted past it
        raise TimeInputError(
            Message(N_("`{text}` is not a time I can read. Use {formats}."), {"text": text, "formats": Message(TIME_FORMATS_HELP)})
        ) from None


def check_not_future(value: datetime, tz: ZoneInfo, now: datetime) -> None:
    if value > now + FUTURE_TOLERANCE:
        raise TimeInputError(
            Message(
                N_("{at} is in the future (it is now {now}). Use YYYY-MM-DD HH:MM for another day."),
                {"at": show(value, tz), "now": show(now, tz)},
            )
        )


def parse_due_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise TimeInputError(Message(N_("`{text}` is not a due date; use YYYY-MM-DD."), {"text": text})) from None


def show(value: datetime, tz: ZoneInfo) -> str:
    """A time as a person in `tz` reads it: `2026-11-22 14:05 JST`."""
    local = value.astimezone(tz)
    return local.strftime("%Y-%m-%d %H:%M ") + (local.tzname() or "")


def show_apart(first: datetime, second: datetime, tz: ZoneInfo) -> tuple[str, str]:
    """Two times as a person reads them, as precisely as it takes for them not to look the same.

    Why: a refusal such as "resolved 02:25 would be before mitigated (02:25)" must show why.
    """
    for precise in (show, show_seconds, show_milliseconds):
        shown = precise(first, tz), precise(second, tz)
        if shown[0] != shown[1]:
            return shown
    return shown


def show_seconds(value: datetime, tz: ZoneInfo) -> str:
    local = value.astimezone(tz)
    return local.strftime("%Y-%m-%d %H:%M:%S ") + (local.tzname() or "")


def show_milliseconds(value: datetime, tz: ZoneInfo) -> str:
    local = value.astimezone(tz)
    return local.strftime("%Y-%m-%d %H:%M:%S.") + f"{local.microsecond // 1000:03d} " + (local.tzname() or "")


def from_slack_ts(ts: str) -> datetime:
    """Slack's `1700000000.000100` (seconds.micro) to an aware UTC datetime."""
    seconds, _, micros = ts.partition(".")
    return datetime.fromtimestamp(int(seconds), timezone.utc) + timedelta(microseconds=int((micros or "0")[:6].ljust(6, "0")))


def is_slack_ts(value: object) -> bool:
    return isinstance(value, str) and re.fullmatch(r"\d{1,12}\.\d{1,6}", value) is not None
