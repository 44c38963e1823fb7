"""Every change anyone can ask of an incident, as one plain value each.

Whatever the way in (a command, a reaction, a button, a form, a deleted message,
an import, an alert, the reminder clock), the Slack layer turns its input into a
Request: who asks (`actor`), by which way (`via`), of which incident, and what
(`intent`). The gate (bot/gate.py) applies the same rules to every Request.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum

from bot.domain.records import Alert, SlackMessage


class Via(str, Enum):
    """The way a request came in. People's ways are checked for membership; the others are the bot's own."""

    COMMAND = "command"
    REACTION = "reaction"
    BUTTON = "button"
    FORM = "form"
    MESSAGE = "message"  # a message edited or deleted in the incident channel
    IMPORT = "import"
    ALERT = "alert"
    CLOCK = "clock"

    @property
    def by_a_person(self) -> bool:
        return self in (Via.COMMAND, Via.REACTION, Via.BUTTON, Via.FORM, Via.MESSAGE)


# --- declaring ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Declare:
    title: str  # empty from a command: open the declaration form
    severity: str | None = None  # None: the default (P3)
    private: bool = False  # a private channel, never announced with its title
    description: str | None = None
    impact: str | None = None
    started_text: str | None = None  # typed impact start (the form), read in the incident time zone
    started_at: datetime | None = None  # an impact start already known (an import)
    origin_channel: str | None = None  # where it was declared, to answer there if setup fails
    team_id: str | None = None
    confirm: bool = False  # a start far back in time was confirmed
    near_miss: bool = False  # no user impact (`--near-miss`): a short-form postmortem, counted apart
    # An import declares an incident that already has its channel.
    channel_id: str | None = None
    channel_name: str | None = None
    imported_from: str | None = None


@dataclass(frozen=True)
class RetrySetup:
    incident_ref: str | None  # None: the asker's latest incident whose setup failed


# --- the lifecycle -----------------------------------------------------------------------


@dataclass(frozen=True)
class ChangeStatus:
    status: str
    message: str = ""


@dataclass(frozen=True)
class PostUpdate:
    text: str


@dataclass(frozen=True)
class ChangeSeverity:
    severity: str


@dataclass(frozen=True)
class SetLead:
    user_id: str
    only_if_unled: bool = False  # "I'll lead": refused when someone else already leads


@dataclass(frozen=True)
class SetRole:
    role: str
    user_id: str


@dataclass(frozen=True)
class AddNote:
    text: str


@dataclass(frozen=True)
class SetMilestone:
    milestone: str  # started | detected | identified | mitigated | resolved
    time_text: str | None  # None: now
    confirm: bool = False  # a time far before the declaration was confirmed


@dataclass(frozen=True)
class AddActionItem:
    text: str
    owner_id: str | None
    due_text: str | None
    klass: str | None


@dataclass(frozen=True)
class CompleteActionItem:
    item_id: int


@dataclass(frozen=True)
class PushActionItem:
    item_id: int
    expected_due: str  # the due date the button was made for: a second press pushes nothing


@dataclass(frozen=True)
class SetDeadline:
    time_text: str
    what: str = ""


@dataclass(frozen=True)
class ClearDeadline:
    pass


@dataclass(frozen=True)
class Decide:
    decision: str  # continue | rollback | stop
    deadline_iso: str  # the deadline the prompt was made for


@dataclass(frozen=True)
class SnoozeNudges:
    pass


@dataclass(frozen=True)
class Tag:
    tags: tuple[str, ...]  # normalised, at least one


@dataclass(frozen=True)
class Untag:
    tags: tuple[str, ...]  # normalised, at least one


@dataclass(frozen=True)
class MarkPostmortemDone:
    pass


@dataclass(frozen=True)
class RepostPostmortem:
    pass


# --- the postmortem, written during the incident (bot/domain/write_up.py) -----------------


@dataclass(frozen=True)
class WriteUp:
    """`/incident summary|trigger|cause <text>`: the text replaces what was written before."""

    part: str  # summary | trigger | cause
    text: str


@dataclass(frozen=True)
class SetImpact:
    """`/incident impact <text> [users=… requests=… revenue=… slo=…]`: the figures given replace theirs."""

    text: str
    figures: dict = field(default_factory=dict, hash=False, compare=False)


@dataclass(frozen=True)
class AddWhy:
    text: str


@dataclass(frozen=True)
class ClearWhys:
    pass


@dataclass(frozen=True)
class AddFactor:
    category: str  # one of FACTOR_CATEGORIES
    text: str


@dataclass(frozen=True)
class ClearFactors:
    category: str | None = None  # None: every category


@dataclass(frozen=True)
class FillPostmortem:
    """The "Fill in the postmortem" form: every field at once, as the form holds them (empty clears)."""

    summary: str
    impact: str
    figures_text: str  # `users=… slo=…`, read by bot/domain/impact_figures.py
    trigger: str
    cause: str
    whys: tuple[str, ...]
    factors: tuple[tuple[str, tuple[str, ...]], ...]  # (category, factors) for each category
# --- planned work (bot/domain/planned_work.py) ---------------------------------------------


@dataclass(frozen=True)
class PlanWork:
    """`/incident plan release|maintenance <title> at <time> [for <d>] [go-no-go <time>] [rollback-by <time|d>]`."""

    kind: str  # release | maintenance; empty from a bare `/incident plan`: open the form
    title: str
    start_text: str = ""
    duration_text: str | None = None
    go_no_go_text: str | None = None
    rollback_text: str | None = None  # a time, or a duration from the planned start
    origin_channel: str | None = None
    team_id: str | None = None


@dataclass(frozen=True)
class AttachRunbook:
    """Runbook steps: pasted text (one step per line) or a Markdown checklist from RUNBOOK_DIR."""

    text: str
    name: str | None = None  # the file's name, when it came from RUNBOOK_DIR
    checklist: bool = False  # parse as a Markdown checklist (a file), not as pasted lines


@dataclass(frozen=True)
class UseRunbook:
    """`/incident runbook use <name>`: the Slack layer reads the file and attaches it (AttachRunbook)."""

    name: str


@dataclass(frozen=True)
class StepAction:
    """A runbook step's button (or `/incident step <n> start|done|failed|skip [reason]`)."""

    number: int
    action: str  # start | done | failed | skip
    reason: str = ""


