"""The incident lifecycle: declare, change status and severity, set roles and milestones.

Each operation works inside the caller's session (one unit of work), records
what it did on the timeline, and returns a Change describing what people
should be shown. Nothing here talks to Slack: the bot turns a Change into
Slack messages after the request is acknowledged.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Row, bindparam, select
from sqlalchemy.orm import Session

from bot.domain import times
from bot.domain.command_parser import STATUSES
from bot.domain.marks import MILESTONE_MARKS
from bot.domain.milestones import Claim, effective_milestones, order_problem
from bot.postmortem.data import MilestoneTime
from storage.models import ActionItem, Incident, MilestoneClaim, ReactionMark, RoleAssignment, TimelineEntry

# Status changes that also tell us a milestone, when nobody set it explicitly.
STATUS_MILESTONES = {"identified": "identified", "monitoring": "mitigated", "resolved": "resolved"}


class IncidentError(Exception):
    """A request that cannot be carried out; the message is for the person who asked."""


@dataclass
class Change:
    """What an operation did, and what people should now be shown in Slack."""

    incident_id: int
    kind: str  # the timeline kind recorded, e.g. "status", "update", "declared"
    actor: str | None
    summary: str  # a short plain-text account, e.g. "P2 → P1"
    text: str = ""  # the person's own words, if any
    post_in_channel: bool = True
    announce: bool = False
    refresh_header: bool = True
    set_up_channel: bool = False
    post_postmortem: bool = False
    invite: tuple[str, ...] = ()
    extra: list["Change"] = field(default_factory=list)  # follow-on changes (e.g. resolution)

    def all(self) -> list["Change"]:
        return [self, *(c for extra in self.extra for c in extra.all())]


# --- finding incidents -------------------------------------------------------


def incident_for_channel(session: Session, channel_id: str, *, for_update: bool = False) -> Incident | None:
    query = select(Incident).where(Incident.channel_id == channel_id)
    if for_update:
        # Two changes to one incident at once (two instances, two people) apply one after the other.
        query = query.with_for_update()
    return session.scalars(query).one_or_none()


# Built once: looked up for every message event (bot/ingest/incident_channels.py).
_INCIDENT_ID_BY_CHANNEL = select(Incident.id).where(Incident.channel_id == bindparam("channel"))


def incident_id_for_channel(connection: Connection, channel_id: str) -> int | None:
    """The id of the incident whose channel this is, read without loading the incident."""
    return connection.execute(_INCIDENT_ID_BY_CHANNEL, {"channel": channel_id}).scalar()


def get_incident(session: Session, incident_id: int) -> Incident | None:
    return session.get(Incident, incident_id)


def open_incidents(session: Session) -> list[Incident]:
    query = select(Incident).where(Incident.status != "resolved").order_by(Incident.declared_at)
    return list(session.scalars(query))


def find_incident(session: Session, ref: str) -> Incident | None:
    """By id (`42`, `#42`), channel id, or channel name (`inc-…`, `#inc-…`)."""
    ref = ref.strip().lstrip("#")
    if ref.isdigit():
        return session.get(Incident, int(ref))
    query = select(Incident).where((Incident.channel_id == ref) | (Incident.channel_name == ref))
    return session.scalars(query).first()


# --- the timeline of bot-recorded entries ---------------------------------------


def record(
    session: Session,
    incident: Incident,
    kind: str,
    actor: str | None,
    text: str,
    now: datetime,
    data: dict | None = None,
) -> TimelineEntry:
    entry = TimelineEntry(
        incident_id=incident.id,
        kind=kind,
        author_id=actor,
        text=text,
        data=data,
        occurred_at=now,
        recorded_at=now,
    )
    session.add(entry)
    return entry


# --- declaring -----------------------------------------------------------------


def declare(
    session: Session,
    *,
    title: str,
    severity: str,
    declared_by: str,
    now: datetime,
    team_id: str | None = None,
    origin_channel_id: str | None = None,
    description: str | None = None,
    impact: str | None = None,
    started_at: datetime | None = None,
    is_private: bool = False,
) -> Change:
    """Store the incident and its first entry; Slack setup happens afterwards."""
    title = " ".join(title.split())
    if not title:
        raise IncidentError("An incident needs a title, e.g. `/incident start P2 Checkout API returns 502`.")
    incident = Incident(
        title=title,
        severity=severity,
        status="investigating",
        declared_by=declared_by,
        declared_at=now,
        team_id=team_id,
        origin_channel_id=origin_channel_id,
        description=(description or "").strip() or None,
        impact=(impact or "").strip() or None,
        is_private=is_private,
    )
    session.add(incident)
    session.flush()  # the id names the incident in replies and exports
    record(session, incident, "declared", declared_by, title, now, {"severity": severity})
    if started_at is not None:
        if started_at > now + times.FUTURE_TOLERANCE:
            raise IncidentError("The impact start time is in the future.")
        _claim(session, incident, "started", started_at, "command", declared_by, now)
        record(session, incident, "milestone", declared_by, "started", now, _milestone_data("started", started_at))
    return Change(
        incident_id=incident.id,
        kind="declared",
        actor=declared_by,
        summary=f"{severity} {title}",
        post_in_channel=False,
        announce=True,
        refresh_header=False,
        set_up_channel=True,
    )


def retry_setup(session: Session, incident_ref: str | None, user: str) -> Change:
    """Finish the Slack side of a declaration that failed: the incident itself was kept."""
    if incident_ref is None:
        incident = session.scalars(
            select(Incident)
            .where(Incident.declared_by == user, Incident.setup_error.is_not(None))
            .order_by(Incident.declared_at.desc())
        ).first()
        if incident is None:
            raise IncidentError("None of your incidents is waiting for its channel. Give a number: `/incident retry 42`.")
    else:
        incident = session.get(Incident, int(incident_ref))
        if incident is None:
            raise IncidentError(f"There is no incident #{incident_ref}.")
    if incident.setup_error is None and incident.header_ts is not None:
        raise IncidentError(f"Incident #{incident.id} is already set up in <#{incident.channel_id}>.")
    if user not in (incident.declared_by, incident.commander_id):
        raise IncidentError(f"Only whoever declared incident #{incident.id} can retry its setup.")
    return Change(incident.id, "retry", user, "setting up again", post_in_channel=False, refresh_header=False, set_up_channel=True)


# --- status, severity, people -------------------------------------------------------


def change_status(session: Session, incident: Incident, status: str, message: str, actor: str, now: datetime) -> Change:
    if status not in STATUSES:
        raise IncidentError(f"Status must be one of {', '.join(STATUSES)}.")
    if status == incident.status and not message:
        raise IncidentError(f"The incident is already {status}. Add a message to post an update instead.")
    previous = incident.status
    reopening = previous == "resolved" and status != "resolved"
    if reopening:
        incident.reopened_at = now
    incident.status = status
    record(session, incident, "status", actor, message, now, {"from": previous, "to": status})
    change = Change(
        incident.id, "status", actor, f"{previous} → {status}", text=message, announce=True
    )
    if status in STATUS_MILESTONES and status != previous:
        _claim(session, incident, STATUS_MILESTONES[status], now, "status", actor, now)
    if status == "resolved" and previous != "resolved":
        change.post_postmortem = True
        change.summary = f"{previous} → resolved"
    if reopening:
        change.summary = f"reopened ({status})"
    return change


def post_update(session: Session, incident: Incident, text: str, actor: str, now: datetime) -> Change:
    record(session, incident, "update", actor, text, now)
    return Change(incident.id, "update", actor, "status update", text=text, announce=True, refresh_header=False)


def change_severity(session: Session, incident: Incident, severity: str, actor: str, now: datetime) -> Change:
    if severity == incident.severity:
        raise IncidentError(f"The incident is already {severity}.")
    previous, incident.severity = incident.severity, severity
    record(session, incident, "severity", actor, "", now, {"from": previous, "to": severity})
    return Change(incident.id, "severity", actor, f"{previous} → {severity}", announce=True)


def set_lead(session: Session, incident: Incident, user_id: str, actor: str, now: datetime) -> Change:
    if incident.commander_id == user_id:
        raise IncidentError(f"<@{user_id}> already leads this incident.")
    incident.commander_id = user_id
    record(session, incident, "lead", actor, "", now, {"user": user_id})
    return Change(incident.id, "lead", actor, f"<@{user_id}> is incident commander", invite=(user_id,))


def set_role(session: Session, incident: Incident, role: str, user_id: str, actor: str, now: datetime) -> Change:
    assignment = session.scalars(
        select(RoleAssignment).where(RoleAssignment.incident_id == incident.id, RoleAssignment.role == role)
    ).one_or_none()
    if assignment is None:
        session.add(RoleAssignment(incident_id=incident.id, role=role, user_id=user_id))
    elif assignment.user_id == user_id:
        raise IncidentError(f"<@{user_id}> already has the {role} role.")
    else:
        assignment.user_id = user_id
    record(session, incident, "role", actor, "", now, {"role": role, "user": user_id})
    return Change(incident.id, "role", actor, f"{role}: <@{user_id}>", invite=(user_id,))


def add_note(session: Session, incident: Incident, text: str, actor: str, now: datetime) -> Change:
    record(session, incident, "note", actor, text, now)
    return Change(incident.id, "note", actor, "note", text=text, refresh_header=False)


# --- milestones -------------------------------------------------------------------


def milestones(session: Session, incident: Incident) -> dict[str, MilestoneTime]:
    return effective_milestones(incident.declared_at, claims_of(session, incident), incident.reopened_at)


def claims_of(session: Session, incident: Incident) -> list[Claim]:
    stored = session.scalars(select(MilestoneClaim).where(MilestoneClaim.incident_id == incident.id))
    claims = [Claim(c.milestone, c.at, c.recorded_at, c.source) for c in stored]
    marks = session.scalars(
        select(ReactionMark).where(
            ReactionMark.incident_id == incident.id,
            ReactionMark.active.is_(True),
            ReactionMark.mark.in_(MILESTONE_MARKS),
        )
    )
    claims += [reaction_claim(m.mark, m.message_ts, m.event_ts) for m in marks]
    return claims


def reaction_claim(mark: str, message_ts: str, event_ts: str) -> Claim:
    """A milestone mark: the marked message's time, claimed when the reaction was added."""
    return Claim(mark, times.from_slack_ts(message_ts), times.from_slack_ts(event_ts), "reaction")


