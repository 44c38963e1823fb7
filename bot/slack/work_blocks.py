"""Block Kit for planned work: the runbook message, its forms, the reports and prompts, in the reader's language.

The runbook message carries a row of buttons per step (Start, Done, Failed, Skip) and is
updated in place after every press; the reminders (planned start, report, overrun, escalation)
and the go/no-go prompt with progress are posted in the work's channel.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.domain import planned_work
from bot.domain.records import IncidentRecord, StepRecord
from bot.i18n import Translator
from bot.reminders.rhythm import DECISIONS
from bot.slack.blocks import DECIDE, NUDGE_UPDATE, _actions, _button, _cut, _modal, _section, _select, _text_input
from bot.slack.formatting import plain, safe

# Action and callback ids: the contract between these views and bot/listeners.
STEP_ACTIONS = {"start": "runbook_step_start", "done": "runbook_step_done", "failed": "runbook_step_failed", "skip": "runbook_step_skip"}
ESCALATION_ACK = "escalation_acknowledge"
PLAN_FORM = "planned_work_plan"
RUNBOOK_FORM = "planned_work_runbook"
SKIP_FORM = "planned_work_skip"

STEP_EMOJI = {"pending": ":white_circle:", "running": ":arrow_forward:", "done": ":white_check_mark:", "failed": ":x:", "skipped": ":fast_forward:"}
KIND_EMOJI = {"release": ":rocket:", "maintenance": ":wrench:"}


def who(owner: str | None) -> str:
    """A step's owner: a mention for a Slack user id, else the name as written (`@dba`)."""
    if not owner:
        return ""
    return f"<@{owner}>" if owner[:1] in "UW" and owner.isalnum() and owner.isupper() else safe(owner, 80)


def minutes_text(value: float | None, t: Translator) -> str:
    return t.duration(timedelta(minutes=value)) if value else "—"


def step_line(step: StepRecord, t: Translator, now: datetime) -> str:
    """`:arrow_forward: *2.* Stop the writers · @ana · ~10m · !15m · started 22:04`."""
    parts = [f"{STEP_EMOJI[step.state]} *{step.number}.* {safe(step.text, 300)}"]
    if step.owner:
        parts.append(who(step.owner))
    if step.expected:
        parts.append("~" + minutes_text(step.expected, t))
    if step.timeout:
        parts.append("!" + minutes_text(step.timeout, t))
    state = t.word("step_state", step.state)
    if step.state == "running":
        late = planned_work.overrun(step, now)
        state += " " + t.clock(step.started_at) + (" · " + t._("over its timeout by {late}", late=late) if late else "")
    elif step.ended_at:
        took = step.ended_at - step.started_at if step.started_at else None
        state += " " + t.clock(step.ended_at) + (f" ({t.duration(took)})" if took is not None else "")
    if step.reason:
        state += " · " + safe(step.reason, 300)
    parts.append(f"_{state}_")
    return " · ".join(parts)


def runbook_message(incident: IncidentRecord, steps: list[StepRecord], now: datetime, t: Translator) -> tuple[str, list[dict]]:
    """The runbook with a row of buttons per step, offering only what the step's state allows."""
    progress = planned_work.progress(incident, steps, now)
    heading = t._("Runbook: {done} of {total} steps done", done=progress.done, total=progress.total)
    if incident.runbook_name:
        heading += f" · `{safe(incident.runbook_name, 80)}`"
    blocks: list[dict] = [_section(f"{KIND_EMOJI.get(incident.kind, '')} *{heading}*")]
    open_work = incident.work_status in planned_work.OPEN_STATES
    for step in steps:
        blocks.append(_section(step_line(step, t, now)))
        offered = {"pending": ("start", "skip"), "running": ("done", "failed", "skip")}.get(step.state, ()) if open_work else ()
        if offered:
            labels = {"start": t._("Start"), "done": t._("Done"), "failed": t._("Failed"), "skip": t._("Skip")}
            styles = {"start": "primary", "done": "primary", "failed": "danger"}
            value = f"{incident.id}|{step.number}"
            buttons = [_button(labels[a], STEP_ACTIONS[a], incident.id, style=styles.get(a), value=value) for a in offered]
            blocks.append(_actions(f"runbook_step_{step.number}", *buttons))
    return heading, blocks


