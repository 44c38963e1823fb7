"""A past incident from a Slack export, recorded as the live bot would have recorded it.

The channel's history is replayed through the gate (bot/gate.py) as the live events
would be: each message through the rule for `message` events (`objects.SPOKEN`,
`message_from_slack`), each reaction, person by person, as a React request under the
same rules as a live reaction (a mark on a bot's post or out of milestone order is
refused, and counted). So the timeline,
the marks, the milestones and TTD/TTM/TTR come out exactly as if the bot had
been in the channel. An export does not say when a reaction was added; it is
taken as the marked message's own time (as the live path does for a reaction
event without an event_ts).

Everything happens in one batch (one unit of work), so a refusal of the import
itself leaves the database as it was.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.domain import times
from bot.domain.changes import IncidentError
from bot.domain.lifecycle import IMPORT_SOURCE  # noqa: F401 - the milestone source an import's closing leaves
from bot.domain.marks import base_emoji
from bot.domain.requests import CloseImported, Declare, React, RecordMessage, Request, Via
from bot.domain.timeline import WRITTEN_BY_A_BOT, WRITTEN_BY_A_PERSON
from bot.gate import Batch
from bot.slack.objects import SPOKEN, author, is_user_id, message_from_slack, user_name
from bot.transfer.slack_export import ExportChannel, ExportedMessage, SlackExport

# Slack's own user writes reminders and the like; exports do not list it in users.json.
SLACKBOT = {"USLACKBOT": "Slackbot"}


class ImportRefused(Exception):
    """The channel cannot be imported as asked; the message says why, in one line."""


@dataclass(frozen=True)
class ChannelHistory:
    """What one channel's export holds for the incident, checked and ready to record."""

    channel: ExportChannel
    messages: list[ExportedMessage]  # in time order, within the range asked for
    names: dict[str, str]  # user id -> name, for everyone the incident will name
    declared_by: str
    source: str  # Incident.imported_from

    @property
    def declared_at(self) -> datetime:
        return times.from_slack_ts(self.messages[0].raw["ts"])

    @property
    def last_at(self) -> datetime:
        """When the last person spoke: a bot's post or a join days later does not end an incident."""
        spoken = [m for m in self.messages if _recorded(m.raw, self.channel.id)]
        return times.from_slack_ts((spoken or self.messages)[-1].raw["ts"])


@dataclass(frozen=True)
class Imported:
    incident_id: int
    messages: int  # timeline entries recorded
    marks: int  # reactions that marked a message (one per person and emoji)
    closed_by_import: bool  # nobody marked it resolved: resolved at the last message a person wrote
    refused_marks: int = 0  # reactions the live bot would have refused too (on a bot's post, out of order)


def read_history(
    export: SlackExport,
    channel_ref: str,
    reactions: dict[str, str],
    since: datetime | None = None,
    until: datetime | None = None,
    tz: ZoneInfo | None = None,
) -> ChannelHistory:
    """The channel's messages in [since, until], with every person they name known by name."""
    channel = export.channel(channel_ref)
    messages = [m for m in export.messages(channel) if _within(m, since, until)]
    if not messages:
        span = _span(since, until, tz)
        raise ImportRefused(f"#{channel.name} has no messages{span} in the export")
    names: dict[str, str] = {}
    for message in messages:
        raw = message.raw
        if _spoken_by_a_person(raw) and not is_user_id(author(raw)):
            raise ImportRefused(f"{message.file}: message {raw['ts']} has a malformed user {author(raw)!r}")
        for user in _people_in(raw, channel.id, reactions):
            if user in names:
                continue
            known = export.users.get(user)
            profile = raw.get("user_profile") if raw.get("user") == user else None
            if user in SLACKBOT and known is None:
                names[user] = SLACKBOT[user]
            elif known is not None:
                names[user] = user_name(known)
            elif isinstance(profile, dict):
                # Someone from another workspace (Slack Connect): the message carries their profile.
                names[user] = user_name({"id": user, "profile": profile})
            else:
                raise ImportRefused(
                    f"{message.file}: message {raw['ts']} names user {user}, who is not in users.json "
                    "(is the export complete?)"
                )
    declared_by = _declarer(messages, export.users, names)
    if declared_by is None:
        raise ImportRefused(f"#{channel.name} has no message from a person{_span(since, until, tz)}; nothing to import")
    if declared_by not in names:
        names[declared_by] = user_name(export.users[declared_by])
    source = f"slack-export:{export.path.resolve()}#{channel.name}"
    return ChannelHistory(channel, messages, names, declared_by, source)


