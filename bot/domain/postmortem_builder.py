"""Gather an incident's record into PostmortemData: quoted from storage, never guessed."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.domain import incidents, times
from bot.domain.durations import KeyDurations
from bot.domain.postmortem_data import (
    MARKS,
    ActionItemRow,
    Person,
    PostmortemData,
    TimelineItem,
)
from bot.domain.timeline import marks_by_message
from storage.models import Incident, TimelineEntry
from storage.models import Person as PersonRow

# Bot-recorded kinds that belong in the key timeline (messages get there by being marked).
KEY_KINDS = (
    "declared", "status", "update", "severity", "lead", "role", "note", "milestone", "action", "reopened",
    "deadline", "decision", "action_done", "postmortem_done",
)


def build(session: Session, incident: Incident, tz: ZoneInfo, now: datetime) -> PostmortemData:
    entries = incidents.timeline(session, incident)
    marks = marks_by_message(session, incident)
    roles = incidents.roles_of(session, incident)
    names = known_names(session, people_in(session, incident))

    def person(user_id: str | None) -> Person | None:
        return Person(user_id, names.get(user_id, user_id)) if user_id else None

    items = [_item(entry, person(entry.author_id), marks.get(entry.ts or "", []), tz) for entry in entries]
    key_timeline = tuple(
        item for entry, item in zip(entries, items) if entry.kind in KEY_KINDS or item.marks
    )
    marked = {mark: tuple(item for item in items if mark in item.marks) for mark in MARKS}
    milestones = incidents.milestones(session, incident)
    speakers = [e.author_id for e in entries if e.kind == "message" and e.author_id]
    participant_ids = _unique([incident.declared_by, incident.commander_id, *(r.user_id for r in roles), *speakers])
    return PostmortemData(
        incident_id=incident.id,
        title=incident.title,
        status=incident.status,
        severity=incident.severity,
        timezone=tz.key,
        channel_name=incident.channel_name,
        declared_at=incident.declared_at,
        declared_by=person(incident.declared_by),
        milestones=milestones,
        durations=KeyDurations.from_milestones(
            milestones["started"].at, milestones["detected"].at, milestones["mitigated"].at, milestones["resolved"].at
        ),
        commander=person(incident.commander_id),
        roles=tuple((r.role, person(r.user_id)) for r in roles),
        participants=tuple(person(u) for u in participant_ids),
        description=incident.description,
        impact=incident.impact,
        key_timeline=key_timeline,
        marked=marked,
        action_items=tuple(
            ActionItemRow(a.text, person(a.owner_id), a.due_date, a.klass, a.status) for a in incident.action_items
        ),
        full_log=tuple(items),
        generated_at=now,
        people=names,
        imported_from=incident.imported_from,
    )


def people_in(session: Session, incident: Incident) -> set[str]:
    """Everyone the postmortem names: declarer, roles, speakers, owners."""
    roles = incidents.roles_of(session, incident)
    authors = session.scalars(
        select(TimelineEntry.author_id).where(TimelineEntry.incident_id == incident.id).distinct()
    )
    user_ids = {incident.declared_by, incident.commander_id, *(r.user_id for r in roles), *authors}
    user_ids |= {item.owner_id for item in incident.action_items}
    return {u for u in user_ids if u}


def known_names(session: Session, user_ids: set[str]) -> dict[str, str]:
    rows = session.scalars(select(PersonRow).where(PersonRow.user_id.in_(user_ids))) if user_ids else []
    return {row.user_id: row.name for row in rows}


def remember_names(session: Session, names: dict[str, str], now: datetime) -> None:
    for user_id, name in names.items():
        row = session.get(PersonRow, user_id)
        if row is None:
            session.add(PersonRow(user_id=user_id, name=name, updated_at=now))
        else:
            row.name, row.updated_at = name, now


def _item(entry: TimelineEntry, author: Person | None, marks: list[str], tz: ZoneInfo) -> TimelineItem:
    return TimelineItem(
        at=entry.occurred_at,
        kind=entry.kind,
        author=author,
        text=_entry_text(entry, tz),
        marks=tuple(m for m in MARKS if m in marks),
        in_thread=entry.thread_ts is not None,
        files=tuple(entry.files or ()),
    )


def _entry_text(entry: TimelineEntry, tz: ZoneInfo) -> str:
    """Bot-recorded entries read as a compact, language-neutral line; messages exactly as written."""
    data = entry.data or {}
    if entry.kind in ("status", "reopened"):
        change = f"{data.get('from')} → {data.get('to')}"
        return f"{change}: {entry.text}" if entry.text else change
    if entry.kind == "severity":
        return f"{data.get('from')} → {data.get('to')}"
    if entry.kind == "lead":
        return f"<@{data.get('user')}>"
    if entry.kind == "role":
        return f"{data.get('role')}: <@{data.get('user')}>"
    if entry.kind == "milestone":
        at = datetime.fromisoformat(data["at"]) if data.get("at") else None
        return f"{data.get('milestone')}: {times.show(at, tz)}" if at else entry.text
    if entry.kind == "deadline":
        at = datetime.fromisoformat(data["at"]) if data.get("at") else None
        return f"{times.show(at, tz)}: {entry.text}".rstrip(": ") if at else "cleared"
    if entry.kind == "decision":
        # The decision word stays as recorded (continue | rollback | stop); templates name it.
        moved = data.get("new_deadline")
        then = f" → {times.show(datetime.fromisoformat(moved), tz)}" if moved else ""
        return f"{data.get('decision')}{then}"
    if entry.kind == "declared":
        return f"{data.get('severity', '')} {entry.text}".strip()
    return entry.text


def _unique(values: list[str | None]) -> list[str]:
    seen: list[str] = []
    for value in values:
        if value and value not in seen:
            seen.append(value)
    return seen