def plan_form(origin_channel: str, t: Translator) -> dict:
    kinds = [(t.word("work_kind", kind), kind) for kind in planned_work.KINDS]
    when = t._("HH:MM, YYYY-MM-DD HH:MM or ISO 8601")
    return _modal(
        PLAN_FORM, t._("Plan work"), t._("Plan"), origin_channel, t,
        [
            _select("kind", t._("Kind"), kinds, initial="release"),
            _text_input("title", t._("Title"), t._("What is released or maintained"), max_length=250),
            _text_input("start", t._("Planned start"), when),
            _text_input("duration", t._("Planned duration"), t._("e.g. 90m or 2h"), optional=True),
            _text_input("go_no_go", t._("Go/no-go time"), when, optional=True),
            _text_input("rollback", t._("Rollback limit"), t._("a time, or a duration from the start such as 2h"), optional=True),
        ],
    )


def runbook_form(incident_id: int, t: Translator) -> dict:
    return _modal(
        RUNBOOK_FORM, t._("Runbook"), t._("Attach"), str(incident_id), t,
        [_text_input("steps", t._("Steps, one per line"), t._("Stop the writers @owner ~10m !15m"), multiline=True)],
    )


def skip_form(incident_id: int, number: int, t: Translator) -> dict:
    return _modal(
        SKIP_FORM, t._("Skip step {number}", number=number), t._("Skip"), f"{incident_id}|{number}", t,
        [_text_input("reason", t._("Why is it skipped?"), t._("e.g. not needed: the index already exists"), max_length=500)],
    )


def status_line(incident: IncidentRecord, steps: list[StepRecord], now: datetime, t: Translator) -> str:
    """`22:15 [in progress] step 2/5: Stop the writers`: the report a release guide asks for."""
    progress = planned_work.progress(incident, steps, now)
    state = t.word("work_status", incident.work_status)
    if progress.current is None:
        return f"{t.clock(now)} [{state}] " + t._("{done}/{total} steps done", done=progress.done, total=progress.total)
    return f"{t.clock(now)} [{state}] " + t._("step {number}/{total}: {text}", number=progress.current.number, total=progress.total, text=plain(progress.current.text))


def progress_text(incident: IncidentRecord, steps: list[StepRecord], now: datetime, t: Translator) -> str:
    """What a go/no-go decision needs: steps done of total, elapsed vs planned, failed or overrunning steps."""
    p = planned_work.progress(incident, steps, now)
    parts = [t._("{done} of {total} steps done", done=p.done, total=p.total)]
    if p.elapsed is not None:
        planned = t.duration(p.planned) if p.planned else t._("no plan")
        parts.append(t._("{elapsed} elapsed of {planned} planned", elapsed=t.duration(p.elapsed), planned=planned))
    else:
        parts.append(t._("not started"))
    if p.failed:
        parts.append(t._("failed: step {numbers}", numbers=", ".join(str(n) for n in p.failed)))
    if p.overrunning:
        parts.append(t._("overrunning: step {numbers}", numbers=", ".join(str(n) for n in p.overrunning)))
    return " · ".join(parts)


def start_reminder(incident: IncidentRecord, steps: list[StepRecord], t: Translator) -> tuple[str, list[dict]]:
    lead = f"<@{incident.commander_id}> " if incident.commander_id else ""
    said = t._("{kind} {title} is due to start now ({at}).", kind=t.word("work_kind", incident.kind), title=safe(incident.title, 200), at=incident.planned_start)
    nxt = t._("Start step 1 in the runbook when ready.") if steps else t._("There is no runbook yet: `/incident runbook`.")
    text = f"{KIND_EMOJI.get(incident.kind, '')} {lead}{said} {nxt}"
    return text, [_section(text)]


def report_nudge(incident: IncidentRecord, steps: list[StepRecord], minutes: float, now: datetime, t: Translator) -> tuple[str, list[dict]]:
    who_leads = f"<@{incident.commander_id}>" if incident.commander_id else f"<@{incident.declared_by}>"
    since = t.duration(timedelta(minutes=minutes))
    said = t._("{person}: a status report is due (every {since}). For example:", person=who_leads, since=since)
    line = status_line(incident, steps, now, t)
    text = f":alarm_clock: {said}\n`{safe(line, 500)}`"
    return text, [_section(text), _actions("report_actions", _button(t._("Post report"), NUDGE_UPDATE, incident.id, style="primary"))]


