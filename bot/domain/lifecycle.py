"""The incident lifecycle: declare, change status and severity, set roles and milestones.

Each rule reads and records through the store (bot/domain/store.py) inside the gate's
unit of work, changes the IncidentRecord it is given (storage saves what changed), and
returns a Change describing what people should be shown. Nothing here talks to Slack.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.domain import times
from bot.domain.access import REOPEN_HINT
from bot.domain.changes import Change, Context, IncidentError
from bot.domain.milestones import (
    PLAUSIBLE_LOOKBACK,
    effective_milestones,
    implausibly_early,
    order_problem,
    time_for_now,
)
from bot.domain.records import SEVERITIES, STATUSES, Claim, IncidentRecord, MilestoneTime, NewEntry
from bot.domain.requests import (
    AddNote,
    ChangeSeverity,
    ChangeStatus,
    CloseImported,
    Declare,
    MarkPostmortemDone,
    PostUpdate,
    RetrySetup,
    SetLead,
    SetMilestone,
    SetRole,
    SnoozeNudges,
    Via,
)
from bot.domain.store import IncidentStore
from bot.i18n import N_, Message, Word
from bot.reminders.rhythm import SNOOZE

# Status changes that also tell us a milestone, when nobody set it explicitly.
STATUS_MILESTONES = {"identified": "identified", "monitoring": "mitigated", "resolved": "resolved"}
DEFAULT_SEVERITY = "P3"
# The source of a resolved milestone nobody marked: an import closes the incident at the last message a person wrote.
IMPORT_SOURCE = "import"


def record(store: IncidentStore, incident: IncidentRecord, kind: str, ctx: Context, text: str = "", data: dict | None = None) -> None:
    store.add_entry(incident.id, NewEntry(kind, ctx.actor, text, ctx.now, data))


def milestones(store: IncidentStore, incident: IncidentRecord, claims: list | None = None) -> dict[str, MilestoneTime]:
    """`claims`: the incident's, already read in this unit of work (store.claims) and unchanged since."""
    claims = store.claims(incident.id) if claims is None else claims
    return effective_milestones(incident.declared_at, claims, incident.reopened_at)


# --- declaring ---------------------------------------------------------------------------------


def declare(store: IncidentStore, intent: Declare, ctx: Context) -> Change:
    """Store the incident and its first entry; Slack setup happens afterwards."""
    title = " ".join(intent.title.split())
    if not title:
        raise IncidentError(N_("An incident needs a title, e.g. `/incident start P2 Checkout API returns 502`."), field="title")
    severity = intent.severity or DEFAULT_SEVERITY
    if severity not in SEVERITIES:
        raise IncidentError(_severities())
    started_at = intent.started_at
    if started_at is None and intent.started_text:
        started_at = _typed_time(intent.started_text, ctx, field="started")
    if started_at is not None:
        if started_at > ctx.now + times.FUTURE_TOLERANCE:
            raise IncidentError(N_("The impact start time is in the future."), field="started")
        if implausibly_early(started_at, ctx.now) and not intent.confirm:
            raise IncidentError(_implausible(started_at, ctx, None), field="started")
    incident = IncidentRecord(
        id=0,
        title=title,
        severity=severity,
        status="investigating",
        declared_by=ctx.actor or "",
        declared_at=ctx.now,
        team_id=intent.team_id,
        origin_channel_id=intent.origin_channel,
        description=(intent.description or "").strip() or None,
        impact=(intent.impact or "").strip() or None,
        is_private=intent.private,
        channel_id=intent.channel_id,
        channel_name=intent.channel_name,
        imported_from=intent.imported_from,
        declared_via=ctx.via.value,
        near_miss=intent.near_miss,
    )
    incident.id = store.add_incident(incident)
    record(store, incident, "declared", ctx, title, {"severity": severity, **({"near_miss": True} if intent.near_miss else {})})
    if started_at is not None:
        store.add_claim(incident.id, Claim("started", started_at, ctx.now, "command"), ctx.actor)
        record(store, incident, "milestone", ctx, "started", _milestone_data("started", started_at))
    return Change(
        incident_id=incident.id,
        kind="declared",
        actor=ctx.actor,
        details={"severity": severity, "title": title, "near_miss": intent.near_miss},
        post_in_channel=False,
        announce=True,
        refresh_header=False,
        set_up_channel=True,
    )


