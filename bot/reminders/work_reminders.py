"""Planned work's reminders as Slack messages: the planned start, reports, overruns, escalation, prompts with progress.

The planner (planner.py) claims each one through the gate first; this only says what to post
where, in the workspace's language. None leaves the reminder to the incident's own (an escalated
piece of work is nudged for updates like any incident).
"""

from __future__ import annotations

from datetime import datetime

from bot.domain import planned_work
from bot.domain.records import IncidentRecord
from bot.slack import work_blocks


def message(kind: str, incident: IncidentRecord, step_number: int | None, store, services, now: datetime) -> tuple | None:
    """(channel, text, blocks) for a planned-work reminder, or None when it is not one of these."""
    if incident.channel_id is None:
        return None
    t, settings = services.t, services.settings
    steps = store.steps(incident.id)
    channel = incident.channel_id
    if kind == "start":
        return (channel, *work_blocks.start_reminder(incident, steps, t))
    if kind == "report":
        return (channel, *work_blocks.report_nudge(incident, steps, settings.rhythm.report_minutes, now, t))
    if kind == "overrun":
        step = next((s for s in steps if s.number == step_number), None)
        return (channel, *work_blocks.overrun_nudge(incident, step, now, t)) if step else None
    if kind == "escalate":
        chain = settings.rhythm.escalation
        level = incident.escalation_level
        person = planned_work.escalation_target(store, incident, chain[level - 1][0])
        return (channel, *work_blocks.escalation_call(incident, person, level, len(chain), incident.escalation_what, t))
    if kind in ("deadline_warning", "deadline") and incident.deadline_at is not None:
        return (channel, *work_blocks.decision_prompt(incident, steps, now, t, final=kind == "deadline"))
    return None
