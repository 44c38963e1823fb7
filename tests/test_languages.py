"""Words in the team's language: Babel's formats, the language settings, and whole incidents in Japanese and Korean
through signed Slack requests (the catalogs' completeness is tests/test_catalogs.py)."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from bot.i18n import N_, Message, Word, translator
from tests.conftest import ANA, KEN, RunningBot, wait_until
from tests.support.incident_cleanup import last_incident_id, resolve_incidents_after

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


# --- the whole bot in the team's language, through signed Slack requests --------------------------

FAST = {"NUDGE_MINUTES_P1": "0.03", "NUDGE_MINUTES_P2": "0", "NUDGE_MINUTES_P3": "0", "LEAD_NUDGE_MINUTES": "0", "CLOCK_POLL_SECONDS": "0.1"}

# What each language's run types and expects to read. Commands are typed with the language's aliases.
SPOKEN = {
    "ja": {
        "zone": "Asia/Tokyo",
        "title": "決済APIが502を返す",
        "declared": "を宣言しました",
        "header": ["重大度", "ステータス", "インシデントコマンダー", "宣言者", "影響開始", "調査中"],
        "buttons": ["ステータス更新", "重大度を変更", "解決"],
        "nudge": ["状況報告が", "秒"],
        "nudge_buttons": ["状況報告を投稿", "30 分後に再通知"],
        "lead": "担当",
        "recorded": "記録しました。",
        "status": "状況 監視中 ロールバック済み、エラー率は低下中",
        "monitoring": "監視中",
        "action": "対策 接続プールの監視を追加 <@{owner}> due 2099-12-01 prevent",
        "home": ["対応中のインシデント", "あなたのアクションアイテム", "発生から", "再発防止", "期限 2099-12-01"],
        "resolve": "解決",
        "postmortem": [
            "# ポストモーテム: 決済APIが502を返す", "| **ステータス** | 解決済み |", "1時間24分", "| **TTD**（検知） | 4分 |",
            "| **TTM**（緩和） | 40分 |", "| 影響開始 |", "原因特定", "*ステータス* · 調査中 → 監視中: ロールバック済み、エラー率は低下中",
            "| 再発防止 | 未完了 |", "## タイムライン", "## 根本原因",
        ],
        "summary": ["ポストモーテム草稿", "1時間24分", "*TTD* 4分"],
    },
    "ko": {
        "zone": "Asia/Seoul",
        "title": "결제 API가 502를 반환",
        "declared": "선언했습니다",
        "header": ["심각도", "상태", "인시던트 커맨더", "선언자", "영향 시작", "조사 중"],
        "buttons": ["상태 업데이트", "심각도 변경", "해결"],
        "nudge": ["상황 보고가", "초"],
        "nudge_buttons": ["상황 보고 게시", "30분 후 다시 알림"],
        "lead": "담당",
        "recorded": "기록했습니다.",
        "status": "상태 모니터링 롤백 완료, 오류율 감소 중",
        "monitoring": "모니터링",
        "action": "조치 커넥션 풀 모니터링 추가 <@{owner}> due 2099-12-01 prevent",
        "home": ["진행 중인 인시던트", "내 액션 아이템", "발생 후", "재발 방지", "기한 2099-12-01"],
        "resolve": "해결",
        "postmortem": [
            "# 포스트모템: 결제 API가 502를 반환", "| **상태** | 해결됨 |", "1시간 24분", "| **TTD** (감지) | 4분 |",
            "| **TTM** (완화) | 40분 |", "| 영향 시작 |", "원인 파악", "*상태* · 조사 중 → 모니터링: 롤백 완료, 오류율 감소 중",
            "| 재발 방지 | 미완료 |", "## 타임라인", "## 근본 원인",
        ],
        "summary": ["포스트모템 초안", "1시간 24분", "*TTD* 4분"],
    },
}
# The bot's own English words that must not be left in a translated postmortem (outside quotes and commands).
ENGLISH_WORDS = re.compile(
    r"\b(investigating|identified|monitoring|resolved|prevent|process|mitigate|mitigated|detected|started"
    r"|not recorded|open|done|Status|Severity|Timeline|Postmortem|Summary)\b"
)


@pytest.fixture
def clocked(standin, database_url, bots):
    """A bot whose own clock sends reminders, with the settings a test chooses; its incidents resolved after."""
    bots()  # the shared database is migrated
    started: list[tuple[RunningBot, int]] = []

    def start(**env: str) -> RunningBot:
        bot = RunningBot(standin, database_url, {**FAST, "SCHEDULER": "embedded", **env})
        started.append((bot, last_incident_id(bot)))
        return bot

    yield start
    for bot, first_id in started:
        bot.stop()
        resolve_incidents_after(bots(), first_id)


def _declared_id(reply: dict) -> int:
    return int(re.search(r"#(\d+)", reply["text"])[1])


def _block_texts(blocks) -> str:
    parts = []
    for block in blocks or []:
        for key in ("text",):
            if isinstance(block.get(key), dict):
                parts.append(block[key]["text"])
        parts += [f["text"] for f in block.get("fields") or []]
        for element in block.get("elements") or []:
            if isinstance(element, dict) and isinstance(element.get("text"), (dict, str)):
                parts.append(element["text"]["text"] if isinstance(element["text"], dict) else element["text"])
        if isinstance(block.get("accessory"), dict):
            parts.append(block["accessory"]["text"]["text"])
    return "\n".join(parts)


def _typed(at: datetime, zone: str) -> str:
    return at.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M")


@pytest.mark.parametrize("language", ["ja", "ko"])
def test_a_whole_incident_runs_in_the_teams_language(clocked, standin, language):
    said = SPOKEN[language]
    zone = said["zone"]
    bot = clocked(BOT_LANGUAGE=language, INCIDENT_TIMEZONE=zone)

    reply = bot.command(ANA, f"start P1 {said['title']}")
    assert said["declared"] in reply["text"] and "Declared" not in reply["text"], reply
    incident = bot.wait_for_incident(_declared_id(reply), lambda i: i.header_ts is not None)
    channel = incident.channel_id

    # The header: field labels, the status and the buttons, in the workspace's language.
    header = wait_until(lambda: standin.message(channel, incident.header_ts))
    shown = _block_texts(header["blocks"])
    for words in said["header"] + said["buttons"]:
        assert words in shown, (words, shown)
    assert not re.search(r"\b(Severity|Status|Commander|investigating|Update status|Resolve)\b", shown), shown

    # A nudge, with its buttons: no update for the P1 cadence (1.8 s here, said in the language's seconds).
    nudge = wait_until(lambda: [m for m in standin.messages(channel) if (m.get("text") or "").startswith(":alarm_clock:")])[0]
    for words in said["nudge"]:
        assert words in nudge["text"], nudge["text"]
    assert all(label in _block_texts(nudge["blocks"]) for label in said["nudge_buttons"]), nudge["blocks"]

    # Times that make the durations: impact 1h24m before now, detected 4 minutes later, mitigated 40 minutes after that.
    base = datetime.now(UTC).replace(second=0, microsecond=0)
    assert said["recorded"] in bot.command(ANA, f"started {_typed(base - timedelta(minutes=84), zone)}", channel=channel)["text"]
    bot.command(ANA, f"検知 {_typed(base - timedelta(minutes=80), zone)}" if language == "ja" else f"감지 {_typed(base - timedelta(minutes=80), zone)}", channel=channel)
    bot.command(ANA, f"{said['lead']} <@{KEN}>", channel=channel)
    reply = bot.command(KEN, said["status"], channel=channel)
    assert said["recorded"] in reply["text"] and said["monitoring"] in reply["text"] and "monitoring" not in reply["text"], reply
    bot.command(KEN, f"mitigated {_typed(base - timedelta(minutes=40), zone)}", channel=channel)
    bot.command(KEN, said["action"].format(owner=ANA), channel=channel)

    # The App Home, for a person whose Slack says no language: the workspace's.
    before = (standin.home_view(ANA) or {}).get("hash")
    bot.event(bot.slack.app_home_opened(ANA))
    home = wait_until(lambda: (v := standin.home_view(ANA)) and v["hash"] != before and v)
    shown = _block_texts(home["blocks"])
    for words in said["home"] + [said["monitoring"]]:
        assert words in shown, (words, shown)
    assert "Open incidents" not in shown and "monitoring" not in shown

    # Resolved at `base`, not "now": a run that crosses a minute would make the TTR 1h 25m.
    reply = bot.command(KEN, f"{said['resolve']} {_typed(base, zone)}", channel=channel)
    assert said["recorded"] in reply["text"], reply
    bot.wait_for_incident(incident.id, lambda i: i.postmortem_posted_at is not None)
    files = wait_until(lambda: [f for f in standin.files() if channel in json.dumps(f.get("channels") or "")])
    content = files[-1]["content"]
    document = content.decode("utf-8") if isinstance(content, bytes) else content
    for words in said["postmortem"]:
        assert words in document, (words, document)
    # No English word of the bot's outside what people wrote (quoted) and the commands to type (in code spans).
    quoted = {said["title"], said["status"].split(" ", 2)[2]}
    outside = re.sub(r"`[^`]*`", "", document)
    for text in quoted:
        outside = outside.replace(text, "")
    assert not ENGLISH_WORDS.search(outside), ENGLISH_WORDS.findall(outside)
    summary = [m["text"] for m in standin.messages(channel) if "TTR" in (m.get("text") or "")][-1]
    for words in said["summary"]:
        assert words in summary, summary


def test_what_only_one_person_reads_is_in_their_slack_language(bots, standin):
    """A Korean-locale person in an English workspace: their replies in Korean, the channel's notices in English."""
    kim = "U0KIMKR"
    standin.add_user(kim, "kim", "김서연", tz="Asia/Seoul", locale="ko-KR")
    bot = bots()
    first = last_incident_id(bot)
    try:
        reply = bot.command(kim, "start P2 결제 지연")
        assert "선언했습니다" in reply["text"] and "Declared" not in reply["text"], reply
        incident = bot.wait_for_incident(_declared_id(reply), lambda i: i.header_ts is not None)
        channel = incident.channel_id
        reply = bot.command(kim, "note 원인은 캐시 만료로 보임", channel=channel)
        assert reply["text"].startswith(":white_check_mark: 기록했습니다. 메모"), reply
        notice = wait_until(lambda: [m for m in standin.messages(channel) if "원인은 캐시 만료로 보임" in (m.get("text") or "")])[0]
        assert notice["text"].startswith(":memo: *Note* note · by <@U0KIMKR>"), notice["text"]  # the channel's language
        header = _block_texts(standin.message(channel, incident.header_ts)["blocks"])
        assert "*Severity*" in header and "investigating" in header
        # A refusal is theirs too; an English-locale-less colleague's stays English.
        assert "이미" in bot.command(kim, "severity P2", channel=channel)["text"]
        assert "already" in bot.command(ANA, "severity P2", channel=channel)["text"]
        help_text = bot.command(kim, "help")["text"]
        assert "`해결` = `resolve`" in help_text and "`/incident resolve [시각]`" in help_text
    finally:
        resolve_incidents_after(bot, first)