def retry_setup(incident: IncidentRecord, intent: RetrySetup, ctx: Context) -> Change:
    """Finish the Slack side of a declaration that failed: the incident itself was kept."""
    if incident.setup_error is None and incident.header_ts is not None:
        raise IncidentError(
            Message(N_("Incident #{id} is already set up in {channel}."), {"id": incident.id, "channel": f"<#{incident.channel_id}>"})
        )
    # An incident an alert declared was declared by nobody in particular: anyone may finish it.
    if ctx.actor not in (incident.declared_by, incident.commander_id) and incident.declared_via != Via.ALERT.value:
        raise IncidentError(Message(N_("Only whoever declared incident #{id} can retry its setup."), {"id": incident.id}))
    return Change(incident.id, "retry", ctx.actor, post_in_channel=False, refresh_header=False, set_up_channel=True)


# --- status, severity, people ----------------------------------------------------------------


def change_status(store: IncidentStore, incident: IncidentRecord, intent: ChangeStatus, ctx: Context) -> Change:
    status, message = intent.status, intent.message
    if status == "resolved":
        refuse_resolving_planned_work(incident)
    if status not in STATUSES:
        raise IncidentError(Message(N_("Status must be one of {statuses}."), {"statuses": ", ".join(STATUSES)}))
    previous = incident.status
    if status == previous == "resolved" and not message:
        raise IncidentError(_already_resolved(incident))
    if status == previous and not message:
        raise IncidentError(
            Message(N_("The incident is already {status}. Add a message to post an update instead."), {"status": Word("status", status)})
        )
    reopening = previous == "resolved" and status != "resolved"
    if status == previous:
        # The same status again, with words: an update that restates where things stand.
        record(store, incident, "status", ctx, message, {"from": previous, "to": status})
        return Change(incident.id, "status", ctx.actor, {"from": status, "to": status}, text=message, announce=True, refresh_header=False)
    implied = STATUS_MILESTONES.get(status)
    if implied is not None and not reopening:
        # The implied milestone keeps the milestone order like any other setting.
        current = milestones(store, incident)
        at = time_for_now(implied, ctx.now, current)
        _check_order(implied, at, current, ctx)
    if reopening:
        incident.reopened_at = ctx.now
    incident.status = status
    record(store, incident, "status", ctx, message, {"from": previous, "to": status})
    if implied is not None:
        at = time_for_now(implied, ctx.now, milestones(store, incident))
        store.add_claim(incident.id, Claim(implied, at, ctx.now, "status"), ctx.actor)
    details = {"from": previous, "to": status, "reopened": reopening}
    change = Change(incident.id, "status", ctx.actor, details, text=message, announce=True)
    if status == "resolved":
        change.resolved = change.post_postmortem = True
    return change


def post_update(store: IncidentStore, incident: IncidentRecord, intent: PostUpdate, ctx: Context) -> Change:
    if not intent.text.strip():
        raise IncidentError(N_("Write the update to post."))
    record(store, incident, "update", ctx, intent.text)
    return Change(incident.id, "update", ctx.actor, text=intent.text, announce=True, refresh_header=False)


def change_severity(store: IncidentStore, incident: IncidentRecord, intent: ChangeSeverity, ctx: Context) -> Change:
    severity = intent.severity
    if severity not in SEVERITIES:
        raise IncidentError(_severities())
    if severity == incident.severity:
        raise IncidentError(Message(N_("The incident is already {severity}."), {"severity": severity}))
    previous, incident.severity = incident.severity, severity
    record(store, incident, "severity", ctx, "", {"from": previous, "to": severity})
    return Change(incident.id, "severity", ctx.actor, {"from": previous, "to": severity}, announce=True)


def set_lead(store: IncidentStore, incident: IncidentRecord, intent: SetLead, ctx: Context) -> Change:
    user_id = intent.user_id
    if incident.commander_id == user_id:
        raise IncidentError(Message(N_("{person} already leads this incident."), {"person": f"<@{user_id}>"}))
    if intent.only_if_unled:
        require_open(incident)
    if intent.only_if_unled and incident.commander_id:
        raise IncidentError(Message(N_("{person} already leads this incident."), {"person": f"<@{incident.commander_id}>"}))
    incident.commander_id = user_id
    record(store, incident, "lead", ctx, "", {"user": user_id})
    return Change(incident.id, "lead", ctx.actor, {"user": user_id}, invite=(user_id,))


