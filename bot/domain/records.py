"""The incident as the domain sees it: plain values, read from storage and handed back to it.

Nothing here knows SQLAlchemy or Slack. Storage (storage/incident_store.py) builds these
from its rows and writes back what a rule changed; the rules (bot/domain/*.py) read and
change them inside one unit of work that the gate (bot/gate.py) opens.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import date, datetime

# Every milestone an incident can record, in the order a reader meets them.
MILESTONES = ("started", "detected", "identified", "mitigated", "resolved")

# Marks a responder can put on a message with an emoji reaction.
MARKS = (
    "key_event",
    "detected",
    "identified",  # cause identified
    "mitigated",
    "resolved",
    "action_item",
    "went_well",
    "went_wrong",
    "lucky",
)

SEVERITIES = ("P1", "P2", "P3", "P4")
# What the team writes into the postmortem during the incident (bot/domain/write_up.py).
WRITE_UP_FIELDS = ("summary", "impact", "trigger", "cause")
# The fishbone's categories of contributing factors.
FACTOR_CATEGORIES = ("people", "process", "technology", "environment")
IMPACT_FIGURES = ("users", "requests", "revenue", "slo")
MAX_WHYS = 5
STATUSES = ("investigating", "identified", "monitoring", "resolved")
ACTION_CLASSES = ("prevent", "process", "mitigate")


@dataclass
class IncidentRecord:
    """One incident's own fields. A rule may change them; storage saves what changed."""

    id: int
    title: str
    severity: str
    status: str
    declared_by: str
    declared_at: datetime
    is_private: bool = False
    team_id: str | None = None
    origin_channel_id: str | None = None
    channel_id: str | None = None
    channel_name: str | None = None
    header_ts: str | None = None
    commander_id: str | None = None
    description: str | None = None
    impact: str | None = None
    setup_error: str | None = None
    reopened_at: datetime | None = None
    postmortem_posted_at: datetime | None = None
    deadline_at: datetime | None = None
    deadline_what: str | None = None
    nudge_snoozed_until: datetime | None = None
    last_nudged_at: datetime | None = None
    postmortem_done_at: datetime | None = None
    imported_from: str | None = None
    postmortem_canvas_id: str | None = None
    declared_via: str | None = None  # the Via it was declared by ("alert": nobody in particular declared it)
    links: list[dict] | None = None  # what the header links: [{"kind", "name", "url"}] (an alert's source, panel…)
    # The postmortem as the team writes it during the incident (bot/domain/write_up.py). A rule assigns
    # new lists and dicts, never changes these in place: storage saves what compares different.
    summary: str | None = None
    trigger: str | None = None
    cause: str | None = None
    impact_figures: dict | None = None  # {"users": 12000, "requests": 150000, "revenue": 5000, "slo": 98.7, "currency": "$"}
    whys: list[str] | None = None  # the 5 whys, in order
    factors: dict[str, list[str]] | None = None  # fishbone: category -> factors, in FACTOR_CATEGORIES
    near_miss: bool = False  # no user impact: a short-form postmortem, no customer notice, counted apart
    # Planned work (bot/domain/planned_work.py): a release or a maintenance run from a runbook.
    kind: str = "incident"  # incident | release | maintenance
    planned_start: datetime | None = None
    planned_end: datetime | None = None
    go_no_go_at: datetime | None = None
    rollback_by: datetime | None = None
    work_status: str | None = None  # planned | in_progress | completed | rolled_back | stopped
    work_started_at: datetime | None = None
    work_ended_at: datetime | None = None
    escalated_at: datetime | None = None  # when the planned work became an incident
    runbook_name: str | None = None  # the RUNBOOK_DIR file the steps came from; None when pasted
    runbook_ts: str | None = None  # the runbook message, updated in place
    # The escalation chain running (a failed step, an unanswered prompt) until someone acknowledges it.
    escalation_since: datetime | None = None
    escalation_what: str | None = None  # "step:<n>" | "prompt"
    escalation_level: int = 0  # how many people of ESCALATION_CHAIN were already called

    @property
    def is_planned_work(self) -> bool:
        return self.kind != "incident"

    @property
    def is_open(self) -> bool:
        return self.status != "resolved"

    @classmethod
    def field_names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))


@dataclass
class StepRecord:
    """One runbook step: what to do, who, how long it should take, and what happened."""

    id: int
    incident_id: int
    number: int  # 1-based, in runbook order
    text: str
    owner: str | None = None  # a user id (U…), or a name as written (`@dba`) when Slack gave no id
    expected: float | None = None  # minutes
    timeout: float | None = None  # minutes
    state: str = "pending"  # pending | running | done | failed | skipped
    started_at: datetime | None = None
    started_by: str | None = None
    ended_at: datetime | None = None
    ended_by: str | None = None
    reason: str | None = None  # why it was skipped
    overrun_nudged_at: datetime | None = None


