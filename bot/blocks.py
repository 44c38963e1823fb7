"""Block Kit: the incident header message and the modals."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from bot.domain import times
from bot.domain.command_parser import SEVERITIES, STATUSES
from bot.domain.postmortem_data import MilestoneTime
from bot.slack_format import plain, safe
from storage.models import Incident

# Action and callback ids: the contract between these views and bot/listeners.
UPDATE_STATUS = "incident_update_status"
SET_SEVERITY = "incident_set_severity"
RESOLVE = "incident_resolve"
START_FORM = "incident_start"
STATUS_FORM = "incident_status"
SEVERITY_FORM = "incident_severity"

STATUS_EMOJI = {"investigating": ":mag:", "identified": ":bulb:", "monitoring": ":eyes:", "resolved": ":white_check_mark:"}
SEVERITY_HELP = {
    "P1": "P1 · critical: most users affected",
    "P2": "P2 · major: many users or a key feature",
    "P3": "P3 · minor: some users, workaround exists",
    "P4": "P4 · low: little or no user impact",
}


def header(incident: Incident, milestones: dict[str, MilestoneTime], tz: ZoneInfo) -> list[dict]:
    """The pinned summary at the top of the channel, redrawn after every change."""

    def when(name: str) -> str:
        milestone = milestones[name]
        if milestone.at is None:
            return "—"
        note = " (declared)" if milestone.defaulted else ""
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


def header_text(incident: Incident) -> str:
    """Notification and fallback text for the header message."""
    return safe(f"{incident.severity} incident: {incident.title} ({incident.status})", 3000)


def start_form(origin_channel: str) -> dict:
    return _modal(
        START_FORM,
        "Declare an incident",
        "Declare",
        origin_channel,
        [
            _text_input("title", "Title", "What is broken, as users see it", max_length=200),
            _select("severity", "Severity", [(SEVERITY_HELP[s], s) for s in SEVERITIES], initial="P3"),
            _text_input("description", "Description", "What do we know so far?", optional=True, multiline=True),
            _text_input(
                "impact_start",
                "When did impact start?",
                "HH:MM, YYYY-MM-DD HH:MM or ISO 8601; empty if unknown",
                optional=True,
            ),
        ],
    )


def status_form(incident: Incident) -> dict:
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


def severity_form(incident: Incident) -> dict:
    options = [(SEVERITY_HELP[s], s) for s in SEVERITIES]
    return _modal(SEVERITY_FORM, "Set severity", "Set", str(incident.id), [_select("severity", "Severity", options, initial=incident.severity)])


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


def _button(text: str, action_id: str, incident_id: int, style: str | None = None, confirm: dict | None = None) -> dict:
    button = {"type": "button", "text": {"type": "plain_text", "text": text}, "action_id": action_id, "value": str(incident_id)}
    if style:
        button["style"] = style
    if confirm:
        button["confirm"] = confirm
    return button


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
