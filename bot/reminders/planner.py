"""Reminders: keep each incident's timers in step with its record, and send them when they fire.

`sync_incident` turns the record into timers (bot.reminders.rhythm) and stores them
as clock jobs; `fire` is the job. A timer fires only if the record still wants
it at that time (an update posted meanwhile moves the nudge), and only once:
the first process to claim it in the database sends it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.domain.changes import IncidentError
from bot.domain.records import ActionItemRecord, IncidentRecord
from bot.domain.requests import ReminderSent, Request, Via
from bot.domain.times import utcnow
from bot.reminders import work_reminders
from bot.reminders.clock import Clock
from bot.reminders.rhythm import timers_for
from bot.services import Services
from bot.slack import blocks, texts
from storage.incident_store import reading

log = logging.getLogger(__name__)

INCIDENT_TIMER_KINDS = ("nudge", "lead", "deadline_warning", "deadline", "review", "start", "report", "escalate")


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


def sync_incident(
    services: Services, clock: Clock, incident_id: int, now: datetime | None = None, jobs: dict[str, datetime] | None = None
) -> None:
    """Make the clock's jobs for one incident (and its action items) match its record.

    `jobs` (job id -> run time) saves a look-up per job when re-planning many incidents at once.
    """
    now = now or utcnow()
    settings = services.settings
    with reading(services.db) as store:
        incident = store.incident(incident_id)
        if incident is None:
            return
        wanted = timers_for(store, incident, settings.rhythm, settings.timezone, now)
        slots = [f"{kind}:{incident_id}" for kind in INCIDENT_TIMER_KINDS]
        slots += [f"action:{item.id}" for item in store.action_items(incident_id)]
        slots += [f"overrun:{incident_id}:{step.number}" for step in store.steps(incident_id)]
        claimed = store.claimed_reminders([t.claim_key for t in wanted])

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
    with reading(services.db) as store:
        ids = store.incidents_wanting_reminders()
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
    services = runtime.services
    with reading(services.db) as store:
        item = store.action_item(subject_id) if kind == "action" else None
        incident_id = item.incident_id if item is not None else None if kind == "action" else subject_id
    if incident_id is None:
        return None
    step = int(job_id.rsplit(":", 1)[1]) if kind == "overrun" else None
    request = Request(
        ReminderSent(kind, f"{job_id}@{at.isoformat()}", at, item.id if item else None, step),
        actor=None, via=Via.CLOCK, incident_id=incident_id,
    )
    try:
        services.gate.submit(request)
    except IncidentError as refusal:  # no longer wanted, or another clock sent it
        log.info("reminder %s at %s not sent: %s", job_id, at.isoformat(), refusal)
        return incident_id
    with reading(services.db) as store:
        incident = store.incident(incident_id)
        item = store.action_item(item.id) if item else None
        if incident.is_planned_work:
            # Claimed and committed first: a crash after this loses one reminder rather than sending it twice.
            message = work_reminders.message(kind, incident, step, store, services, utcnow())
            if message is not None:
                _post(runtime.client, Outgoing(*message), incident_id)
                return incident_id
    # Claimed and committed first: a crash after this loses one reminder rather than sending it twice.
    _post(runtime.client, _message(kind, incident, item, services, utcnow()), incident_id)
    return incident_id


@dataclass(frozen=True)
class Outgoing:
    channel: str
    text: str
    blocks: list | None = None


def _message(kind: str, incident: IncidentRecord, item: ActionItemRecord | None, services: Services, now: datetime) -> Outgoing | None:
    """The reminder in the incident's channel, in the workspace's language; an action item's to its owner, in theirs."""
    settings, t = services.settings, services.t
    if kind == "action":
        return Outgoing(item.owner_id, *blocks.action_reminder(item, incident, now, services.t_for(item.owner_id)))
    if incident.channel_id is None:
        return None
    if kind == "nudge":
        cadence = settings.rhythm.cadence(incident.severity)
        return Outgoing(incident.channel_id, *blocks.nudge(incident, cadence, t))
    if kind == "lead":
        return Outgoing(incident.channel_id, *blocks.lead_nudge(incident, t))
    if kind in ("deadline_warning", "deadline"):
        return Outgoing(incident.channel_id, *blocks.decision_prompt(incident, now, t, final=kind == "deadline"))
    if kind == "review":
        return Outgoing(incident.channel_id, texts.review_reminder(incident, settings.rhythm.postmortem_due_days, t))
    raise ValueError(f"unknown reminder kind {kind!r}")


def _post(client: WebClient, message: Outgoing | None, incident_id: int) -> None:
    if message is None:
        return
    try:
        client.chat_postMessage(channel=message.channel, text=message.text, blocks=message.blocks)
    except SlackApiError as error:
        log.warning("reminder for incident %s could not be posted to %s: %s", incident_id, message.channel, error.response.get("error"))
