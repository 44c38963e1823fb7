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
from bot.reminders.rhythm import SNOOZE

# Status changes that also tell us a milestone, when nobody set it explicitly.
STATUS_MILESTONES = {"identified": "identified", "monitoring": "mitigated", "resolved": "resolved"}
DEFAULT_SEVERITY = "P3"
# The source of a resolved milestone nobody marked: an import closes the incident at the last message a person wrote.
IMPORT_SOURCE = "import"


def record(store: IncidentStore, incident: IncidentRecord, kind: str, ctx: Context, text: str = "", data: dict | None = None) -> None:
    store.add_entry(incident.id, NewEntry(kind, ctx.actor, text, ctx.now, data))


def milestones(store: IncidentStore, incident: IncidentRecord) -> dict[str, MilestoneTime]:
    return effective_milestones(incident.declared_at, store.claims(incident.id), incident.reopened_at)


# --- declaring ---------------------------------------------------------------------------------


def declare(store: IncidentStore, intent: Declare, ctx: Context) -> Change:
    """Store the incident and its first entry; Slack setup happens afterwards."""
    title = " ".join(intent.title.split())
    if not title:
        raise IncidentError("An incident needs a title, e.g. `/incident start P2 Checkout API returns 502`.", field="title")
    severity = intent.severity or DEFAULT_SEVERITY
    if severity not in SEVERITIES:
        raise IncidentError(f"Severity must be one of {', '.join(SEVERITIES)}.")
    started_at = intent.started_at
    if started_at is None and intent.started_text:
        started_at = _typed_time(intent.started_text, ctx, field="started")
    if started_at is not None:
        if started_at > ctx.now + times.FUTURE_TOLERANCE:
            raise IncidentError("The impact start time is in the future.", field="started")
        if implausibly_early(started_at, ctx.now) and not intent.confirm:
            raise IncidentError(_implausible(started_at, ctx, "the impact start"), field="started")
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
    )
    incident.id = store.add_incident(incident)
    record(store, incident, "declared", ctx, title, {"severity": severity})
    if started_at is not None:
        store.add_claim(incident.id, Claim("started", started_at, ctx.now, "command"), ctx.actor)
        record(store, incident, "milestone", ctx, "started", _milestone_data("started", started_at))
    return Change(
        incident_id=incident.id,
        kind="declared",
        actor=ctx.actor,
        summary=f"{severity} {title}",
        post_in_channel=False,
        announce=True,
        refresh_header=False,
        set_up_channel=True,
    )


def retry_setup(incident: IncidentRecord, intent: RetrySetup, ctx: Context) -> Change:
    """Finish the Slack side of a declaration that failed: the incident itself was kept."""
    if incident.setup_error is None and incident.header_ts is not None:
        raise IncidentError(f"Incident #{incident.id} is already set up in <#{incident.channel_id}>.")
    # An incident an alert declared was declared by nobody in particular: anyone may finish it.
    if ctx.actor not in (incident.declared_by, incident.commander_id) and incident.declared_via != Via.ALERT.value:
        raise IncidentError(f"Only whoever declared incident #{incident.id} can retry its setup.")
    return Change(incident.id, "retry", ctx.actor, "setting up again", post_in_channel=False, refresh_header=False, set_up_channel=True)


# --- status, severity, people ----------------------------------------------------------------


def change_status(store: IncidentStore, incident: IncidentRecord, intent: ChangeStatus, ctx: Context) -> Change:
    status, message = intent.status, intent.message
    if status not in STATUSES:
        raise IncidentError(f"Status must be one of {', '.join(STATUSES)}.")
    previous = incident.status
    if status == previous == "resolved" and not message:
        raise IncidentError(f"Incident #{incident.id} is already resolved. {REOPEN_HINT}")
    if status == previous and not message:
        raise IncidentError(f"The incident is already {status}. Add a message to post an update instead.")
    reopening = previous == "resolved" and status != "resolved"
    if status == previous:
        # The same status again, with words: an update that restates where things stand.
        record(store, incident, "status", ctx, message, {"from": previous, "to": status})
        return Change(incident.id, "status", ctx.actor, f"still {status}", text=message, announce=True, refresh_header=False)
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
    change = Change(incident.id, "status", ctx.actor, f"{previous} → {status}", text=message, announce=True)
    if status == "resolved":
        change.resolved = change.post_postmortem = True
    if reopening:
        change.summary = f"reopened ({status})"
    return change