@dataclass(frozen=True)
class FinishWork:
    outcome: str  # completed | rolled_back | stopped


@dataclass(frozen=True)
class EscalateWork:
    severity: str | None = None  # None: P2


@dataclass(frozen=True)
class AcknowledgeEscalation:
    since_iso: str  # the escalation the button was made for: a second press acknowledges nothing


# --- the channel's messages --------------------------------------------------------------


@dataclass(frozen=True)
class React:
    """A reaction added to or removed from a message in the incident channel."""

    message_ts: str
    reaction: str  # the emoji name, skin tone and all
    added: bool
    event_ts: str
    # Who wrote the marked message, when the Slack layer had to ask Slack: "person", "bot",
    # or None when it is already on the record or Slack would not say.
    written_by: str | None = None


@dataclass(frozen=True)
class RecordMessage:
    """A person's message (the import; live messages take the batched path, bot/ingest)."""

    message: SlackMessage


@dataclass(frozen=True)
class EditMessage:
    message: SlackMessage


@dataclass(frozen=True)
class DeleteMessage:
    ts: str


@dataclass(frozen=True)
class CloseImported:
    """An imported incident nobody marked resolved is over: resolved at its last person's message."""

    at: datetime


# --- the reminder clock ------------------------------------------------------------------


@dataclass(frozen=True)
class ReminderSent:
    """The clock sends a reminder: claimed once, and the incident remembers it."""

    kind: str  # nudge | lead | deadline_warning | deadline | review | action | start | report | overrun | escalate
    claim_key: str
    at: datetime
    item_id: int | None = None
    step: int | None = None  # the runbook step an overrun nudge is about


# --- alerts (bot/domain/alerts.py) -------------------------------------------------------


@dataclass(frozen=True)
class AlertDeclaration:
    """What ALERT_RULES say to declare for a notification (bot/alerts/rules.py): the alerts' own words."""

    title: str  # plain text: annotations.summary, else the alertname
    severity: str  # P1-P4
    tags: tuple[str, ...] = ()  # normalised
    description: str = ""  # plain text: annotations.description


@dataclass(frozen=True)
class ReceiveAlerts:
    """A notification about one group of alerts: it joins the group's incident, or declares one."""

    source: str  # alertmanager | grafana | pagerduty
    group_key: str  # Alertmanager's groupKey, Grafana's org and groupKey, PagerDuty's incident id
    alerts: tuple[Alert, ...]
    declare: AlertDeclaration | None  # None: no rule matched; the alerts are posted with a Declare button
    received_at: datetime  # when the notification arrived: the incident's `detected` if it declares


@dataclass(frozen=True)
class DeclareFromAlerts:
    """The Declare button under alerts that matched no rule."""

    group_id: int


@dataclass(frozen=True)
class ConfirmMitigated:
    """The "Mark mitigated" button offered when every alert of an incident has resolved."""

    at_iso: str  # the last alert's end, as the button was made


Intent = (
    Declare | RetrySetup | ChangeStatus | PostUpdate | ChangeSeverity | SetLead | SetRole | AddNote | SetMilestone
    | AddActionItem | CompleteActionItem | PushActionItem | SetDeadline | ClearDeadline | Decide | SnoozeNudges
    | Tag | Untag | MarkPostmortemDone | RepostPostmortem | React | RecordMessage | EditMessage | DeleteMessage
    | CloseImported | ReminderSent | ReceiveAlerts | DeclareFromAlerts | ConfirmMitigated
    | WriteUp | SetImpact | AddWhy | ClearWhys | AddFactor | ClearFactors | FillPostmortem
    | PlanWork | AttachRunbook | UseRunbook | StepAction | FinishWork | EscalateWork | AcknowledgeEscalation
)


@dataclass(frozen=True)
class Request:
    """Who asks what of which incident, and by which way."""

    intent: Intent
    actor: str | None
    via: Via
    incident_id: int | None = None  # a button, a form, the clock
    channel_id: str | None = None  # a command, a reaction or a message in the incident's channel
    at: datetime | None = None  # when it happened, for an import's replay; None: now
