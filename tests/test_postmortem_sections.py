"""The postmortem the team writes during the incident, and the sections built from the record.

Each command (`summary`, `impact` with figures, `trigger`, `cause`, `why`, `factor`) is typed in the
incident channel as a signed slash command, the "Fill in the postmortem" button opens the form and
its submission posts the draft again; the uploaded .md and customer-notice.md are read back in
English, Japanese and Korean. Bad input gets a reason and records nothing.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from bot.domain.requests import SetDeadline
from bot.domain.times import utcnow
from tests.conftest import ANA, KEN, LEE, MIN, OUTSIDER, wait_until


def _files(standin, channel) -> list[dict]:
    return [f for f in standin.files() if channel in json.dumps(f.get("channels") or f.get("channel") or "")]


def _text(file: dict) -> str:
    return file["content"].decode("utf-8") if isinstance(file["content"], bytes) else file["content"]


def _latest(standin, channel, name_part: str, count: int = 1) -> str:
    found = wait_until(lambda: [f for f in _files(standin, channel) if name_part in f["name"]][count - 1:] or None)
    return _text(found[-1])


def _section(document: str, heading: str) -> str:
    """The text under `## heading` (or `### heading`) up to the next heading of any level two or three."""
    lines = document.split("\n")
    start = next(i for i, line in enumerate(lines) if line.lstrip("#").strip() == heading and line.startswith("##"))
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ") or lines[i].startswith("### ")), len(lines))
    return "\n".join(lines[start + 1:end])


def _run(bot, title: str, severity: str = "P1"):
    """A whole incident that writes every part of the postmortem, with a go/no-go decision and one left unanswered."""
    incident = bot.declare(title, user=ANA, severity=severity)
    channel = incident.channel_id
    bot.command(ANA, f"lead <@{KEN}>", channel=channel)
    # A deadline that passed unanswered (set in the past, as the clock would have seen it).
    past = utcnow() - timedelta(minutes=10)
    bot.submit(SetDeadline((past + timedelta(minutes=5)).isoformat(), "page the DBA?"), ANA, incident_id=incident.id, at=past)
    alert = bot.say(incident, LEE, "Alert: checkout 502 rate 38%")
    cause = bot.say(incident, KEN, "pool size is 5 after deploy 2026.11.22-3", thread_ts=alert["ts"])
    bot.event(bot.slack.reaction_added(ANA, channel, alert["ts"], "rotating_light"))
    bot.event(bot.slack.reaction_added(ANA, channel, cause["ts"], "mag"))
    bot.command(KEN, "update Investigating 502s on checkout", channel=channel)
    bot.command(KEN, "status identified pool exhausted", channel=channel)
    reply = bot.command(KEN, "deadline 23:59 roll back 2026.11.22-3?", channel=channel)["text"]
    if "already passed" in reply:  # just before midnight: a full date instead
        tomorrow = (utcnow() + timedelta(days=1)).strftime("%Y-%m-%d 00:30")
        bot.command(KEN, f"deadline {tomorrow} roll back 2026.11.22-3?", channel=channel)
    deadline = bot.incident(incident.id).deadline_at
    bot.slack.block_action(KEN, "deadline_rollback", value=f"{incident.id}|{deadline.isoformat()}", channel=channel)
    wait_until(lambda: bot.entries(incident.id, "decision"))
    bot.command(MIN, "mitigated", channel=channel)
    for text in (
        "summary Checkout returned 502 for 40 minutes after a deploy shrank the DB pool; <@U0KEN> rolled it back.",
        "impact EU checkout failed users=12,000 requests=150k revenue=$5,000 slo=98.7%",
        "trigger deploy 2026.11.22-3 set the pool size to 5",
        "cause the pool size is not validated against the expected load",
        "why the API could not get a DB connection",
        "why the pool had 5 connections",
        "why the config default changed in the deploy",
        "factor technology no alert on pool saturation",
        "factor process config changes skip load review",
        f"action add pool size check to deploy pipeline <@{MIN}> due 2099-12-01 prevent",
        "action alert on pool saturation mitigate",
    ):
        reply = bot.command(KEN, text, channel=channel)["text"]
        assert "Recorded" in reply, (text, reply)
    bot.command(KEN, "resolve", channel=channel)
    return bot.wait_for_incident(incident.id, lambda i: i.postmortem_posted_at is not None), alert


def test_every_section_is_filled_from_the_commands_and_the_record(bot, standin):
    incident, alert = _run(bot, "Checkout API returns 502")
    channel = incident.channel_id
    document = _latest(standin, channel, "postmortem-")
    assert "Checkout returned 502 for 40 minutes" in _section(document, "Summary")
    impact = _section(document, "Impact")
    assert "EU checkout failed" in impact and "12,000" in impact and "150,000" in impact and "$5,000" in impact and "98.7%" in impact
    times = _section(document, "Time to detect, mitigate, resolve")
    assert "Target (P1)" in times and "| 5m |" in times and "| 30m |" in times and "| 4h |" in times
    assert "met" in times
    evidence = _section(document, "Evidence")
    assert "Ana Silva marked the message Lee Chen wrote at" in evidence and ":rotating\\_light:" in evidence
    assert f"https://t0team.slack.com/archives/{channel}/p{alert['ts'].replace('.', '')}" in evidence
    assert "set with `/incident mitigated` by 김민준" in evidence
    reports = _section(document, "Status reports")
    assert "[investigating] Investigating 502s on checkout" in reports
    assert "[identified] pool exhausted" in reports and "[resolved] status changed from identified" in reports
    decisions = _section(document, "Decisions")
    assert "roll back 2026.11.22-3?" in decisions and "Roll back" in decisions and "by 山田 健" in decisions
    assert "page the DBA?" in decisions and "passed with no decision" in decisions
    assert "deploy 2026.11.22-3 set the pool size to 5" in _section(document, "Trigger")
    root = _section(document, "Root cause")
    assert "the pool size is not validated" in root and "pool size is 5 after deploy" in root
    whys = _section(document, "5 whys")
    assert "1. Why did users see the impact? the API could not get a DB connection" in whys
    assert "3. Why? the config default changed in the deploy" in whys and "4. Why? _To complete._" in whys
    fishbone = _section(document, "Fishbone: contributing factors")
    assert "  - no alert on pool saturation" in fishbone and "  - config changes skip load review" in fishbone
    assert "**People**: _To complete._" in fishbone  # P1: the empty categories ask

    notice = _latest(standin, channel, "customer-notice")
    assert "Checkout returned 502 for 40 minutes" in notice and "rolled it back" in notice
    assert "add pool size check to deploy pipeline" in notice and "alert on pool saturation" in notice
    assert "We apologize" in notice and "Asia/Tokyo" not in notice and "UTC" in notice
    # No people, channels or quoted messages reach customers.
    for private in ("U0KEN", "山田", "Ken", "김민준", "inc-", "Alert: checkout", "pool size is 5"):
        assert private not in notice, private


def test_the_draft_and_notice_in_japanese_and_korean(bots, standin):
    for language, words in (
        ("ja", ("状況報告", "意思決定", "根拠", "フィッシュボーン", "目標 (P1)", "発生した事象", "お詫び")),
        ("ko", ("상황 보고", "의사결정", "근거", "피시본", "목표 (P1)", "발생한 일", "사과")),
    ):
        bot = bots(POSTMORTEM_LANGUAGE=language, INCIDENT_TIMEZONE="Asia/Tokyo")
        incident, _ = _run(bot, f"決済APIの障害 {language}")
        document = _latest(standin, incident.channel_id, "postmortem-")
        notice = _latest(standin, incident.channel_id, "customer-notice")
        both = document + notice
        for word in words:
            assert word in both, (language, word)
        # People's words are never translated.
        assert "Checkout returned 502 for 40 minutes" in document and "JST" in notice


def test_repeating_a_command_rewrites_it_and_why_clear_starts_the_whys_again(bot, standin):
    incident = bot.declare("Rewrite the summary", severity="P3")
    channel = incident.channel_id
    bot.command(ANA, "summary first try", channel=channel)
    bot.command(ANA, "summary second try", channel=channel)
    bot.command(ANA, "impact users=10", channel=channel)
    bot.command(ANA, "impact some users users=20 slo=99%", channel=channel)
    for n in range(5):
        bot.command(ANA, f"why because {n}", channel=channel)
    full = bot.command(ANA, "why one more", channel=channel)["text"]
    assert "all written" in full and "why clear" in full
    bot.command(ANA, "why clear", channel=channel)
    bot.command(ANA, "なぜ 最初の理由", channel=channel)
    stored = bot.incident(incident.id)
    assert stored.summary == "second try" and stored.whys == ["最初の理由"]
    assert stored.impact == "some users" and stored.impact_figures == {"users": 20, "slo": 99.0}
    assert len(bot.entries(incident.id, "summary")) == 2
    bot.command(ANA, "resolve", channel=channel)
    bot.wait_for_incident(incident.id, lambda i: i.postmortem_posted_at is not None)
    document = _latest(standin, channel, "postmortem-")
    assert "second try" in document and "first try" not in _section(document, "Summary")
    assert "Fishbone" not in document  # P3 with no factors: left out


@pytest.mark.parametrize(
    "text, reason",
    [
        ("summary", "Say what to record"),
        ("impact users=lots", "is not a number"),
        ("impact usrs=12000", "is not an impact figure"),
        ("impact slo=120%", "percentage from 0 to 100"),
        ("impact", "Say what the impact was"),
        ("trigger", "Say what to record"),
        ("cause", "Say what to record"),
        ("why", "Say what to record"),
        ("factor luck bad luck", "category is one of"),
        ("factor people", "Say what to record"),
        ("factor clear", "no factors to clear"),
        ("why clear", "no whys to clear"),
        ("catchup now", "takes no arguments"),
        ("start --near-mis P2 Cache flap", "is not an option"),
    ],
)
def test_bad_input_to_each_command_gets_a_reason_and_records_nothing(bot, standin, text, reason):
    incident = bot.declare(f"Bad input {text.split()[0]}", severity="P3")
    before = len(bot.entries(incident.id))
    reply = bot.command(ANA, text, channel=incident.channel_id)["text"]
    assert reason in reply, reply
    stored = bot.incident(incident.id)
    assert len(bot.entries(incident.id)) == before
    assert (stored.summary, stored.impact, stored.impact_figures, stored.whys, stored.factors) == (None, None, None, None, None)


def test_only_members_write_the_postmortem(bot, standin):
    incident = bot.declare("Members write it")
    reply = bot.command(OUTSIDER, "summary not mine to write", channel=incident.channel_id, join=False)["text"]
    assert "Only members" in reply and bot.incident(incident.id).summary is None


def test_the_form_opens_prefilled_from_the_button_and_posts_the_draft_again(bot, standin):
    incident = bot.declare("Fill the form", severity="P2")
    channel = incident.channel_id
    bot.command(ANA, "summary from the command", channel=channel)
    bot.command(ANA, "impact users=5", channel=channel)
    bot.command(ANA, "resolve", channel=channel)
    bot.wait_for_incident(incident.id, lambda i: i.postmortem_posted_at is not None)
    summary = wait_until(lambda: [m for m in standin.messages(channel) if m.get("blocks") and "TTR" in m.get("text", "")])[-1]
    first_drafts = len([f for f in _files(standin, channel) if f["name"].startswith("postmortem-")])

    standin.add_member(channel, KEN)
    bot.slack.block_action(KEN, "postmortem_fill", channel=channel, message_ts=summary["ts"])
    view = wait_until(lambda: standin.find_view("incident_postmortem", KEN))
    prefilled = {b["block_id"]: b["element"].get("initial_value") for b in view["blocks"]}
    assert prefilled["summary"] == "from the command" and prefilled["figures"] == "users=5"

    def value(text):
        return {"type": "plain_text_input", "value": text}

    state = {name: {name: value("")} for name in prefilled}
    state.update(
        summary={"summary": value("written in the form")},
        figures={"figures": value("users=7 slo=99.5%")},
        whys={"whys": value("first why\nsecond why")},
        factor_people={"factor_people": value("on-call was new")},
    )
    bad = dict(state, figures={"figures": value("users=many")})
    status, _, body = bot.slack.view_submission(KEN, "incident_postmortem", bad, private_metadata=str(incident.id))
    assert status == 200 and "not a number" in json.loads(body)["errors"]["figures"]
    assert bot.incident(incident.id).summary == "from the command"

    status, _, body = bot.slack.view_submission(KEN, "incident_postmortem", state, private_metadata=str(incident.id))
    assert status == 200 and not body.strip(b" {}\n") if isinstance(body, bytes) else True
    wait_until(lambda: len([f for f in _files(standin, channel) if f["name"].startswith("postmortem-")]) > first_drafts)
    document = _latest(standin, channel, "postmortem-")
    assert "written in the form" in _section(document, "Summary")
    assert "2. Why? second why" in document and "  - on-call was new" in document and "99.5%" in document
    stored = bot.incident(incident.id)
    assert stored.whys == ["first why", "second why"] and stored.impact_figures == {"users": 7, "slo": 99.5}

    # The header carries the same button; an outsider pressing it is told why and sees no form.
    header = standin.message(channel, incident.header_ts)
    assert "postmortem_fill" in json.dumps(header["blocks"])
    bot.slack.block_action(OUTSIDER, "postmortem_fill", channel=channel, message_ts=incident.header_ts)
    wait_until(lambda: [e for e in standin.ephemerals(user_id=OUTSIDER) if "Only members" in e["text"]]
               or [m for m in standin.messages(standin.dm_channel(OUTSIDER)) if "Only members" in m.get("text", "")]
               or standin.responses())
    assert standin.find_view("incident_postmortem", OUTSIDER) is None


def test_the_form_keeps_the_canvas_the_team_edited(bots, standin):
    bot = bots(POSTMORTEM_CANVAS="true")
    incident = bot.declare("Canvas stays", severity="P3")
    channel = incident.channel_id
    bot.command(ANA, "resolve", channel=channel)
    first = bot.wait_for_incident(incident.id, lambda i: i.postmortem_canvas_id is not None)
    standin.edit_canvas(first.postmortem_canvas_id, ANA, "# Our own words")
    bot.slack.block_action(ANA, "postmortem_fill", value=str(incident.id), channel=channel)
    wait_until(lambda: standin.find_view("incident_postmortem", ANA))
    state = {"summary": {"summary": {"type": "plain_text_input", "value": "written after the canvas"}}}
    bot.slack.view_submission(ANA, "incident_postmortem", state, private_metadata=str(incident.id))
    wait_until(lambda: len([c for c in standin.canvases() if c.get("channel_id") == channel]) >= 2)
    assert "Our own words" in standin.canvas(first.postmortem_canvas_id)["markdown"]


def test_a_near_miss_has_the_short_form_and_no_customer_notice(bot, standin):
    reply = bot.command(ANA, "start P2 --near-miss Cache stampede caught by canary")["text"]
    incident_id = int(reply.split("#", 1)[1].split(":", 1)[0])
    incident = bot.wait_for_incident(incident_id, lambda i: i.header_ts is not None)
    assert incident.near_miss and incident.title == "Cache stampede caught by canary"
    bot.command(ANA, "summary the canary caught it before users did", channel=incident.channel_id)
    bot.command(ANA, "resolve", channel=incident.channel_id)
    bot.wait_for_incident(incident_id, lambda i: i.postmortem_posted_at is not None)
    document = _latest(standin, incident.channel_id, "postmortem-")
    assert "**Near miss**" in document and "## Impact" not in document
    assert "the canary caught it" in document
    assert not [f for f in _files(standin, incident.channel_id) if "customer-notice" in f["name"]]
    before = len(standin.responses())
    bot.command(ANA, "stats 30d")
    answer = wait_until(lambda: [r["text"] for r in standin.responses()[before:] if ":bar_chart:" in r.get("text", "")], timeout=60)[0]
    assert "near miss" in answer and "counted apart" in answer


@pytest.mark.parametrize(
    "text, free, figures",
    [
        ("users=12000 requests=150000 revenue=5000 slo=98.7%", "", {"users": 12000, "requests": 150000, "revenue": 5000, "slo": 98.7}),
        ("EU checkout down users=12,000 reqs=1.5M", "EU checkout down", {"users": 12000, "requests": 1500000}),
        ("revenue=$5,000", "", {"revenue": 5000, "currency": "$"}),
        ("revenue=5000 JPY lost", "lost", {"revenue": 5000, "currency": "JPY"}),
        ("ユーザー＝１２０００ 売上=¥30k", "", {"users": 12000, "revenue": 30000, "currency": "¥"}),
        ("사용자=300 slo=99", "", {"users": 300, "slo": 99.0}),
        ("errors at 5% of checkout", "errors at 5% of checkout", {}),
    ],
)
def test_impact_figures_are_read_leniently(text, free, figures):
    from bot.domain.impact_figures import figures_text, split_figures

    assert split_figures(text) == (free, figures)
    assert split_figures(figures_text(figures)) == ("", figures)  # the form shows them as they can be typed again
