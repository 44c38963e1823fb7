"""The incident store: the domain's port (bot/domain/store.py) over SQLAlchemy, and the reads
the bot makes of incidents, all within one session that storage opens (`changing`, `reading`).

Rows become plain records (bot/domain/records.py) on the way out; `save` writes back the
fields a rule changed.
"""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from datetime import datetime

from sqlalchemy import Row, Text, and_, bindparam, cast, delete, func, literal, null, select, union_all
from sqlalchemy.orm import Session

from bot.domain.marks import MILESTONE_MARKS
from bot.domain.milestones import reaction_claim
from bot.domain.records import (
    ActionItemRecord,
    Claim,
    IncidentRecord,
    MarkRecord,
    MessageEntry,
    NewEntry,
    SlackMessage,
    StepRecord,
)
from storage.alert_store import AlertGroups
from storage.db import Database
from storage.models import (
    ActionItem,
    Incident,
    IncidentTag,
    MilestoneClaim,
    Person,
    ReactionMark,
    ReminderClaim,
    RoleAssignment,
    RunbookStep,
    TimelineEntry,
)
from storage.writes import entry_values, insert_ignoring_duplicates

_INCIDENT_FIELDS = IncidentRecord.field_names()
_WHO = f"{socket.gethostname()}:{os.getpid()}"


@contextmanager
def changing(db: Database) -> Iterator["SqlIncidentStore"]:
    """One unit of work that may change incidents: committed when the block ends cleanly."""
    with db.session() as session:
        yield SqlIncidentStore(session)


@contextmanager
def reading(db: Database, snapshot: bool = True) -> Iterator["SqlIncidentStore"]:
    """Reads only: on SQLite it takes no write lock, so it never makes message events wait.
    `snapshot=False` for a lookup: each statement sees what is committed when it runs (Database.read)."""
    with db.read_session(snapshot) as session:
        yield SqlIncidentStore(session)


# Where the Slack side put things: not the incident's record, so no request through the gate.
DELIVERY_FIELDS = (
    "channel_id", "channel_name", "header_ts", "setup_error", "postmortem_posted_at", "postmortem_canvas_id", "runbook_ts",
)


def record_delivery(db: Database, incident_id: int, **fields) -> IncidentRecord:
    """What setting up the channel or posting the postmortem found out (the channel's id, the
    header's ts, a setup failure, when the draft was posted, its canvas). Only these fields: a
    change to the incident itself goes through the gate (bot/gate.py)."""
    unknown = set(fields) - set(DELIVERY_FIELDS)
    if unknown:
        raise ValueError(f"not a delivery field: {sorted(unknown)}")
    with changing(db) as store:
        incident = store.incident(incident_id, for_update=True)
        for name, value in fields.items():
            setattr(incident, name, value)
        store.save(incident)
    return incident


def incident_record(row: Incident) -> IncidentRecord:
    return IncidentRecord(**{name: getattr(row, name) for name in _INCIDENT_FIELDS})


# Marks that count: on a person's message that is on the record (bot/domain/timeline.py says why).
_ON_A_PERSONS_MESSAGE = and_(
    TimelineEntry.channel_id == ReactionMark.channel_id,
    TimelineEntry.ts == ReactionMark.message_ts,
    TimelineEntry.kind == "message",
    TimelineEntry.deleted.is_(False),
    TimelineEntry.author_id.is_not(None),
)


def counting_milestone_marks(*where, columns: tuple = ()):
    """(incident id, mark, message ts, event ts), or `columns`, of every milestone mark that counts."""
    columns = columns or (ReactionMark.incident_id, ReactionMark.mark, ReactionMark.message_ts, ReactionMark.event_ts)
    return (
        select(*columns)
        .join(TimelineEntry, _ON_A_PERSONS_MESSAGE)
        .where(ReactionMark.active.is_(True), ReactionMark.mark.in_(MILESTONE_MARKS), *where)
    )


