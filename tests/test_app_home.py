"""The App Home tab: open incidents and the viewer's own action items, drawn on `app_home_opened`.

Through the Bolt-over-HTTP harness: the event is shaped like Slack's, the view is
published to the stand-in (which refuses what Slack refuses: over 100 blocks, long
texts), and the Done button on the Home works through the reminders' own handler.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.domain.requests import AddActionItem, Declare
from bot.i18n import translator
from bot.slack.home import MAX_INCIDENTS, MAX_ITEMS, home_view
from storage.models import ActionItem, Incident
from tests.conftest import ANA, KEN, wait_until
from tests.support.incident_cleanup import resolve_what_the_test_opened  # noqa: F401  (autouse)

HANA, JOON = "U0HANA", "U0JOON"  # people only these tests use, so other tests' items never show up
TOKYO = {"INCIDENT_TIMEZONE": "Asia/Tokyo"}


@pytest.fixture(autouse=True)
def viewers(standin):
    standin.add_user(HANA, "hana", "佐藤 花", tz="Asia/Tokyo")
    standin.add_user(JOON, "joon", "박준", tz="Asia/Seoul")


def _open_home(bot, standin, user) -> dict:
    """Open the Home tab as `user`; return the view the bot published for it in answer."""
    before = (standin.home_view(user) or {}).get("hash")
    bot.event(bot.slack.app_home_opened(user))
    return wait_until(lambda: (v := standin.home_view(user)) and v["hash"] != before and v, message=f"no Home for {user}")


def _texts(view) -> str:
    parts = []
    for block in view["blocks"]:
        if "text" in block:
            parts.append(block["text"]["text"])
        parts += [e.get("text", "") for e in block.get("elements", []) if isinstance(e, dict)]
    return "\n".join(parts)


def _item_ids(bot, incident_id) -> dict[str, int]:
    with bot.db.session() as session:
        return {i.text: i.id for i in session.scalars(select(ActionItem).where(ActionItem.incident_id == incident_id))}


def _set_due(bot, item_id, due) -> None:
    """Time passes: the item's due date is now `due`."""
    with bot.db.session() as session:
        session.get(ActionItem, item_id).due_date = due


def test_the_home_tab_lists_open_incidents_and_my_action_items(bots, standin):
    bot = bots(**TOKYO)
    incident = bot.declare("ログインできない", user=HANA, severity="P1")
    channel = incident.channel_id
    bot.command(HANA, f"lead <@{KEN}>", channel=channel)
    bot.command(HANA, f"action rotate the signing keys <@{HANA}> due 2099-03-01 prevent", channel=channel)
    bot.command(HANA, f"action 手順書を書く <@{HANA}>", channel=channel)
    bot.command(HANA, f"action 監視を追加 <@{HANA}> due 2099-01-01 mitigate", channel=channel)
    bot.command(HANA, f"action someone else's item <@{JOON}> due 2099-01-01", channel=channel)
    items = _item_ids(bot, incident.id)
    today_tokyo = datetime.now(ZoneInfo("Asia/Tokyo")).date()
    _set_due(bot, items["監視を追加"], today_tokyo - timedelta(days=2))

    view = _open_home(bot, standin, HANA)
    assert view["type"] == "home" and len(view["blocks"]) <= 100
    text = _texts(view)
    line = next(b["text"]["text"] for b in view["blocks"] if b.get("block_id") == f"home_incident_{incident.id}")
    assert line.startswith("*P1*") and f"<#{channel}> ログインできない" in line and "investigating" in line
    assert "open " in line and f"led by <@{KEN}>" in line
    # Oldest due first, overdue marked, no due date last; due dates read in Asia/Tokyo.
    mine = [b for b in view["blocks"] if str(b.get("block_id", "")).startswith("home_item_")]
    assert [b["block_id"] for b in mine] == [f"home_item_{items[t]}" for t in ("監視を追加", "rotate the signing keys", "手順書を書く")]
    assert "*overdue* by 2 days" in mine[0]["text"]["text"] and "mitigate" in mine[0]["text"]["text"]
    assert "due 2099-03-01" in mine[1]["text"]["text"] and "no due date" in mine[2]["text"]["text"]
    assert all(b["accessory"]["action_id"] == "action_item_done" for b in mine)
    assert mine[1]["accessory"]["value"] == f"{items['rotate the signing keys']}|2099-03-01"
    assert "someone else's item" not in text and "Your action items (3)" in text
    assert "times in Asia/Tokyo" in text and "JST" in text

    joon = _texts(_open_home(bot, standin, JOON))
    assert "someone else's item" in joon and "rotate the signing keys" not in joon and "ログインできない" in joon