@dataclass(frozen=True)
class Claim:
    """Somebody said when a milestone happened."""

    milestone: str
    at: datetime  # the moment the milestone names
    recorded_at: datetime  # when somebody said so; later claims win
    source: str  # "command" | "reaction" | "status" | "import" | "alert" (bot/domain/alerts.py)


@dataclass(frozen=True)
class MilestoneTime:
    name: str  # one of MILESTONES
    at: datetime | None
    # Where the time came from: "command", "reaction", "status", "import", "alert", "declaration"
    # (started/detected default to the declaration when nobody set them), or None when the
    # milestone is not recorded.
    source: str | None = None

    @property
    def defaulted(self) -> bool:
        return self.source == "declaration"


@dataclass(frozen=True)
class SlackMessage:
    """The parts of a person's Slack message the timeline keeps."""

    channel_id: str
    ts: str
    user_id: str | None
    text: str
    thread_ts: str | None = None
    files: tuple[str, ...] = ()
    edited_ts: str | None = None


@dataclass
class MessageEntry:
    """A message already on the timeline (or its tombstone, once deleted)."""

    id: int
    incident_id: int
    channel_id: str
    ts: str
    author_id: str | None
    text: str
    files: list[str] | None
    edited_ts: str | None
    deleted: bool


@dataclass
class MarkRecord:
    """One person's reaction on one message with one emoji: the newest add or remove stands."""

    incident_id: int
    channel_id: str
    message_ts: str
    emoji: str
    user_id: str
    mark: str
    active: bool
    event_ts: str
    marked_at: datetime


@dataclass
class ActionItemRecord:
    id: int
    incident_id: int
    text: str
    owner_id: str | None
    due_date: date | None
    klass: str | None
    status: str = "open"
    created_by: str | None = None
    created_at: datetime | None = None
    done_at: datetime | None = None
    done_by: str | None = None
    last_reminded_at: datetime | None = None


@dataclass(frozen=True)
class NewEntry:
    """A bot-recorded timeline entry (a command, a button, a status change…)."""

    kind: str
    actor: str | None
    text: str
    at: datetime
    data: dict | None = field(default=None, hash=False)


@dataclass(frozen=True)
class Alert:
    """One alert of a notification from Alertmanager, Grafana or PagerDuty, as plain values.

    Its words (name, summary, labels) are the alert's own: stored and shown as they came, never
    translated. `fingerprint` and `starts_at` name one firing of one alert: a repeat or a retry of
    the same notification carries the same pair, a new firing of the same alert a new `starts_at`.
    """

    fingerprint: str
    status: str  # "firing" | "resolved"
    name: str  # the `alertname` label (PagerDuty: the incident's title)
    starts_at: datetime
    ends_at: datetime | None = None  # when it resolved; None while it fires
    summary: str = ""  # annotations.summary
    description: str = ""  # annotations.description
    labels: tuple[tuple[str, str], ...] = ()
    links: tuple[tuple[str, str], ...] = ()  # (kind, url): source | panel | dashboard | silence | pagerduty
    values: str = ""  # Grafana's values that fired it, e.g. "B=44.24, C=1"
    acknowledged_by: str | None = None  # PagerDuty: who acknowledged it
    acknowledged_at: datetime | None = None
    event_id: str | None = None  # PagerDuty's event id (one per acknowledgement)

    @property
    def firing(self) -> bool:
        return self.status == "firing"

    def label(self, name: str) -> str | None:
        return next((value for key, value in self.labels if key == name), None)

    def link(self, kind: str) -> str | None:
        return next((url for key, url in self.links if key == kind), None)

    def as_data(self) -> dict:
        """A JSON-able dict, to keep with what was done with the alert (and to declare from it later)."""
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        for name in ("starts_at", "ends_at", "acknowledged_at"):
            data[name] = data[name].isoformat() if data[name] else None
        data["labels"] = [list(pair) for pair in self.labels]
        data["links"] = [list(pair) for pair in self.links]
        return data

    @classmethod
    def from_data(cls, data: dict) -> "Alert":
        values = {f.name: data.get(f.name) for f in fields(cls) if f.name in data}
        for name in ("starts_at", "ends_at", "acknowledged_at"):
            values[name] = datetime.fromisoformat(values[name]) if values.get(name) else None
        values["labels"] = tuple(tuple(pair) for pair in data.get("labels") or ())
        values["links"] = tuple(tuple(pair) for pair in data.get("links") or ())
        return cls(**values)
