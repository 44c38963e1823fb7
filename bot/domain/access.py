"""Who may change an incident, and what people outside a private incident may see of it.

The same rules whichever way a request comes in; the gate (bot/gate.py) asks them
before any rule of the lifecycle runs.
"""

from __future__ import annotations

from collections.abc import Callable

from bot.domain.changes import IncidentError
from bot.domain.records import ActionItemRecord, IncidentRecord
from bot.domain.requests import (
    AcknowledgeEscalation,
    AddActionItem,
    AddFactor,
    AddNote,
    AddWhy,
    AttachRunbook,
    ChangeSeverity,
    ChangeStatus,
    ClearDeadline,
    ClearFactors,
    ClearWhys,
    CloseImported,
    CompleteActionItem,
    ConfirmMitigated,
    Decide,
    Declare,
    DeclareFromAlerts,
    DeleteMessage,
    EditMessage,
    EscalateWork,
    FillPostmortem,
    FinishWork,
    MarkPostmortemDone,
    PlanWork,
    PostUpdate,
    PushActionItem,
    React,
    ReceiveAlerts,
    RecordMessage,
    ReminderSent,
    RepostPostmortem,
    Request,
    RetrySetup,
    SetDeadline,
    SetImpact,
    SetLead,
    SetMilestone,
    SetRole,
    SnoozeNudges,
    StepAction,
    Tag,
    Untag,
    Via,
    WriteUp,
)
from bot.i18n import N_, Message

REOPEN_HINT = N_("To reopen it, run `/incident status investigating` in its channel.")
NOT_A_MEMBER = N_("Only members of this incident's channel can change the incident. Join the channel first.")

# What each way in may ask for. A reaction marks a message (and so may set a milestone); it
# cannot change the severity. An alert only reports its alerts (bot/domain/alerts.py decides
# what that does). The clock only records that it sent a reminder. Anything else
# arriving by a way is a bug in the Slack layer, refused rather than carried out.
_COMMANDS = (
    Declare, RetrySetup, ChangeStatus, PostUpdate, ChangeSeverity, SetLead, SetRole, AddNote, SetMilestone,
    AddActionItem, SetDeadline, ClearDeadline, Tag, Untag, MarkPostmortemDone, RepostPostmortem,
    WriteUp, SetImpact, AddWhy, ClearWhys, AddFactor, ClearFactors,
    PlanWork, AttachRunbook, StepAction, FinishWork, EscalateWork,
)
WAYS_IN: dict[Via, tuple[type, ...]] = {
    Via.COMMAND: _COMMANDS,
    Via.REACTION: (React,),
    Via.BUTTON: (
        ChangeStatus, SetLead, SnoozeNudges, Decide, CompleteActionItem, PushActionItem, DeclareFromAlerts, ConfirmMitigated,
        StepAction, AcknowledgeEscalation,
    ),
    Via.FORM: (Declare, ChangeStatus, ChangeSeverity, PostUpdate, FillPostmortem, PlanWork, AttachRunbook, StepAction),
    Via.MESSAGE: (EditMessage, DeleteMessage),
    Via.IMPORT: (Declare, RecordMessage, EditMessage, React, CloseImported),
    Via.ALERT: (ReceiveAlerts,),
    Via.CLOCK: (ReminderSent,),
}


def check_way_in(request: Request) -> None:
    if not isinstance(request.intent, WAYS_IN[request.via]):
        raise ValueError(f"{type(request.intent).__name__} cannot come in by {request.via.value}")


def needs_membership(request: Request, item: ActionItemRecord | None = None) -> bool:
    """Whether this request may be carried out only for a member of the incident's channel.

    - People's ways in (command, reaction, button, form): yes, except declaring (there is no
      channel yet; the Declare button under unmatched alerts too), retrying a setup (only the
      declarer may, see the lifecycle) and an action item's own owner pressing its buttons (a
      reminder reaches them by DM).
    - An edited or deleted message: no; Slack already allowed it, and the record follows Slack.
    - The bot's own ways (import, alert, the reminder clock): no; they act for the team.
    """
    if not request.via.by_a_person:
        return False
    if request.via is Via.MESSAGE:
        return False  # Slack already let them edit or delete it; the record follows what Slack holds
    if isinstance(request.intent, (Declare, PlanWork, RetrySetup, DeclareFromAlerts)):
        return False
    if isinstance(request.intent, (CompleteActionItem, PushActionItem)) and item is not None:
        return item.owner_id != request.actor
    return True


def check_may_change(request: Request, incident: IncidentRecord, is_member: Callable[[str, str], bool], item=None) -> None:
    if needs_membership(request, item):
        check_member(incident, request.actor, is_member)


def check_member(incident: IncidentRecord, user_id: str | None, is_member: Callable[[str, str], bool]) -> None:
    """Refuse a person who is not in the incident's channel (an incident without one is open to all)."""
    if incident.channel_id is not None and not is_member(incident.channel_id, user_id or ""):
        raise IncidentError(NOT_A_MEMBER)


def check_still_open(request: Request, incident: IncidentRecord) -> None:
    """A button or form made while the incident was open acts only while it still is.

    Why: a status form submitted after someone resolved the incident would silently reopen it,
    a severity form would change a closed record. The commands stay free to do so on purpose
    (`/incident status investigating` reopens). An action item's buttons outlive the incident, and so
    does the postmortem form: the postmortem is written mostly after resolution.
    """
    if request.via in (Via.BUTTON, Via.FORM) and not isinstance(request.intent, (CompleteActionItem, PushActionItem, FillPostmortem)):
        if not incident.is_open:
            raise IncidentError(
                Message(N_("Incident #{id} is already resolved; nothing was changed. {hint}"), {"id": incident.id, "hint": Message(REOPEN_HINT)})
            )


def title_shown(incident: IncidentRecord, *, to_a_member: bool) -> bool:
    """A private incident's title (and its channel, named after it) is for its channel's members only."""
    return not incident.is_private or to_a_member