def _claims_and_marks(incident_id: int):
    """An incident's claims and counting milestone marks in one query (one round trip: the gate reads
    them before and after every change): (0, id, milestone, at, recorded_at, source, None, None)
    for a claim, (1, id, mark, None, None, None, message ts, event ts) for a mark."""
    claims = select(
        literal(0).label("kind"), MilestoneClaim.id, MilestoneClaim.milestone, MilestoneClaim.at, MilestoneClaim.recorded_at,
        MilestoneClaim.source, null().label("message_ts"), null().label("event_ts"),
    ).where(MilestoneClaim.incident_id == incident_id)
    marks = counting_milestone_marks(ReactionMark.incident_id == incident_id, columns=(
        literal(1), ReactionMark.id, ReactionMark.mark, null(), null(), null(), ReactionMark.message_ts, ReactionMark.event_ts,
    ))
    return union_all(claims, marks).order_by("kind", "id")


class SqlIncidentStore(AlertGroups):
    def __init__(self, session: Session):
        self.session = session
        self._rows: dict[int, Incident] = {}

    # --- incidents ------------------------------------------------------------------------

    def add_incident(self, incident: IncidentRecord) -> int:
        values = {name: getattr(incident, name) for name in _INCIDENT_FIELDS if name != "id"}
        row = Incident(**values)
        self.session.add(row)
        self.session.flush()  # the id names the incident in replies and exports
        self._rows[row.id] = row
        return row.id

    def incident(self, incident_id: int, *, for_update: bool = False) -> IncidentRecord | None:
        query = select(Incident).where(Incident.id == incident_id)
        return self._load(query, for_update)

    def incident_in(self, channel_id: str, *, for_update: bool = False) -> IncidentRecord | None:
        query = select(Incident).where(Incident.channel_id == channel_id)
        return self._load(query, for_update)

    def _load(self, query, for_update: bool) -> IncidentRecord | None:
        if for_update:
            # Two changes to one incident at once (two instances, two people) apply one after the other.
            # FOR NO KEY UPDATE (key_share): the key never changes, and a plain FOR UPDATE would also
            # block every message INSERT's foreign-key check on the incident, which deadlocked
            # against edits racing their own message on PostgreSQL.
            query = query.with_for_update(key_share=True)
        row = self.session.scalars(query).one_or_none()
        if row is None:
            return None
        self._rows[row.id] = row
        return incident_record(row)

    def save(self, incident: IncidentRecord) -> None:
        """Write back the fields a rule changed."""
        row = self._rows.get(incident.id) or self.session.get(Incident, incident.id)
        for name in _INCIDENT_FIELDS:
            value = getattr(incident, name)
            if getattr(row, name) != value:
                setattr(row, name, value)
        self.session.flush()

    def find(self, ref: str) -> IncidentRecord | None:
        """By id (`42`, `#42`), channel id, or channel name (`inc-…`, `#inc-…`)."""
        ref = ref.strip().lstrip("#")
        if ref.isdigit():
            return self.incident(int(ref))
        row = self.session.scalars(
            select(Incident).where((Incident.channel_id == ref) | (Incident.channel_name == ref)).order_by(Incident.id)
        ).first()
        return incident_record(row) if row else None

    def open_incidents(self) -> list[IncidentRecord]:
        query = select(Incident).where(Incident.status != "resolved").order_by(Incident.declared_at)
        return [incident_record(row) for row in self.session.scalars(query)]

    def latest_failed_setup(self, user_id: str) -> IncidentRecord | None:
        row = self.session.scalars(
            select(Incident)
            .where(Incident.declared_by == user_id, Incident.setup_error.is_not(None))
            .order_by(Incident.declared_at.desc())
        ).first()
        return incident_record(row) if row else None

    def add_entry(self, incident_id: int, entry: NewEntry) -> None:
        self.session.add(
            TimelineEntry(
                incident_id=incident_id,
                kind=entry.kind,
                author_id=entry.actor,
                text=entry.text,
                data=entry.data,
                occurred_at=entry.at,
                recorded_at=entry.at,
            )
        )

    # --- milestones -----------------------------------------------------------------------

    def claims(self, incident_id: int) -> list[Claim]:
        self.session.flush()
        return [
            Claim(name, at, recorded_at, source) if kind == 0 else reaction_claim(name, message_ts, event_ts)
            for kind, _id, name, at, recorded_at, source, message_ts, event_ts in self.session.execute(_claims_and_marks(incident_id))
        ]

    def claim_rows(self, incident_id: int) -> list[Row]:
        """Every stored claim with who made it: (milestone, at, source, set_by, recorded_at), oldest first."""
        query = (
            select(MilestoneClaim.milestone, MilestoneClaim.at, MilestoneClaim.source, MilestoneClaim.set_by, MilestoneClaim.recorded_at)
            .where(MilestoneClaim.incident_id == incident_id)
            .order_by(MilestoneClaim.recorded_at, MilestoneClaim.id)
        )
        return list(self.session.execute(query))

    def milestone_mark_rows(self, incident_id: int) -> list[Row]:
        """Active milestone marks with who reacted: (mark, message_ts, user_id, emoji, event_ts), oldest first."""
        query = (
            select(ReactionMark.mark, ReactionMark.message_ts, ReactionMark.user_id, ReactionMark.emoji, ReactionMark.event_ts)
            .where(ReactionMark.incident_id == incident_id, ReactionMark.active.is_(True), ReactionMark.mark.in_(MILESTONE_MARKS))
            .order_by(ReactionMark.id)
        )
        return list(self.session.execute(query))

    def add_claim(self, incident_id: int, claim: Claim, actor: str | None) -> None:
        self.session.add(
            MilestoneClaim(
                incident_id=incident_id,
                milestone=claim.milestone,
                at=claim.at,
                source=claim.source,
                set_by=actor,
                recorded_at=claim.recorded_at,
            )
        )

    # --- people and tags ------------------------------------------------------------------

    def role_holder(self, incident_id: int, role: str) -> str | None:
        return self.session.scalar(
            select(RoleAssignment.user_id).where(RoleAssignment.incident_id == incident_id, RoleAssignment.role == role)
        )

    def set_role(self, incident_id: int, role: str, user_id: str) -> None:
        assignment = self.session.scalars(
            select(RoleAssignment).where(RoleAssignment.incident_id == incident_id, RoleAssignment.role == role)
        ).one_or_none()
        if assignment is None:
            self.session.add(RoleAssignment(incident_id=incident_id, role=role, user_id=user_id))
        else:
            assignment.user_id = user_id

    def roles(self, incident_id: int) -> list[tuple[str, str]]:
        """(role, user id), by role name; the commander is not among them."""
        query = select(RoleAssignment.role, RoleAssignment.user_id).where(RoleAssignment.incident_id == incident_id)
        return [(role, user) for role, user in self.session.execute(query.order_by(RoleAssignment.role))]

    def tags(self, incident_id: int) -> list[str]:
        query = select(IncidentTag.tag).where(IncidentTag.incident_id == incident_id).order_by(IncidentTag.tag)
        return list(self.session.scalars(query))

    def add_tag(self, incident_id: int, tag: str, actor: str, at: datetime) -> bool:
        values = dict(incident_id=incident_id, tag=tag, added_by=actor, added_at=at)
        return insert_ignoring_duplicates(self.session.connection(), IncidentTag, values)

    def remove_tags(self, incident_id: int, tags: list[str]) -> list[str]:
        statement = (
            delete(IncidentTag)
            .where(IncidentTag.incident_id == incident_id, IncidentTag.tag.in_(tags))
            .returning(IncidentTag.tag)
        )
        return list(self.session.scalars(statement))

    def known_names(self, user_ids: set[str]) -> dict[str, str]:
        if not user_ids:
            return {}
        rows = self.session.scalars(select(Person).where(Person.user_id.in_(user_ids)))
        return {row.user_id: row.name for row in rows}

    def remember_names(self, names: dict[str, str], now: datetime) -> None:
        for user_id, name in names.items():
            row = self.session.get(Person, user_id)
            if row is None:
                self.session.add(Person(user_id=user_id, name=name, updated_at=now))
            else:
                row.name, row.updated_at = name, now

    def people_in(self, incident: IncidentRecord) -> set[str]:
        """Everyone the postmortem names: declarer, roles, speakers, owners."""
        authors = self.session.scalars(
            select(TimelineEntry.author_id).where(TimelineEntry.incident_id == incident.id).distinct()
        )
        owners = self.session.scalars(select(ActionItem.owner_id).where(ActionItem.incident_id == incident.id))
        user_ids = {incident.declared_by, incident.commander_id, *(user for _, user in self.roles(incident.id))}
        user_ids |= set(authors) | set(owners)
        return {u for u in user_ids if u}

    # --- action items ---------------------------------------------------------------------

    def action_item(self, item_id: int) -> ActionItemRecord | None:
        row = self.session.get(ActionItem, item_id)
        return _item_record(row) if row else None

    def add_action_item(self, item: ActionItemRecord) -> int:
        values = {k: v for k, v in asdict(item).items() if k != "id"}
        row = ActionItem(**values)
        self.session.add(row)
        self.session.flush()
        return row.id

    def save_action_item(self, item: ActionItemRecord) -> None:
        row = self.session.get(ActionItem, item.id)
        for name, value in asdict(item).items():
            if getattr(row, name) != value:
                setattr(row, name, value)

    def action_items(self, incident_id: int) -> list[ActionItemRecord]:
        query = select(ActionItem).where(ActionItem.incident_id == incident_id).order_by(ActionItem.id)
        return [_item_record(row) for row in self.session.scalars(query)]

    def open_action_items(self, owner_id: str | None = None) -> list[tuple[ActionItemRecord, IncidentRecord]]:
        """Open action items across incidents (one person's, if given), oldest due first, no due date last."""
        query = (
            select(ActionItem, Incident)
            .join(Incident, Incident.id == ActionItem.incident_id)
            .where(ActionItem.status != "done")
            .order_by(ActionItem.due_date.is_(None), ActionItem.due_date, ActionItem.id)
        )
        if owner_id is not None:
            query = query.where(ActionItem.owner_id == owner_id)
        return [(_item_record(item), incident_record(incident)) for item, incident in self.session.execute(query)]

    # --- runbook steps (planned work) -------------------------------------------------------

    def steps(self, incident_id: int) -> list[StepRecord]:
        query = select(RunbookStep).where(RunbookStep.incident_id == incident_id).order_by(RunbookStep.number)
        return [_step_record(row) for row in self.session.scalars(query)]

    def replace_steps(self, incident_id: int, plans) -> None:
        """The runbook's steps, numbered from 1, in place of any not yet started."""
        self.session.execute(delete(RunbookStep).where(RunbookStep.incident_id == incident_id))
        for number, plan in enumerate(plans, 1):
            self.session.add(
                RunbookStep(
                    incident_id=incident_id, number=number, text=plan.text, owner=plan.owner,
                    expected=plan.expected, timeout=plan.timeout, state="pending",
                )
            )
        self.session.flush()

    def save_step(self, step: StepRecord) -> None:
        row = self.session.get(RunbookStep, step.id)
        for name, value in asdict(step).items():
            if getattr(row, name) != value:
                setattr(row, name, value)
        self.session.flush()

    # --- messages and marks ---------------------------------------------------------------

    def message(self, channel_id: str, ts: str, *, for_update: bool = False) -> MessageEntry | None:
        query = select(TimelineEntry).where(TimelineEntry.channel_id == channel_id, TimelineEntry.ts == ts)
        if for_update:
            query = query.with_for_update()
        row = self.session.scalars(query).one_or_none()
        if row is None:
            return None
        return MessageEntry(
            id=row.id, incident_id=row.incident_id, channel_id=row.channel_id, ts=row.ts, author_id=row.author_id,
            text=row.text, files=row.files, edited_ts=row.edited_ts, deleted=row.deleted,
        )

    def add_message(self, incident_id: int, message: SlackMessage, now: datetime, *, deleted: bool = False) -> bool:
        values = entry_values(incident_id, message, now) | {"deleted": deleted}
        return insert_ignoring_duplicates(self.session.connection(), TimelineEntry, values)

    def save_message(self, entry: MessageEntry) -> None:
        row = self.session.get(TimelineEntry, entry.id)
        row.text, row.files, row.edited_ts, row.deleted = entry.text, entry.files, entry.edited_ts, entry.deleted

    def mark(self, channel_id: str, message_ts: str, emoji: str, user_id: str) -> MarkRecord | None:
        row = self._mark_row(channel_id, message_ts, emoji, user_id)
        if row is None:
            return None
        return MarkRecord(
            incident_id=row.incident_id, channel_id=row.channel_id, message_ts=row.message_ts, emoji=row.emoji,
            user_id=row.user_id, mark=row.mark, active=row.active, event_ts=row.event_ts, marked_at=row.marked_at,
        )

    def add_mark(self, mark: MarkRecord) -> bool:
        return insert_ignoring_duplicates(self.session.connection(), ReactionMark, asdict(mark))

    def save_mark(self, mark: MarkRecord) -> None:
        row = self._mark_row(mark.channel_id, mark.message_ts, mark.emoji, mark.user_id)
        row.active, row.event_ts, row.marked_at = mark.active, mark.event_ts, mark.marked_at

    def _mark_row(self, channel_id: str, message_ts: str, emoji: str, user_id: str) -> ReactionMark | None:
        return self.session.scalars(
            select(ReactionMark).where(
                ReactionMark.channel_id == channel_id,
                ReactionMark.message_ts == message_ts,
                ReactionMark.emoji == emoji,
                ReactionMark.user_id == user_id,
            )
        ).one_or_none()

    def marks_by_message(self, incident_id: int) -> dict[str, list[str]]:
        """message ts -> active marks on it (several people marking the same thing count once)."""
        rows = self.session.execute(
            select(ReactionMark.message_ts, ReactionMark.mark)
            .where(ReactionMark.incident_id == incident_id, ReactionMark.active.is_(True))
            .order_by(ReactionMark.id)  # in the order they were marked, on every backend
        )
        result: dict[str, list[str]] = {}
        for ts, mark in rows:
            if mark not in result.setdefault(ts, []):
                result[ts].append(mark)
        return result

    # --- the timeline ---------------------------------------------------------------------

    def timeline(self, incident_id: int) -> list[TimelineEntry]:
        query = select(TimelineEntry).where(*_shown(incident_id)).order_by(*_TIME_ORDER)
        return list(self.session.scalars(query))

    def timeline_rows(self, incident_id: int, chunk: int = 2_000) -> Iterator[Row]:
        """The entries timeline() returns, in the same order, as read-only rows of TIMELINE_ROW_COLUMNS
        (`data` and `files` as JSON text: json_value decodes them).

        Why: a postmortem reads every entry once. Mapped objects (identity map, change tracking)
        made a 100,000-entry incident cost over 100 MB and most of the build time; plain rows,
        fetched `chunk` at a time (a server-side cursor on PostgreSQL), cost a fraction of both.
        Iterate inside the unit of work that ran it.
        """
        query = select(*TIMELINE_ROW_COLUMNS).where(*_shown(incident_id)).order_by(*_TIME_ORDER)
        return iter(self.session.connection().execution_options(yield_per=chunk).execute(query))

    def last_entry(self, incident_id: int, kinds: tuple[str, ...]) -> TimelineEntry | None:
        """The newest entry of these kinds (the last stakeholder update, for the catch-up)."""
        query = (
            select(TimelineEntry)
            .where(TimelineEntry.incident_id == incident_id, TimelineEntry.kind.in_(kinds), TimelineEntry.deleted.is_(False))
            .order_by(TimelineEntry.occurred_at.desc(), TimelineEntry.id.desc())
        )
        return self.session.scalars(query.limit(1)).first()

    def recent_marked_messages(self, incident_id: int, limit: int) -> list[tuple[TimelineEntry, list[str]]]:
        """The newest `limit` messages marked with a reaction, newest last, each with its marks."""
        query = (
            select(TimelineEntry, ReactionMark.mark)
            .join(ReactionMark, _ON_A_PERSONS_MESSAGE)
            .where(TimelineEntry.incident_id == incident_id, ReactionMark.active.is_(True))
            .order_by(TimelineEntry.occurred_at.desc(), TimelineEntry.id.desc(), ReactionMark.id)
            .limit(limit * 10)
        )
        found: dict[int, tuple[TimelineEntry, list[str]]] = {}
        for entry, mark in self.session.execute(query):
            if entry.id not in found:
                if len(found) == limit:
                    break
                found[entry.id] = (entry, [])
            if mark not in found[entry.id][1]:
                found[entry.id][1].append(mark)
        return list(reversed(found.values()))

    def last_update_at(self, incident_id: int, kinds: tuple[str, ...]) -> datetime | None:
        return self.session.scalar(
            select(func.max(TimelineEntry.occurred_at)).where(
                TimelineEntry.incident_id == incident_id, TimelineEntry.kind.in_(kinds)
            )
        )

    # --- reminders ------------------------------------------------------------------------

    def claim_reminder(self, key: str, now: datetime) -> bool:
        values = {"key": key, "claimed_at": now, "claimed_by": _WHO}
        return insert_ignoring_duplicates(self.session.connection(), ReminderClaim, values)

    def claimed_reminders(self, keys: list[str]) -> set[str]:
        if not keys:
            return set()
        return set(self.session.scalars(select(ReminderClaim.key).where(ReminderClaim.key.in_(keys))))

    def incidents_wanting_reminders(self) -> set[int]:
        """Open incidents, resolved ones whose review is pending, and any with an open action item."""
        ids = set(
            self.session.scalars(
                select(Incident.id).where((Incident.status != "resolved") | Incident.postmortem_done_at.is_(None))
            )
        )
        return ids | set(self.session.scalars(select(ActionItem.incident_id).where(ActionItem.status != "done")))