def test_the_event_is_acknowledged_before_the_home_is_drawn(bot, standin):
    standin.answer_late("views.publish", 2.5)
    started = time.monotonic()
    bot.event(bot.slack.app_home_opened(JOON))
    assert time.monotonic() - started < 1.5  # Slack wants the ack within 3 s; the view comes after
    standin.wait_for("views.publish", lambda c: c.args.get("user_id") == JOON)


def test_a_private_incident_shows_its_title_only_to_its_channel(bot, standin):
    reply = bot.command(HANA, "start --private P2 給与データ漏えいの疑い")
    incident_id = int(reply["text"].split("#", 1)[1].split(":", 1)[0])
    incident = bot.wait_for_incident(incident_id, lambda i: i.header_ts is not None)
    channel = incident.channel_id
    bot.command(HANA, f"action revoke the leaked token <@{JOON}> due 2099-02-01", channel=channel)
    assert JOON not in standin.channel(channel)["members"]

    outsider = _open_home(bot, standin, JOON)
    text = _texts(outsider)
    assert "給与データ" not in text and channel not in text
    assert f"*P2* · :lock: private incident #{incident_id}" in text
    # Their own item shows, but where it comes from stays private.
    item = next(b["text"]["text"] for b in outsider["blocks"] if "revoke the leaked token" in b.get("text", {}).get("text", ""))
    assert f":lock: private incident #{incident_id}" in item and "給与データ" not in item

    member = _texts(_open_home(bot, standin, HANA))
    assert f":lock: <#{channel}> 給与データ漏えいの疑い" in member

    # Joining the channel shows them the title too.
    bot.event(bot.slack.channel_join(channel, JOON, inviter=HANA))
    assert "給与データ漏えいの疑い" in _texts(_open_home(bot, standin, JOON))


def test_done_on_the_home_tab_completes_the_item_and_redraws_the_home(bot, standin):
    incident = bot.declare("Cache stampede", user=HANA)
    bot.command(HANA, f"action add request coalescing <@{HANA}> due 2099-05-01 prevent", channel=incident.channel_id)
    item_id = _item_ids(bot, incident.id)["add request coalescing"]
    before = _open_home(bot, standin, HANA)

    status, _, _ = bot.slack.home_block_action(HANA, "action_item_done", block_id=f"home_item_{item_id}")
    assert status == 200
    wait_until(lambda: bot.entries(incident.id, "action_done"), message="the item was not completed")
    with bot.db.session() as session:
        assert session.get(ActionItem, item_id).status == "done"
    after = wait_until(lambda: (v := standin.home_view(HANA)) and v["hash"] != before["hash"] and v, message="Home not redrawn")
    assert "add request coalescing" not in _texts(after)
    wait_until(lambda: [m for m in standin.messages(incident.channel_id) if "Action item done" in (m.get("text") or "")])

    # The same button on a Home drawn before: refused, and said at the top of the redrawn Home.
    bot.slack.home_block_action(HANA, "action_item_done", block_id=f"home_item_{item_id}", view=before)
    refused = wait_until(lambda: (v := standin.home_view(HANA)) and v["hash"] != after["hash"] and v)
    assert refused["blocks"][0]["type"] == "context" and "already done" in refused["blocks"][0]["elements"][0]["text"]
    assert not standin.ephemerals(user_id=HANA) or all("already done" not in e["text"] for e in standin.ephemerals(user_id=HANA))