def set_milestone(
    session: Session,
    incident: Incident,
    milestone: str,
    time_text: str | None,
    actor: str,
    now: datetime,
    tz: ZoneInfo,
) -> Change:
    try:
        at = now if time_text is None else times.parse_user_time(time_text, tz, now)
        times.check_not_future(at, tz, now)
    except times.TimeInputError as error:
        raise IncidentError(str(error)) from None
    problem = order_problem(milestone, at, milestones(session, incident))
    if problem is not None:
        hint = ""
        current = milestones(session, incident)[problem.other]
        if current.defaulted:
            hint = f" ({problem.other} defaults to the declaration time; set it first with `/incident {problem.other} <time>`)"
        raise IncidentError(
            f"{milestone} {times.show(at, tz)} would be {problem.relation} {problem.other} "
            f"({times.show(problem.other_at, tz)}){hint}."
        )
    _claim(session, incident, milestone, at, "command", actor, now)
    record(session, incident, "milestone", actor, milestone, now, _milestone_data(milestone, at))
    change = Change(incident.id, "milestone", actor, f"{milestone}: {times.show(at, tz)}")
    resolution = sync_resolution(session, incident, actor, now)
    if resolution is not None:
        change.extra.append(resolution)
    return change


def sync_resolution(session: Session, incident: Incident, actor: str | None, now: datetime) -> Change | None:
    """Resolve or reopen the incident when its resolved milestone appears or goes away."""
    session.flush()
    resolved = milestones(session, incident)["resolved"]
    if resolved.at is not None and incident.status != "resolved":
        previous, incident.status = incident.status, "resolved"
        record(session, incident, "status", actor, "", now, {"from": previous, "to": "resolved"})
        return Change(
            incident.id, "status", actor, f"{previous} → resolved", announce=True, post_postmortem=True
        )
    if resolved.at is None and incident.status == "resolved":
        current = milestones(session, incident)
        status = "monitoring" if current["mitigated"].at else "identified" if current["identified"].at else "investigating"
        incident.status = status
        incident.reopened_at = now
        record(session, incident, "reopened", actor, "", now, {"from": "resolved", "to": status})
        return Change(incident.id, "reopened", actor, f"reopened ({status})", announce=True)
    return None


