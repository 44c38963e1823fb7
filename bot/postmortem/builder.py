"""Gather an incident's record into PostmortemData: quoted from storage, never guessed."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from bot.domain import times
from bot.domain.durations import KeyDurations
from bot.domain.lifecycle import milestones as milestones_of
from bot.domain.records import FACTOR_CATEGORIES, MARKS, MILESTONES, IncidentRecord, MilestoneTime
from bot.postmortem.data import ActionItemRow, Decision, Evidence, Person, PostmortemData, StatusReport, TimelineItem
from bot.stats.insights import METRICS, Targets
from storage.incident_store import SqlIncidentStore, json_value

# Bot-recorded kinds that belong in the key timeline (messages get there by being marked).
KEY_KINDS = (
    "declared", "status", "update", "severity", "lead", "role", "note", "milestone", "action", "reopened",
    "deadline", "decision", "action_done", "postmortem_done", "alert", "alert_resolved", "alert_ack",
)


def build(
    store: SqlIncidentStore, incident: IncidentRecord, tz: ZoneInfo, now: datetime, targets: Targets | None = None
) -> PostmortemData:
    """Read inside one reading unit of work (storage.incident_store.reading). `targets`: the TARGET_* settings."""
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
    milestone_marks = store.milestone_mark_rows(incident.id)
    evidence_ts = {row.message_ts for row in milestone_marks}
    messages_by_ts: dict[str, TimelineItem] = {}  # only the messages a milestone mark may point to
    for at, kind, author_id, text, data, files, ts, thread_ts in store.timeline_rows(incident.id):
        on_message = marks.get(ts) if ts else None
        item_marks = tuple(m for m in MARKS if m in on_message) if on_message else ()
        author = person(author_id)
        attached = tuple(json_value(files) or ()) if files else ()
        if kind == "message":
            # Most entries: made positionally, with no data of their own to read.
            item = TimelineItem(at, kind, author, text, item_marks, thread_ts is not None, attached, ts=ts)
            if author_id:
                speakers[author_id] = None
        else:
            said = {"text": text, **_entry_data(kind, text, json_value(data))}
            item = TimelineItem(at=at, kind=kind, author=author, marks=item_marks, in_thread=thread_ts is not None, files=attached, **said)
        items.append(item)
        if ts in evidence_ts:
            messages_by_ts[ts] = item
        if item_marks or kind in KEY_KINDS:
            key_timeline.append(item)
        for mark in item_marks:
            marked[mark].append(item)
    milestones = milestones_of(store, incident)
    durations = KeyDurations.from_milestones(
        milestones["started"].at, milestones["detected"].at, milestones["mitigated"].at, milestones["resolved"].at
    )
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
        durations=durations,
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
        summary=incident.summary,
        trigger=incident.trigger,
        cause=incident.cause,
        impact_figures=dict(incident.impact_figures or {}),
        whys=tuple(incident.whys or ()),
        factors={category: tuple((incident.factors or {}).get(category) or ()) for category in FACTOR_CATEGORIES},
        near_miss=incident.near_miss,
        targets=_targets(incident.severity, durations, targets or Targets()),
        status_reports=_status_reports(key_timeline),
        decisions=_decisions(store, incident, key_timeline, milestones["resolved"].at or now, person),
        evidence=_evidence(store, incident, milestones, milestone_marks, messages_by_ts, person),
        channel_id=incident.channel_id,
    )


def _targets(severity: str, durations: KeyDurations, targets: Targets) -> dict[str, tuple]:
    """metric -> (the severity's target or None, met: True / False / None when either is unknown)."""
    result = {}
    for metric in METRICS:
        target, took = targets.get(severity, metric), getattr(durations, metric)
        met = None if target is None or took is None or took.total_seconds() < 0 else took <= target
        result[metric] = (target, met)
    return result


def _status_reports(key_timeline: list[TimelineItem]) -> tuple[StatusReport, ...]:
    """Every update and status change, with where things stood when it was said."""
    status = "investigating"
    reports = []
    for item in key_timeline:
        if item.kind in ("status", "reopened"):
            status = item.after or status
            reports.append(StatusReport(item.at, status, item.text, item.author, before=item.before))
        elif item.kind == "update":
            reports.append(StatusReport(item.at, status, item.text, item.author))
    return tuple(reports)


def _decisions(store, incident: IncidentRecord, key_timeline: list[TimelineItem], until: datetime, person) -> tuple[Decision, ...]:
    """Every go/no-go deadline in order: set (or continued), then decided, cleared, moved, or left unanswered."""
    decisions: list[Decision] = []
    current: dict | None = None

    def close(outcome: str, item: TimelineItem | None = None) -> None:
        nonlocal current
        if current is not None:
            decided = item is not None and outcome != "unanswered"
            decisions.append(
                Decision(**current, outcome=outcome, decided_by=item.author if decided else None, decided_at=item.at if decided else None)
            )
        current = None

    for item in key_timeline:
        if item.kind == "deadline":
            if item.cleared:
                close("cleared", item)
            else:
                # A deadline that had already passed when the next was set went unanswered; one still ahead moved.
                close("unanswered" if current and current["deadline"] <= item.at else "moved", item)
                current = {"what": item.text, "set_at": item.at, "set_by": item.author, "deadline": item.moment}
        elif item.kind == "decision" and item.outcome:
            what = current["what"] if current else item.text
            if current is None:
                current = {"what": item.text, "set_at": item.at, "set_by": None, "deadline": item.at}
            close(item.outcome, item)
            if item.outcome == "continue" and item.moment is not None:
                current = {"what": what, "set_at": item.at, "set_by": item.author, "deadline": item.moment}
    if current is not None:
        close("unanswered" if current["deadline"] <= until else "pending")
    keys = {_prompt_key(incident.id, d.deadline): d for d in decisions if d.deadline}
    prompted = store.claimed_reminders(list(keys))
    return tuple(
        Decision(**{**d.__dict__, "prompted": _prompt_key(incident.id, d.deadline) in prompted}) for d in decisions
    )


def _prompt_key(incident_id: int, deadline: datetime) -> str:
    # The claim the reminder clock makes when it sends the prompt at the deadline (bot/reminders/rhythm.py).
    return f"deadline:{incident_id}@{deadline.isoformat()}"


def _evidence(store, incident: IncidentRecord, milestones: dict[str, MilestoneTime], marks, messages_by_ts, person) -> tuple[Evidence, ...]:
    """What set each recorded milestone: the marked message (and who marked it), the command, the status change…"""
    claims = store.claim_rows(incident.id)
    found = []
    for name in MILESTONES:
        milestone = milestones[name]
        if milestone.at is None:
            continue
        source = milestone.source
        if source == "reaction":
            mark = next(
                (m for m in reversed(marks) if m.mark == name and times.from_slack_ts(m.message_ts) == milestone.at and m.message_ts in messages_by_ts),
                None,
            )
            if mark is not None:
                found.append(
                    Evidence(
                        name, milestone.at, source, person(mark.user_id), times.from_slack_ts(mark.event_ts),
                        message=messages_by_ts[mark.message_ts], emoji=mark.emoji,
                    )
                )
                continue
        if source == "declaration":
            found.append(Evidence(name, milestone.at, source, person(incident.declared_by), incident.declared_at))
            continue
        claim = next((c for c in reversed(claims) if c.milestone == name and c.source == source and c.at == milestone.at), None)
        status = {"identified": "identified", "mitigated": "monitoring", "resolved": "resolved"}.get(name) if source == "status" else None
        found.append(
            Evidence(
                name, milestone.at, source or "", person(claim.set_by) if claim else None, claim.recorded_at if claim else None,
                status=status,
            )
        )
    return tuple(found)


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
    if kind == "factor":
        return {"category": data.get("category")}
    return {}


def _moment(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _unique(values: list[str | None]) -> list[str]:
    seen: list[str] = []
    for value in values:
        if value and value not in seen:
            seen.append(value)
    return seen
