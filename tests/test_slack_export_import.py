"""`python app.py import`: a past incident from a Slack export, as operators run it.

Every run is the real command in a subprocess against a database of its own
(SQLite and PostgreSQL). The export is tests/fixtures/slack_export, a small
workspace export whose incident channel runs across midnight UTC (one day in
Asia/Tokyo), with threads, an edit, a file, joins, bots, and reactions that mark
detection, cause, mitigation and resolution with the bot's default emoji.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from datetime import datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import func, inspect, select

from bot.config import Settings
from bot.domain.lifecycle import milestones as milestones_now
from storage.incident_store import SqlIncidentStore, incident_record
from bot.domain import times
from bot.domain.times import from_slack_ts
from storage.db import Database
from storage.models import Incident, MilestoneClaim, Person, ReactionMark, TimelineEntry
from tests.conftest import ANA as DECLARER, BACKENDS, BOT_TOKEN, scratch_database
from tests.support.slack_standin import BOT_USER_ID, SlackStandIn

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "tests" / "fixtures" / "slack_export"
CHANNEL, CHANNEL_ID = "inc-2026-03-12-checkout-502", "C06INC0312"
ANA, KEN, MIN, LEE, SAM = "U05ANASLV1", "U05KENYMD2", "U05MINJUN3", "U05LEECHN4", "U04SAMOKF5"


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)


# --- running the command --------------------------------------------------------------------


@pytest.fixture(params=BACKENDS)
def database(request, tmp_path):
    """A database of its own: the tests look at everything in it, and at it staying empty."""
    with scratch_database(request.param, tmp_path) as url:
        yield Settings.from_env({"DATABASE_URL": url}, need_slack=False).database_url


def run_import(database: str, *args, **env) -> subprocess.CompletedProcess:
    environment = {
        k: v for k, v in os.environ.items()
        if not k.startswith(("SLACK_", "INCIDENT_", "DATABASE_URL", "POSTMORTEM_", "REACTION_"))
    }
    environment.update(DATABASE_URL=database, INCIDENT_TIMEZONE="Asia/Tokyo", PYTHONIOENCODING="utf-8", **env)
    return subprocess.run(
        [sys.executable, "app.py", "import", *map(str, args)],
        cwd=ROOT, env=environment, capture_output=True, encoding="utf-8", timeout=120,
    )


def imported(result: subprocess.CompletedProcess) -> int:
    assert result.returncode == 0, result.stderr
    line = result.stderr.strip().splitlines()[-1]
    assert line.startswith(f"imported #{CHANNEL} as incident #"), result.stderr
    return int(line.split("incident #", 1)[1].split(":", 1)[0])


def one_line(result: subprocess.CompletedProcess, code: int = 2) -> str:
    lines = result.stderr.strip().splitlines()
    assert result.returncode == code and len(lines) == 1, (result.returncode, result.stderr)
    return lines[0]


def counts(database: str) -> dict[str, int]:
    """Rows in every table an import writes; all zero when there are no tables yet."""
    db = Database(database)
    try:
        models = (Incident, TimelineEntry, ReactionMark, MilestoneClaim, Person)
        if "incidents" not in inspect(db.engine).get_table_names():
            return {m.__tablename__: 0 for m in models}
        with db.session() as session:
            return {m.__tablename__: session.scalar(select(func.count()).select_from(m)) for m in models}
    finally:
        db.dispose()


class Record:
    """What the database holds for one incident."""

    def __init__(self, database: str, incident_id: int):
        db = Database(database)
        try:
            with db.session() as session:
                self.incident = session.get(Incident, incident_id)
                store = SqlIncidentStore(session)
                self.messages = [e for e in store.timeline(incident_id) if e.kind == "message"]
                self.entries = store.timeline(incident_id)
                self.marks = store.marks_by_message(incident_id)
                self.reactions = sorted(
                    (r.message_ts, r.emoji, r.user_id, r.mark, r.active)
                    for r in session.scalars(select(ReactionMark).where(ReactionMark.incident_id == incident_id))
                )
                self.milestones = milestones_now(store, incident_record(self.incident))
                self.names = {p.user_id: p.name for p in session.scalars(select(Person))}
        finally:
            db.dispose()

    def message(self, starts: str) -> TimelineEntry:
        [entry] = [e for e in self.messages if e.text.startswith(starts)]
        return entry


def fixture_messages() -> list[dict]:
    found = []
    for day in sorted((FIXTURE / CHANNEL).glob("*.json")):
        found += json.loads(day.read_text(encoding="utf-8"))
    return sorted(found, key=lambda m: float(m["ts"]))


def ts_of(starts: str) -> str:
    [message] = [m for m in fixture_messages() if m.get("text", "").startswith(starts)]
    return message["ts"]


def at_of(starts: str) -> datetime:
    return from_slack_ts(ts_of(starts))


def copy_of_fixture(tmp_path: Path) -> Path:
    target = tmp_path / "export"
    shutil.copytree(FIXTURE, target)
    return target


def zipped(source: Path, target: Path, top: str = "") -> Path:
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(source.rglob("*")):
            if path.is_file():
                archive.write(path, top + path.relative_to(source).as_posix())
        if top:  # what macOS adds when a person re-zips the folder
            archive.writestr(f"__MACOSX/{top}._channels.json", b"\x00\x05\x16\x07")
    return target


# --- the incident as recorded -----------------------------------------------------------------


def test_an_export_folder_becomes_the_incident_the_live_bot_would_have_recorded(database):
    result = run_import(database, FIXTURE, "--channel", CHANNEL, "--severity", "p2")
    record = Record(database, imported(result))
    assert result.stderr.strip().splitlines()[-1].endswith(": 28 messages, 13 marks")

    incident = record.incident
    assert incident.title == "Checkout API returns 502 for ~30% of requests"  # the channel's purpose
    assert (incident.severity, incident.status, incident.is_private) == ("P2", "resolved", False)
    assert (incident.channel_id, incident.channel_name) == (CHANNEL_ID, CHANNEL)
    assert incident.imported_from == f"slack-export:{FIXTURE}#{CHANNEL}"
    # Declared when the channel opened (its creator's join), by its creator.
    assert (incident.declared_at, incident.declared_by) == (utc("2026-03-12T22:48:03.000100"), ANA)

    # Exactly what people said: joins, the purpose change, bots and the leave are not entries.
    spoken = [
        m for m in fixture_messages()
        if m.get("subtype") in (None, "thread_broadcast") and not m.get("bot_id")
    ]
    assert [(e.ts, e.author_id, e.text) for e in record.messages] == [(m["ts"], m["user"], m["text"]) for m in spoken]
    assert all(e.channel_id == CHANNEL_ID and e.occurred_at == from_slack_ts(e.ts) for e in record.messages)
    assert not any("has joined" in e.text or "Deploy 4520" in e.text for e in record.entries)
    # Text in any language, emoji and Slack's own escaping, kept exactly.
    assert record.message("見ています").text == "見ています。502 は LB ではなく checkout-api の Pod から返っています"
    assert record.message("운 좋게도").text == "운 좋게도 트래픽이 적은 시간이었어요 🍀"
    assert record.message("原因").text.endswith("pool size &lt; 10 では捌けません")
    # Threads across the UTC day boundary, a broadcast reply, an edit, a file.
    watch = record.message("Monitoring for 30 minutes")
    assert watch.thread_ts is None and record.message("👍 I'll stay on").thread_ts == watch.ts
    assert record.message("pool size &lt; 10 は CI").thread_ts == ts_of("原因")
    edited = record.message("Is it deploy 4521?")
    assert edited.text == "Is it deploy 4521? It went out at 22:41 UTC" and edited.edited_ts == "1773356650.000000"
    assert record.message("Error rate since deploy").files == ["checkout-5xx-grafana.png"]

    # Reactions mark entries exactly as live ones: one mark per person and emoji, other emoji ignored.
    assert record.marks[ts_of("Declaring an incident")] == ["detected"]
    assert record.marks[ts_of("原因")] == ["identified"]
    assert sorted(record.marks[ts_of("Rollback done")]) == ["mitigated", "went_well"]
    assert record.marks[ts_of("エラー率 0.1%")] == ["resolved"]
    assert record.marks[ts_of("Customer support")] == ["key_event"]
    assert record.marks[ts_of("pool size &lt; 10 は CI")] == ["action_item"]
    assert record.marks[ts_of("The pool-size change")] == ["went_wrong"]
    assert record.marks[ts_of("운 좋게도")] == ["lucky"]
    assert len(record.reactions) == 13 and {r[1] for r in record.reactions}.isdisjoint({"eyes", "tada", "heart", "+1"})
    assert [r[2] for r in record.reactions if r[0] == ts_of("Declaring an incident")] == [ANA, KEN]

    m = record.milestones
    assert (m["started"].at, m["started"].source) == (incident.declared_at, "declaration")
    assert (m["detected"].at, m["detected"].source) == (at_of("Declaring an incident"), "reaction")
    assert m["identified"].at == at_of("原因") and m["mitigated"].at == at_of("Rollback done")
    assert (m["resolved"].at, m["resolved"].source) == (at_of("エラー率 0.1%"), "reaction")
    # Resolved by the reaction, at the marked message's time, as the live bot does.
    [resolution] = [e for e in record.entries if e.kind == "status"]
    assert resolution.data == {"from": "investigating", "to": "resolved"} and resolution.occurred_at == m["resolved"].at

    # Names from users.json: display name first, else real name; a deleted user keeps theirs; Slackbot,
    # whom exports leave out of users.json, is still Slackbot (its /remind message is an entry, as live).
    assert record.names == {
        ANA: "Ana Silva", KEN: "山田 健", MIN: "김민준", LEE: "Lee (support)", SAM: "Sam Okafor", "USLACKBOT": "Slackbot",
    }
    assert record.message("Reminder: update the status page.").author_id == "USLACKBOT"

    document = result.stdout
    assert document.startswith("# Postmortem: Checkout API returns 502 for \\~30% of requests\n")
    assert "Imported afterwards from a Slack export" in document
    assert "| **Declared** | 2026-03-13 07:48 JST by Ana Silva |" in document
    assert "| **Participants** | Ana Silva, 山田 健, Lee (support), 김민준, Slackbot |" in document
    assert "| **TTD** (detect) | 2m |" in document and "| started 2026-03-13 07:48 JST | detected 2026-03-13 07:50 JST |" in document
    assert "| **TTM** (mitigate) | 31m |" in document and "| **TTR** (resolve) | 1h 43m |" in document
    assert "| Resolved | 2026-03-13 09:31 JST | marked with a reaction |" in document
    assert "**2026-03-13 08:10:00** · 山田 健 · `cause identified` 原因: 4521 で DB 接続プールが 50 → 5" in document
    assert "**2026-03-13 09:33:00** · Ana Silva · Thanks all. Postmortem draft to follow; @山田 健 can you own" in document
    assert "@\u200bhere" in document and "<!here>" not in document
    assert "checkout-5xx-grafana.png" in document and "포스트모템 리뷰는 월요일에 해요" in document


@pytest.mark.parametrize("top", ["", "slack-export-acme-Mar-20-2026/"], ids=["at-root", "under-a-top-folder"])
def test_a_zip_of_the_export_reads_the_same_with_or_without_a_top_folder(database, tmp_path, top):
    archive = zipped(FIXTURE, tmp_path / "Acme Slack export Mar 20 2026.zip", top)
    result = run_import(database, archive, "--channel", f"#{CHANNEL}", "--severity", "P2")
    record = Record(database, imported(result))
    assert result.stderr.strip().endswith(": 28 messages, 13 marks")
    assert record.incident.imported_from == f"slack-export:{archive}#{CHANNEL}"
    assert [(e.ts, e.author_id, e.text) for e in record.messages] == [
        (m["ts"], m["user"], m["text"])
        for m in fixture_messages() if m.get("subtype") in (None, "thread_broadcast") and not m.get("bot_id")
    ]
    assert (record.milestones["resolved"].at, record.milestones["resolved"].source) == (at_of("エラー率 0.1%"), "reaction")
    assert "| **TTR** (resolve) | 1h 43m |" in result.stdout and "山田 健" in result.stdout


class _UnflaggedName(zipfile.ZipInfo):
    """A member named in UTF-8 without the UTF-8 flag, as some zip tools write them."""

    def _encodeFilenameFlags(self):
        return self.filename.encode("utf-8"), self.flag_bits & ~0x800


def test_a_japanese_channel_name_is_found_in_a_zip_whatever_tool_made_it(database, tmp_path):
    export = copy_of_fixture(tmp_path)
    name = "inc-20261122-決済apiが502を返す"
    channels = json.loads((export / "channels.json").read_text(encoding="utf-8"))
    channels.append({"id": "C07JPINC01", "name": name, "created": 1795312800, "creator": KEN, "is_archived": False,
                     "is_general": False, "members": [KEN, MIN], "topic": {"value": "", "creator": "", "last_set": 0},
                     "purpose": {"value": "", "creator": "", "last_set": 0}})
    (export / "channels.json").write_text(json.dumps(channels, ensure_ascii=False), encoding="utf-8")
    (export / name).mkdir()
    (export / name / "2026-11-22.json").write_text(json.dumps([
        {"type": "message", "subtype": "channel_join", "user": KEN, "text": f"<@{KEN}> has joined the channel", "ts": "1795312800.000100"},
        {"type": "message", "user": KEN, "text": "決済 API が 502 を返しています", "ts": "1795312860.000200",
         "reactions": [{"name": "rotating_light", "users": [MIN], "count": 1}]},
        {"type": "message", "user": MIN, "text": "롤백했습니다", "ts": "1795313400.000300",
         "reactions": [{"name": "white_check_mark", "users": [KEN], "count": 1}]},
    ], ensure_ascii=False), encoding="utf-8")
    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w") as out:
        for path in sorted(export.rglob("*.json")):
            out.writestr(_UnflaggedName(path.relative_to(export).as_posix(), date_time=(2026, 11, 23, 0, 0, 0)), path.read_bytes())
    assert any(not info.flag_bits & 0x800 and info.filename.endswith("2026-11-22.json") for info in zipfile.ZipFile(archive).infolist())
    result = run_import(database, archive, "--channel", name)
    record = Record(database, int(result.stderr.strip().split("incident #", 1)[1].split(":", 1)[0]))
    assert result.returncode == 0 and result.stderr.strip().endswith(": 2 messages, 2 marks"), result.stderr
    assert record.incident.title == name and record.incident.channel_name == name
    assert [e.text for e in record.messages] == ["決済 API が 502 を返しています", "롤백했습니다"]
    assert "| **TTR** (resolve) | 10m |" in result.stdout


def test_a_guest_from_another_workspace_is_named_from_the_profile_their_message_carries(database, tmp_path):
    def by_guest(messages: list[dict]) -> list[dict]:
        for message in messages:
            if message.get("text", "").startswith("Rolling back"):
                message["user"] = "U07VENDOR01"
                message["user_profile"].update(real_name="Jo Partner", display_name="Jo (Vendor)", team="T07VENDOR")
        return messages

    export = _edited_fixture(tmp_path, f"{CHANNEL}/2026-03-12.json", by_guest)
    record = Record(database, imported(run_import(database, export, "--channel", CHANNEL)))
    assert record.message("Rolling back").author_id == "U07VENDOR01" and record.names["U07VENDOR01"] == "Jo (Vendor)"


def test_importing_the_same_channel_again_is_refused_naming_the_incident(database, tmp_path):
    incident_id = imported(run_import(database, FIXTURE, "--channel", CHANNEL))
    before = counts(database)
    again = run_import(database, FIXTURE, "--channel", CHANNEL_ID, "--title", "Second try")
    assert one_line(again) == (
        f"import: #{CHANNEL} ({CHANNEL_ID}) was already imported as incident #{incident_id}; nothing imported"
    )
    # The same export zipped is the same channel.
    from_zip = run_import(database, zipped(FIXTURE, tmp_path / "export.zip"), "--channel", CHANNEL)
    assert f"incident #{incident_id}" in one_line(from_zip)
    assert counts(database) == before
    # Another channel of the same export is another incident.
    other = run_import(database, FIXTURE, "--channel", "sec-review", "--title", "Key rotation")
    assert other.returncode == 0, other.stderr
    with Database(database).session() as session:
        private = session.scalars(select(Incident).where(Incident.channel_name == "sec-review")).one()
        assert private.is_private and private.title == "Key rotation" and private.severity == "P3"


def test_a_range_without_a_resolve_mark_is_resolved_at_its_last_message_and_says_so(database):
    result = run_import(
        database, FIXTURE, "--channel", CHANNEL,
        "--from", "2026-03-13 07:45", "--to", "2026-03-13 08:30", "--started", "2026-03-13 07:41",
        "--title", "決済 API が 502 を返す",
    )
    record = Record(database, imported(result))
    assert "nobody marked it resolved: resolved at its last message" in result.stderr
    assert record.incident.title == "決済 API が 502 を返す" and record.incident.status == "resolved"
    assert record.messages[0].text.startswith("Declaring an incident") and record.messages[-1].text == "Support macro sent to affected customers"
    m = record.milestones
    assert (m["started"].at, m["started"].source) == (utc("2026-03-12T22:41:00"), "command")
    assert (m["mitigated"].source, m["resolved"].source) == ("reaction", "import")
    assert m["resolved"].at == at_of("Support macro sent")
    assert "| **TTD** (detect) | 9m |" in result.stdout and "| started 2026-03-13 07:41 JST |" in result.stdout
    assert "| Resolved | 2026-03-13 08:25 JST | last message a person wrote (nobody marked it) |" in result.stdout


def test_the_postmortem_can_be_written_to_a_file_in_japanese(database, tmp_path):
    out = tmp_path / "ポストモーテム.md"
    result = run_import(database, FIXTURE, "--channel", CHANNEL, "--language", "ja", "--out", out)
    imported(result)
    assert result.stdout == ""
    document = out.read_text(encoding="utf-8")
    assert document.startswith("# ポストモーテム: ") and "Slack のエクスポートから後でインポートした記録です" in document
    assert "2026-03-13 09:31 JST" in document and "김민준" in document and "저도요" in document


# --- bad input: one line, exit code 2, nothing written ----------------------------------------------


def _edited_fixture(tmp_path: Path, file: str, change) -> Path:
    export = copy_of_fixture(tmp_path)
    path = export / file
    data = json.loads(path.read_text(encoding="utf-8"))
    path.write_text(json.dumps(change(data), ensure_ascii=False), encoding="utf-8")
    return export


def _by_stranger(messages: list[dict]) -> list[dict]:
    for message in messages:
        if message.get("text", "").startswith("Rolling back"):
            message["user"] = "U09NOBODY1"
            message.pop("user_profile")
    return messages


def _marked_by_stranger(messages: list[dict]) -> list[dict]:
    for message in messages:
        for reaction in message.get("reactions", []):
            if reaction["name"] == "mag":
                reaction["users"].append("U09NOBODY2")
    return messages


def _truncated(tmp_path: Path) -> Path:
    export = copy_of_fixture(tmp_path)
    day = export / CHANNEL / "2026-03-13.json"
    day.write_bytes(day.read_bytes()[:400])
    return export


def _not_an_export_zip(tmp_path: Path) -> Path:
    with zipfile.ZipFile(tmp_path / "photos.zip", "w") as archive:
        archive.writestr("holiday/readme.txt", "not a Slack export")
    return tmp_path / "photos.zip"


def _plain_file(tmp_path: Path) -> Path:
    (tmp_path / "export.json").write_text("[]")
    return tmp_path / "export.json"


def _without_users(tmp_path: Path) -> Path:
    export = copy_of_fixture(tmp_path)
    (export / "users.json").unlink()
    return export


BAD_INPUT = {
    "missing path": (lambda t: [t / "nope", "--channel", CHANNEL], "no such file or folder"),
    "a plain file": (lambda t: [_plain_file(t), "--channel", CHANNEL], "neither a folder nor a .zip"),
    "a zip that is not an export": (lambda t: [_not_an_export_zip(t), "--channel", CHANNEL], "a zip without channels.json"),
    "a folder that is not an export": (lambda t: [t, "--channel", CHANNEL], "channels.json is missing"),
    "malformed JSON": (lambda t: [_truncated(t), "--channel", CHANNEL], f"{CHANNEL}/2026-03-13.json: not valid JSON"),
    "channels.json not a list": (
        lambda t: [_edited_fixture(t, "channels.json", lambda d: {"channels": d}), "--channel", CHANNEL],
        "channels.json: expected a JSON array of channels",
    ),
    "a message without ts": (
        lambda t: [_edited_fixture(t, f"{CHANNEL}/2026-03-12.json", lambda d: d[:2] + [{"type": "message", "text": "hi"}] + d[2:]),
                   "--channel", CHANNEL],
        f"{CHANNEL}/2026-03-12.json: message 3 is not a message with a valid ts",
    ),
    "no users.json": (lambda t: [_without_users(t), "--channel", CHANNEL], "users.json is missing"),
    "unknown channel": (lambda t: [FIXTURE, "--channel", "inc-2026-03-12-checkout"], f"its channels: {CHANNEL}, general"),
    "unknown author": (
        lambda t: [_edited_fixture(t, f"{CHANNEL}/2026-03-12.json", _by_stranger), "--channel", CHANNEL],
        f"{CHANNEL}/2026-03-12.json: message {ts_of('Rolling back')} names user U09NOBODY1, who is not in users.json",
    ),
    "unknown reactor": (
        lambda t: [_edited_fixture(t, f"{CHANNEL}/2026-03-12.json", _marked_by_stranger), "--channel", CHANNEL],
        "names user U09NOBODY2, who is not in users.json",
    ),
    "invalid severity": (lambda t: [FIXTURE, "--channel", CHANNEL, "--severity", "P9"], "argument --severity: must be one of P1, P2, P3, P4"),
    "no channel given": (lambda t: [FIXTURE], "the following arguments are required: --channel"),
    "unreadable --from": (lambda t: [FIXTURE, "--channel", CHANNEL, "--from", "yesterday"], "--from: `yesterday` is not a time I can read"),
    "--from after --to": (
        lambda t: [FIXTURE, "--channel", CHANNEL, "--from", "2026-03-13 09:00", "--to", "2026-03-13 08:00"],
        "--from 2026-03-13 09:00 JST is after --to 2026-03-13 08:00 JST",
    ),
    "a range with no messages": (
        lambda t: [FIXTURE, "--channel", CHANNEL, "--from", "2026-03-14 00:00", "--to", "2026-03-15 00:00"],
        f"#{CHANNEL} has no messages from 2026-03-14 00:00 JST to 2026-03-15 00:00 JST in the export",
    ),
    "--started after the first message": (
        lambda t: [FIXTURE, "--channel", CHANNEL, "--started", "2026-03-13 08:00"],
        f"--started must be at or before the first message of #{CHANNEL} (2026-03-13 07:48 JST)",
    ),
    "an empty title": (lambda t: [FIXTURE, "--channel", CHANNEL, "--title", "  "], "--title is empty"),
    "--out in a missing folder": (lambda t: [FIXTURE, "--channel", CHANNEL, "--out", t / "no" / "pm.md"], "cannot write there"),
    "--post-channel without --post": (lambda t: [FIXTURE, "--channel", CHANNEL, "--post-channel", "C0POSTMRTM"], "--post-channel goes with --post"),
    "--post without a bot token": (lambda t: [FIXTURE, "--channel", CHANNEL, "--post"], "configuration error: SLACK_BOT_TOKEN is not set"),
}


@pytest.mark.parametrize("case", list(BAD_INPUT))
def test_bad_input_gets_one_line_and_changes_nothing(database, tmp_path, case):
    arguments, expected = BAD_INPUT[case]
    result = run_import(database, *arguments(tmp_path))
    line = one_line(result)
    assert expected in line, line
    assert result.stdout == ""
    assert set(counts(database).values()) == {0}


def test_bad_input_after_an_import_changes_nothing_already_recorded(database, tmp_path):
    imported(run_import(database, FIXTURE, "--channel", CHANNEL))
    before = counts(database)
    export = _edited_fixture(tmp_path, "sec-review/2026-02-20.json", lambda d: d + [{"type": "message", "user": "U09NOBODY1",
                                                                                  "text": "hi", "ts": "1771582000.000100"}])
    assert "U09NOBODY1" in one_line(run_import(database, export, "--channel", "sec-review"))
    assert counts(database) == before


def test_a_database_that_cannot_be_reached_is_one_line_without_its_password():
    result = run_import("postgresql://postgres:s3cret@127.0.0.1:1/incidents", FIXTURE, "--channel", CHANNEL)
    line = one_line(result)
    assert line.startswith("import: cannot use the database postgresql+psycopg://postgres:***@127.0.0.1:1/incidents: ")
    assert "s3cret" not in result.stderr


# --- posting to Slack -----------------------------------------------------------------------------


@pytest.fixture
def slack():
    with SlackStandIn(token=BOT_TOKEN) as standin:
        for user, name, real in ((ANA, "ana.silva", "Ana Silva"), (KEN, "ken.yamada", "Ken Yamada"), (MIN, "minjun.kim", "Kim Minjun")):
            standin.add_user(user, name, real)
        yield standin


def _slack_env(slack: SlackStandIn) -> dict[str, str]:
    return {"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_API_URL": slack.base_url}


def test_post_shares_the_postmortem_in_the_incident_channel_as_the_live_bot_does(database, slack):
    slack.create_channel(CHANNEL, members=[ANA, KEN, MIN], channel_id=CHANNEL_ID)
    result = run_import(database, FIXTURE, "--channel", CHANNEL, "--post", **_slack_env(slack))
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""  # posted, not printed
    assert result.stderr.strip().splitlines()[-1] == f"posted the postmortem of incident #1 in {CHANNEL_ID}"
    assert [c.args["channel"] for c in slack.calls("conversations.join")] == [CHANNEL_ID]
    assert BOT_USER_ID in slack.channel(CHANNEL_ID)["members"]
    [summary] = [m for m in slack.messages(CHANNEL_ID) if "TTR" in m.get("text", "")]
    assert "Checkout API returns 502" in summary["text"]
    [upload] = [f for f in slack.files() if f["name"].startswith("postmortem-")]  # beside it, the customer notice
    assert upload["name"] == f"postmortem-{CHANNEL}.md" and upload["channels"] == [CHANNEL_ID]
    document = upload["content"].decode("utf-8")
    assert "| **TTR** (resolve) | 1h 43m |" in document and "山田 健" in document and "운 좋게도" in document
    # Every name came from the export: Slack was not asked.
    assert slack.calls("users.info") == []
    with Database(database).session() as session:
        incident = session.scalars(select(Incident)).one()
        assert incident.postmortem_posted_at is not None


def test_post_channel_posts_elsewhere_and_a_refusal_is_one_line_with_the_import_kept(database, slack):
    elsewhere = slack.create_channel("postmortems", members=[ANA])
    result = run_import(
        database, FIXTURE, "--channel", CHANNEL, "--language", "ja", "--post", "--post-channel", elsewhere, **_slack_env(slack)
    )
    assert result.returncode == 0, result.stderr
    [upload] = [f for f in slack.files() if f["name"].startswith("postmortem-")]
    assert upload["channels"] == [elsewhere] and upload["content"].decode("utf-8").startswith("# ポストモーテム")

    # A private channel the bot is not in: Slack refuses, the import stays, the operator is told how to get the draft.
    hidden = slack.create_channel("sec-review", members=[ANA], is_private=True)
    refused = run_import(database, FIXTURE, "--channel", "sec-review", "--post", "--post-channel", hidden, **_slack_env(slack))
    imported_line, line = refused.stderr.strip().splitlines()
    assert imported_line.startswith("imported #sec-review as incident #2: 2 messages, 0 marks")
    assert refused.returncode == 1 and "is imported, but Slack refused its postmortem" in line and "channel_not_found" in line
    assert "python app.py export" in line
    with Database(database).session() as session:
        assert session.scalar(select(func.count()).select_from(Incident)) == 2


# --- the same conversation, live -----------------------------------------------------------------


def test_an_import_records_what_the_live_bot_records_from_the_same_events(bot):
    """Replay the export's channel to the running bot as Slack's events, import the export, and compare."""
    live = bot.declare("The checkout export, live", severity="P2")
    # Replayed today, the export's March messages are long before this declaration: say when impact
    # began, as the team would, so that their marks keep the milestone order as they did in March.
    first = times.show(from_slack_ts(fixture_messages()[0]["ts"]), timezone.utc).rsplit(" ", 1)[0]
    assert "Recorded" in bot.command(DECLARER, f"started {first} confirm", channel=live.channel_id)["text"]
    for message in fixture_messages():
        bot.event({**message, "channel": live.channel_id, "event_ts": message["ts"], "channel_type": "channel"})
    for message in fixture_messages():
        for reaction in message.get("reactions", []):
            for user in reaction["users"]:
                bot.standin.add_member(live.channel_id, user)  # whoever reacted was in the channel
                bot.event({
                    "type": "reaction_added", "user": user, "reaction": reaction["name"], "event_ts": message["ts"],
                    "item": {"type": "message", "channel": live.channel_id, "ts": message["ts"]},
                })
    incident_id = imported(run_import(bot.env["DATABASE_URL"], FIXTURE, "--channel", CHANNEL))
    replayed, from_export = Record(bot.env["DATABASE_URL"], live.id), Record(bot.env["DATABASE_URL"], incident_id)

    def shape(entries):
        return [(e.kind, e.ts, e.thread_ts, e.author_id, e.text, e.files, e.edited_ts, e.occurred_at) for e in entries]

    assert len(from_export.messages) == 28
    assert shape(from_export.messages) == shape(replayed.messages)
    assert from_export.marks == replayed.marks
    assert from_export.reactions == replayed.reactions
    for name in ("detected", "identified", "mitigated", "resolved"):
        assert (from_export.milestones[name].at, from_export.milestones[name].source) == (
            replayed.milestones[name].at, replayed.milestones[name].source,
        ), name
    assert replayed.incident.status == from_export.incident.status == "resolved"


# --- exports from before 2019, and bots after the end ------------------------------------------------------

OLD_CHANNEL = "inc-2017-06-09-search-500"


def test_an_old_export_keeps_single_file_uploads_and_file_comments_and_ends_at_the_last_person(database):
    """A 2017 channel: an upload under the singular `file` key, a `file_comment` (its author only in
    `comment.user`), nobody marking it resolved, and a bot's weekly report three days later."""
    result = run_import(database, FIXTURE, "--channel", OLD_CHANNEL)
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip().splitlines()[-1].endswith(
        ": 4 messages, 2 marks (nobody marked it resolved: resolved at its last message from a person)"
    )
    incident_id = int(result.stderr.strip().splitlines()[-1].split("incident #", 1)[1].split(":", 1)[0])
    record = Record(database, incident_id)
    upload = record.message("<@U05KENYMD2|ken.yamada> uploaded a file")
    assert (upload.author_id, upload.files) == (KEN, ["search-5xx.png"])
    comment = record.message("인덱스 재구축 중입니다")
    assert (comment.author_id, comment.text, comment.files, comment.ts) == (MIN, "인덱스 재구축 중입니다", ["search-5xx.png"], "1496971200.000014")
    assert not any("uptime" in e.text for e in record.entries)
    m = record.milestones
    # Resolved when the last person spoke (Index rebuilt, 10:47 JST), not at the bot's report on the 12th.
    assert (m["resolved"].at, m["resolved"].source) == (from_slack_ts("1496972820.000017"), "import")
    assert m["mitigated"].at == from_slack_ts("1496972820.000017") and m["detected"].at == from_slack_ts("1496970060.000005")
    document = result.stdout
    assert "| **TTR** (resolve) | 47m |" in document
    assert "| Resolved | 2017-06-09 10:47 JST | last message a person wrote (nobody marked it) |" in document
    assert "· 김민준 · 인덱스 재구축 중입니다 · files: search-5xx.png" in document
    assert "index shards red since 09:58 · files: search-5xx.png" in document
    assert record.names[MIN] == "김민준"
