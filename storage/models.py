"""The tables. Times are stored in UTC and always come back timezone-aware."""

from __future__ import annotations

from datetime import date, datetime, timezone

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

# Stable constraint names, so migrations can refer to them on every backend.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator):
    """Aware UTC datetimes in and out, also on SQLite, which keeps no zone."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the database; use an aware UTC time")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)

    def result_processor(self, dialect, coltype):
        # SQLite keeps the text written above ("YYYY-MM-DD HH:MM:SS.ffffff", UTC): one parse in C, in
        # place of SQLAlchemy's parse followed by process_result_value. A postmortem reads
        # one per entry, 100,000 for a long incident (BENCHMARKS.md).
        if dialect.name != "sqlite":
            return super().result_processor(dialect, coltype)
        parse, utc = datetime.fromisoformat, timezone.utc

        def process(value: str | None) -> datetime | None:
            if value is None:
                return None
            try:
                return parse(value + "+00:00")  # aware in the parse: replace(tzinfo=) took 7 times longer
            except ValueError:  # not written by process_bind_param (with an offset, or a date alone)
                parsed = parse(value)
                return parsed.replace(tzinfo=utc) if parsed.tzinfo is None else parsed.astimezone(utc)

        return process


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime()}


class Incident(Base):
    __tablename__ = "incidents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    impact: Mapped[str | None] = mapped_column(Text)
    severity: Mapped[str] = mapped_column(String(2))
    status: Mapped[str] = mapped_column(String(16), index=True)
    is_private: Mapped[bool] = mapped_column(Boolean, default=False)
    team_id: Mapped[str | None] = mapped_column(String(32))
    declared_by: Mapped[str] = mapped_column(String(32))
    declared_at: Mapped[datetime]
    # Where /incident start was typed, to answer there if the channel cannot be made.
    origin_channel_id: Mapped[str | None] = mapped_column(String(32))
    # One incident per channel: the database refuses a second one.
    channel_id: Mapped[str | None] = mapped_column(String(32), unique=True)
    channel_name: Mapped[str | None] = mapped_column(String(80))
    header_ts: Mapped[str | None] = mapped_column(String(32))
    commander_id: Mapped[str | None] = mapped_column(String(32))
    # What went wrong setting the incident up in Slack, for the declarer and operators.
    setup_error: Mapped[str | None] = mapped_column(Text)
    reopened_at: Mapped[datetime | None]
    postmortem_posted_at: Mapped[datetime | None]
    # The rhythm (bot/reminders/rhythm.py): the go/no-go deadline, a snoozed nudge, the review.
    deadline_at: Mapped[datetime | None]
    deadline_what: Mapped[str | None] = mapped_column(Text)
    nudge_snoozed_until: Mapped[datetime | None]
    last_nudged_at: Mapped[datetime | None]
    postmortem_done_at: Mapped[datetime | None]
    # Set when the incident was read from a Slack export (`python app.py import`), not run live.
    imported_from: Mapped[str | None] = mapped_column(Text)
    # The channel canvas holding the postmortem (POSTMORTEM_CANVAS=true).
    postmortem_canvas_id: Mapped[str | None] = mapped_column(String(32))
    # The way it was declared (`command`, `form`, `import`, `alert`, `button`); NULL before 0004.
    declared_via: Mapped[str | None] = mapped_column(String(16))
    # Links the header shows (an alert's source, Grafana's panel and dashboard): [{"kind", "name", "url"}].
    links: Mapped[list[dict] | None] = mapped_column(JSON)
    # The postmortem as the team writes it during the incident (0005): `/incident summary` and friends, the form.
    summary: Mapped[str | None] = mapped_column(Text)
    trigger: Mapped[str | None] = mapped_column(Text)
    cause: Mapped[str | None] = mapped_column(Text)
    impact_figures: Mapped[dict | None] = mapped_column(JSON)
    whys: Mapped[list[str] | None] = mapped_column(JSON)
    factors: Mapped[dict | None] = mapped_column(JSON)
    # No user impact (`/incident start --near-miss`): counted apart in stats.
    near_miss: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Planned work (bot/domain/planned_work.py): a release or a maintenance run from a runbook; NULL-free since 0006.
    kind: Mapped[str] = mapped_column(String(16), default="incident", server_default="incident", index=True)
    planned_start: Mapped[datetime | None]
    planned_end: Mapped[datetime | None]
    go_no_go_at: Mapped[datetime | None]
    rollback_by: Mapped[datetime | None]
    work_status: Mapped[str | None] = mapped_column(String(16))
    work_started_at: Mapped[datetime | None]
    work_ended_at: Mapped[datetime | None]
    escalated_at: Mapped[datetime | None]
    runbook_name: Mapped[str | None] = mapped_column(String(80))
    runbook_ts: Mapped[str | None] = mapped_column(String(32))
    escalation_since: Mapped[datetime | None]
    escalation_what: Mapped[str | None] = mapped_column(String(32))
    escalation_level: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    entries: Mapped[list[TimelineEntry]] = relationship(back_populates="incident", cascade="all, delete-orphan")
    roles: Mapped[list[RoleAssignment]] = relationship(cascade="all, delete-orphan")
    action_items: Mapped[list[ActionItem]] = relationship(cascade="all, delete-orphan", order_by="ActionItem.id")
    tags: Mapped[list[IncidentTag]] = relationship(cascade="all, delete-orphan", order_by="IncidentTag.tag")

    @property
    def is_open(self) -> bool:
        return self.status != "resolved"


class TimelineEntry(Base):
    """One thing said or done in the incident: a channel message or a bot-recorded action."""

    __tablename__ = "timeline_entries"
    # One entry per Slack message, whatever Slack delivers twice.
    __table_args__ = (UniqueConstraint("channel_id", "ts"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Indexed with occurred_at (ix_timeline_entries_incident_occurred, below): every query names the incident.
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    # Slack message identity; both NULL for entries the bot recorded from a command.
    channel_id: Mapped[str | None] = mapped_column(String(32))
    ts: Mapped[str | None] = mapped_column(String(32))
    thread_ts: Mapped[str | None] = mapped_column(String(32))
    author_id: Mapped[str | None] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text, default="")
    files: Mapped[list[str] | None] = mapped_column(JSON)
    # What a bot-recorded entry changed (e.g. {"from": "P2", "to": "P1"}), so a
    # postmortem can say it in its own language.
    data: Mapped[dict | None] = mapped_column(JSON)
    occurred_at: Mapped[datetime]
    # ts of the newest edit applied, so an older edit arriving late does not win.
    edited_ts: Mapped[str | None] = mapped_column(String(32))
    # Deleted messages stay as tombstones so a late copy of the message cannot bring them back.
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    recorded_at: Mapped[datetime]

    incident: Mapped[Incident] = relationship(back_populates="entries")


class ReactionMark(Base):
    """An emoji reaction that marks a message; keyed by the message so it can arrive first."""

    __tablename__ = "reaction_marks"
    __table_args__ = (UniqueConstraint("channel_id", "message_ts", "emoji", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), index=True)
    channel_id: Mapped[str] = mapped_column(String(32))
    message_ts: Mapped[str] = mapped_column(String(32))
    emoji: Mapped[str] = mapped_column(String(100))
    user_id: Mapped[str] = mapped_column(String(32))
    mark: Mapped[str] = mapped_column(String(16))
    active: Mapped[bool] = mapped_column(Boolean)
    # event_ts of the newest add/remove applied: a late, older event does not undo a newer one.
    event_ts: Mapped[str] = mapped_column(String(32))
    marked_at: Mapped[datetime]


class MilestoneClaim(Base):
    """A milestone time set by a command or implied by a status change."""

    __tablename__ = "milestone_claims"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), index=True)
    milestone: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime]
    source: Mapped[str] = mapped_column(String(16))
    set_by: Mapped[str | None] = mapped_column(String(32))
    recorded_at: Mapped[datetime]


class RoleAssignment(Base):
    __tablename__ = "incident_roles"
    __table_args__ = (UniqueConstraint("incident_id", "role"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(40))
    user_id: Mapped[str] = mapped_column(String(32))


class IncidentTag(Base):
    """A cause class (`db`, `deploy`, `network`) so insights can see the same cause coming back."""

    __tablename__ = "incident_tags"
    __table_args__ = (UniqueConstraint("incident_id", "tag"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    tag: Mapped[str] = mapped_column(String(40), index=True)
    added_by: Mapped[str | None] = mapped_column(String(32))
    added_at: Mapped[datetime]


class ActionItem(Base):
    __tablename__ = "action_items"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), index=True)
    text: Mapped[str] = mapped_column(Text)
    owner_id: Mapped[str | None] = mapped_column(String(32))
    due_date: Mapped[date | None] = mapped_column(Date)
    klass: Mapped[str | None] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="open")
    created_by: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime]
    done_at: Mapped[datetime | None]
    done_by: Mapped[str | None] = mapped_column(String(32))
    last_reminded_at: Mapped[datetime | None]


class RunbookStep(Base):
    """One step of planned work's runbook, and what happened to it (bot/domain/planned_work.py)."""

    __tablename__ = "runbook_steps"
    __table_args__ = (UniqueConstraint("incident_id", "number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    owner: Mapped[str | None] = mapped_column(String(80))
    expected: Mapped[float | None]
    timeout: Mapped[float | None]
    state: Mapped[str] = mapped_column(String(16), default="pending")
    started_at: Mapped[datetime | None]
    started_by: Mapped[str | None] = mapped_column(String(32))
    ended_at: Mapped[datetime | None]
    ended_by: Mapped[str | None] = mapped_column(String(32))
    reason: Mapped[str | None] = mapped_column(Text)
    overrun_nudged_at: Mapped[datetime | None]


class ReminderClaim(Base):
    """One row per reminder sent: the first scheduler to insert it sends, any other skips."""

    __tablename__ = "reminder_claims"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    claimed_at: Mapped[datetime]
    claimed_by: Mapped[str] = mapped_column(String(100))


class Person(Base):
    """Names Slack told us, so exports and postmortems read as names, not IDs."""

    __tablename__ = "people"

    user_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime]


class AlertGroup(Base):
    """A group of alerts as their source groups them (Alertmanager's groupKey, a PagerDuty incident).

    One row per (source, group key), whoever delivers its notifications: the row is locked while a
    notification is decided, so two instances given the same notification at once decide one after
    the other. `incident_id` is the one incident the group's alerts go to (bot/domain/alerts.py).
    """

    __tablename__ = "alert_groups"
    __table_args__ = (UniqueConstraint("source", "key_hash"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(16))
    group_key: Mapped[str] = mapped_column(Text)
    # sha256 of the group key: keys can be long, the unique index needs a bounded column.
    key_hash: Mapped[str] = mapped_column(String(64))
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id", ondelete="SET NULL"))
    created_at: Mapped[datetime]


class AlertReceipt(Base):
    """What the bot already did with one alert of a group: each is done once, whoever retries."""

    __tablename__ = "alert_receipts"
    # e.g. "firing|<digest of fingerprint and startsAt>": a repeat or a retry inserts nothing.
    __table_args__ = (UniqueConstraint("group_id", "key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("alert_groups.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(80))
    # The incident it went to; NULL for an alert only posted to the announce channel.
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incidents.id", ondelete="SET NULL"), index=True)
    data: Mapped[dict] = mapped_column(JSON)  # the alert as received (bot.domain.records.Alert.as_data)
    received_at: Mapped[datetime]


Index("ix_timeline_entries_incident_occurred", TimelineEntry.incident_id, TimelineEntry.occurred_at)