def set_role(store: IncidentStore, incident: IncidentRecord, intent: SetRole, ctx: Context) -> Change:
    role, user_id = intent.role, intent.user_id
    if store.role_holder(incident.id, role) == user_id:
        raise IncidentError(Message(N_("{person} already has the {role} role."), {"person": f"<@{user_id}>", "role": role}))
    store.set_role(incident.id, role, user_id)
    record(store, incident, "role", ctx, "", {"role": role, "user": user_id})
    return Change(incident.id, "role", ctx.actor, {"role": role, "user": user_id}, invite=(user_id,))


def add_note(store: IncidentStore, incident: IncidentRecord, intent: AddNote, ctx: Context) -> Change:
    record(store, incident, "note", ctx, intent.text)
    return Change(incident.id, "note", ctx.actor, text=intent.text, refresh_header=False)


def snooze_nudges(store: IncidentStore, incident: IncidentRecord, intent: SnoozeNudges, ctx: Context) -> Change:
    require_open(incident)
    until = ctx.now + SNOOZE
    # A second press within the same minute is the same snooze, not a longer one.
    if incident.nudge_snoozed_until and incident.nudge_snoozed_until >= until - timedelta(minutes=1):
        raise IncidentError(
            Message(N_("Nudges are already snoozed until {until}."), {"until": times.show(incident.nudge_snoozed_until, ctx.tz)})
        )
    incident.nudge_snoozed_until = until
    record(store, incident, "snooze", ctx, "", {"until": until.isoformat()})
    return Change(incident.id, "snooze", ctx.actor, {"until": until}, refresh_header=False)


def mark_postmortem_done(store: IncidentStore, incident: IncidentRecord, intent: MarkPostmortemDone, ctx: Context) -> Change:
    if incident.is_open:
        raise IncidentError(N_("The postmortem is reviewed after the incident is resolved."))
    if incident.postmortem_done_at is not None:
        raise IncidentError(N_("The postmortem is already marked done."))
    incident.postmortem_done_at = ctx.now
    record(store, incident, "postmortem_done", ctx)
    return Change(incident.id, "postmortem_done", ctx.actor, refresh_header=False)


def repost_postmortem(incident: IncidentRecord, ctx: Context) -> Change:
    if incident.is_open:
        raise IncidentError(N_("The postmortem draft is posted when the incident is resolved: `/incident resolve`."))
    return Change(incident.id, "postmortem", ctx.actor, post_in_channel=False, refresh_header=False, post_postmortem=True)


def close_imported(store: IncidentStore, incident: IncidentRecord, intent: CloseImported, ctx: Context) -> Change | None:
    """A past incident is over: resolved at its last person's message, and the postmortem says nobody marked it."""
    if not incident.is_open:
        return None
    previous, incident.status = incident.status, "resolved"
    store.add_claim(incident.id, Claim("resolved", intent.at, intent.at, IMPORT_SOURCE), None)
    store.add_entry(incident.id, NewEntry("status", None, "", intent.at, {"from": previous, "to": "resolved"}))
    return None


PLANNED_WORK_ENDS = N_(
    "Planned work ends with `/incident finish` (completed), `/incident finish rolled-back` or `/incident finish stopped`, "
    "which also posts the after report and the work log."
)


def refuse_resolving_planned_work(incident: IncidentRecord) -> None:
    """Planned work is resolved by finishing it, so its after report and work log are never skipped."""
    if incident.is_planned_work and incident.is_open:
        raise IncidentError(PLANNED_WORK_ENDS)


def require_open(incident: IncidentRecord) -> None:
    if not incident.is_open:
        raise IncidentError(_already_resolved(incident))


def _already_resolved(incident: IncidentRecord) -> Message:
    return Message(N_("Incident #{id} is already resolved. {hint}"), {"id": incident.id, "hint": Message(REOPEN_HINT)})


def _severities() -> Message:
    return Message(N_("Severity must be one of {severities}."), {"severities": ", ".join(SEVERITIES)})


# --- milestones ----------------------------------------------------------------------------------


