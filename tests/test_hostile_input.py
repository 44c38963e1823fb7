"""Hostile and odd input through the real HTTP app: nothing crashes, nothing is lost, nobody is let in.

Property tests (Hypothesis) throw arbitrary `/incident` texts and message
events of every shape at the bot; example tests pin down the cases a person
would check by hand: huge messages, files without text, bots, broadcasts and
markup, right-to-left text, other channels and teams, broken or forged
requests, and timestamps far in the past or the future.
"""

from __future__ import annotations

import json
import logging
import re
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from storage.models import Incident, TimelineEntry
from tests.conftest import ANA, KEN, LEE, MIN, wait_until
from tests.support.incident_cleanup import resolve_what_the_test_opened  # noqa: F401  (autouse)
from tests.support.slack_standin import BOT_ID, BOT_USER_ID, TEAM_ID

INTERNAL_ERROR = "Something went wrong on our side"
FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)

# Pieces people (and attackers) really type: Slack markup, broadcasts, Markdown and HTML,
# bidi controls, emoji sequences, template and SQL syntax, odd times and numbers.
FRAGMENTS = [
    "<!channel>", "<!here>", "<!everyone>", "<!here|@here>", "@channel", "@here", f"<@{KEN}>", "<@U0NOBODY|ghost>",
    "<@W0ENTERPRISE>", "<#C0GENERAL|general>", "<!subteam^S0ONCALL|@oncall>", "<!date^1392734382^{date}|Feb 18>",
    "<https://example.com|click me>", "<mailto:a@b.c>", "```", "`", "```rm -rf /```", "*bold*", "_it_", "~gone~",
    "# heading", "> quote", "- item", "1. first", "| a | b |", "---", "[link](http://x)", "![img](http://x/i.png)",
    "<script>alert(1)</script>", "<b>html</b>", "&amp;", "&lt;", "&gt;", "&#x1F525;", "\u202e", "\u202c", "\u200f",
    "\u200b", "\ufeff", "مرحبا بالعالم", "שלום עולם", "決済APIが502を返す", "장애 대응", "🔥", "👩‍👩‍👧‍👦", "🏳️‍🌈",
    "🇯🇵", "e\u0301", "\n", "\r\n", "\t", "  ", "%", "+", "=", "&", "?", "#", "\\", "'", '"', "P1", "p4", "--private",
    "—private", "due", "due 2099-12-01", "due 2020-01-01", "prevent", "resolved", "monitoring", "clear", "done",
    "14:05", "24:00", "99:99", "2026-02-30 10:00", "9999-12-31 23:59", "0001-01-01 00:00", "1e309", "NaN", "-1",
    "1970-01-01T00:00:00Z", "'; DROP TABLE incidents; --", "{{ 7*7 }}", "{% raw %}", "${jndi:ldap://x/a}", "%s%s%n",
    "payload=", "a=b&c=d", "\x00", "\x07", "\x1b[31m",
]
WORDS = [
    "start", "declare", "status", "update", "note", "severity", "sev", "lead", "role", "action", "deadline",
    "postmortem", "retry", "followups", "timeline", "help", "list", "started", "detected", "identified",
    "mitigated", "resolve", "status investigating", "status monitoring", "status identified", "role comms",
]