def post_update(store: IncidentStore, incident: IncidentRecord, intent: PostUpdate, ctx: Context) -> Change:
    if not intent.text.strip():
        raise IncidentError("Write the update to post.")
    record(store, incident, "update", ctx, intent.text)
    return Change(incident.id, "update", ctx.actor, "status update", text=intent.text, announce=True, refresh_header=False)


def change_severity(store: IncidentStore, incident: IncidentRecord, intent: ChangeSeverity, ctx: Context) -> Change:
    severity = intent.severity
    if severity not in SEVERITIES:
        raise IncidentError(f"Severity must be one of {', '.join(SEVERITIES)}.")
    if severity == incident.severity:
        raise IncidentError(f"The incident is already {severity}.")
    previous, incident.severity = incident.severity, severity
    record(store, incident, "severity", ctx, "", {"from": previous, "to": severity})
    return Change(incident.id, "severity", ctx.actor, f"{previous} → {severity}", announce=True)


def set_lead(store: IncidentStore, incident: IncidentRecord, intent: SetLead, ctx: Context) -> Change:
    user_id = intent.user_id
    if incident.commander_id == user_id:
        raise IncidentError(f"<@{user_id}> already leads this incident.")
    if intent.only_if_unled:
        require_open(incident)
    if intent.only_if_unled and incident.commander_id:
        raise IncidentError(f"<@{incident.commander_id}> already leads this incident.")
    incident.commander_id = user_id
    record(store, incident, "lead", ctx, "", {"user": user_id})
    return Change(incident.id, "lead", ctx.actor, f"<@{user_id}> is incident commander", invite=(user_id,))


def set_role(store: IncidentStore, incident: IncidentRecord, intent: SetRole, ctx: Context) -> Change:
    role, user_id = intent.role, intent.user_id
    if store.role_holder(incident.id, role) == user_id:
        raise IncidentError(f"<@{user_id}> already has the {role} role.")
    store.set_role(incident.id, role, user_id)
    record(store, incident, "role", ctx, "", {"role": role, "user": user_id})
    return Change(incident.id, "role", ctx.actor, f"{role}: <@{user_id}>", invite=(user_id,))


def add_note(store: IncidentStore, incident: IncidentRecord, intent: AddNote, ctx: Context) -> Change:
    record(store, incident, "note", ctx, intent.text)
    return Change(incident.id, "note", ctx.actor, "note", text=intent.text, refresh_header=False)


def snooze_nudges(store: IncidentStore, incident: IncidentRecord, intent: SnoozeNudges, ctx: Context) -> Change:
    require_open(incident)
    until = ctx.now + SNOOZE
    # A second press within the same minute is the same snooze, not a longer one.
    if incident.nudge_snoozed_until and incident.nudge_snoozed_until >= until - timedelta(minutes=1):
        raise IncidentError(f"Nudges are already snoozed until {times.show(incident.nudge_snoozed_until, ctx.tz)}.")
    incident.nudge_snoozed_until = until
    record(store, incident, "snooze", ctx, "", {"until": until.isoformat()})
    return Change(incident.id, "snooze", ctx.actor, f"until {times.show(until, ctx.tz)}", refresh_header=False)


def mark_postmortem_done(store: IncidentStore, incident: IncidentRecord, intent: MarkPostmortemDone, ctx: Context) -> Change:
    if incident.is_open:
        raise IncidentError("The postmortem is reviewed after the incident is resolved.")
    if incident.postmortem_done_at is not None:
        raise IncidentError("The postmortem is already marked done.")
    incident.postmortem_done_at = ctx.now
    record(store, incident, "postmortem_done", ctx)
    return Change(incident.id, "postmortem_done", ctx.actor, "postmortem marked done", refresh_header=False)


def repost_postmortem(incident: IncidentRecord, ctx: Context) -> Change:
    if incident.is_open:
        raise IncidentError("The postmortem draft is posted when the incident is resolved: `/incident resolve`.")
    return Change(
        incident.id, "postmortem", ctx.actor, "posting the postmortem draft again",
        post_in_channel=False, refresh_header=False, post_postmortem=True,
    )


