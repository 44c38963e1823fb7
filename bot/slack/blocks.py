"""Block Kit: the incident header message and the modals."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.alerts import texts as alert_texts
from bot.domain import times
from bot.domain.durations import format_duration
from bot.domain.records import SEVERITIES, STATUSES, ActionItemRecord, IncidentRecord, MilestoneTime
from bot.reminders.rhythm import DECISIONS
from bot.slack.formatting import plain, safe

# Action and callback ids: the contract between these views and bot/listeners.
UPDATE_STATUS = "incident_update_status"
SET_SEVERITY = "incident_set_severity"
RESOLVE = "incident_resolve"
START_FORM = "incident_start"
STATUS_FORM = "incident_status"
SEVERITY_FORM = "incident_severity"
UPDATE_FORM = "incident_update"
# Reminder buttons (bot/reminders/planner.py posts them, bot/listeners/actions.py answers them).
NUDGE_UPDATE = "nudge_post_update"
NUDGE_SNOOZE = "nudge_snooze"
LEAD_ME = "lead_me"
DECIDE = {decision: f"deadline_{decision}" for decision in DECISIONS}  # continue | rollback | stop
ACTION_DONE = "action_item_done"
ACTION_PUSH = "action_item_push"

PRIVATE_OPTION = {"text": {"type": "plain_text", "text": "Private channel, not announced with its title"}, "value": "private"}
STATUS_EMOJI = {"investigating": ":mag:", "identified": ":bulb:", "monitoring": ":eyes:", "resolved": ":white_check_mark:"}
SEVERITY_HELP = {
    "P1": "P1 · critical: most users affected",
    "P2": "P2 · major: many users or a key feature",
    "P3": "P3 · minor: some users, workaround exists",
    "P4": "P4 · low: little or no user impact",
}


def header(incident: IncidentRecord, milestones: dict[str, MilestoneTime], tz: ZoneInfo) -> list[dict]:
    """The pinned summary at the top of the channel, redrawn after every change."""

    def when(name: str) -> str:
        milestone = milestones[name]
        if milestone.at is None:
            return "—"
        note = " (declared)" if milestone.defaulted else alert_texts.milestone_note(milestone, tz)
        return times.show(milestone.at, tz) + note

    commander = f"<@{incident.commander_id}>" if incident.commander_id else "_nobody yet: `/incident lead @you`_"
    fields = [
        ("Severity", incident.severity),
        ("Status", f"{STATUS_EMOJI.get(incident.status, '')} {incident.status}"),
        ("Commander", commander),
        ("Declared by", f"<@{incident.declared_by}>"),
        ("Started", when("started")),
        ("Detected", when("detected")),
    ]
    fields += [(name.capitalize(), when(name)) for name in ("mitigated", "resolved") if milestones[name].at]
    blocks: list[dict] = [
        {"type": "header", "text": {"type": "plain_text", "text": _cut(f"{incident.severity} · {plain(incident.title)}", 150)}},
        {"type": "section", "fields": [{"type": "mrkdwn", "text": f"*{k}*\n{v}"} for k, v in fields]},
    ]
    if incident.description:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": safe(incident.description, 3000)}})
    blocks += alert_texts.header_blocks(incident, tz)  # the alerts that declared or joined it
    if incident.is_open:
        blocks.append(
            {
                "type": "actions",
                "block_id": "incident_header_actions",
                "elements": [
                    _button("Update status", UPDATE_STATUS, incident.id, style="primary"),
                    _button("Set severity", SET_SEVERITY, incident.id),
                    _button(
                        "Resolve",
                        RESOLVE,
                        incident.id,
                        style="danger",
                        confirm={
                            "title": {"type": "plain_text", "text": "Resolve the incident?"},
                            "text": {"type": "mrkdwn", "text": "The postmortem draft is posted here right away."},
                            "confirm": {"type": "plain_text", "text": "Resolve"},
                            "deny": {"type": "plain_text", "text": "Not yet"},
                        },
                    ),
                ],
            }
        )
    blocks.append(
        {
            "type": "context",
            "elements": [
                {
                    "type": "mrkdwn",
                    "text": f"Incident #{incident.id} · times in {tz.key} · react with :pushpin: :rotating_light: "
                    ":mag: :adhesive_bandage: :white_check_mark: to mark moments · `/incident help`",
                }
            ],
        }
    )
    return blocks


def header_text(incident: IncidentRecord) -> str:
    """Notification and fallback text for the header message."""
    return safe(f"{incident.severity} incident: {incident.title} ({incident.status})", 3000)


def start_form(origin_channel: str, severity: str = "P3", private: bool = False) -> dict:
    visibility = {
        "type": "input",
        "block_id": "private",
        "optional": True,
        "label": {"type": "plain_text", "text": "Visibility"},
        "element": {"type": "checkboxes", "action_id": "private", "options": [PRIVATE_OPTION]},
    }
    if private:
        visibility["element"]["initial_options"] = [PRIVATE_OPTION]
    return _modal(
        START_FORM,
        "Declare an incident",
        "Declare",
        origin_channel,
        [
            _text_input("title", "Title", "What is broken, as users see it", max_length=250),
            _select("severity", "Severity", [(SEVERITY_HELP[s], s) for s in SEVERITIES], initial=severity),
            _text_input("description", "Description", "What do we know so far?", optional=True, multiline=True),
            _text_input(
                "impact_start",
                "When did impact start?",
                "HH:MM, YYYY-MM-DD HH:MM or ISO 8601; empty if unknown",
                optional=True,
            ),
            visibility,
        ],
    )


def status_form(incident: IncidentRecord) -> dict:
    options = [(f"{STATUS_EMOJI[s]} {s}", s) for s in STATUSES]
    return _modal(
        STATUS_FORM,
        "Update status",
        "Post",
        str(incident.id),
        [
            _select("status", "Status", options, initial=incident.status),
            _text_input("message", "Update for stakeholders", "What changed, what is next, when the next update is", optional=True, multiline=True),
        ],
    )


def severity_form(incident: IncidentRecord) -> dict:
    options = [(SEVERITY_HELP[s], s) for s in SEVERITIES]
    return _modal(SEVERITY_FORM, "Set severity", "Set", str(incident.id), [_select("severity", "Severity", options, initial=incident.severity)])


def update_form(incident: IncidentRecord) -> dict:
    return _modal(
        UPDATE_FORM,
        "Post an update",
        "Post",
        str(incident.id),
        [_text_input("update", "Update for stakeholders", "What changed, what is next, when the next update is", multiline=True)],
    )


def nudge(incident: IncidentRecord, cadence: timedelta | None) -> tuple[str, list[dict]]:
    """Ask for a status update when none was posted for the severity's cadence."""
    who = f"<@{incident.commander_id}>" if incident.commander_id else f"<@{incident.declared_by}> (no commander yet)"
    since = format_duration(cadence) if cadence else "a while"
    text = (
        f":alarm_clock: {who}: no status update for {since} on this {incident.severity} incident. "
        "Post one so stakeholders know where things stand."
    )
    return text, [
        _section(text),
        _actions(
            "nudge_actions",
            _button("Post update", NUDGE_UPDATE, incident.id, style="primary"),
            _button("Snooze 30 min", NUDGE_SNOOZE, incident.id),
        ),
    ]