def _texts(fragments: list[str], alphabet=st.characters()):
    """(any text, fragments glued together, fragments between spaces, one fragment repeated up to 12,000 characters)"""
    piece = st.one_of(st.sampled_from(fragments), st.text(alphabet=alphabet, max_size=12))
    glued = st.lists(piece, max_size=10).map("".join)
    spaced = st.lists(piece, max_size=8).map(" ".join)
    long = st.tuples(st.sampled_from(fragments + ["x", "あ", "🔥 "]), st.integers(500, 12_000)).map(
        lambda pair: (pair[0] * (pair[1] // max(len(pair[0]), 1) + 1))[: pair[1]]
    )
    return st.text(alphabet=alphabet), glued, spaced, long


_, hostile_text, _, long_text = _texts(FRAGMENTS)
# A slash command is a UTF-8 form: it can carry any character but a lone surrogate.
_any, _glued, _spaced, _long = _texts(FRAGMENTS, st.characters(blacklist_categories=("Cs",)))
command_text = st.one_of(
    _any,
    _glued,
    st.tuples(st.sampled_from(WORDS), st.one_of(_spaced, _glued)).map(" ".join),  # a real subcommand, odd arguments
    _long,
    st.tuples(st.sampled_from(WORDS), _long).map(" ".join),
)


# --- helpers ------------------------------------------------------------------------------


def all_entries(bot) -> int:
    with bot.db.session() as session:
        return session.scalar(select(func.count()).select_from(TimelineEntry))


def all_incidents(bot) -> int:
    with bot.db.session() as session:
        return session.scalar(select(func.count()).select_from(Incident))


def entry_for(bot, channel: str, ts: str) -> TimelineEntry | None:
    with bot.db.session() as session:
        query = select(TimelineEntry).where(TimelineEntry.channel_id == channel, TimelineEntry.ts == ts)
        return session.scalars(query).one_or_none()


def our_errors(caplog) -> list[str]:
    """ERROR records from our code, and from Bolt, which logs what our listeners raise."""
    return [
        f"{r.name}: {r.getMessage()[:300]}"
        for r in caplog.records
        if r.levelno >= logging.ERROR and (r.name.startswith("bot") or r.name.startswith("slack_bolt"))
    ]


def send_event(bot, event: dict, team: str = TEAM_ID, **kwargs) -> tuple[int, str]:
    """Deliver an event; with `team`, as if from that workspace's installation."""
    if team == TEAM_ID:
        status, _, body = bot.slack.event(event, **kwargs)
        return status, body
    envelope = {
        "token": "vErIfIcAtIoNtOkEnOfT0TeAm", "team_id": team, "context_team_id": team, "context_enterprise_id": None,
        "api_app_id": "A0APP", "event": event, "type": "event_callback", "event_time": int(time.time()),
        "event_id": "Ev0OTHERTEAM" + str(time.time_ns()),
        "authorizations": [{"enterprise_id": None, "team_id": team, "user_id": "U0OTHERBOT", "is_bot": True,
                            "is_enterprise_install": False}],
        "is_ext_shared_channel": False,
    }
    status, _, body = bot.slack.signed_post(json.dumps(envelope).encode(), "application/json")
    return status, body


def plain_message(bot, channel: str, user: str, text: str, ts: str | None = None, **extra) -> dict:
    ts = ts or bot.standin.next_ts()
    event = {"type": "message", "user": user, "text": text, "ts": ts, "team": TEAM_ID, "channel": channel,
             "event_ts": ts, "channel_type": "channel", **extra}
    return event


def postmortem_markdown(standin, channel: str) -> str:
    files = wait_until(
        lambda: [f for f in standin.files() if channel in json.dumps(f.get("channels") or f.get("channel") or "")]
    )
    content = files[-1]["content"]
    return content.decode("utf-8") if isinstance(content, bytes) else content


# --- (a) /incident with arbitrary text -------------------------------------------------------------


@pytest.fixture
def fuzzed_incident(bot):
    incident = bot.declare("Hostile commands")
    bot.say(incident, KEN, "a message that must survive every command")
    return incident


@FUZZ
@given(text=command_text, inside=st.booleans(), user=st.sampled_from([ANA, KEN, MIN]))
def test_any_incident_command_text_gets_a_private_answer_and_loses_nothing(
    bot, fuzzed_incident, caplog, text, inside, user
):
    channel = fuzzed_incident.channel_id if inside else "C0GENERAL"
    entries_before, incidents_before = all_entries(bot), all_incidents(bot)
    if inside:
        bot.standin.add_member(channel, user)
    status, _, body = bot.slack.slash_command(user, text, channel=channel)
    assert status == 200, (status, body)
    reply = json.loads(body)
    assert reply.get("response_type") == "ephemeral", reply
    assert isinstance(reply.get("text"), str), reply
    assert INTERNAL_ERROR not in reply["text"], reply["text"]
    if not reply["text"]:  # only a bare `start` answers with a form instead of words
        assert text.split(" ", 1)[0].lower() in ("start", "declare"), (text, reply)
    assert all_entries(bot) >= entries_before
    assert all_incidents(bot) >= incidents_before
    assert our_errors(caplog) == []


def test_commands_with_out_of_range_times_are_refused_not_crashed(bot, caplog):
    """Times the calendar cannot hold after the zone shift: refuse with the reason, like any bad time."""
    incident = bot.declare("Out of range times")
    for text in (
        "mitigated 0001-01-01T00:00:00+14:00", "detected 9999-12-31T23:59:59-23:59", "deadline 0001-01-01T00:00+01:00"
    ):
        reply = bot.command(KEN, text, channel=incident.channel_id)
        assert INTERNAL_ERROR not in reply["text"], (text, reply["text"])
    assert our_errors(caplog) == []


# --- (b) message events of every shape --------------------------------------------------------------

# "fresh" stands for a new, real Slack ts (filled in by the test); the rest are what Slack never sends.
odd_ts = st.one_of(
    st.sampled_from([
        "fresh", "fresh", "fresh", "100.000001", "9999999999.000001", "999999999999.999999", "0.000000", "1.1",
        "1700000000", "1700000000.", ".5", "-1.000000", "1.2.3", "1e9", " 1700000000.1", "1700000000.0000001",
        "１７００００００００.000001", "", "NaN",
    ]),
    st.text(max_size=20),
    st.integers(),
    st.floats(allow_nan=True),
    st.just(None),
)
maybe_text = st.one_of(
    st.text(), hostile_text, long_text, st.just(None), st.integers(), st.lists(st.text(max_size=3), max_size=2),
    st.dictionaries(st.text(max_size=3), st.text(max_size=3), max_size=2),
)
subtypes = st.one_of(
    st.sampled_from([
        None, "thread_broadcast", "file_share", "me_message", "message_changed", "message_deleted", "message_replied",
        "bot_message", "channel_join", "channel_leave", "channel_topic", "channel_purpose", "pinned_item", "tombstone",
        "ekm_access_denied", "huddle_thread", "reminder_add",
    ]),
    st.text(max_size=12),
)
users = st.sampled_from(
    [ANA, KEN, "U0NOBODY", BOT_USER_ID, "W0ENTERPRISE", "", "USLACKBOT", "U" + "X" * 60, "<@U0KEN>", "u0ana"]
)
files = st.lists(
    st.one_of(
        st.fixed_dictionaries({"id": st.just("F0FILE"), "name": st.one_of(st.text(max_size=30), st.none())},
                              optional={"title": st.text(max_size=30),
                                        "mode": st.sampled_from(["hosted", "tombstone"])}),
        st.text(max_size=5), st.integers(), st.none(),
    ),
    max_size=3,
)
edited = st.one_of(st.fixed_dictionaries({"user": users, "ts": odd_ts}), st.text(max_size=5), st.none())
inner_message = st.fixed_dictionaries(
    {"type": st.just("message")},
    optional={"user": users, "text": maybe_text, "ts": odd_ts, "edited": edited, "files": files,
              "bot_id": st.just("B0OTHER"), "thread_ts": odd_ts, "subtype": subtypes},
)
message_event = st.fixed_dictionaries(
    {"type": st.just("message")},
    optional={
        "subtype": subtypes,
        "user": users,
        "text": maybe_text,
        "ts": odd_ts,
        "thread_ts": odd_ts,
        "channel": st.sampled_from(["incident", "incident", "incident", "C0UNKNOWN", "C0GENERAL", "D0DIRECT"]),
        "event_ts": odd_ts,
        "files": files,
        "edited": edited,
        "bot_id": st.sampled_from([BOT_ID, "B0OTHER", ""]),
        "message": st.one_of(inner_message, st.text(max_size=5), st.none()),
        "previous_message": st.one_of(inner_message, st.none()),
        "deleted_ts": odd_ts,
        "hidden": st.booleans(),
        "upload": st.booleans(),
        "blocks": st.one_of(st.just([]), st.text(max_size=5), st.none()),
        "attachments": st.one_of(st.just([{"fallback": "x"}]), st.none()),
        "channel_type": st.sampled_from(["channel", "group", "im", "mpim", ""]),
    },
)


@pytest.fixture
def fuzzed_channel(bot):
    incident = bot.declare("Hostile messages")
    bot.say(incident, KEN, "a message that must survive every event")
    return incident


@FUZZ
@given(event=message_event)
def test_any_message_event_is_answered_without_an_error_and_loses_nothing(bot, fuzzed_channel, caplog, event):
    event = dict(event)
    if event.get("channel") == "incident":
        event["channel"] = fuzzed_channel.channel_id
    for holder in (event, event.get("message"), event.get("previous_message"), event.get("edited"),
                   (event.get("message") or {}).get("edited") if isinstance(event.get("message"), dict) else None):
        if isinstance(holder, dict):
            for key in ("ts", "thread_ts", "event_ts", "deleted_ts"):
                if holder.get(key) == "fresh":
                    holder[key] = bot.standin.next_ts()
    before = all_entries(bot)
    status, body = send_event(bot, event)
    assert status == 200, (status, body)
    assert our_errors(caplog) == []
    assert all_entries(bot) >= before
    # A person's plain message in the incident channel is stored with exactly the words Slack sent.
    if (
        event.get("channel") == fuzzed_channel.channel_id and event.get("subtype") is None and not event.get("bot_id")
        and event.get("user") in (ANA, KEN) and isinstance(event.get("text"), str)
        and re.fullmatch(r"\d{10}\.\d{6}", str(event.get("ts")))
    ):
        entry = entry_for(bot, event["channel"], event["ts"])
        assert entry is not None and (entry.deleted or entry.text == event["text"].replace("\x00", "\ufffd"))


containers = st.one_of(
    st.lists(st.integers(), max_size=2), st.dictionaries(st.sampled_from(["id", "x"]), st.integers(), max_size=2)
)
scalars = st.one_of(st.integers(), st.floats(allow_nan=False), st.booleans())


@FUZZ
@given(field=st.sampled_from(["user", "channel", "ts", "text", "thread_ts", "files", "edited"]), value=containers)
def test_an_event_with_a_list_or_object_where_slack_sends_a_string_is_ignored(
    bot, fuzzed_channel, caplog, field, value
):
    """Bolt tolerates these shapes, so they reach our listener: it must drop them without an error."""
    event = {"type": "message", "text": "x", "ts": bot.standin.next_ts(), "user": KEN,
             "channel": fuzzed_channel.channel_id, field: value}
    status, body = send_event(bot, event)
    assert status == 200, (status, body)
    assert our_errors(caplog) == []


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(field=st.sampled_from(["user", "channel"]), value=scalars)
def test_an_event_with_wrongly_typed_identity_fields_is_refused_with_a_4xx(bot, field, value):
    event = {"type": "message", "text": "x", "ts": bot.standin.next_ts(), "user": KEN, "channel": "C0GENERAL"}
    event[field] = value
    status, body = send_event(bot, event)
    assert status < 500, (status, body)


@FUZZ
@given(event=st.fixed_dictionaries(
    {"type": st.sampled_from(["reaction_added", "reaction_removed"])},
    optional={
        "user": users,
        "reaction": st.one_of(
            st.sampled_from(["rotating_light", "adhesive_bandage", "white_check_mark::skin-tone-3", "sparkles",
                             "pushpin", "tada", "", "::", "a" * 200]),
            st.text(max_size=20),
        ),
        "item": st.one_of(
            st.fixed_dictionaries({"type": st.sampled_from(["message", "file", "file_comment", ""])},
                                  optional={"channel": st.sampled_from(["incident", "C0UNKNOWN"]), "ts": odd_ts}),
            st.none(), st.text(max_size=4)),
        "event_ts": odd_ts,
        "item_user": users,
    },
))
def test_any_reaction_event_is_answered_without_an_error(bot, fuzzed_channel, caplog, event):
    event = dict(event)
    item = event.get("item")
    if isinstance(item, dict):
        item = event["item"] = dict(item)
        if item.get("channel") == "incident":
            item["channel"] = fuzzed_channel.channel_id
        if item.get("ts") == "fresh":  # a message that exists, in Slack and in the record
            item["ts"] = bot.entries(fuzzed_channel.id, "message")[0].ts
    if event.get("event_ts") == "fresh":
        event["event_ts"] = bot.standin.next_ts()
    before = all_entries(bot)
    status, body = send_event(bot, event)
    assert status == 200, (status, body)
    time.sleep(0.05)  # lazy follow-ups of a milestone change run after the answer
    assert our_errors(caplog) == []
    assert all_entries(bot) >= before


# --- examples ---------------------------------------------------------------------------------------


def test_a_40000_character_message_is_stored_intact(bot):
    incident = bot.declare("Huge paste")
    text = ("stack trace line 🔥 <!here> `x` | y |\n" * 2000)[:40_000]
    message = bot.say(incident, KEN, text)
    entry = entry_for(bot, incident.channel_id, message["ts"])
    assert entry.text == text and len(entry.text) == 40_000


def test_a_message_with_only_files_is_stored_with_their_names(bot):
    incident = bot.declare("Screenshots only")
    ts = bot.standin.next_ts()
    files = [
        {"id": "F0GRAPH", "created": int(float(ts)), "timestamp": int(float(ts)), "name": "p99-latency.png",
         "title": "p99 latency", "mimetype": "image/png", "filetype": "png", "user": KEN, "mode": "hosted",
         "is_external": False, "size": 48213},
        {"id": "F0TRACE", "created": int(float(ts)), "timestamp": int(float(ts)), "name": "trace.txt",
         "title": "trace", "mimetype": "text/plain", "filetype": "text", "user": KEN, "mode": "snippet",
         "is_external": False, "size": 912},
    ]
    event = plain_message(bot, incident.channel_id, KEN, "", ts=ts, subtype="file_share", files=files, upload=False,
                          display_as_bot=False, blocks=[])
    assert send_event(bot, event)[0] == 200
    entry = entry_for(bot, incident.channel_id, ts)
    assert (entry.author_id, entry.text, entry.files) == (KEN, "", ["p99-latency.png", "trace.txt"])


def test_bot_messages_and_the_bots_own_posts_are_never_recorded(bot, standin):
    incident = bot.declare("Bots talking")
    channel = incident.channel_id
    bot.event(bot.slack.bot_message(channel, "deploy 41 finished <!channel>"))
    own = [m for m in standin.messages(channel) if m.get("user") == BOT_USER_ID]
    assert own, "the bot posted its header"
    for message in own:
        message = dict(message)
        message.pop("channel", None)
        event = {**message, "channel": channel, "event_ts": message["ts"], "channel_type": "channel"}
        assert send_event(bot, event)[0] == 200
    # The bot's user without a bot_id, and a bot_id on an otherwise human-looking message.
    assert send_event(bot, plain_message(bot, channel, BOT_USER_ID, "header, again"))[0] == 200
    assert send_event(bot, plain_message(bot, channel, KEN, "sent through an app", bot_id="B0OTHER"))[0] == 200
    edited_bot = bot.slack.message_changed(channel, own[0]["ts"], "header edited", BOT_USER_ID)
    edited_bot["message"]["bot_id"] = BOT_ID
    assert send_event(bot, edited_bot)[0] == 200
    assert bot.entries(incident.id, "message", include_deleted=True) == []


def test_mentions_broadcasts_and_markup_are_stored_exactly_and_never_ping_in_the_postmortem(bot, standin):
    incident = bot.declare("Markup everywhere")
    channel = incident.channel_id
    texts = [
        f"<!channel> <!here> <!everyone> <!subteam^S0ONCALL|@oncall> @channel @here cc <@{KEN}> <@U0NOBODY|ghost>",
        "**bold** _it_ `code` ```block``` # heading\n> quote\n| a | b |\n"
        "- item [x](http://evil) ![i](http://evil/i.png)",
        # Typed HTML reaches us escaped, as Slack sends it.
        "&lt;b&gt;html&lt;/b&gt; &lt;script&gt;alert(1)&lt;/script&gt; &lt;img src=x onerror=alert(1)&gt; &amp; "
        "{{ 7*7 }} {% raw %}",
    ]
    said = [bot.say(incident, LEE, text) for text in texts]
    for message in said:
        bot.event(bot.slack.reaction_added(ANA, channel, message["ts"], "pushpin"))
        assert entry_for(bot, channel, message["ts"]).text == message["text"]
    first_call = len(standin.calls())
    bot.command(KEN, "resolve", channel=channel)
    bot.wait_for_incident(incident.id, lambda i: i.postmortem_posted_at is not None)
    document = postmortem_markdown(standin, channel)
    wait_until(lambda: [m for m in standin.messages(channel) if "TTR" in m.get("text", "")])  # the summary
    assert "ghost" in document and "山田 健" in document  # people are named, not pinged
    assert "@\u200bchannel" in document and "@\u200bhere" in document  # broadcasts quoted, defused
    assert "<!" not in document and "<@" not in document
    assert not re.search(r"@(channel|here|everyone|oncall)\b", document), "a broadcast survived into the document"
    assert not re.search(r"(?<!\\)<(script|b|img)\b", document), "HTML survived unescaped"
    assert "{{ 7\\*7 }} {% raw %}" in document  # quoted, never evaluated as a template
    # Whatever the bot posted to Slack for this incident notifies no channel.
    posted = [
        str(c.args.get("text") or "") + json.dumps(c.args.get("blocks") or "", ensure_ascii=False)
        for c in standin.calls()[first_call:]
        if c.method.startswith("chat.") or c.method.startswith("files.")
    ]
    assert posted
    for text in posted:
        assert not re.search(r"<!(channel|here|everyone|subteam)", text), text
        assert not re.search(r"@(channel|here|everyone|oncall)\b", text), text  # defused ones read `@\u200bchannel`


def test_a_nul_character_in_a_message_is_stored_as_a_replacement_character(bot, caplog):
    """PostgreSQL text cannot hold NUL: the message is kept, with U+FFFD where the NUL was, on every backend."""
    incident = bot.declare("NUL in a message")
    event = plain_message(
        bot, incident.channel_id, KEN, "before\x00after", files=[{"id": "F0NUL", "name": "a\x00b.txt"}]
    )
    assert send_event(bot, event)[0] == 200
    entry = entry_for(bot, incident.channel_id, event["ts"])
    assert (entry.text, entry.files) == ("before\ufffdafter", ["a\ufffdb.txt"])
    assert our_errors(caplog) == []


def test_a_nul_in_a_command_is_not_an_internal_error(bot):
    incident = bot.declare("NUL in a command")
    for text in ("note a\x00b", "update x\x00y", "action fix\x00it", "start P3 nul\x00title"):
        reply = bot.command(KEN, text, channel=incident.channel_id)
        assert INTERNAL_ERROR not in reply["text"], (text, reply["text"])


def test_right_to_left_and_emoji_only_text_survive_intact(bot):
    incident = bot.declare("Scripts and emoji")
    texts = [
        "تم التراجع عن النشر \u202eexe.txt\u202c و ‏השירות חזר‎",
        "🔥🔥🔥",
        "👩‍👩‍👧‍👦🏳️‍🌈🇯🇵 e\u0301 \u200b\ufeff",
        ":rotating_light: :+1::skin-tone-3:",
    ]
    for text in texts:
        message = bot.say(incident, MIN, text)
        assert entry_for(bot, incident.channel_id, message["ts"]).text == text


def test_events_for_unknown_channels_or_another_team_are_ignored(bot, standin, caplog):
    """Only incident channels are recorded, whichever workspace an event names.

    The channel decides, not the envelope's team: Slack channel ids are global, and a message in our
    incident channel shared with another organisation (Slack Connect) is still part of the incident.
    """
    bot.declare("Only our channel")
    before = all_entries(bot)
    stranger = standin.create_channel("not-an-incident", members=[ANA])
    assert send_event(bot, plain_message(bot, stranger, ANA, "not an incident channel"))[0] == 200
    assert send_event(bot, plain_message(bot, "C0NOWHERE", ANA, "a channel that does not exist"))[0] == 200
    theirs = plain_message(bot, "C0THEIRS", "U0THEM", "another workspace's channel")
    assert send_event(bot, theirs, team="T0OTHER")[0] == 200
    reaction = {"type": "reaction_added", "user": "U0THEM", "reaction": "white_check_mark",
                "item": {"type": "message", "channel": "C0THEIRS", "ts": theirs["ts"]}, "event_ts": standin.next_ts()}
    assert send_event(bot, reaction, team="T0OTHER")[0] == 200
    assert all_entries(bot) == before
    assert our_errors(caplog) == []


@pytest.mark.parametrize("body", [b'{"type": "event_callback", "event": {', b"\xff\xfe{}", b"[]", b"null"],
                         ids=["truncated", "not-utf8", "array", "null"])
def test_a_malformed_json_body_is_refused_with_a_4xx_and_stores_nothing(bot, body):
    before = all_entries(bot)
    status, _, _ = bot.slack.signed_post(body, "application/json")
    assert 400 <= status < 500
    assert all_entries(bot) == before


@pytest.mark.parametrize("inner", ["x", None, []], ids=["string", "null", "list"])
def test_an_envelope_whose_event_is_not_an_object_is_refused_with_a_4xx(bot, inner):
    body = json.dumps({"type": "event_callback", "event": inner}).encode()
    status, _, _ = bot.slack.signed_post(body, "application/json")
    assert 400 <= status < 500


def test_an_envelope_without_a_known_event_is_not_a_server_error(bot):
    for envelope in ({}, {"type": "event_callback"}, {"type": "event_callback", "event": {"type": 5}},
                     {"type": "event_callback", "event": {}}):
        status, _, body = bot.slack.signed_post(json.dumps(envelope).encode(), "application/json")
        assert status < 500, (envelope, status, body)


@pytest.mark.parametrize("how", ["bad signature", "stale timestamp", "future timestamp", "no signature"])
def test_a_forged_or_replayed_request_is_refused_with_401_and_never_processed(bot, standin, how):
    incident = bot.declare(f"Forgery {how}")
    channel = incident.channel_id
    before = all_entries(bot)
    message = standin.post_human_message(channel, KEN, "resolve it now <!channel>")
    event = bot.slack.message_event(message, channel)
    envelope = {"token": "vErIfIcAtIoNtOkEnOfT0TeAm", "team_id": TEAM_ID, "api_app_id": "A0APP", "event": event,
                "type": "event_callback", "event_id": "Ev0FORGED" + how.replace(" ", ""),
                "event_time": int(time.time()),
                "authorizations": [{"team_id": TEAM_ID, "user_id": BOT_USER_ID, "is_bot": True}]}
    body = json.dumps(envelope).encode()
    now = int(time.time())
    if how == "bad signature":
        status, _, _ = bot.slack.signed_post(body, "application/json", secret="not-the-signing-secret")
    elif how == "stale timestamp":
        status, _, _ = bot.slack.signed_post(body, "application/json", timestamp=now - 301)
    elif how == "future timestamp":
        status, _, _ = bot.slack.signed_post(body, "application/json", timestamp=now + 301)
    else:
        status, _, _ = bot.slack.signed_post(body, "application/json", headers={"X-Slack-Signature": ""})
    assert status == 401
    # Nor a replayed slash command.
    form = bot.slack.signed_post(b"command=%2Fincident&text=resolve&user_id=U0KEN&channel_id=" + channel.encode(),
                                 "application/x-www-form-urlencoded", timestamp=now - 600)
    assert form[0] == 401
    assert entry_for(bot, channel, message["ts"]) is None
    assert all_entries(bot) == before
    assert bot.incident(incident.id).status == "investigating"


def test_timestamps_far_in_the_past_or_future_are_stored_at_their_own_time(bot, caplog):
    """Slack's ts is the message's identity and time; the record keeps what Slack said, however odd."""
    from datetime import datetime, timezone

    incident = bot.declare("Time travellers")
    channel = incident.channel_id
    cases = {
        "100.000001": datetime(1970, 1, 1, 0, 1, 40, 1, tzinfo=timezone.utc),
        "9999999999.000001": datetime(2286, 11, 20, 17, 46, 39, 1, tzinfo=timezone.utc),
    }
    for ts, when in cases.items():
        assert send_event(bot, plain_message(bot, channel, KEN, f"said at {ts}", ts=ts))[0] == 200
        entry = entry_for(bot, channel, ts)
        assert (entry.text, entry.occurred_at) == (f"said at {ts}", when)
        assert send_event(bot, {"type": "reaction_added", "user": ANA, "reaction": "pushpin",
                                "item": {"type": "message", "channel": channel, "ts": ts}, "event_ts": ts})[0] == 200
    # A time no calendar holds (year 33658) is refused quietly rather than crashing the listener.
    assert send_event(bot, plain_message(bot, channel, KEN, "from the far future", ts="999999999999.999999"))[0] == 200
    assert entry_for(bot, channel, "999999999999.999999") is None
    # The timeline and the postmortem place them where they belong, without tripping over them.
    assert INTERNAL_ERROR not in bot.command(KEN, "timeline", channel=channel)["text"]
    bot.command(KEN, "resolve", channel=channel)
    document = postmortem_markdown(bot.standin, channel)
    assert document.index("said at 100.000001") < document.index("said at 9999999999.000001")
    assert our_errors(caplog) == []


# --- everything the bot posts: no live broadcast, no hidden character -------------------------------

# Broadcasts as Slack sends them in a command or a message (escaped), plain ones, and characters
# that would change how the text around them shows: a terminal colour escape, a right-to-left override.
BROADCASTS = "<!channel> <!here> <!everyone> <!subteam^S123|@oncall> <!here|@here> @channel @here @everyone"
HIDDEN = "\x1b[31m red \u202etxt.exe\u202c \u2066iso\u2069 \x85 \x7f"
TYPED = f"{BROADCASTS} {HIDDEN}"
LIVE_BROADCAST = re.compile(r"<!(channel|here|everyone|subteam)|@(channel|here|everyone)\b")
# In Markdown `\<` is a literal `<`: a form's typed `<!channel>` is quoted as the characters it is.
LIVE_IN_MARKDOWN = re.compile(r"(?<!\\)<!(channel|here|everyone|subteam)|@(channel|here|everyone)\b")
HIDDEN_CHARACTER = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _shown_texts(value) -> list[str]:
    """Every string a person could read in a Web API call's arguments, a view or a response."""
    if isinstance(value, str):
        try:
            decoded = json.loads(value)  # blocks and views may travel as JSON text
        except ValueError:
            return [value]
        return _shown_texts(decoded) if isinstance(decoded, (list, dict)) else [value]
    if isinstance(value, list):
        return [text for item in value for text in _shown_texts(item)]
    if isinstance(value, dict):
        return [text for key, item in value.items() if key not in ("value", "private_metadata", "action_id", "block_id")
                for text in _shown_texts(item)]
    return []


@pytest.fixture
def clocked_bot(standin, database_url, bots):
    """A bot with its own clock (for the go/no-go prompt) and an announce channel; stopped after the test."""
    from tests.conftest import RunningBot

    bots()  # the shared database is migrated
    announce = standin.create_channel(f"announce-{time.time_ns()}", members=["UBOT"])
    bot = RunningBot(standin, database_url, {"SCHEDULER": "embedded", "INCIDENT_ANNOUNCE_CHANNEL": announce,
                                             "NUDGE_MINUTES_P1": "0", "LEAD_NUDGE_MINUTES": "0", "CLOCK_POLL_SECONDS": "0.1"})
    bot.announce = announce
    yield bot
    bot.stop()


def test_broadcasts_and_hidden_characters_typed_anywhere_never_reach_slack_live(clocked_bot, standin):
    """Every command and form that takes text, with every broadcast Slack knows and two hidden characters:
    no message, block, topic, view, announcement, direct message, reply or postmortem carries them live."""
    from datetime import datetime, timedelta, timezone

    bot = clocked_bot
    first_call, first_response = len(standin.calls()), len(standin.responses())
    replies = []

    def command(text, channel="C0GENERAL", user=ANA):
        reply = bot.command(user, text, channel=channel)
        replies.append(reply.get("text") or "")
        return reply

    reply = command(f"start P1 Payroll {TYPED}")
    incident_id = int(reply["text"].split("#", 1)[1].split(":", 1)[0])
    incident = bot.wait_for_incident(incident_id, lambda i: i.header_ts is not None)
    channel = incident.channel_id
    soon = datetime.now(timezone.utc) + timedelta(seconds=2)
    for text in (
        f"status identified {TYPED}", f"update {TYPED}", f"note {TYPED}", f"action {TYPED} <@{ANA}> due 2099-01-31",
        f"deadline {soon.isoformat()} {TYPED}", "deadline", "timeline", f"detected {BROADCASTS}", f"stats {BROADCASTS}",
        f"tag {BROADCASTS}", f"role on-call <@{KEN}>", BROADCASTS,
    ):
        command(text, channel=channel)
    command("followups")
    command("list")
    bot.say(incident, KEN, f"a message {TYPED}")
    wait_until(lambda: [m for m in standin.messages(channel) if "Go/no-go deadline reached" in (m.get("text") or "")],
               timeout=20, message="no go/no-go prompt")

    # The forms: declaring, a status change, an update (modal inputs arrive raw).
    state = {
        "title": {"title": {"type": "plain_text_input", "value": f"Form {TYPED}"}},
        "severity": {"severity": {"type": "static_select", "selected_option": {"value": "P2"}}},
        "description": {"description": {"type": "plain_text_input", "value": f"described {TYPED}"}},
        "impact_start": {"impact_start": {"type": "plain_text_input", "value": None}},
    }
    assert bot.slack.view_submission(ANA, "incident_start", state, private_metadata="C0GENERAL")[0] == 200
    status = {"status": {"status": {"type": "static_select", "selected_option": {"value": "monitoring"}}},
              "message": {"message": {"type": "plain_text_input", "value": f"status form {TYPED}"}}}
    assert bot.slack.view_submission(ANA, "incident_status", status, private_metadata=str(incident.id))[0] == 200
    update = {"update": {"update": {"type": "plain_text_input", "value": f"update form {TYPED}"}}}
    assert bot.slack.view_submission(ANA, "incident_update", update, private_metadata=str(incident.id))[0] == 200
    assert bot.event(bot.slack.app_home_opened(ANA)) == 200  # the Home tab lists ANA's action item
    wait_until(lambda: standin.calls("views.publish")[first_call:] or [c for c in standin.calls("views.publish")
                                                                       if c.at >= standin.calls()[first_call].at])
    command("resolve", channel=channel)
    bot.wait_for_incident(incident.id, lambda i: i.postmortem_posted_at is not None)
    wait_until(lambda: len([m for m in standin.messages(bot.announce) if "Resolved" in (m.get("text") or "")]) >= 1)

    calls = standin.calls()[first_call:]
    shown = [(c.method, text) for c in calls if c.method not in ("conversations.create",)
             for text in _shown_texts(c.args)]
    shown += [("response_url", text) for r in standin.responses()[first_response:] for text in _shown_texts(r)]
    shown += [("ack", text) for text in replies]
    shown += [("file", f["content"].decode("utf-8")) for f in standin.files() if channel in (f.get("channels") or [])]
    methods = {method for method, _ in shown}
    assert {"chat.postMessage", "chat.update", "conversations.setTopic", "views.publish", "ack", "file"} <= methods, methods
    announced = " ".join(m.get("text") or "" for m in standin.messages(bot.announce))
    assert "Payroll" in announced and "@\u200bchannel" in announced  # announced, defused
    for method, text in shown:
        assert not (LIVE_IN_MARKDOWN if method == "file" else LIVE_BROADCAST).search(text), (method, text)
        assert not HIDDEN_CHARACTER.search(text), (method, text)
    # The record keeps what was typed: it is the evidence.
    assert bot.entries(incident.id, "update")[0].text == TYPED
    assert bot.incident(incident.id).deadline_what is None or TYPED in bot.incident(incident.id).deadline_what