def test_a_person_whose_language_slack_will_not_say_reads_the_workspaces(bots, standin):
    from bot.slack import languages

    sora = "U0SORAJP"
    standin.add_user(sora, "sora", "青木 空", tz="Asia/Tokyo", locale="ja-JP")
    bot = bots(BOT_LANGUAGE="ko")
    first = last_incident_id(bot)
    standin.fail_always("users.info", "ratelimited", status=429)
    try:
        languages.forget(sora)
        assert "인시던트 채널이 아닙니다" in bot.command(sora, "status monitoring")["text"]
    finally:
        standin.clear_failures()
        languages.forget(sora)
    assert "インシデントチャンネルではありません" in bot.command(sora, "status monitoring")["text"]
    resolve_incidents_after(bot, first)


def test_the_language_settings_name_themselves_and_the_postmortem_follows_the_bot():
    from bot.config import ConfigError, Settings

    def settings(**env):
        return Settings.from_env({"DATABASE_URL": "sqlite:///x.db", **env}, need_slack=False)

    assert (settings().language, settings().postmortem_language) == ("en", "en")
    assert (settings(BOT_LANGUAGE="ko").language, settings(BOT_LANGUAGE="ko").postmortem_language) == ("ko", "ko")
    assert settings(BOT_LANGUAGE="JA", POSTMORTEM_LANGUAGE="en").postmortem_language == "en"
    for name in ("BOT_LANGUAGE", "POSTMORTEM_LANGUAGE"):
        with pytest.raises(ConfigError, match=f"^{name} must be one of en, ja, ko, got 'fr'$"):
            settings(**{name: "fr"})


