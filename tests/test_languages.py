"""Words in the team's language: Babel's formats per language (the catalogs' own tests join them)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from bot.i18n import N_, Message, Word, translator

TOKYO = ZoneInfo("Asia/Tokyo")


@pytest.mark.parametrize(
    "language, shown",
    [
        ("en", ["0s", "45s", "12m", "1h", "1h 24m", "2d 3h", "1d"]),
        ("ja", ["0秒", "45秒", "12分", "1時間", "1時間24分", "2日3時間", "1日"]),
        ("ko", ["0초", "45초", "12분", "1시간", "1시간 24분", "2일 3시간", "1일"]),
    ],
)
def test_durations_read_as_each_language_writes_them(language, shown):
    t = translator(language, TOKYO)
    assert [t.duration(timedelta(seconds=s)) for s in (0, 45, 750, 3600, 5040, 183659, 86400)] == shown
    assert t.duration(None, "—") == "—" and t.duration(timedelta(seconds=-1), "—") == "—"


def test_placeholders_take_words_times_and_peoples_text_as_they_are():
    t = translator("en", TOKYO)
    at = datetime(2026, 11, 22, 5, 5, tzinfo=timezone.utc)
    text = t._("{milestone} at {at}: {text}", milestone=Word("milestone", "mitigated"), at=at, text="{not a field} <@U1>")
    assert text == "mitigated at 2026-11-22 14:05 JST: {not a field} <@U1>"
    assert str(Message(N_("The incident is already {status}."), {"status": Word("status", "resolved")})) == (
        "The incident is already resolved."
    )
