"""Reminders: keep each incident's timers in step with its record, and send them when they fire.

`sync_incident` turns the record into timers (bot.reminders.rhythm) and stores them
as clock jobs; `fire` is the job. A timer fires only if the record still wants
it at that time (an update posted meanwhile moves the nudge), and only once:
the first process to claim it in the database sends it.
"""

from __future__ import annotations

import logging
import os
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.slack import blocks
from bot.slack import texts
from bot.domain import incidents
from bot.reminders.rhythm import IncidentState, Timer, action_timer, incident_timers
from bot.domain.timeline import insert_ignoring_duplicates
from bot.domain.times import utcnow
from bot.reminders.clock import Clock
from bot.services import Services
from storage.models import ActionItem, Incident, ReminderClaim, TimelineEntry

log = logging.getLogger(__name__)

# Entries that count as telling stakeholders where things stand.
UPDATE_KINDS = ("declared", "update", "status")
INCIDENT_TIMER_KINDS = ("nudge", "lead", "deadline_warning", "deadline", "review")
_WHO = f"{socket.gethostname()}:{os.getpid()}"


@dataclass
class Runtime:
    """What a firing job needs in this process; set when the clock starts."""

    services: Services
    client: WebClient
    clock: Clock


_runtime: Runtime | None = None


def install(services: Services, client: WebClient, clock: Clock) -> None:
    global _runtime
    _runtime = Runtime(services, client, clock)


# --- planning ------------------------------------------------------------------


def incident_state(session: Session, incident: Incident) -> IncidentState:
    last_update = session.scalar(
        select(func.max(TimelineEntry.occurred_at)).where(
            TimelineEntry.incident_id == incident.id, TimelineEntry.kind.in_(UPDATE_KINDS)
        )
    )
    resolved_at = incidents.milestones(session, incident)["resolved"].at if not incident.is_open else None
    return IncidentState(
        incident_id=incident.id,
        is_open=incident.is_open,
        severity=incident.severity,
        declared_at=incident.declared_at,
        commander_id=incident.commander_id,
        last_update_at=max(filter(None, (last_update, incident.declared_at))),
        last_nudge_at=incident.last_nudged_at,
        snoozed_until=incident.nudge_snoozed_until,
        deadline_at=incident.deadline_at,
        resolved_at=resolved_at,
        postmortem_done=incident.postmortem_done_at is not None,
    )


def timers_for(session: Session, incident: Incident, services: Services, now: datetime) -> list[Timer]:
    settings = services.settings
    timers = incident_timers(incident_state(session, incident), settings.rhythm, settings.timezone, now)
    for item in incident.action_items:
        timer = action_timer(item.id, item.owner_id, item.due_date, item.status != "done", item.last_reminded_at, settings.timezone, now)
        if timer is not None:
            timers.append(timer)
    return timers


def sync_incident(
    services: Services, clock: Clock, incident_id: int, now: datetime | None = None, jobs: dict[str, datetime] | None = None
) -> None:
    """Make the clock's jobs for one incident (and its action items) match its record.

    `jobs` (job id -> run time) saves a look-up per job when re-planning many incidents at once.
    """
    now = now or utcnow()
    with services.db.session() as session:
        incident = incidents.get_incident(session, incident_id)
        if incident is None:
            return
        wanted = timers_for(session, incident, services, now)
        slots = [f"{kind}:{incident_id}" for kind in INCIDENT_TIMER_KINDS]
        slots += [f"action:{item.id}" for item in incident.action_items]
        claimed = _claimed(session, [t.claim_key for t in wanted])

    def scheduled(job_id: str) -> datetime | None:
        return jobs.get(job_id) if jobs is not None else clock.scheduled(job_id)

    wanted_ids = {t.job_id for t in wanted if t.claim_key not in claimed}
    for slot in slots:
        if slot not in wanted_ids and (jobs is None or slot in jobs):
            clock.cancel(slot)
    for timer in wanted:
        if timer.job_id in wanted_ids and scheduled(timer.job_id) != timer.at:
            clock.schedule(timer)


def sync_all(services: Services, clock: Clock) -> int:
    """Re-plan every incident that can still want a reminder (run when a clock starts)."""
    with services.db.session() as session:
        ids = set(
            session.scalars(
                select(Incident.id).where(
                    (Incident.status != "resolved") | Incident.postmortem_done_at.is_(None)
                )
            )
        )
        ids |= set(session.scalars(select(ActionItem.incident_id).where(ActionItem.status != "done")))
    jobs = clock.jobs()
    for incident_id in sorted(ids):
        try:
            sync_incident(services, clock, incident_id, jobs=jobs)
        except Exception:
            log.exception("could not plan reminders for incident %s", incident_id)
    return len(ids)


