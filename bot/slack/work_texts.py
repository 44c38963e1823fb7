"""The texts people read about planned work: the "before" and "after" reports, and what each change says.

In the reader's language (`t`); people's words (titles, steps, reasons) as they wrote them, defused.
"""

from __future__ import annotations

from datetime import datetime

from bot.domain.changes import Change
from bot.domain.records import IncidentRecord, StepRecord
from bot.i18n import Translator
from bot.slack.formatting import mention, safe
from bot.slack.work_blocks import KIND_EMOJI, minutes_text, progress_text, who, window

OUTCOME_EMOJI = {"completed": ":white_check_mark:", "rolled_back": ":leftwards_arrow_with_hook:", "stopped": ":octagonal_sign:"}
STEP_NOTICE_EMOJI = {"started": ":arrow_forward:", "done": ":white_check_mark:", "failed": ":x:", "skipped": ":fast_forward:"}


def _where(incident: IncidentRecord, t: Translator) -> str:
    return f"<#{incident.channel_id}>" if incident.channel_id else t._("planned work #{id}", id=incident.id)


def before_report(incident: IncidentRecord, steps: list[StepRecord], t: Translator) -> str:
    """What is planned, when, from which runbook, the decisions ahead and who runs it."""
    kind = t.word("work_kind", incident.kind)
    lines = [f"{KIND_EMOJI.get(incident.kind, '')} *" + t._("Planned {kind}", kind=kind) + f"* {_where(incident, t)}: {safe(incident.title, 300)}"]
    lines.append("• " + t._("Window: {window}", window=window(incident, t)))
    if steps:
        expected = sum(s.expected or 0 for s in steps)
        summary = t.ngettext("{n} step", "{n} steps", len(steps))
        if expected:
            summary += " · " + t._("~{total} expected", total=minutes_text(expected, t))
        first = ", ".join(f"{s.number}. {safe(s.text, 60)}" for s in steps[:5]) + (" …" if len(steps) > 5 else "")
        lines.append("• " + t._("Runbook: {summary}: {steps}", summary=summary, steps=first))
    else:
        lines.append("• " + t._("Runbook: none attached yet"))
    if incident.go_no_go_at:
        lines.append("• " + t._("Go/no-go: {at}", at=incident.go_no_go_at))
    if incident.rollback_by:
        lines.append("• " + t._("Rollback limit: {at}", at=incident.rollback_by))
    owners = list(dict.fromkeys(who(s.owner) for s in steps if s.owner))
    people = [mention(incident.commander_id)] if incident.commander_id else []
    lines.append("• " + t._("People: {people}", people=", ".join(dict.fromkeys(people + owners)) or "—"))
    return "\n".join(lines)


def after_report(incident: IncidentRecord, steps: list[StepRecord], now: datetime, t: Translator) -> str:
    """How it ended: the outcome, the planned and actual times, and each step that did not go to plan."""
    kind = t.word("work_kind", incident.kind)
    outcome = t.word("work_status", incident.work_status)
    head = f"{OUTCOME_EMOJI.get(incident.work_status, '')} *" + t._("{kind} {outcome}", kind=kind, outcome=outcome) + f"* {_where(incident, t)}: {safe(incident.title, 300)}"
    lines = [head, "• " + t._("Planned: {window}", window=window(incident, t))]
    if incident.work_started_at:
        lines.append("• " + t._("Actual: {start} → {end}", start=incident.work_started_at, end=t.clock(incident.work_ended_at or now)))
    lines.append("• " + progress_text(incident, steps, now, t))
    for step in steps:
        if step.state in ("failed", "skipped", "running", "pending") or step.overrun_nudged_at:
            note = t.word("step_state", step.state) + (" · " + safe(step.reason, 200) if step.reason else "")
            if step.overrun_nudged_at:
                note += " · " + t._("overran")
            lines.append(f"  ◦ {step.number}. {safe(step.text, 120)}: {note}")
    if incident.escalated_at:
        lines.append("• " + t._("Escalated to an incident ({severity}); the postmortem draft follows.", severity=incident.severity))
    lines.append("• " + t._("The work log is attached in the channel."))
    return "\n".join(lines)


def step_notice(change: Change, t: Translator) -> str:
    """`:white_check_mark: 22:14 [done] step 2: Stop the writers (@ken)`: the timeline entry, as posted."""
    d = change.details
    word = t.word("step_action", d["action"])
    by = f" ({mention(change.actor)})" if change.actor else ""
    return f"{STEP_NOTICE_EMOJI.get(d['action'], '')} {t.clock(d['at'])} [{word}] " + t._("step {number}: {text}", number=d["number"], text=safe(change.text, 500)) + by


def summary(change: Change, t: Translator) -> str | None:
    """What a planned-work change did, in a few words; None for kinds that are not planned work's."""
    d, kind = change.details, change.kind
    if kind == "planned":
        return f"{t.word('work_kind', d['kind'])} {d['title']} · {t.datetime(d['start'])}"
    if kind == "runbook":
        said = t.ngettext("{n} step", "{n} steps", d["steps"])
        return said + (f" (`{d['name']}`)" if d.get("name") else "")
    if kind == "step":
        return t._("step {number}: {action}", number=d["number"], action=t.word("step_action", d["action"]))
    if kind == "finished":
        return t.word("work_status", d["outcome"])
    if kind == "escalated":
        return t._("now an incident ({severity})", severity=d["severity"])
    if kind == "escalation_ack":
        return t._("escalation acknowledged")
    return None


def reply(change: Change, t: Translator) -> str | None:
    if change.kind != "planned":
        return None
    d = change.details
    said = t._("Planned {kind} #{id}: {title} at {at}. Opening its channel…", kind=t.word("work_kind", d["kind"]), id=change.incident_id, title=safe(d["title"], 300), at=d["start"])
    return f":white_check_mark: {said}"


def escalated_announcement(incident: IncidentRecord, t: Translator) -> str:
    said = t._("{kind} {title} became a {severity} incident", kind=t.word("work_kind", incident.kind), title=safe(incident.title, 300), severity=incident.severity)
    return f":rotating_light: *{said}* {_where(incident, t)}"
