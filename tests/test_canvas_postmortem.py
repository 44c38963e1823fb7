"""POSTMORTEM_CANVAS=true: the postmortem also goes into a canvas in the incident channel.

Through the Bolt-over-HTTP harness: the canvas holds the uploaded document's Markdown,
posting again never overwrites what the team wrote, and a canvas Slack refuses costs
nothing but one notice (the file is posted and recorded first).
"""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import ConfigError, Settings
from bot.postmortem.render import markdown_text
from bot.postmortem.canvas import canvas_markdown
from tests.conftest import ANA, KEN, MIN, wait_until
from tests.support.incident_cleanup import resolve_what_the_test_opened  # noqa: F401  (autouse)

ROOT = Path(__file__).resolve().parent.parent
CANVAS = {"POSTMORTEM_CANVAS": "true"}
REFUSED = ":warning: The postmortem canvas could not be created"


def _resolved(bot, incident):
    reply = bot.command(ANA, "resolve", channel=incident.channel_id)
    assert "Recorded" in reply["text"], reply
    return bot.wait_for_incident(incident.id, lambda i: i.postmortem_posted_at is not None)


def _document(standin, channel) -> str:
    files = wait_until(lambda: [f for f in standin.files() if channel in (f.get("channels") or [])], message="no file uploaded")
    return files[-1]["content"].decode("utf-8")


def _said(standin, channel, fragment) -> list[dict]:
    return [m for m in standin.messages(channel) if fragment in (m.get("text") or "")]


def _tabs(standin, channel) -> list[dict]:
    return [c for c in standin.canvases() if c["channel_id"] == channel and not c["is_channel_canvas"]]


# --- the one change canvases need -------------------------------------------------------------


def test_the_canvas_text_differs_from_the_document_only_by_our_nbsp_indentation():
    quoted = markdown_text("steps:\n   1. restart &nbsp;the pool\n\tdone", {})
    assert quoted.count("&nbsp;") == 5 and "\\&nbsp;" in quoted  # 4 of ours, 1 the person typed (escaped)
    canvas = canvas_markdown(f"- **14:02** · {quoted}\n")
    assert "\u00a0\u00a0\u00a01\\. restart \\&nbsp;the pool" in canvas and "\u00a0done" in canvas
    assert canvas.count("&nbsp;") == 1  # only the person's own, still escaped
    assert canvas.replace("\u00a0", "&nbsp;") == f"- **14:02** · {quoted}\n"


# --- the setting ---------------------------------------------------------------------------------


