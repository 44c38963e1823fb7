"""A past incident from a Slack export, recorded as the live bot would have recorded it.

The channel's history is replayed through the same domain functions the live
events call: each message through the rule for `message` events
(`slack_objects.SPOKEN`, `message_from_slack`, `timeline.record_message`), each
reaction, person by person, through `timeline.apply_reaction`. So the timeline,
the marks, the milestones and TTD/TTM/TTR come out exactly as if the bot had
been in the channel. An export does not say when a reaction was added; it is
taken as the marked message's own time (as the live path does for a reaction
event without an event_ts).

Everything happens in the caller's session, so a refusal anywhere leaves the
database as it was.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from bot.domain import incidents, timeline, times
from bot.postmortem import builder as postmortem_builder
from bot.domain.marks import base_emoji
from bot.transfer.slack_export import ExportChannel, ExportedMessage, SlackExport
from bot.slack.objects import SPOKEN, author, is_user_id, message_from_slack, user_name
from storage.models import Incident, MilestoneClaim

# The source of a resolved milestone nobody marked: the import closes the incident at the last message a person wrote.
IMPORT_SOURCE = "import"
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
    session: Session,
    history: ChannelHistory,
    *,
    title: str,
    severity: str,
    reactions: dict[str, str],
    now: datetime,
    tz: ZoneInfo,
    started_at: datetime | None = None,
) -> Imported:
    """Record the incident: declared at the first message, then every message and reaction in order."""
    channel = history.channel
    existing = incidents.incident_for_channel(session, channel.id)
    if existing is not None:
        how = "was already imported as" if existing.imported_from else "is already"
        raise ImportRefused(f"#{channel.name} ({channel.id}) {how} incident #{existing.id}; nothing imported")
    check_started(history, started_at, tz)
    try:
        change = incidents.declare(
            session,
            title=title,
            severity=severity,
            declared_by=history.declared_by,
            now=history.declared_at,
            started_at=started_at,
            is_private=channel.is_private,
        )
    except incidents.IncidentError as error:
        raise ImportRefused(str(error)) from None
    incident = incidents.get_incident(session, change.incident_id)
    incident.channel_id = channel.id
    incident.channel_name = channel.name
    incident.imported_from = history.source
    session.flush()

    recorded = marked = 0
    for message in history.messages:
        raw = message.raw
        spoken = _recorded(raw, channel.id)
        if spoken is not None and timeline.record_message(session, spoken, now):
            recorded += 1
        at = times.from_slack_ts(raw["ts"])
        for emoji, user in _marking_reactions(raw, reactions):
            timeline.apply_reaction(
                session,
                channel_id=channel.id,
                message_ts=raw["ts"],
                reaction=emoji,
                user_id=user,
                added=True,
                event_ts=raw["ts"],
                reactions=reactions,
                now=at,
            )
            marked += 1

    closed = incident.status != "resolved"
    if closed:
        _close_at(session, incident, history.last_at)
    known = postmortem_builder.known_names(session, set(history.names))
    # Names Slack told the live bot are newer than an export's: only fill in the missing ones.
    postmortem_builder.remember_names(session, {u: n for u, n in history.names.items() if u not in known}, now)
    return Imported(incident.id, recorded, marked, closed)


def check_started(history: ChannelHistory, started_at: datetime | None, tz: ZoneInfo) -> None:
    """Impact cannot start after the incident was declared, which is the first imported message."""
    if started_at is not None and started_at > history.declared_at:
        raise ImportRefused(
            f"--started must be at or before the first message of #{history.channel.name} "
            f"({times.show(history.declared_at, tz)})"
        )


def _close_at(session: Session, incident: Incident, at: datetime) -> None:
    """A past incident is over: resolved at the last message a person wrote, and the postmortem says nobody marked it."""
    previous, incident.status = incident.status, "resolved"
    session.add(
        MilestoneClaim(
            incident_id=incident.id, milestone="resolved", at=at, source=IMPORT_SOURCE, set_by=None, recorded_at=at
        )
    )
    incidents.record(session, incident, "status", None, "", at, {"from": previous, "to": "resolved"})


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
