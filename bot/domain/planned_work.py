"""Planned work: a release or a maintenance, run from a runbook, with a go/no-go time and a rollback limit.

Planned work is an incident record of another kind (`release` | `maintenance`), so it has a
channel, a timeline, members and the one gate like any incident. Its own lifecycle is
planned → in progress (the first step started) → completed | rolled back | stopped, and it
turns into an incident (`/incident escalate`) when something breaks, keeping its timeline.
The go/no-go time and the rollback limit are the incident's deadline, one after the other,
so the existing deadline prompts ask for them. Plain Python: nothing here talks to Slack.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.domain import deadlines, runbooks, times
from bot.domain.changes import Change, Context, IncidentError
from bot.domain.lifecycle import record
from bot.domain.records import SEVERITIES, Claim, IncidentRecord, NewEntry, StepRecord
from bot.domain.requests import (
    AcknowledgeEscalation,
    AttachRunbook,
    Decide,
    EscalateWork,
    FinishWork,
    PlanWork,
    StepAction,
)
from bot.domain.store import IncidentStore
from bot.i18n import N_, Message, Word

KINDS = ("release", "maintenance")
CHANNEL_PREFIX = {"release": "rel-", "maintenance": "mnt-", "incident": "inc-"}
OPEN_STATES = ("planned", "in_progress")
OUTCOMES = ("completed", "rolled_back", "stopped")
STEP_ACTIONS = {"start": "started", "done": "done", "failed": "failed", "skip": "skipped"}
DEFAULT_ESCALATION_SEVERITY = "P2"
PLANNED_SEVERITY = "P4"  # the severity column wants one; planned work shows none until escalated


# --- planning ----------------------------------------------------------------------------------


def plan(store: IncidentStore, intent: PlanWork, ctx: Context) -> Change:
    """Store the planned work and its first entry; the channel and the "before" report follow."""
    if intent.kind not in KINDS:
        raise IncidentError(N_("Planned work is a `release` or a `maintenance`."), field="kind")
    title = " ".join(intent.title.split())
    if not title:
        raise IncidentError(N_("Planned work needs a title, e.g. `/incident plan release Checkout 2.4 at 22:00`."), field="title")
    if not intent.start_text.strip():
        raise IncidentError(N_("Say when it starts: `at <time>`."), field="start")
    start = deadlines.typed_time(intent.start_text, ctx, "start")
    end = None
    if intent.duration_text:
        length = _duration(intent.duration_text, "duration")
        end = start + length
    go_no_go = deadlines.typed_time(intent.go_no_go_text, ctx, "go_no_go") if intent.go_no_go_text else None
    if go_no_go is not None and go_no_go <= ctx.now:
        raise IncidentError(
            Message(N_("The go/no-go time {at} has already passed. Give a time ahead."), {"at": times.show(go_no_go, ctx.tz)}), field="go_no_go"
        )
    rollback_by = None
    if intent.rollback_text:
        length = runbooks.minutes(intent.rollback_text)
        rollback_by = start + timedelta(minutes=length) if length else deadlines.typed_time(intent.rollback_text, ctx, "rollback")
        if rollback_by <= start:
            raise IncidentError(
                Message(N_("The rollback limit {at} must come after the start ({start})."), {"at": times.show(rollback_by, ctx.tz), "start": times.show(start, ctx.tz)}),
                field="rollback",
            )
        if go_no_go is not None and rollback_by <= go_no_go:
            raise IncidentError(N_("The rollback limit must come after the go/no-go time."), field="rollback")
    incident = IncidentRecord(
        id=0,
        title=title,
        severity=PLANNED_SEVERITY,
        status="investigating",
        declared_by=ctx.actor or "",
        declared_at=ctx.now,
        team_id=intent.team_id,
        origin_channel_id=intent.origin_channel,
        commander_id=ctx.actor,  # whoever plans it leads it until someone else is named
        declared_via=ctx.via.value,
        kind=intent.kind,
        planned_start=start,
        planned_end=end,
        go_no_go_at=go_no_go,
        rollback_by=rollback_by,
        work_status="planned",
    )
    incident.deadline_at = next_deadline(incident, ctx.now)
    incident.id = store.add_incident(incident)
    data = {"kind": intent.kind, "start": start.isoformat(), "end": end.isoformat() if end else None,
            "go_no_go": go_no_go.isoformat() if go_no_go else None, "rollback_by": rollback_by.isoformat() if rollback_by else None}
    record(store, incident, "planned", ctx, title, data)
    return Change(
        incident_id=incident.id,
        kind="planned",
        actor=ctx.actor,
        details={"kind": intent.kind, "title": title, "start": start},
        post_in_channel=False,
        refresh_header=False,
        set_up_channel=True,
    )


def next_deadline(incident: IncidentRecord, now: datetime) -> datetime | None:
    """The decision still ahead: the go/no-go time, then the rollback limit."""
    for at in (incident.go_no_go_at, incident.rollback_by):
        if at is not None and at > now:
            return at
    return None


def at_rollback_limit(incident: IncidentRecord) -> bool:
    """The deadline now asked about is the rollback limit: only Roll back or Stop remain."""
    return incident.rollback_by is not None and incident.deadline_at is not None and incident.deadline_at >= incident.rollback_by


# --- the runbook -------------------------------------------------------------------------------


def attach_runbook(store: IncidentStore, incident: IncidentRecord, intent: AttachRunbook, ctx: Context) -> Change:
    require_planned(incident)
    require_open(incident)
    try:
        plans = runbooks.parse_checklist(intent.text, intent.name or "") if intent.checklist else runbooks.parse_pasted(intent.text)
    except runbooks.RunbookError as error:
        raise IncidentError(error.message, field="steps") from None
    steps = store.steps(incident.id)
    if any(step.state != "pending" for step in steps):
        raise IncidentError(N_("Steps have already started; the runbook can no longer be replaced."), field="steps")
    store.replace_steps(incident.id, plans)
    incident.runbook_name = intent.name
    record(store, incident, "runbook", ctx, intent.name or "", {"steps": len(plans), "name": intent.name})
    return Change(
        incident.id, "runbook", ctx.actor, {"steps": len(plans), "name": intent.name},
        refresh_header=True, runbook="post",
    )


def step_action(store: IncidentStore, incident: IncidentRecord, intent: StepAction, ctx: Context) -> Change:
    """Start, Done, Failed, Skip: each allowed from one state only, so a second press is refused."""
    action, reason = intent.action, " ".join(intent.reason.split())
    steps = store.steps(incident.id)
    step = check_step_action(incident, steps, intent.number, action, reason)
    now = ctx.now
    if action == "start":
        step.state, step.started_at, step.started_by = "running", now, ctx.actor
        if incident.work_status == "planned":
            incident.work_status, incident.work_started_at = "in_progress", now
    else:
        step.state = {"done": "done", "failed": "failed", "skip": "skipped"}[action]
        step.ended_at, step.ended_by = now, ctx.actor
        step.reason = reason or None
    if action == "failed" and incident.escalation_since is None:
        start_escalation(incident, f"step:{step.number}", now)
    store.save_step(step)
    done = STEP_ACTIONS[action]
    data = {"number": step.number, "action": done, "owner": step.owner, "reason": step.reason}
    record(store, incident, "step", ctx, step.text, data)
    details = {"number": step.number, "action": done, "at": now, "total": len(steps)}
    return Change(incident.id, "step", ctx.actor, details, text=step.text if not reason else f"{step.text} · {reason}", refresh_header=action == "start", runbook="update")


def check_step_action(incident: IncidentRecord, steps: list[StepRecord], number: int, action: str, reason: str | None) -> StepRecord:
    """The step a press is about, if the press is allowed; else the reason. `reason` None: not asked yet
    (the Skip button asks for it in a form, after this check)."""
    require_planned(incident)
    require_open(incident)
    if action not in STEP_ACTIONS:
        raise IncidentError(N_("A step can be started, done, failed or skipped."))
    if not steps:
        raise IncidentError(N_("There is no runbook yet. Attach one with `/incident runbook`."))
    step = next((s for s in steps if s.number == number), None)
    if step is None:
        raise IncidentError(Message(N_("There is no step {number}; the runbook has steps 1 to {count}."), {"number": number, "count": len(steps)}))
    if action == "start" and step.state != "pending":
        raise IncidentError(_already(step))
    if action in ("done", "failed") and step.state != "running":
        raise IncidentError(_already(step) if step.state != "pending" else Message(N_("Step {number} has not started yet: start it first."), {"number": step.number}))
    if action == "skip":
        if step.state not in ("pending", "running"):
            raise IncidentError(_already(step))
        if reason is not None and not reason:
            raise IncidentError(Message(N_("Say why step {number} is skipped."), {"number": step.number}), field="reason")
    return step


def _already(step: StepRecord) -> Message:
    return Message(N_("Step {number} is already {state}; nothing was changed."), {"number": step.number, "state": Word("step_state", step.state)})


# --- the end, and turning into an incident -------------------------------------------------------------


def finish(store: IncidentStore, incident: IncidentRecord, intent: FinishWork, ctx: Context) -> Change:
    require_planned(incident)
    require_open(incident)
    if intent.outcome not in OUTCOMES:
        raise IncidentError(N_("Planned work ends completed, rolled back or stopped."))
    return _finish(store, incident, intent.outcome, ctx)


def _finish(store: IncidentStore, incident: IncidentRecord, outcome: str, ctx: Context) -> Change:
    incident.work_status, incident.work_ended_at = outcome, ctx.now
    incident.deadline_at = incident.deadline_what = None
    incident.escalation_since, incident.escalation_what = None, None
    # Over, as an incident is once resolved: reminders stop, buttons are refused, the review follows an escalated one.
    incident.status = "resolved"
    store.add_claim(incident.id, Claim("resolved", ctx.now, ctx.now, "command"), ctx.actor)
    record(store, incident, "finished", ctx, "", {"outcome": outcome})
    return Change(
        incident.id, "finished", ctx.actor, {"outcome": outcome, "kind": incident.kind},
        post_in_channel=False, runbook="update", work_log=True, post_postmortem=incident.escalated_at is not None,
    )


def escalate(store: IncidentStore, incident: IncidentRecord, intent: EscalateWork, ctx: Context) -> Change:
    require_planned(incident)
    require_open(incident)
    if incident.escalated_at is not None:
        raise IncidentError(Message(N_("This is already an incident ({severity}); nothing was changed."), {"severity": incident.severity}))
    severity = intent.severity or DEFAULT_ESCALATION_SEVERITY
    if severity not in SEVERITIES:
        raise IncidentError(Message(N_("Severity must be one of {severities}."), {"severities": ", ".join(SEVERITIES)}))
    incident.escalated_at, incident.severity = ctx.now, severity
    record(store, incident, "escalated", ctx, "", {"severity": severity})
    return Change(incident.id, "escalated", ctx.actor, {"severity": severity}, announce=True)


# --- the escalation chain ----------------------------------------------------------------------------------


def start_escalation(incident: IncidentRecord, what: str, now: datetime) -> None:
    incident.escalation_since, incident.escalation_what, incident.escalation_level = now, what, 0


def acknowledge(store: IncidentStore, incident: IncidentRecord, intent: AcknowledgeEscalation, ctx: Context) -> Change:
    require_planned(incident)
    since = incident.escalation_since
    if since is None or since.isoformat() != intent.since_iso:
        raise IncidentError(N_("This escalation was already acknowledged; nothing was changed."))
    what, level = incident.escalation_what, incident.escalation_level
    incident.escalation_since, incident.escalation_what = None, None
    record(store, incident, "escalation_ack", ctx, "", {"what": what, "level": level})
    return Change(incident.id, "escalation_ack", ctx.actor, {"what": what, "level": level}, refresh_header=False)


def escalation_sent(store: IncidentStore, incident: IncidentRecord, name: str, at: datetime) -> None:
    """The clock called the next person of the chain: on the timeline (who was called), and the chain moves on."""
    incident.escalation_level += 1
    called = escalation_target(store, incident, name)
    data = {"level": incident.escalation_level, "person": name, "what": incident.escalation_what}
    store.add_entry(incident.id, NewEntry("escalation", None, called, at, data))


_USER_ID = re.compile(r"^<?@?([UW][A-Z0-9]{2,})(?:\|[^>]*)?>?$")
LEAD_WORDS = ("lead", "commander")


def escalation_target(store: IncidentStore, incident: IncidentRecord, name: str) -> str:
    """Whom a chain's entry calls, as Slack markup: a user id (`U0123ABCD`), a role held in this work
    (`@release-lead` after `/incident role release-lead @ana`), `@lead` for whoever leads; else the name as written."""
    if match := _USER_ID.match(name):
        return f"<@{match[1]}>"
    bare = name.lstrip("@").lower()
    if bare in LEAD_WORDS and incident.commander_id:
        return f"<@{incident.commander_id}>"
    holder = store.role_holder(incident.id, bare)
    return f"<@{holder}>" if holder else name


def escalation_due(incident: IncidentRecord, chain: tuple) -> datetime | None:
    """When the next person of the chain is called: `@release-lead:3m,@po:5m` calls the release lead
    3 minutes after a step failed (or a prompt went out) unacknowledged, the PO 5 minutes later."""
    if incident.escalation_since is None or incident.escalation_level >= len(chain):
        return None
    waited = sum((interval for _, interval in chain[: incident.escalation_level + 1]), timedelta(0))
    return incident.escalation_since + waited


# --- go/no-go and the rollback limit -------------------------------------------------------------------------


def decide(store: IncidentStore, incident: IncidentRecord, intent: Decide, ctx: Context) -> Change:
    """The go/no-go prompt's choice for planned work: Continue goes on to the rollback limit;
    Roll back or Stop end the work. Past the rollback limit, Continue is not a choice."""
    require_open(incident)
    deadlines.check_choice(incident, intent)
    decision = intent.decision
    limit = at_rollback_limit(incident)
    if decision == "continue" and limit:
        raise IncidentError(N_("This is the rollback limit: the only choices are Roll back or Stop."))
    deadline = incident.deadline_at
    what = "rollback_limit" if limit else "go_no_go"
    data = {"decision": decision, "deadline": deadline.isoformat(), "what": "", "planned": what}
    if incident.escalation_what == "prompt":
        incident.escalation_since, incident.escalation_what = None, None  # the prompt is answered
    if decision == "continue":
        incident.deadline_at = next_deadline(incident, max(ctx.now, deadline))
        data["new_deadline"] = incident.deadline_at.isoformat() if incident.deadline_at else None
        record(store, incident, "decision", ctx, "", data)
        return Change(incident.id, "decision", ctx.actor, {"decision": decision, "next": incident.deadline_at, "planned": what})
    record(store, incident, "decision", ctx, "", data)
    change = Change(incident.id, "decision", ctx.actor, {"decision": decision, "planned": what})
    change.extra.append(_finish(store, incident, "rolled_back" if decision == "rollback" else "stopped", ctx))
    return change


def prompt_went_out(incident: IncidentRecord, at: datetime, chain: tuple) -> None:
    """The go/no-go or rollback prompt is due: unless answered, the chain is called."""
    if chain and incident.escalation_since is None:
        start_escalation(incident, "prompt", at)


# --- progress ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Progress:
    """What a decision needs: steps done of total, elapsed vs planned, failed or overrunning steps."""

    done: int  # done or skipped
    total: int
    elapsed: timedelta | None  # since the work started
    planned: timedelta | None  # the planned window, else the runbook's expected total
    failed: tuple[int, ...]
    overrunning: tuple[int, ...]
    current: StepRecord | None  # the running step, else the next one to do


def progress(incident: IncidentRecord, steps: list[StepRecord], now: datetime) -> Progress:
    running = [s for s in steps if s.state == "running"]
    nxt = running[0] if running else next((s for s in steps if s.state == "pending"), None)
    expected = sum((s.expected or 0) for s in steps)
    planned = (incident.planned_end - incident.planned_start) if incident.planned_end and incident.planned_start else (
        timedelta(minutes=expected) if expected else None
    )
    end = incident.work_ended_at or now
    return Progress(
        done=sum(1 for s in steps if s.state in ("done", "skipped")),
        total=len(steps),
        elapsed=end - incident.work_started_at if incident.work_started_at else None,
        planned=planned,
        failed=tuple(s.number for s in steps if s.state == "failed"),
        overrunning=tuple(s.number for s in running if overrun(s, now) is not None),
        current=nxt,
    )


def overrun(step: StepRecord, now: datetime) -> timedelta | None:
    """How far a running step is past its timeout, or None."""
    if step.state != "running" or step.timeout is None or step.started_at is None:
        return None
    late = now - (step.started_at + timedelta(minutes=step.timeout))
    return late if late > timedelta(0) else None


def overrun_at(step: StepRecord) -> datetime | None:
    if step.state != "running" or step.timeout is None or step.started_at is None or step.overrun_nudged_at is not None:
        return None
    return step.started_at + timedelta(minutes=step.timeout)


# --- rules every planned-work request keeps ----------------------------------------------------------------


def require_planned(incident: IncidentRecord) -> None:
    if not incident.is_planned_work:
        raise IncidentError(N_("This is an incident, not planned work: plan a release or a maintenance with `/incident plan`."))


def require_open(incident: IncidentRecord) -> None:
    if incident.work_status not in OPEN_STATES:
        raise IncidentError(
            Message(N_("This planned work is over ({status}); nothing was changed."), {"status": Word("work_status", incident.work_status or "completed")})
        )


def _duration(text: str, field: str) -> timedelta:
    length = runbooks.minutes(text)
    if length is None:
        raise IncidentError(Message(N_("`{text}` is not a duration; write e.g. 90m, 2h or 1h30m."), {"text": text[:40].replace("`", "'")}), field=field)
    return timedelta(minutes=length)
