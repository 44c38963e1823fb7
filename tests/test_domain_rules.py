"""The pure incident rules: durations, typed times, channel names, parsing, milestone precedence."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.domain import command_parser as cp
from bot.domain import requests as rq
from bot.domain.channel_names import MAX_CHANNEL_NAME, channel_name, slug_choices, slugify
from bot.domain.durations import KeyDurations
from bot.domain.milestones import effective_milestones, order_problem
from bot.domain.records import Claim
from bot.domain.times import TimeInputError, check_not_future, from_slack_ts, parse_user_time
from bot.i18n import translator

TOKYO = ZoneInfo("Asia/Tokyo")
NOW = datetime(2026, 11, 22, 5, 30, tzinfo=timezone.utc)  # 14:30 in Tokyo


@pytest.mark.parametrize(
    "seconds, shown",
    [(0, "0s"), (45, "45s"), (12 * 60 + 30, "12m"), (3600, "1h"), (84 * 60, "1h 24m"), (2 * 86400 + 3 * 3600 + 59, "2d 3h"), (86400, "1d")],
)
def test_durations_read_as_the_two_largest_units(seconds, shown):
    assert translator("en", TOKYO).duration(timedelta(seconds=seconds)) == shown


def test_a_missing_span_is_not_invented():
    assert translator("en", TOKYO).duration(None) == "not recorded"
    durations = KeyDurations.from_milestones(NOW, NOW + timedelta(minutes=5), None, None)
    assert durations.ttd == timedelta(minutes=5) and durations.ttm is None and durations.ttr is None


def test_typed_times_are_read_in_the_incident_time_zone():
    assert parse_user_time("14:05", TOKYO, NOW) == datetime(2026, 11, 22, 5, 5, tzinfo=timezone.utc)
    assert parse_user_time("2026-11-21 23:00", TOKYO, NOW) == datetime(2026, 11, 21, 14, 0, tzinfo=timezone.utc)
    assert parse_user_time("2026-11-22T01:00:00Z", TOKYO, NOW) == datetime(2026, 11, 22, 1, 0, tzinfo=timezone.utc)
    assert parse_user_time("2026-11-22T10:00:00+09:00", TOKYO, NOW) == datetime(2026, 11, 22, 1, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize("text", ["25:00", "tomorrow", "14h05", "2026-02-30 10:00", ""])
def test_unreadable_times_say_which_formats_work(text):
    with pytest.raises(TimeInputError, match="HH:MM"):
        parse_user_time(text, TOKYO, NOW)


def test_a_time_in_the_future_is_refused_with_the_current_time():
    with pytest.raises(TimeInputError, match="future.*2026-11-22 14:30 JST"):
        check_not_future(parse_user_time("15:00", TOKYO, NOW), TOKYO, NOW)


def test_slack_timestamps_keep_their_microseconds():
    assert from_slack_ts("1700000000.000100") == datetime(2023, 11, 14, 22, 13, 20, 100, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    "title, expected",
    [
        ("Checkout API returns 502", "inc-20261122-checkout-api-returns-502"),
        ("決済APIが502を返す", "inc-20261122-決済apiが502を返す"),
        ("결제 API 오류", "inc-20261122-결제-api-오류"),
        ("🔥🔥🔥", "inc-20261122-incident"),
        ("ＤＢ　接続エラー", "inc-20261122-db-接続エラー"),
    ],
)
def test_channel_names_take_any_script_in_slacks_alphabet(title, expected):
    assert channel_name(title, NOW, TOKYO) == expected


@given(st.text(max_size=300), st.integers(min_value=1, max_value=99))
def test_every_title_gives_a_name_slack_accepts(title, attempt):
    name = channel_name(title, NOW, TOKYO, attempt)
    assert 0 < len(name) <= MAX_CHANNEL_NAME
    assert name == name.lower()
    assert all(ch.isalnum() or ch in "-_" for ch in name)
    assert slugify(title)  # never empty


@given(st.text(max_size=200), st.integers(min_value=1, max_value=10**6))
def test_every_slug_choice_gives_a_name_slack_accepts_and_the_later_ones_are_ascii(title, incident_id):
    choices = slug_choices(title, incident_id)
    assert choices[-1] == str(incident_id) and len(set(choices)) == len(choices)
    for i, slug in enumerate(choices):
        name = channel_name(title, NOW, TOKYO, slug=slug)
        assert 0 < len(name) <= MAX_CHANNEL_NAME and name == name.lower()
        assert all(ch.isalnum() or ch in "-_" for ch in name)
        assert i == 0 or name.isascii()


def test_name_taken_retries_get_a_numeric_suffix_within_80_characters():
    assert channel_name("x" * 200, NOW, TOKYO, 12).endswith("-12")
    assert len(channel_name("x" * 200, NOW, TOKYO, 12)) == MAX_CHANNEL_NAME


@pytest.mark.parametrize(
    "text, command",
    [
        ("start P1 Checkout API returns 502", rq.Declare(severity="P1", title="Checkout API returns 502")),
        ("start checkout down", rq.Declare(severity=None, title="checkout down")),
        ("start", rq.Declare(severity=None, title="")),
        ("status identified pool exhausted", rq.ChangeStatus("identified", "pool exhausted")),
        ("SEVERITY p2", rq.ChangeSeverity("P2")),
        ("lead <@U123|ana>", rq.SetLead("U123")),
        ("role comms <@U9>", rq.SetRole("comms", "U9")),
        ("mitigated", rq.SetMilestone("mitigated", None)),
        ("resolve 2026-11-22 14:05", rq.SetMilestone("resolved", "2026-11-22 14:05")),
        ("action add retry budget <@U7> due 2026-12-01 prevent", rq.AddActionItem("add retry budget", "U7", "2026-12-01", "prevent")),
        ("note 決済のロールバック完了", rq.AddNote("決済のロールバック完了")),
        ("", cp.Help()),
    ],
)
def test_commands_parse_into_typed_values(text, command):
    assert cp.parse(text) == command


@pytest.mark.parametrize(
    "text, reason",
    [
        ("frobnicate", "not an /incident command"),
        ("status fixed", "Status must be one of"),
        ("severity P7", "Severity must be one of"),
        ("lead ana", "Mention the person"),
        ("role <@U1>", "short name"),
        ("update", "Say what to record"),
        ("started", "Say when"),
        ("action fix it due friday", "not a date"),
        ("timeline please", "takes no arguments"),
        ("start " + "x" * 300, "characters"),
    ],
)
def test_bad_commands_explain_themselves(text, reason):
    with pytest.raises(cp.UsageError, match=reason):
        cp.parse(text)


@given(st.text(max_size=500))
def test_the_parser_answers_anything_with_a_command_or_a_usage_error(text):
    try:
        cp.parse(text)
    except cp.UsageError as error:
        assert str(error)


def _claim(name, minute, recorded, source):
    return Claim(name, NOW + timedelta(minutes=minute), NOW + timedelta(minutes=recorded), source)


def test_started_and_detected_default_to_the_declaration_and_say_so():
    milestones = effective_milestones(NOW, [])
    assert milestones["started"].at == NOW and milestones["started"].defaulted
    assert milestones["mitigated"].at is None and milestones["mitigated"].source is None


def test_the_latest_explicit_setting_wins_and_removal_falls_back():
    claims = [_claim("mitigated", 10, 11, "command"), _claim("mitigated", 20, 21, "reaction")]
    assert effective_milestones(NOW, claims)["mitigated"].at == NOW + timedelta(minutes=20)
    assert effective_milestones(NOW, claims[:1])["mitigated"].at == NOW + timedelta(minutes=10)


def test_a_status_change_counts_only_when_nothing_explicit_is_set():
    claims = [_claim("mitigated", 30, 31, "status"), _claim("mitigated", 25, 26, "command")]
    assert effective_milestones(NOW, claims)["mitigated"].source == "command"
    assert effective_milestones(NOW, claims[:1])["mitigated"].source == "status"


def test_reopening_forgets_earlier_resolutions():
    claims = [_claim("resolved", 30, 31, "command")]
    assert effective_milestones(NOW, claims, reopened_at=NOW + timedelta(minutes=40))["resolved"].at is None


def test_milestones_keep_their_order():
    current = effective_milestones(NOW, [_claim("mitigated", 30, 31, "command")])
    problem = order_problem("resolved", NOW + timedelta(minutes=20), current)
    assert (problem.relation, problem.other) == ("before", "mitigated")
    assert order_problem("detected", NOW - timedelta(minutes=5), current).other == "started"
    assert order_problem("started", NOW + timedelta(minutes=5), current).other == "detected"
    assert order_problem("started", NOW - timedelta(hours=1), current) is None
