"""The one gate: every change to an incident, whatever way it comes in, goes through `Gate.submit`.

A command, a reaction, a button, a form, an edited or deleted message, an import, an alert and
the reminder clock each turn their input into a Request (bot/domain/requests.py). The gate then
applies the same rules, in the same order, to every one of them:

1. the way in may ask for this (`access.WAYS_IN`): a reaction can mark, not resolve by button;
2. the incident exists, and the asker may change it (`access.check_may_change`: members only);
3. in one unit of work, with the incident locked: the rule for the request (bot/domain/*.py)
   decides and records, then the incident follows its milestones (`lifecycle.sync_resolution`);
4. when a milestone moved after the postmortem draft was posted, the draft is posted again,
   so the channel never holds a postmortem that disagrees with the record.

It returns the Change for the Slack layer to render, or raises IncidentError saying why not.

A request that names no incident but finds its own (an alert notification names its group, see
LOCATED) is located and carried out in one unit of work, with what it found locked.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime

from bot.domain import access, action_items, alerts, deadlines, lifecycle, planned_work, tags, timeline, write_up
from bot.domain.changes import Change, Context, IncidentError
from bot.domain.records import IncidentRecord
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
from bot.domain.times import utcnow
from bot.i18n import N_, Message
from bot.reminders import rhythm
from storage.db import Database
from storage.incident_store import SqlIncidentStore, changing, reading

NOT_AN_INCIDENT_CHANNEL = N_(
    "This is not an incident channel. Run this in the incident's channel "
    "(`/incident list` shows the open ones), or declare one with `/incident start <title>`."
)
NO_SUCH_INCIDENT_FOR_FORM = N_("This form belongs to an incident I cannot find.")
NO_SUCH_INCIDENT_FOR_BUTTON = N_("This button belongs to an incident I cannot find.")

# The rule for each request, by what it asks.
RULES: dict[type, Callable] = {
    ChangeStatus: lifecycle.change_status,
    PostUpdate: lifecycle.post_update,
    ChangeSeverity: lifecycle.change_severity,
    SetLead: lifecycle.set_lead,
    SetRole: lifecycle.set_role,
    AddNote: lifecycle.add_note,
    SetMilestone: lifecycle.set_milestone,
    SnoozeNudges: lifecycle.snooze_nudges,
    MarkPostmortemDone: lifecycle.mark_postmortem_done,
    RepostPostmortem: lifecycle.repost_postmortem,
    CloseImported: lifecycle.close_imported,
    AddActionItem: action_items.add_action,
    CompleteActionItem: action_items.complete,
    PushActionItem: action_items.push_a_week,
    SetDeadline: deadlines.set_deadline,
    ClearDeadline: deadlines.clear_deadline,
    Decide: deadlines.decide,
    Tag: tags.add_tags,
    Untag: tags.remove_tags,
    React: timeline.react,
    RecordMessage: timeline.record_message,
    EditMessage: timeline.edit_message,
    DeleteMessage: timeline.delete_message,
    ReminderSent: rhythm.reminder_sent,
    ReceiveAlerts: alerts.receive,
    DeclareFromAlerts: alerts.already_declared,
    ConfirmMitigated: alerts.confirm_mitigated,
    WriteUp: write_up.write,
    SetImpact: write_up.set_impact,
    AddWhy: write_up.add_why,
    ClearWhys: write_up.clear_whys,
    AddFactor: write_up.add_factor,
    ClearFactors: write_up.clear_factors,
    FillPostmortem: write_up.fill,
    AttachRunbook: planned_work.attach_runbook,
    StepAction: planned_work.step_action,
    FinishWork: planned_work.finish,
    EscalateWork: planned_work.escalate,
    AcknowledgeEscalation: planned_work.acknowledge,
}

# Requests that find their incident themselves, inside their unit of work: an alert notification
# names its group, and the group's incident (bot/domain/alerts.py) is the one it is about.
# `find(store, intent)` returns that incident's id (and locks what it decided by), then the
# request is applied to it as any other; or None, and `otherwise(store, intent, ctx)` decides what
# happens without one (declare, or nothing). Both in one unit of work, so two instances given the
# same notification at once cannot both declare. Only the bot's own ways, and requests that anyone
# may make (declaring), are located this way: no membership is asked.
LOCATED: dict[type, tuple[Callable, Callable]] = {
    ReceiveAlerts: (alerts.incident_for, alerts.declare_or_post),
    DeclareFromAlerts: (alerts.incident_for_button, alerts.declare_from_button),
}


class NotAnIncident(IncidentError):
    """The request names no incident (a channel that is not an incident's, a stale button)."""


class Gate:
    """Applies Requests to incidents. `is_member(channel, user)` asks Slack who is in a channel."""

    def __init__(self, db: Database, context: Callable[[Request, datetime], Context], is_member: Callable[[str, str], bool]):
        self._db = db
        self._context = context
        self._is_member = is_member

    def submit(self, request: Request) -> Change | None:
        """Carry out one request in its own unit of work; raises IncidentError (with the reason) when refused."""
        access.check_way_in(request)
        if isinstance(request.intent, Declare):
            with changing(self._db) as store:
                return lifecycle.declare(store, request.intent, self._context(request, utcnow()))
        if isinstance(request.intent, PlanWork):
            with changing(self._db) as store:
                return planned_work.plan(store, request.intent, self._context(request, utcnow()))
        located = LOCATED.get(type(request.intent))
        if located is not None:
            return self._locate_and_apply(request, *located)
        incident, item = self._find(request)
        # Asked before the incident is locked, so no lock is held while Slack answers.
        access.check_may_change(request, incident, self._is_member, item)
        with changing(self._db) as store:
            return apply(store, request, self._context(request, utcnow()), incident.id)

    @contextmanager
    def batch(self) -> Iterator["Batch"]:
        """Several requests in one unit of work, all or nothing (an import). Only the bot's own ways in."""
        with changing(self._db) as store:
            yield Batch(store, self._context)

    def _locate_and_apply(self, request: Request, find: Callable, otherwise: Callable):
        """A located request (see LOCATED); what `otherwise` returns when no incident takes it
        (alerts.UnmatchedAlerts: alerts posted, not an incident's change) goes back as it is."""
        with changing(self._db) as store:
            context = self._context(request, utcnow())
            incident_id = find(store, request.intent)
            if incident_id is None:
                return otherwise(store, request.intent, context)
            return apply(store, request, context, incident_id)

    def _find(self, request: Request) -> tuple[IncidentRecord, object]:
        """The incident a request is about (and the action item, for an item's buttons)."""
        intent = request.intent
        # A lookup, not a snapshot: the unit of work that changes the incident locks and reads it again.
        with reading(self._db, snapshot=False) as store:
            item = None
            if isinstance(intent, (CompleteActionItem, PushActionItem)):
                item = action_items.action_item(store, intent.item_id)
                incident = store.incident(item.incident_id)
            elif isinstance(intent, RetrySetup):
                incident = _retry_target(store, intent, request.actor)
            elif request.incident_id is not None:
                incident = store.incident(request.incident_id)
            elif request.channel_id is not None:
                incident = store.incident_in(request.channel_id)
            else:
                incident = None
            if incident is None:
                raise NotAnIncident(_not_found(request))
            return incident, item


class Batch:
    """Requests applied one after another in the batch's unit of work; `store` reads within it."""

    def __init__(self, store: SqlIncidentStore, context: Callable[[Request, datetime], Context]):
        self.store = store
        self._context = context

    def submit(self, request: Request) -> Change | None:
        if request.via.by_a_person:
            raise ValueError("a batch carries the bot's own requests only; people's go through Gate.submit")
        access.check_way_in(request)
        context = self._context(request, utcnow())
        # A refused request leaves no trace, and the batch goes on (a savepoint each).
        with self.store.session.begin_nested():
            if isinstance(request.intent, Declare):
                return lifecycle.declare(self.store, request.intent, context)
            return apply(self.store, request, context, request.incident_id)


def apply(store: SqlIncidentStore, request: Request, ctx: Context, incident_id: int) -> Change | None:
    """The rule for the request, then what follows from it for every request alike."""
    incident = store.incident(incident_id, for_update=True)
    if incident is None:
        raise NotAnIncident(_not_found(request))
    access.check_still_open(request, incident)
    intent = request.intent
    if isinstance(intent, RetrySetup):
        return lifecycle.retry_setup(incident, intent, ctx)
    if isinstance(intent, RepostPostmortem):
        return lifecycle.repost_postmortem(incident, ctx)
    before = lifecycle.milestones(store, incident)
    change = RULES[type(intent)](store, incident, intent, ctx)
    follow_milestones(store, incident, ctx, before, change)
    store.save(incident)
    return change


def follow_milestones(store, incident: IncidentRecord, ctx: Context, before: dict, change: Change | None) -> Change | None:
    """Whatever moved a milestone, the incident's status and its posted draft follow."""
    claims = store.claims(incident.id)  # read once: sync_resolution changes no claim
    resolution = lifecycle.sync_resolution(store, incident, ctx, claims)
    if change is not None and resolution is not None:
        change.extra.append(resolution)
    after = lifecycle.milestones(store, incident, claims)
    moved = after != before
    if change is None and (resolution is not None or moved):
        change = resolution or Change(incident.id, "milestones", ctx.actor, post_in_channel=False)
    if moved and change is not None:
        change.refresh_header = True
        posted = incident.postmortem_posted_at is not None
        if posted and not incident.is_open and not any(c.post_postmortem for c in change.all()):
            # The record changed under a draft people may be reading: post the draft again.
            change.post_postmortem = True
    return change


def _retry_target(store: SqlIncidentStore, intent: RetrySetup, actor: str | None) -> IncidentRecord:
    if intent.incident_ref is None:
        incident = store.latest_failed_setup(actor or "")
        if incident is None:
            raise IncidentError(N_("None of your incidents is waiting for its channel. Give a number: `/incident retry 42`."))
        return incident
    incident = store.incident(int(intent.incident_ref))
    if incident is None:
        raise IncidentError(Message(N_("There is no incident #{id}."), {"id": intent.incident_ref}))
    return incident


def _not_found(request: Request) -> str:
    if request.via is Via.COMMAND:
        return NOT_AN_INCIDENT_CHANNEL
    if request.via is Via.FORM:
        return NO_SUCH_INCIDENT_FOR_FORM
    return NO_SUCH_INCIDENT_FOR_BUTTON
