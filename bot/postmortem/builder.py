"""Gather an incident's record into PostmortemData: quoted from storage, never guessed."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from bot.domain.durations import KeyDurations
from bot.domain.lifecycle import milestones as milestones_of
from bot.domain.records import MARKS, IncidentRecord
from bot.postmortem.data import ActionItemRow, Person, PostmortemData, TimelineItem
from storage.incident_store import SqlIncidentStore

# Bot-recorded kinds that belong in the key timeline (messages get there by being marked).
KEY_KINDS = (
    "declared", "status", "update", "severity", "lead", "role", "note", "milestone", "action", "reopened",
    "deadline", "decision", "action_done", "postmortem_done", "alert", "alert_resolved", "alert_ack",
)


def build(store: SqlIncidentStore, incident: IncidentRecord, tz: ZoneInfo, now: datetime) -> PostmortemData:
    """Read inside one reading unit of work (storage.incident_store.reading)."""
    marks = store.marks_by_message(incident.id)
    roles = store.roles(incident.id)
    names = store.known_names(store.people_in(incident))
    people: dict[str, Person] = {}

    def person(user_id: str | None) -> Person | None:
        # One Person per user, shared by all their entries (equal values either way).
        if not user_id:
            return None
        found = people.get(user_id)
        if found is None:
            found = people[user_id] = Person(user_id, names.get(user_id, user_id))
        return found

    # One pass over the entries, as rows streamed from the database (see incidents.timeline_rows):
    # an incident of 100,000 entries is never held twice, nor as mapped objects.
    items: list[TimelineItem] = []
    key_timeline: list[TimelineItem] = []
    marked: dict[str, list[TimelineItem]] = {mark: [] for mark in MARKS}
    speakers: dict[str, None] = {}  # in order of first message
    for at, kind, author_id, text, data, files, ts, thread_ts in store.timeline_rows(incident.id):
        on_message = marks.get(ts) if ts else None
        said = {"text": text} if kind == "message" else {"text": text, **_entry_data(kind, text, data)}
        item = TimelineItem(
            at=at,
            kind=kind,
            author=person(author_id),
            marks=tuple(m for m in MARKS if m in on_message) if on_message else (),
            in_thread=thread_ts is not None,
            files=tuple(files) if files else (),
            **said,
        )
        items.append(item)
        if kind in KEY_KINDS or item.marks:
            key_timeline.append(item)
        for mark in item.marks:
            marked[mark].append(item)
        if kind == "message" and author_id:
            speakers[author_id] = None
    milestones = milestones_of(store, incident)
    participant_ids = _unique([incident.declared_by, incident.commander_id, *(user for _, user in roles), *speakers])
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
        roles=tuple((role, person(user)) for role, user in roles),
        participants=tuple(person(u) for u in participant_ids),
        description=incident.description,
        impact=incident.impact,
        key_timeline=tuple(key_timeline),
        marked={mark: tuple(found) for mark, found in marked.items()},
        action_items=tuple(
            ActionItemRow(a.text, person(a.owner_id), a.due_date, a.klass, a.status) for a in store.action_items(incident.id)
        ),
        full_log=tuple(items),
        generated_at=now,
        people=names,
        tags=tuple(store.tags(incident.id)),
        imported_from=incident.imported_from,
    )


def _entry_data(kind: str, text: str, data: dict | None) -> dict:
    """What a bot-recorded entry says, as data the template puts in words; `text` stays as written."""
    data = data or {}
    if kind in ("status", "reopened", "severity"):
        return {"before": data.get("from"), "after": data.get("to")}
    if kind == "lead":
        return {"person": data.get("user")}
    if kind == "role":
        return {"person": data.get("user"), "role": data.get("role")}
    if kind == "milestone":
        # The entry's text is the milestone's name, not a person's words.
        return {"milestone": data.get("milestone") or text or None, "moment": _moment(data.get("at")), "text": ""}
    if kind == "deadline":
        return {"moment": _moment(data.get("at")), "cleared": not data.get("at")}
    if kind == "decision":
        # What was to be decided, and the next deadline when the work continues.
        return {"outcome": data.get("decision"), "moment": _moment(data.get("new_deadline")), "text": data.get("what") or text}
    if kind == "declared":
        return {"severity": data.get("severity")}
    return {}


def _moment(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _unique(values: list[str | None]) -> list[str]:
    seen: list[str] = []
    for value in values:
        if value and value not in seen:
            seen.append(value)
    return seen