def overrun_nudge(incident: IncidentRecord, step: StepRecord, now: datetime, t: Translator) -> tuple[str, list[dict]]:
    people = " ".join(dict.fromkeys(p for p in (who(step.owner), who(incident.commander_id)) if p))
    late = planned_work.overrun(step, now) or timedelta(0)
    said = t._(
        "step {number} ({text}) is over its timeout of {timeout} by {late}. Done, failed, or skip it, or say what is happening.",
        number=step.number, text=safe(step.text, 300), timeout=minutes_text(step.timeout, t), late=late,
    )
    text = f":hourglass: {people}: {said}".strip()
    return text, [_section(text)]


def escalation_call(incident: IncidentRecord, person: str, level: int, total: int, what: str | None, t: Translator) -> tuple[str, list[dict]]:
    """The next person of ESCALATION_CHAIN, with a button that stops the chain."""
    if what and what.startswith("step:"):
        reason = t._("step {number} failed", number=what.split(":", 1)[1])
    else:
        reason = t._("the go/no-go prompt is unanswered")
    said = t._("Escalation {level}/{total}: {person}, {reason} in {title}. Acknowledge to stop the chain.", level=level, total=total, person=person, reason=reason, title=safe(incident.title, 200))
    text = f":sos: {said}"
    value = f"{incident.id}|{incident.escalation_since.isoformat()}"
    return text, [_section(text), _actions("escalation_actions", _button(t._("Acknowledge"), ESCALATION_ACK, incident.id, style="primary", value=value))]


def decision_prompt(incident: IncidentRecord, steps: list[StepRecord], now: datetime, t: Translator, *, final: bool) -> tuple[str, list[dict]]:
    """The go/no-go (or rollback limit) prompt with the progress the decision needs. At the rollback
    limit the only choices are Roll back or Stop."""
    limit = planned_work.at_rollback_limit(incident)
    when = t.datetime(incident.deadline_at)
    what = t._("Rollback limit") if limit else t._("Go/no-go")
    lead = f"<@{incident.commander_id}> " if incident.commander_id and final else ""
    if final:
        head = t._("{what} reached ({at}).", what=what, at=when)
    else:
        head = t._("{what} in {left} ({at}).", what=what, left=t.duration(incident.deadline_at - now), at=when)
    only = " " + t._("Only Roll back or Stop remain.") if limit else ""
    text = f":vertical_traffic_light: {lead}{head}{only}\n{progress_text(incident, steps, now, t)}"
    value = f"{incident.id}|{incident.deadline_at.isoformat()}"
    choices = [d for d in DECISIONS if not (limit and d == "continue")]
    buttons = [_button(t.word("decision", d), DECIDE[d], incident.id, style="primary" if d == "continue" else None, value=value) for d in choices]
    return text, [_section(text), _actions("decision_actions", *buttons)]


def header(incident: IncidentRecord, steps: list[StepRecord], t: Translator) -> list[dict]:
    """The pinned summary of planned work, redrawn after every change."""
    kind = t.word("work_kind", incident.kind)
    escalated = t._(" · incident {severity}", severity=incident.severity) if incident.escalated_at else ""
    fields = [
        (t._("State"), t.word("work_status", incident.work_status) + escalated),
        (t._("Lead"), f"<@{incident.commander_id}>" if incident.commander_id else "—"),
        (t._("Window"), window(incident, t)),
        (t._("Go/no-go"), t.datetime(incident.go_no_go_at) if incident.go_no_go_at else "—"),
        (t._("Rollback limit"), t.datetime(incident.rollback_by) if incident.rollback_by else "—"),
        (t._("Runbook"), t.ngettext("{n} step", "{n} steps", len(steps)) if steps else t._("none yet: `/incident runbook`")),
    ]
    return [
        {"type": "header", "text": {"type": "plain_text", "text": _cut(f"{kind} · {plain(incident.title)}", 150)}},
        {"type": "section", "fields": [{"type": "mrkdwn", "text": f"*{k}*\n{v}"} for k, v in fields]},
        {"type": "context", "elements": [{"type": "mrkdwn", "text": t._(
            "{kind} #{id} · times in {zone} · `/incident step <n> start|done|failed|skip` · `/incident finish` · `/incident escalate`",
            kind=kind, id=incident.id, zone=t.tz.key)}]},
    ]


def window(incident: IncidentRecord, t: Translator) -> str:
    start = t.datetime(incident.planned_start) if incident.planned_start else "—"
    if incident.planned_end is None:
        return start
    return f"{start} → {t.clock(incident.planned_end)} ({t.duration(incident.planned_end - incident.planned_start)})"