def _claim(session: Session, incident: Incident, milestone: str, at: datetime, source: str, actor: str | None, now: datetime) -> None:
    session.add(
        MilestoneClaim(incident_id=incident.id, milestone=milestone, at=at, source=source, set_by=actor, recorded_at=now)
    )


def _milestone_data(milestone: str, at: datetime) -> dict:
    return {"milestone": milestone, "at": at.isoformat()}


# --- action items -------------------------------------------------------------------


def add_action(
    session: Session,
    incident: Incident,
    text: str,
    owner_id: str | None,
    due_text: str | None,
    klass: str | None,
    actor: str,
    now: datetime,
    tz: ZoneInfo,
) -> Change:
    due: date | None = None
    if due_text is not None:
        try:
            due = times.parse_due_date(due_text)
        except times.TimeInputError as error:
            raise IncidentError(str(error)) from None
        if due < now.astimezone(tz).date():
            raise IncidentError(f"The due date {due.isoformat()} is in the past.")
    item = ActionItem(
        incident_id=incident.id,
        text=text,
        owner_id=owner_id,
        due_date=due,
        klass=klass,
        status="open",
        created_by=actor,
        created_at=now,
    )
    session.add(item)
    session.flush()
    record(session, incident, "action", actor, text, now, {"item": item.id, "owner": owner_id, "due": due_text, "class": klass})
    details = ", ".join(
        part
        for part in (
            f"owner <@{owner_id}>" if owner_id else "no owner yet",
            f"due {due.isoformat()}" if due else "no due date",
            klass or "unclassed",
        )
    )
    return Change(incident.id, "action", actor, f"action item #{item.id} ({details})", text=text, refresh_header=False)