# What a postmortem quotes of each entry. The two JSON columns come as their JSON text (decode them
# with json_value): a message has no data and seldom files, and decoding a JSON `null` for each of
# 100,000 entries was a third of building the postmortem (BENCHMARKS.md).
_ENTRY = TimelineEntry.__table__.c
TIMELINE_ROW_COLUMNS = (
    _ENTRY.occurred_at, _ENTRY.kind, _ENTRY.author_id, _ENTRY.text, cast(_ENTRY.data, Text), cast(_ENTRY.files, Text),
    _ENTRY.ts, _ENTRY.thread_ts,
)
_TIME_ORDER = (TimelineEntry.occurred_at, TimelineEntry.id)


def json_value(text: str | None):
    """A JSON column read as text (TIMELINE_ROW_COLUMNS), decoded; None for SQL NULL and JSON null."""
    return None if text is None or text == "null" else json.loads(text)

# Built once: looked up for every message event (bot/ingest/incident_channels.py).
_INCIDENT_ID_BY_CHANNEL = select(Incident.id).where(Incident.channel_id == bindparam("channel"))


def incident_id_for_channel(db: Database, channel_id: str) -> int | None:
    """The id of the incident whose channel this is, read without loading the incident."""
    with db.read() as connection:
        return connection.execute(_INCIDENT_ID_BY_CHANNEL, {"channel": channel_id}).scalar()


def _shown(incident_id: int) -> tuple:
    return (TimelineEntry.incident_id == incident_id, TimelineEntry.deleted.is_(False))


def _step_record(row: RunbookStep) -> StepRecord:
    return StepRecord(**{name: getattr(row, name) for name in StepRecord.__dataclass_fields__})


def _item_record(row: ActionItem) -> ActionItemRecord:
    return ActionItemRecord(
        id=row.id, incident_id=row.incident_id, text=row.text, owner_id=row.owner_id, due_date=row.due_date,
        klass=row.klass, status=row.status, created_by=row.created_by, created_at=row.created_at, done_at=row.done_at,
        done_by=row.done_by, last_reminded_at=row.last_reminded_at,
    )