def set_milestone(store: IncidentStore, incident: IncidentRecord, intent: SetMilestone, ctx: Context) -> Change:
    name = intent.milestone
    if name == "resolved":
        refuse_resolving_planned_work(incident)
    current = milestones(store, incident)
    if name == "resolved" and intent.time_text is None and not incident.is_open:
        at = current["resolved"].at
        raise IncidentError(
            Message(
                N_(
                    "Incident #{id} is already resolved ({at}). To correct the time, run `/incident resolve <time>`; "
                    "the postmortem draft is then posted again."
                ),
                {"id": incident.id, "at": times.show_seconds(at, ctx.tz) if at else Message(N_("earlier"))},
            )
        )
    at = time_for_now(name, ctx.now, current) if intent.time_text is None else _typed_time(intent.time_text, ctx)
    if implausibly_early(at, incident.declared_at) and not intent.confirm:
        raise IncidentError(_implausible(at, ctx, name, f"/incident {_word(name)} {intent.time_text} confirm"))
    _check_order(name, at, current, ctx)
    store.add_claim(incident.id, Claim(name, at, ctx.now, "command"), ctx.actor)
    record(store, incident, "milestone", ctx, name, _milestone_data(name, at))
    return Change(incident.id, "milestone", ctx.actor, {"milestone": name, "at": at})


def check_milestone_order(store: IncidentStore, incident: IncidentRecord, name: str, at: datetime, ctx: Context) -> None:
    """The order rule for a milestone set any way (a command, a status change, a reaction)."""
    _check_order(name, at, milestones(store, incident), ctx)


def _check_order(name: str, at: datetime, current: dict[str, MilestoneTime], ctx: Context) -> None:
    problem = order_problem(name, at, current)
    if problem is None:
        return
    shown, other = times.show_apart(at, problem.other_at, ctx.tz)
    hint = ""
    if problem.other_defaulted:
        hint = Message(
            N_(" ({other} defaults to the declaration time; set it first with `/incident {command} <time>`)"),
            {"other": Word("milestone", problem.other), "command": _word(problem.other)},
        )
    text = (
        N_("{milestone} {at} would be before {other} ({other_at}){hint}.")
        if problem.relation == "before"
        else N_("{milestone} {at} would be after {other} ({other_at}){hint}.")
    )
    params = {"milestone": Word("milestone", name), "at": shown, "other": Word("milestone", problem.other), "other_at": other, "hint": hint}
    raise IncidentError(Message(text, params))


def sync_resolution(store: IncidentStore, incident: IncidentRecord, ctx: Context, claims: list | None = None) -> Change | None:
    """Resolve or reopen the incident when its resolved milestone appears or goes away. It changes no
    claim (only the status and the bot's own entries), so `claims` read before it hold after it."""
    resolved = milestones(store, incident, claims)["resolved"]
    if incident.is_planned_work and incident.is_open:
        return None  # planned work ends by finishing it (planned_work.finish), never by a ✅ on a message
    if resolved.at is not None and incident.status != "resolved":
        previous, incident.status = incident.status, "resolved"
        record(store, incident, "status", ctx, "", {"from": previous, "to": "resolved"})
        return Change(
            incident.id, "status", ctx.actor, {"from": previous, "to": "resolved"}, announce=True, post_postmortem=True, resolved=True
        )
    if resolved.at is None and incident.status == "resolved":
        current = milestones(store, incident, claims)
        status = "monitoring" if current["mitigated"].at else "identified" if current["identified"].at else "investigating"
        incident.status = status
        incident.reopened_at = ctx.now
        record(store, incident, "reopened", ctx, "", {"from": "resolved", "to": status})
        return Change(incident.id, "reopened", ctx.actor, {"from": "resolved", "to": status, "reopened": True}, announce=True)
    return None


def _typed_time(text: str, ctx: Context, field: str | None = None) -> datetime:
    try:
        at = times.parse_user_time(text, ctx.tz, ctx.now)
        times.check_not_future(at, ctx.tz, ctx.now)
    except times.TimeInputError as error:
        raise IncidentError(error.message, field=field) from None
    return at


def _implausible(at: datetime, ctx: Context, milestone: str | None, confirm: str | None = None) -> Message:
    """A time long before the declaration: `milestone` None for the impact start typed in the declaring form."""
    what = Word("milestone", milestone) if milestone else Message(N_("the impact start"))
    how = (
        Message(N_(" If that is right, run `{command}`."), {"command": confirm})
        if confirm
        else Message(N_(" If that is right, declare without it, then run `/incident started <time> confirm`."))
    )
    return Message(
        N_("{what} {at} is more than {days} days before the incident was declared; that looks like a typo.{how}"),
        {"what": what, "at": times.show(at, ctx.tz), "days": PLAUSIBLE_LOOKBACK.days, "how": how},
    )


def _word(milestone: str) -> str:
    return "resolve" if milestone == "resolved" else milestone


def _milestone_data(milestone: str, at: datetime) -> dict:
    return {"milestone": milestone, "at": at.isoformat()}