@pytest.mark.parametrize("value, wanted", [("true", True), ("TRUE", True), ("1", True), ("yes", True), ("false", False), ("0", False), ("off", False), ("", False)])
def test_postmortem_canvas_reads_as_a_boolean_and_defaults_to_off(value, wanted):
    env = {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s", "POSTMORTEM_CANVAS": value}
    assert Settings.from_env(env).postmortem_canvas is wanted
    assert Settings.from_env({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s"}).postmortem_canvas is False
    with pytest.raises(ConfigError, match="POSTMORTEM_CANVAS must be true or false, got 'sometimes'"):
        Settings.from_env({**env, "POSTMORTEM_CANVAS": "sometimes"})


def test_a_malformed_postmortem_canvas_stops_start_up_with_one_line(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s",
           "DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}", "POSTMORTEM_CANVAS": "maybe"}
    result = subprocess.run([sys.executable, "app.py"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == ["configuration error: POSTMORTEM_CANVAS must be true or false, got 'maybe'"]


# --- the canvas --------------------------------------------------------------------------------


def test_resolving_puts_the_same_markdown_in_a_channel_canvas(bots, standin):
    bot = bots(**CANVAS)
    incident = bot.declare("決済 API が 502 を返す", severity="P1")
    channel = incident.channel_id
    cause = bot.say(incident, KEN, "原因: 接続プール &amp; キュー &amp;nbsp;\n    インデントされた行 <!here>")
    bot.event(bot.slack.reaction_added(KEN, channel, cause["ts"], "mag"))
    resolved = _resolved(bot, incident)

    stored = bot.wait_for_incident(incident.id, lambda i: i.postmortem_canvas_id is not None)
    canvas = standin.canvas(stored.postmortem_canvas_id)
    assert canvas["is_channel_canvas"] and canvas["channel_id"] == channel
    assert standin.channel_canvas(channel)["id"] == canvas["id"]
    assert canvas["title"] == f"Postmortem #{incident.id}: 決済 API が 502 を返す"
    document = _document(standin, channel)
    assert canvas["markdown"] == canvas_markdown(document)  # the uploaded file's content, entity for entity
    # Our indentation entities become the character; the one the person typed stays, escaped, as typed.
    typed = document.count("\\&nbsp;")  # the message is quoted in the timeline, root cause and log
    assert typed == 3 and document.count("&nbsp;") == 5 * typed and canvas["markdown"].count("&nbsp;") == typed
    assert "原因: 接続プール & キュー \\&nbsp;  \n  \u00a0\u00a0\u00a0\u00a0インデントされた行" in canvas["markdown"]
    assert "<!here>" not in canvas["markdown"]
    wait_until(lambda: _said(standin, channel, "also in this channel's canvas"), message="no canvas notice")
    assert resolved.postmortem_posted_at is not None and not _said(standin, channel, REFUSED)


def test_posting_again_keeps_what_the_team_wrote_and_adds_a_fresh_draft(bots, standin):
    bot = bots(**CANVAS)
    incident = bot.declare("Search index stale")
    channel = incident.channel_id
    _resolved(bot, incident)
    first = bot.wait_for_incident(incident.id, lambda i: i.postmortem_canvas_id is not None).postmortem_canvas_id
    team_text = "# Postmortem\n\nSummary: 検索インデックスの更新が止まった。 Our own words."
    standin.edit_canvas(first, MIN, team_text)

    # /incident postmortem: a new tab with the current draft; the team's canvas gains only a pointer.
    bot.command(KEN, f"action reindex nightly <@{MIN}> due 2099-01-31 prevent", channel=channel)
    reply = bot.command(ANA, "postmortem", channel=channel)
    assert "again" in reply["text"], reply
    [fresh] = wait_until(lambda: _tabs(standin, channel), message="no fresh canvas")
    assert fresh["title"].startswith(f"Postmortem #{incident.id}, draft of ")
    assert "reindex nightly" in fresh["markdown"] and fresh["markdown"] == canvas_markdown(_document(standin, channel))
    kept = wait_until(lambda: (c := standin.canvas(first)) and c["edits"][-1]["user"] == "UBOT" and c)
    assert kept["markdown"].endswith(team_text)  # nothing the team wrote is gone
    assert kept["markdown"].startswith("> **A newer draft**") and fresh["title"] in kept["markdown"]
    assert [e["operation"] for e in kept["edits"]] == ["typed", "insert_at_start"]  # never a replace
    wait_until(lambda: _said(standin, channel, "keeps your edits; a note at its top points to the new draft"))
    assert bot.incident(incident.id).postmortem_canvas_id == first

    # Reopened and resolved again: the same, one more tab.
    bot.command(ANA, "status investigating", channel=channel)
    _resolved(bot, bot.wait_for_incident(incident.id, lambda i: i.status == "investigating"))
    wait_until(lambda: len(_tabs(standin, channel)) == 2, message="no second fresh canvas")
    wait_until(lambda: standin.canvas(first)["markdown"].count("A newer draft") == 2)
    assert standin.canvas(first)["markdown"].endswith(team_text)

    # The team deleted its canvas: the next draft's canvas becomes the postmortem canvas.
    standin.delete_canvas(first)
    bot.command(ANA, "postmortem", channel=channel)
    wait_until(lambda: len(_tabs(standin, channel)) == 3)
    third = _tabs(standin, channel)[-1]["id"]
    bot.wait_for_incident(incident.id, lambda i: i.postmortem_canvas_id == third)
    wait_until(lambda: _said(standin, channel, "write it together there"))
    assert not _said(standin, channel, REFUSED)


def test_a_channel_that_already_has_a_canvas_keeps_it_and_gets_a_postmortem_tab(bots, standin):
    bot = bots(**CANVAS)
    incident = bot.declare("Runbook channel")
    channel = incident.channel_id
    theirs = standin.add_channel_canvas(channel, KEN, "## On-call runbook\n\nStep 1: breathe.")
    _resolved(bot, incident)
    stored = bot.wait_for_incident(incident.id, lambda i: i.postmortem_canvas_id is not None)
    [tab] = _tabs(standin, channel)
    assert stored.postmortem_canvas_id == tab["id"] and tab["markdown"] == canvas_markdown(_document(standin, channel))
    assert standin.canvas(theirs)["markdown"] == "## On-call runbook\n\nStep 1: breathe." and not standin.canvas(theirs)["edits"]
    wait_until(lambda: _said(standin, channel, "already has a canvas"))


@pytest.mark.parametrize("refusal", ["team_tier_cannot_create_channel_canvases", "canvas_disabled_user_team", "missing_scope"])
def test_a_refused_canvas_leaves_the_file_the_record_and_one_notice(bots, standin, caplog, refusal):
    bot = bots(**CANVAS)
    incident = bot.declare(f"Canvas refused: {refusal}")
    channel = incident.channel_id
    caplog.set_level(logging.WARNING, logger="bot.postmortem.canvas")
    try:
        if refusal == "team_tier_cannot_create_channel_canvases":
            standin.free_plan = True
        elif refusal == "canvas_disabled_user_team":
            standin.canvases_enabled = False
        else:
            standin.fail_next("conversations.canvases.create", error="missing_scope")
        resolved = _resolved(bot, incident)
        notice = wait_until(lambda: _said(standin, channel, REFUSED), message="no refusal notice")
    finally:
        standin.free_plan, standin.canvases_enabled = False, True
    assert f"`{refusal}`" in notice[0]["text"] and "The draft file above has the same content" in notice[0]["text"]
    assert "Postmortem" in _document(standin, channel) and resolved.postmortem_posted_at is not None
    assert bot.incident(incident.id).postmortem_canvas_id is None
    assert len(_said(standin, channel, REFUSED)) == 1 and not _said(standin, channel, "also in this channel's canvas")
    assert any(
        r.levelno == logging.ERROR and f"incident {incident.id}" in r.getMessage() and refusal in r.getMessage()
        for r in caplog.records
    ), caplog.text

    # Once the workspace allows it, posting again makes the canvas.
    bot.command(ANA, "postmortem", channel=channel)
    bot.wait_for_incident(incident.id, lambda i: i.postmortem_canvas_id is not None)
    assert standin.channel_canvas(channel) is not None


def test_a_canvas_slack_never_answers_is_not_created_twice(bots, standin):
    bot = bots(SLACK_API_TIMEOUT="0.5", **CANVAS)
    incident = bot.declare("Slow canvases")
    standin.answer_late("conversations.canvases.create", 1.5)
    _resolved(bot, incident)
    notice = wait_until(lambda: _said(standin, incident.channel_id, REFUSED))[0]["text"]
    assert "`slack_unreachable`" in notice and "/incident postmortem" in notice
    tries = [c for c in standin.calls("conversations.canvases.create") if c.args.get("channel_id") == incident.channel_id]
    assert len(tries) == 1  # not repeated after the timeout: Slack may have made it
    # Slack made it after all: posting again finds the channel canvas taken and leaves it be.
    bot.command(ANA, "postmortem", channel=incident.channel_id)
    stored = bot.wait_for_incident(incident.id, lambda i: i.postmortem_canvas_id is not None)
    assert not standin.canvas(stored.postmortem_canvas_id)["is_channel_canvas"]


def test_without_the_setting_no_canvas_is_made(bot, standin):
    incident = bot.declare("No canvas please")
    _resolved(bot, incident)
    _document(standin, incident.channel_id)
    assert not [c for c in standin.canvases() if c["channel_id"] == incident.channel_id]
    assert not [c for c in standin.calls("conversations.canvases.create") if c.args.get("channel_id") == incident.channel_id]


def test_the_stand_in_refuses_canvas_calls_as_slack_does(standin):
    from slack_sdk import WebClient
    from slack_sdk.errors import SlackApiError

    from tests.conftest import BOT_TOKEN

    client = WebClient(token=BOT_TOKEN, base_url=standin.base_url)

    def error(method, **args):
        with pytest.raises(SlackApiError) as refused:
            client.api_call(method, json=args)
        return refused.value.response["error"]

    content = {"type": "markdown", "markdown": "# Notes"}
    outside = standin.create_channel("canvas-outside-the-bot", members=[ANA])
    inside = standin.create_channel("canvas-with-the-bot", members=[ANA, "UBOT"])
    assert error("conversations.canvases.create", document_content=content) == "invalid_arguments"
    assert error("conversations.canvases.create", channel_id="C0NOPE", document_content=content) == "channel_not_found"
    assert error("conversations.canvases.create", channel_id=outside, document_content=content) == "not_in_channel"
    assert error("conversations.canvases.create", channel_id=inside, document_content={"markdown": "x"}) == "invalid_arguments"
    canvas_id = client.conversations_canvases_create(channel_id=inside, document_content=content)["canvas_id"]
    assert error("conversations.canvases.create", channel_id=inside, document_content=content) == "channel_canvas_already_exists"
    assert client.conversations_info(channel=inside)["channel"]["properties"]["canvas"]["file_id"] == canvas_id

    replace = {"operation": "replace", "document_content": {"type": "markdown", "markdown": "# Replaced"}}
    assert error("canvases.edit", changes=[replace]) == "invalid_arguments"
    assert error("canvases.edit", canvas_id=canvas_id) == "invalid_arguments"
    assert error("canvases.edit", canvas_id=canvas_id, changes=[replace, replace]) == "invalid_arguments"
    assert error("canvases.edit", canvas_id=canvas_id, changes=[{"operation": "rewrite"}]) == "invalid_arguments"
    assert error("canvases.edit", canvas_id=canvas_id, changes=[{"operation": "replace"}]) == "invalid_arguments"
    assert error("canvases.edit", canvas_id=canvas_id, changes=[{**replace, "operation": "insert_after"}]) == "invalid_arguments"
    assert error("canvases.edit", canvas_id="F0NOPE", changes=[replace]) == "canvas_not_found"
    client.canvases_edit(canvas_id=canvas_id, changes=[replace])
    assert standin.canvas(canvas_id)["markdown"] == "# Replaced"

    assert error("canvases.create", channel_id=outside, title="x") == "not_in_channel"
    standin.free_plan = True
    try:
        assert error("canvases.create", title="loose") == "free_teams_cannot_create_non_tabbed_canvases"
        assert error("canvases.create", channel_id=inside, title="tab") == "free_team_canvas_tab_already_exists"
        assert error("conversations.canvases.create", channel_id=inside) == "team_tier_cannot_create_channel_canvases"
    finally:
        standin.free_plan = False
    tab = client.canvases_create(title="Tab", channel_id=inside, document_content=content)["canvas_id"]
    assert standin.canvas(tab)["channel_id"] == inside and not standin.canvas(tab)["is_channel_canvas"]