# --- reading ---------------------------------------------------------------------------


def timeline(session: Session, incident: Incident) -> list[TimelineEntry]:
    return list(session.scalars(select(TimelineEntry).where(*_shown(incident)).order_by(*_TIME_ORDER)))


# What a postmortem quotes of each entry.
_ENTRY = TimelineEntry.__table__.c
TIMELINE_ROW_COLUMNS = (
    _ENTRY.occurred_at, _ENTRY.kind, _ENTRY.author_id, _ENTRY.text, _ENTRY.data, _ENTRY.files, _ENTRY.ts,
    _ENTRY.thread_ts,
)


def timeline_rows(session: Session, incident: Incident, chunk: int = 2_000) -> Iterator[Row]:
    """The entries timeline() returns, in the same order, as read-only rows of TIMELINE_ROW_COLUMNS.

    Why: a postmortem reads every entry once. Mapped objects (identity map, change tracking)
    made a 100,000-entry incident cost over 100 MB and most of the build time; plain rows,
    fetched `chunk` at a time (a server-side cursor on PostgreSQL), cost a fraction of both.
    Iterate inside the session that ran it.
    """
    query = select(*TIMELINE_ROW_COLUMNS).where(*_shown(incident)).order_by(*_TIME_ORDER)
    return iter(session.connection().execution_options(yield_per=chunk).execute(query))


def _shown(incident: Incident) -> tuple:
    return (TimelineEntry.incident_id == incident.id, TimelineEntry.deleted.is_(False))


_TIME_ORDER = (TimelineEntry.occurred_at, TimelineEntry.id)


def roles_of(session: Session, incident: Incident) -> list[RoleAssignment]:
    query = select(RoleAssignment).where(RoleAssignment.incident_id == incident.id).order_by(RoleAssignment.role)
    return list(session.scalars(query))