def test_long_lists_are_capped_within_slacks_100_blocks(bot, standin):
    now = datetime.now(timezone.utc)
    created: list[int] = []
    try:
        for n in range(MAX_INCIDENTS + 5):
            change = bot.submit(Declare(title=f"Capped incident {n}", severity="P4"), ANA, at=now)
            created.append(change.incident_id)
        for n in range(MAX_ITEMS + 7):
            bot.submit(AddActionItem(f"capped item {n}", JOON, None, None), ANA, incident_id=created[0], at=now)
        view = _open_home(bot, standin, JOON)
        text = _texts(view)
        assert len(view["blocks"]) <= 100
        assert "more, less urgent. `/incident list` shows them all." in text
        with bot.db.session() as session:  # earlier tests gave them items too
            total = len(session.scalars(select(ActionItem).where(ActionItem.owner_id == JOON, ActionItem.status != "done")).all())
        assert f"…and {total - MAX_ITEMS} more, due later" in text and f"Your action items ({total})" in text
        assert len([b for b in view["blocks"] if str(b.get("block_id", "")).startswith("home_item_")]) == MAX_ITEMS
    finally:
        with bot.db.session() as session:
            for incident_id in created:
                session.delete(session.get(Incident, incident_id))


def test_the_messages_tab_and_malformed_events_draw_nothing(bot, standin):
    standin.reset_calls()
    bot.event(bot.slack.app_home_opened(JOON, tab="messages"))
    bot.event({"type": "app_home_opened", "tab": "home", "event_ts": standin.next_ts()})
    bot.event({"type": "app_home_opened", "user": "<@U0JOON>", "tab": "home", "event_ts": standin.next_ts()})
    bot.event(bot.slack.app_home_opened(KEN))  # a proper one, to know the others had their chance
    standin.wait_for("views.publish", lambda c: c.args.get("user_id") == KEN)
    time.sleep(0.3)
    assert [c.args.get("user_id") for c in standin.calls("views.publish")] == [KEN]


def test_a_home_tab_slack_refuses_is_logged_for_the_operator(bot, standin, caplog):
    caplog.set_level(logging.WARNING, logger="bot.slack.home")
    standin.home_tab_enabled = False
    try:
        bot.event(bot.slack.app_home_opened(JOON))
        standin.wait_for("views.publish", lambda c: c.args.get("user_id") == JOON and c.response.get("error") == "not_enabled")
        wait_until(lambda: "not_enabled (turn on App Home → Home Tab" in caplog.text)
    finally:
        standin.home_tab_enabled = True


def test_empty_lists_read_well():
    view = home_view([], [], set(), datetime(2026, 11, 22, 5, 0, tzinfo=timezone.utc), translator("en", ZoneInfo("Asia/Seoul")))
    text = _texts(view)
    assert ":sunny: No open incidents." in text and ":sparkles: You have no open action items." in text
    assert "Updated 2026-11-22 14:00 KST" in text and len(view["blocks"]) == 6


def test_the_stand_in_refuses_home_views_as_slack_does(standin):
    from slack_sdk import WebClient
    from slack_sdk.errors import SlackApiError

    from tests.conftest import BOT_TOKEN

    client = WebClient(token=BOT_TOKEN, base_url=standin.base_url)

    def error(**args):
        with pytest.raises(SlackApiError) as refused:
            client.api_call("views.publish", json=args)
        return refused.value.response["error"]

    section = {"type": "section", "text": {"type": "mrkdwn", "text": "hello"}}
    assert error(view={"type": "home", "blocks": [section]}) == "invalid_arguments"
    assert error(user_id=JOON) == "invalid_arguments"
    assert error(user_id="U0NOBODY", view={"type": "home", "blocks": [section]}) == "invalid_arguments"
    assert error(user_id=JOON, view={"type": "modal", "blocks": [section]}) == "invalid_arguments"
    assert error(user_id=JOON, view={"type": "home", "blocks": [section] * 101}) == "invalid_arguments"
    long_text = {"type": "section", "text": {"type": "mrkdwn", "text": "x" * 3001}}
    assert error(user_id=JOON, view={"type": "home", "blocks": [long_text]}) == "invalid_arguments"
    huge = [{"type": "section", "text": {"type": "mrkdwn", "text": "y" * 3000}, "fields": [{"type": "mrkdwn", "text": "z" * 2000}] * 10}] * 20
    assert error(user_id=JOON, view={"type": "home", "blocks": huge}) == "view_too_large"
    published = client.views_publish(user_id=JOON, view={"type": "home", "blocks": [section]})["view"]
    assert standin.home_view(JOON)["id"] == published["id"]
    assert error(user_id=JOON, view={"type": "home", "blocks": [section]}, hash="stale.hash") == "hash_conflict"