def close_imported(store: IncidentStore, incident: IncidentRecord, intent: CloseImported, ctx: Context) -> Change | None:
    """A past incident is over: resolved at its last person's message, and the postmortem says nobody marked it."""
    if not incident.is_open:
        return None
    previous, incident.status = incident.status, "resolved"
    store.add_claim(incident.id, Claim("resolved", intent.at, intent.at, IMPORT_SOURCE), None)
    store.add_entry(incident.id, NewEntry("status", None, "", intent.at, {"from": previous, "to": "resolved"}))
    return None


def require_open(incident: IncidentRecord) -> None:
    if not incident.is_open:
        raise IncidentError(f"Incident #{incident.id} is already resolved. {REOPEN_HINT}")


# --- milestones ----------------------------------------------------------------------------------


def set_milestone(store: IncidentStore, incident: IncidentRecord, intent: SetMilestone, ctx: Context) -> Change:
    name = intent.milestone
    current = milestones(store, incident)
    if name == "resolved" and intent.time_text is None and not incident.is_open:
        at = times.show_seconds(current["resolved"].at, ctx.tz) if current["resolved"].at else "earlier"
        raise IncidentError(
            f"Incident #{incident.id} is already resolved ({at}). To correct the time, run `/incident resolve <time>`; "
            "the postmortem draft is then posted again."
        )
    at = time_for_now(name, ctx.now, current) if intent.time_text is None else _typed_time(intent.time_text, ctx)
    if implausibly_early(at, incident.declared_at) and not intent.confirm:
        raise IncidentError(_implausible(at, ctx, name, f"/incident {_word(name)} {intent.time_text} confirm"))
    _check_order(name, at, current, ctx)
    store.add_claim(incident.id, Claim(name, at, ctx.now, "command"), ctx.actor)
    record(store, incident, "milestone", ctx, name, _milestone_data(name, at))
    return Change(incident.id, "milestone", ctx.actor, f"{name}: {times.show(at, ctx.tz)}")


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
        hint = f" ({problem.other} defaults to the declaration time; set it first with `/incident {problem.other} <time>`)"
    raise IncidentError(f"{name} {shown} would be {problem.relation} {problem.other} ({other}){hint}.")


def sync_resolution(store: IncidentStore, incident: IncidentRecord, ctx: Context) -> Change | None:
    """Resolve or reopen the incident when its resolved milestone appears or goes away."""
    resolved = milestones(store, incident)["resolved"]
    if resolved.at is not None and incident.status != "resolved":
        previous, incident.status = incident.status, "resolved"
        record(store, incident, "status", ctx, "", {"from": previous, "to": "resolved"})
        return Change(
            incident.id, "status", ctx.actor, f"{previous} → resolved", announce=True, post_postmortem=True, resolved=True
        )
    if resolved.at is None and incident.status == "resolved":
        current = milestones(store, incident)
        status = "monitoring" if current["mitigated"].at else "identified" if current["identified"].at else "investigating"
        incident.status = status
        incident.reopened_at = ctx.now
        record(store, incident, "reopened", ctx, "", {"from": "resolved", "to": status})
        return Change(incident.id, "reopened", ctx.actor, f"reopened ({status})", announce=True)
    return None


def _typed_time(text: str, ctx: Context, field: str | None = None) -> datetime:
    try:
        at = times.parse_user_time(text, ctx.tz, ctx.now)
        times.check_not_future(at, ctx.tz, ctx.now)
    except times.TimeInputError as error:
        raise IncidentError(str(error), field=field) from None
    return at


def _implausible(at: datetime, ctx: Context, what: str, confirm: str | None = None) -> str:
    how = (
        f" If that is right, run `{confirm}`."
        if confirm
        else " If that is right, declare without it, then run `/incident started <time> confirm`."
    )
    return (
        f"{what} {times.show(at, ctx.tz)} is more than {PLAUSIBLE_LOOKBACK.days} days before the incident was declared; "
        f"that looks like a typo.{how}"
    )


def _word(milestone: str) -> str:
    return "resolve" if milestone == "resolved" else milestone


def _milestone_data(milestone: str, at: datetime) -> dict:
    return {"milestone": milestone, "at": at.isoformat()}