def test_a_slack_locale_names_a_language_of_the_catalogs_or_none():
    from bot.i18n import language_of_locale

    assert [language_of_locale(x) for x in ("ja-JP", "ko-KR", "en-GB", "ja", "fr-FR", "", None)] == ["ja", "ko", "en", "ja", None, None, None]


def test_commands_accept_the_japanese_and_korean_words_for_them():
    from bot.domain import command_parser as cp
    from bot.domain.requests import ChangeStatus, SetMilestone

    assert cp.parse("解決") == cp.parse("해결") == cp.parse("resolve") == SetMilestone("resolved", None, False)
    assert cp.parse("状況 監視中 復旧を確認") == ChangeStatus("monitoring", "復旧を確認")
    assert cp.parse("상태 조사중") == ChangeStatus("investigating", "")
    assert cp.parse("解決　14:05") == SetMilestone("resolved", "14:05", False)  # an ideographic space (U+3000) after the word
    assert isinstance(cp.parse("ヘルプ"), cp.Help) and isinstance(cp.parse("목록"), cp.ListOpen)
    for language, aliases in cp.ALIASES.items():
        assert set(aliases.values()) <= set(cp.USAGE) | {"resolve"}, language


@pytest.mark.parametrize("language", ["en", "ja", "ko"])
def test_every_change_is_said_in_every_language(language):
    """Each kind of Change the rules return reads as words (no key, no English, in ja and ko)."""
    from bot.domain.changes import Change
    from bot.slack import texts

    t = translator(language, TOKYO)
    at = datetime(2026, 11, 22, 5, 5, tzinfo=UTC)
    changes = [
        Change(1, "declared", "U1", {"severity": "P1", "title": "Checkout down"}),
        Change(1, "status", "U1", {"from": "investigating", "to": "resolved", "reopened": False}),
        Change(1, "status", "U1", {"from": "monitoring", "to": "monitoring"}),
        Change(1, "status", "U1", {"from": "resolved", "to": "investigating", "reopened": True}),
        Change(1, "severity", "U1", {"from": "P2", "to": "P1"}),
        Change(1, "lead", "U1", {"user": "U2"}),
        Change(1, "role", "U1", {"role": "comms", "user": "U2"}),
        Change(1, "milestone", "U1", {"milestone": "mitigated", "at": at}),
        Change(1, "snooze", "U1", {"until": at}),
        Change(1, "action", "U1", {"item": 7, "owner": "U2", "due": at.date(), "class": "mitigate"}),
        Change(1, "action_done", "U1", {"item": 7}),
        Change(1, "deadline", "U1", {"at": at, "what": "roll back?"}),
        Change(1, "deadline", "U1", {"at": None}),
        Change(1, "decision", "U1", {"decision": "continue", "next": at}),
        Change(1, "decision", "U1", {"decision": "rollback"}),
        Change(1, "tag", "U1", {"added": ["db"], "already": ["net"]}),
        Change(1, "untag", "U1", {"removed": ["db"], "missing": []}),
        Change(1, "update", "U1", text="Rolled back"),
        Change(1, "note", "U1", text="pool size 5"),
        Change(1, "postmortem_done", "U1"),
    ]
    english = re.compile(r"\b(investigating|monitoring|resolved|mitigated|mitigate|comms|Recorded|status update|note|added|removed|cleared)\b")
    for change in changes:
        said = texts.summary(change, t) + " " + texts.reply(change, t) + " " + texts.notice(change, t)
        assert said.strip() and "{" not in said, (change, said)
        if language != "en":
            assert not english.search(said.replace("Rolled back", "").replace("pool size 5", "")), (change, said)
    assert texts.summary(changes[1], translator("en", TOKYO)) == "investigating → resolved"
    assert texts.summary(changes[7], translator("en", TOKYO)) == "mitigated: 2026-11-22 14:05 JST"