def replan_all() -> None:
    """The clock job run when a clock starts."""
    if _runtime is not None:
        planned = sync_all(_runtime.services, _runtime.clock)
        log.info("reminder clock running: %d incidents planned", planned)


def _claimed(session: Session, keys: list[str]) -> set[str]:
    if not keys:
        return set()
    return set(session.scalars(select(ReminderClaim.key).where(ReminderClaim.key.in_(keys))))


def claim(session: Session, key: str, now: datetime) -> bool:
    """True for the one process that may send this reminder."""
    return insert_ignoring_duplicates(session, ReminderClaim, {"key": key, "claimed_at": now, "claimed_by": _WHO})


# --- firing ----------------------------------------------------------------------


def fire(job_id: str, kind: str, subject_id: int, at_iso: str) -> None:
    """The clock job. Sends the reminder if it is still wanted and nobody sent it yet."""
    runtime = _runtime
    if runtime is None:
        log.error("reminder %s fired in a process without a clock runtime", job_id)
        return
    at = datetime.fromisoformat(at_iso)
    try:
        incident_id = _send_if_due(runtime, job_id, kind, subject_id, at)
    except Exception:
        log.exception("reminder %s (%s) failed", job_id, at_iso)
        return
    if incident_id is not None:
        # Whatever happened, plan what comes next (the next nudge, next week's reminder).
        sync_incident(runtime.services, runtime.clock, incident_id)


def _send_if_due(runtime: Runtime, job_id: str, kind: str, subject_id: int, at: datetime) -> int | None:
    services, now = runtime.services, utcnow()
    with services.db.session() as session:
        if kind == "action":
            item = session.get(ActionItem, subject_id)
            if item is None:
                return None
            incident = incidents.get_incident(session, item.incident_id)
        else:
            item, incident = None, incidents.get_incident(session, subject_id)
        if incident is None:
            return None
        # Planned as of just before `at`: is this timer, at this time, still what the record wants?
        wanted = {t.job_id: t for t in timers_for(session, incident, services, at - timedelta(microseconds=1))}
        timer = wanted.get(job_id)
        if timer is None or timer.at != at:
            log.info("reminder %s at %s is no longer wanted; skipped", job_id, at.isoformat())
            return incident.id
        if not claim(session, timer.claim_key, now):
            log.info("reminder %s at %s was already sent by another clock", job_id, at.isoformat())
            return incident.id
        if kind == "nudge":
            incident.last_nudged_at = at
        elif kind == "action":
            item.last_reminded_at = at
        message = _message(kind, incident, item, services, now)
    # Committed first: a crash after this loses one reminder rather than sending it twice.
    _post(runtime.client, message, incident.id)
    return incident.id


@dataclass(frozen=True)
class Outgoing:
    channel: str
    text: str
    blocks: list | None = None


def _message(kind: str, incident: Incident, item: ActionItem | None, services: Services, now: datetime) -> Outgoing | None:
    settings = services.settings
    tz = settings.timezone
    if kind == "action":
        return Outgoing(item.owner_id, *blocks.action_reminder(item, incident, tz, now))
    if incident.channel_id is None:
        return None
    if kind == "nudge":
        cadence = settings.rhythm.cadence(incident.severity)
        return Outgoing(incident.channel_id, *blocks.nudge(incident, cadence))
    if kind == "lead":
        return Outgoing(incident.channel_id, *blocks.lead_nudge(incident))
    if kind in ("deadline_warning", "deadline"):
        return Outgoing(incident.channel_id, *blocks.decision_prompt(incident, tz, now, final=kind == "deadline"))
    if kind == "review":
        return Outgoing(incident.channel_id, texts.review_reminder(incident, settings.rhythm.postmortem_due_days))
    raise ValueError(f"unknown reminder kind {kind!r}")


def _post(client: WebClient, message: Outgoing | None, incident_id: int) -> None:
    if message is None:
        return
    try:
        client.chat_postMessage(channel=message.channel, text=message.text, blocks=message.blocks)
    except SlackApiError as error:
        log.warning("reminder for incident %s could not be posted to %s: %s", incident_id, message.channel, error.response.get("error"))