def lead_nudge(incident: IncidentRecord) -> tuple[str, list[dict]]:
    text = f":wave: Nobody is leading incident #{incident.id} yet. Who will be incident commander?"
    return text, [_section(text), _actions("lead_actions", _button("I'll lead", LEAD_ME, incident.id, style="primary"))]


def decision_prompt(incident: IncidentRecord, tz: ZoneInfo, now: datetime, *, final: bool) -> tuple[str, list[dict]]:
    """Ten minutes before and at the go/no-go deadline. The buttons name the deadline they decide."""
    when = times.show(incident.deadline_at, tz)
    what = f" Decide: {safe(incident.deadline_what, 500)}" if incident.deadline_what else ""
    if final:
        # The commander decides; the rest of the channel sees the prompt without being paged.
        lead = f"<@{incident.commander_id}> " if incident.commander_id else ""
        text = f":rotating_light: {lead}Go/no-go deadline reached ({when}).{what}"
    else:
        left = format_duration(incident.deadline_at - now)
        text = f":hourglass_flowing_sand: Go/no-go deadline in {left} ({when}).{what}"
    value = f"{incident.id}|{incident.deadline_at.isoformat()}"
    buttons = [
        _button(label, DECIDE[decision], incident.id, style="primary" if decision == "continue" else None, value=value)
        for decision, label in DECISIONS.items()
    ]
    return text, [_section(text), _actions("decision_actions", *buttons)]