def import_history(
    batch: Batch,
    history: ChannelHistory,
    *,
    title: str,
    severity: str,
    reactions: dict[str, str],
    now: datetime,
    tz: ZoneInfo,
    started_at: datetime | None = None,
) -> Imported:
    """Record the incident through the gate (bot/gate.py), in the batch's one unit of work:
    declared at the first message, then every message and reaction in order, by the same rules
    as live events (a reaction the live bot would refuse is refused here too, and counted)."""
    channel = history.channel
    existing = batch.store.incident_in(channel.id)
    if existing is not None:
        how = "was already imported as" if existing.imported_from else "is already"
        raise ImportRefused(f"#{channel.name} ({channel.id}) {how} incident #{existing.id}; nothing imported")
    check_started(history, started_at, tz)
    declare = Declare(
        title=title, severity=severity, private=channel.is_private, started_at=started_at,
        channel_id=channel.id, channel_name=channel.name, imported_from=history.source,
    )
    try:
        change = batch.submit(Request(declare, actor=history.declared_by, via=Via.IMPORT, at=history.declared_at))
    except IncidentError as error:
        raise ImportRefused(str(error)) from None
    incident_id = change.incident_id

    def submit(intent, actor: str | None, at: datetime) -> bool:
        try:
            batch.submit(Request(intent, actor=actor, via=Via.IMPORT, incident_id=incident_id, at=at))
            return True
        except IncidentError:
            return False

    recorded = marked = refused = 0
    for message in history.messages:
        raw = message.raw
        spoken = _recorded(raw, channel.id)
        if spoken is not None and batch.store.message(channel.id, spoken.ts) is None:
            submit(RecordMessage(spoken), spoken.user_id, now)
            recorded += 1
        at = times.from_slack_ts(raw["ts"])
        written_by = WRITTEN_BY_A_PERSON if spoken is not None else WRITTEN_BY_A_BOT
        for emoji, user in _marking_reactions(raw, reactions):
            if submit(React(raw["ts"], emoji, True, raw["ts"], written_by), user, at):
                marked += 1
            else:
                refused += 1

    incident = batch.store.incident(incident_id)
    closed = incident.is_open
    if closed:
        submit(CloseImported(history.last_at), None, history.last_at)
    known = batch.store.known_names(set(history.names))
    # Names Slack told the live bot are newer than an export's: only fill in the missing ones.
    batch.store.remember_names({u: n for u, n in history.names.items() if u not in known}, now)
    return Imported(incident_id, recorded, marked, closed, refused)


def check_started(history: ChannelHistory, started_at: datetime | None, tz: ZoneInfo) -> None:
    """Impact cannot start after the incident was declared, which is the first imported message."""
    if started_at is not None and started_at > history.declared_at:
        raise ImportRefused(
            f"--started must be at or before the first message of #{history.channel.name} "
            f"({times.show(history.declared_at, tz)})"
        )


def _marking_reactions(raw: dict, reactions: dict[str, str]) -> list[tuple[str, str]]:
    """(emoji, user) for each person's reaction that marks the message; other emoji are ignored, as live."""
    found = []
    for reaction in raw.get("reactions") or []:
        if not isinstance(reaction, dict) or not isinstance(reaction.get("name"), str):
            continue
        if base_emoji(reaction["name"]) not in reactions:
            continue
        for user in reaction.get("users") or []:
            if is_user_id(user):
                found.append((reaction["name"], user))
    return found


def _recorded(raw: dict, channel_id: str):
    """The entry the live `message` path records for this message, or None (joins, bots…)."""
    return message_from_slack(raw, channel_id) if raw.get("subtype") in SPOKEN else None


def _spoken_by_a_person(raw: dict) -> bool:
    """What the live `message` path would try to record (before checking the user id)."""
    return raw.get("subtype") in SPOKEN and not raw.get("bot_id") and bool(author(raw))


def _people_in(raw: dict, channel_id: str, reactions: dict[str, str]) -> list[str]:
    """Whom the record will name from this message: its author if recorded, and whoever marked it."""
    people = []
    spoken = _recorded(raw, channel_id)
    if spoken is not None and spoken.user_id:
        people.append(spoken.user_id)
    people += [user for _emoji, user in _marking_reactions(raw, reactions)]
    return people


def _declarer(messages: list[ExportedMessage], users: dict[str, dict], names: dict[str, str]) -> str | None:
    """Whoever opened the channel (its first message is usually their join), else its first speaker."""
    for message in messages:
        user = message.raw.get("user")
        if message.raw.get("bot_id") or not is_user_id(user):
            continue
        if user in names or (user in users and not users[user].get("is_bot")):
            return user
    return None


def _within(message: ExportedMessage, since: datetime | None, until: datetime | None) -> bool:
    at = times.from_slack_ts(message.raw["ts"])
    return (since is None or at >= since) and (until is None or at <= until)


def _span(since: datetime | None, until: datetime | None, tz: ZoneInfo | None) -> str:
    tz = tz or ZoneInfo("UTC")
    parts = []
    if since is not None:
        parts.append(f"from {times.show(since, tz)}")
    if until is not None:
        parts.append(f"to {times.show(until, tz)}")
    return (" " + " ".join(parts)) if parts else ""