def action_reminder(item: ActionItemRecord, incident: IncidentRecord, tz: ZoneInfo, now: datetime) -> tuple[str, list[dict]]:
    """The direct message an owner gets on the due day, and weekly while it is overdue."""
    today = now.astimezone(tz).date()
    late = (today - item.due_date).days
    due = f"due today ({item.due_date.isoformat()})" if late <= 0 else f"overdue by {late} days (due {item.due_date.isoformat()})"
    where = f"<#{incident.channel_id}>" if incident.channel_id else f"incident #{incident.id}"
    # A private incident's title stays in its channel, even in a direct message.
    title = ":lock: private" if incident.is_private else safe(incident.title, 200)
    text = f":clipboard: Action item #{item.id} from {where} ({title}) is {due}: {safe(item.text, 2000)}"
    value = f"{item.id}|{item.due_date.isoformat()}"
    return text, [
        _section(text),
        _actions(
            "action_item_actions",
            _button("Done", ACTION_DONE, item.id, style="primary", value=value),
            _button("Push a week", ACTION_PUSH, item.id, value=value),
        ),
    ]


def _section(text: str) -> dict:
    return {"type": "section", "text": {"type": "mrkdwn", "text": _cut(text, 3000)}}


def _actions(block_id: str, *elements: dict) -> dict:
    return {"type": "actions", "block_id": block_id, "elements": list(elements)}


def _modal(callback_id: str, title: str, submit: str, metadata: str, blocks: list[dict]) -> dict:
    return {
        "type": "modal",
        "callback_id": callback_id,
        "private_metadata": metadata,
        "title": {"type": "plain_text", "text": title},
        "submit": {"type": "plain_text", "text": submit},
        "close": {"type": "plain_text", "text": "Cancel"},
        "blocks": blocks,
    }


def _text_input(block_id: str, label: str, placeholder: str, *, optional: bool = False, multiline: bool = False, max_length: int = 3000) -> dict:
    return {
        "type": "input",
        "block_id": block_id,
        "optional": optional,
        "label": {"type": "plain_text", "text": label},
        "element": {
            "type": "plain_text_input",
            "action_id": block_id,
            "multiline": multiline,
            "max_length": max_length,
            "placeholder": {"type": "plain_text", "text": placeholder[:150]},
        },
    }


def _select(block_id: str, label: str, options: list[tuple[str, str]], initial: str) -> dict:
    as_options = [{"text": {"type": "plain_text", "text": text}, "value": value} for text, value in options]
    return {
        "type": "input",
        "block_id": block_id,
        "label": {"type": "plain_text", "text": label},
        "element": {
            "type": "static_select",
            "action_id": block_id,
            "options": as_options,
            "initial_option": next(o for o in as_options if o["value"] == initial),
        },
    }


def _button(
    text: str, action_id: str, incident_id: int, style: str | None = None, confirm: dict | None = None, value: str | None = None
) -> dict:
    button = {
        "type": "button",
        "text": {"type": "plain_text", "text": text},
        "action_id": action_id,
        "value": value or str(incident_id),
    }
    if style:
        button["style"] = style
    if confirm:
        button["confirm"] = confirm
    return button


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
