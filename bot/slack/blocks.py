"""Block Kit: the incident header message, the modals and the reminders, in the reader's language (`t`).

The header, nudges and prompts are posted in the channel (the workspace's language); a modal is
in the language of whoever opens it, an action item's reminder in its owner's.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.alerts import texts as alert_texts
from bot.domain.records import SEVERITIES, STATUSES, ActionItemRecord, IncidentRecord, MilestoneTime
from bot.i18n import Translator
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
# The postmortem form: a button on the header and on the postmortem summary opens it.
FILL_POSTMORTEM = "postmortem_fill"
POSTMORTEM_FORM = "incident_postmortem"

STATUS_EMOJI = {"investigating": ":mag:", "identified": ":bulb:", "monitoring": ":eyes:", "resolved": ":white_check_mark:"}


def status_label(status: str, t: Translator) -> str:
    return f"{STATUS_EMOJI.get(status, '')} {t.word('status', status)}"


def header(incident: IncidentRecord, milestones: dict[str, MilestoneTime], t: Translator) -> list[dict]:
    """The pinned summary at the top of the channel, redrawn after every change."""

    def when(name: str) -> str:
        milestone = milestones[name]
        if milestone.at is None:
            return "—"
        note = " " + t._("(declared)") if milestone.defaulted else alert_texts.milestone_note(milestone, t)
        return t.datetime(milestone.at) + note

    commander = f"<@{incident.commander_id}>" if incident.commander_id else "_" + t._("nobody yet: `/incident lead @you`") + "_"
    fields = [
        (t._("Severity"), incident.severity),
        (t._("Status"), status_label(incident.status, t)),
        (t._("Commander"), commander),
        (t._("Declared by"), f"<@{incident.declared_by}>"),
        (t._("Started"), when("started")),
        (t._("Detected"), when("detected")),
    ]
    fields += [(label, when(name)) for name, label in (("mitigated", t._("Mitigated")), ("resolved", t._("Resolved"))) if milestones[name].at]
    blocks: list[dict] = [
        {"type": "header", "text": {"type": "plain_text", "text": _cut(f"{incident.severity} · {plain(incident.title)}", 150)}},
        {"type": "section", "fields": [{"type": "mrkdwn", "text": f"*{k}*\n{v}"} for k, v in fields]},
    ]
    if incident.description:
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": safe(incident.description, 3000)}})
    blocks += alert_texts.header_blocks(incident, t)  # the alerts that declared or joined it
    if incident.is_open:
        blocks.append(
            {
                "type": "actions",
                "block_id": "incident_header_actions",
                "elements": [
                    _button(t._("Update status"), UPDATE_STATUS, incident.id, style="primary"),
                    _button(t._("Set severity"), SET_SEVERITY, incident.id),
                    _button(
                        t._("Resolve"),
                        RESOLVE,
                        incident.id,
                        style="danger",
                        confirm={
                            "title": {"type": "plain_text", "text": t._("Resolve the incident?")},
                            "text": {"type": "mrkdwn", "text": t._("The postmortem draft is posted here right away.")},
                            "confirm": {"type": "plain_text", "text": t._("Resolve")},
                            "deny": {"type": "plain_text", "text": t._("Not yet")},
                        },
                    ),
                    _fill_button(incident.id, t),
                ],
            }
        )
    else:
        blocks.append(_actions("incident_header_actions", _fill_button(incident.id, t)))
    blocks.append(
        {
            "type": "context",
            "elements": [
                {
                    "type": "mrkdwn",
                    "text": t._(
                        "Incident #{id} · times in {zone} · react with {emoji} to mark moments · `/incident help`",
                        id=incident.id, zone=t.tz.key, emoji=":pushpin: :rotating_light: :mag: :adhesive_bandage: :white_check_mark:",
                    ),
                }
            ],
        }
    )
    return blocks


def _fill_button(incident_id: int, t: Translator) -> dict:
    return _button(t._("Fill in the postmortem"), FILL_POSTMORTEM, incident_id)


def postmortem_summary(summary: str, incident_id: int, t: Translator) -> list[dict]:
    """The message posted beside the postmortem file, with the button that opens the postmortem form."""
    return [_section(summary), _actions("postmortem_actions", _fill_button(incident_id, t))]


def postmortem_form(incident: IncidentRecord, t: Translator) -> dict:
    """Everything the team writes into the postmortem, prefilled with what is already written."""
    from bot.domain.impact_figures import figures_text
    from bot.domain.records import FACTOR_CATEGORIES

    factors = incident.factors or {}
    fields = [
        _text_input("summary", t._("Summary"), t._("What happened, who noticed, how it ended"), optional=True, multiline=True,
                    initial=incident.summary),
        _text_input("impact", t._("Impact"), t._("Who was affected and how"), optional=True, multiline=True, initial=incident.impact),
        _text_input("figures", t._("Impact figures"), "users=12000 requests=150000 revenue=5000 slo=98.7%", optional=True,
                    initial=figures_text(incident.impact_figures)),
        _text_input("trigger", t._("Trigger"), t._("What set it off: a deploy, a config change, traffic…"), optional=True,
                    multiline=True, initial=incident.trigger),
        _text_input("cause", t._("Root cause"), t._("Why the system allowed it, not who"), optional=True, multiline=True,
                    initial=incident.cause),
        _text_input("whys", t._("5 whys, one a line"), t._("Why did users see the impact? Then why, and why again"), optional=True,
                    multiline=True, initial="\n".join(incident.whys or [])),
    ]
    fields += [
        _text_input(f"factor_{category}", t._("Fishbone: {category}, one a line", category=t.word("factor", category)),
                    t._("Contributing factors"), optional=True, multiline=True, initial="\n".join(factors.get(category) or []))
        for category in FACTOR_CATEGORIES
    ]
    return _modal(POSTMORTEM_FORM, t._("Fill in the postmortem"), t._("Save"), str(incident.id), t, fields)


def header_text(incident: IncidentRecord, t: Translator) -> str:
    """Notification and fallback text for the header message."""
    if incident.is_planned_work:
        return safe(f"{t.word('work_kind', incident.kind)}: {incident.title} ({t.word('work_status', incident.work_status)})", 3000)
    said = t._(
        "{severity} incident: {title} ({status})", severity=incident.severity, title=incident.title, status=t.word("status", incident.status)
    )
    return safe(said, 3000)


def start_form(origin_channel: str, t: Translator, severity: str = "P3", private: bool = False, near_miss: bool = False) -> dict:
    private_option = {"text": {"type": "plain_text", "text": t._("Private channel, not announced with its title")}, "value": "private"}
    near_miss_option = {"text": {"type": "plain_text", "text": t._("Near miss: users saw no impact")}, "value": "near_miss"}
    visibility = {
        "type": "input",
        "block_id": "private",
        "optional": True,
        "label": {"type": "plain_text", "text": t._("Visibility")},
        "element": {"type": "checkboxes", "action_id": "private", "options": [private_option, near_miss_option]},
    }
    chosen = [option for option, on in ((private_option, private), (near_miss_option, near_miss)) if on]
    if chosen:
        visibility["element"]["initial_options"] = chosen
    return _modal(
        START_FORM,
        t._("Declare an incident"),
        t._("Declare"),
        origin_channel,
        t,
        [
            _text_input("title", t._("Title"), t._("What is broken, as users see it"), max_length=250),
            _select("severity", t._("Severity"), _severities(t), initial=severity),
            _text_input("description", t._("Description"), t._("What do we know so far?"), optional=True, multiline=True),
            _text_input(
                "impact_start",
                t._("When did impact start?"),
                t._("HH:MM, YYYY-MM-DD HH:MM or ISO 8601; empty if unknown"),
                optional=True,
            ),
            visibility,
        ],
    )


def status_form(incident: IncidentRecord, t: Translator) -> dict:
    options = [(status_label(s, t), s) for s in STATUSES]
    return _modal(
        STATUS_FORM,
        t._("Update status"),
        t._("Post"),
        str(incident.id),
        t,
        [
            _select("status", t._("Status"), options, initial=incident.status),
            _text_input(
                "message", t._("Update for stakeholders"), t._("What changed, what is next, when the next update is"),
                optional=True, multiline=True,
            ),
        ],
    )


def severity_form(incident: IncidentRecord, t: Translator) -> dict:
    return _modal(
        SEVERITY_FORM, t._("Set severity"), t._("Set"), str(incident.id), t,
        [_select("severity", t._("Severity"), _severities(t), initial=incident.severity)],
    )


def update_form(incident: IncidentRecord, t: Translator) -> dict:
    return _modal(
        UPDATE_FORM,
        t._("Post an update"),
        t._("Post"),
        str(incident.id),
        t,
        [_text_input("update", t._("Update for stakeholders"), t._("What changed, what is next, when the next update is"), multiline=True)],
    )


def nudge(incident: IncidentRecord, cadence: timedelta | None, t: Translator) -> tuple[str, list[dict]]:
    """Ask for a status update when none was posted for the severity's cadence."""
    who = f"<@{incident.commander_id}>" if incident.commander_id else f"<@{incident.declared_by}> " + t._("(no commander yet)")
    since = t.duration(cadence) if cadence else t._("a while")
    said = t._(
        "{person}: no status update for {since} on this {severity} incident. Post one so stakeholders know where things stand.",
        person=who, since=since, severity=incident.severity,
    )
    text = f":alarm_clock: {said}"
    return text, [
        _section(text),
        _actions(
            "nudge_actions",
            _button(t._("Post update"), NUDGE_UPDATE, incident.id, style="primary"),
            _button(t._("Snooze 30 min"), NUDGE_SNOOZE, incident.id),
        ),
    ]


def lead_nudge(incident: IncidentRecord, t: Translator) -> tuple[str, list[dict]]:
    text = ":wave: " + t._("Nobody is leading incident #{id} yet. Who will be incident commander?", id=incident.id)
    return text, [_section(text), _actions("lead_actions", _button(t._("I'll lead"), LEAD_ME, incident.id, style="primary"))]


def decision_prompt(incident: IncidentRecord, now: datetime, t: Translator, *, final: bool) -> tuple[str, list[dict]]:
    """Ten minutes before and at the go/no-go deadline. The buttons name the deadline they decide."""
    when = t.datetime(incident.deadline_at)
    what = " " + t._("Decide: {what}", what=safe(incident.deadline_what, 500)) if incident.deadline_what else ""
    if final:
        # The commander decides; the rest of the channel sees the prompt without being paged.
        lead = f"<@{incident.commander_id}> " if incident.commander_id else ""
        text = f":rotating_light: {lead}" + t._("Go/no-go deadline reached ({at}).", at=when) + what
    else:
        left = t.duration(incident.deadline_at - now)
        text = ":hourglass_flowing_sand: " + t._("Go/no-go deadline in {left} ({at}).", left=left, at=when) + what
    value = f"{incident.id}|{incident.deadline_at.isoformat()}"
    buttons = [
        _button(t._(label), DECIDE[decision], incident.id, style="primary" if decision == "continue" else None, value=value)
        for decision, label in DECISIONS.items()
    ]
    return text, [_section(text), _actions("decision_actions", *buttons)]


def action_reminder(item: ActionItemRecord, incident: IncidentRecord, now: datetime, t: Translator) -> tuple[str, list[dict]]:
    """The direct message an owner gets on the due day, and weekly while it is overdue (in the owner's language)."""
    today = now.astimezone(t.tz).date()
    late = (today - item.due_date).days
    due_date = item.due_date.isoformat()
    if late <= 0:
        due = t._("due today ({date})", date=due_date)
    else:
        due = t.ngettext("overdue by {n} day (due {date})", "overdue by {n} days (due {date})", late, date=due_date)
    where = f"<#{incident.channel_id}>" if incident.channel_id else t._("incident #{id}", id=incident.id)
    # A private incident's title stays in its channel, even in a direct message.
    title = ":lock: " + t._("private") if incident.is_private else safe(incident.title, 200)
    said = t._(
        "Action item #{item} from {where} ({title}) is {due}: {text}",
        item=item.id, where=where, title=title, due=due, text=safe(item.text, 2000),
    )
    text = f":clipboard: {said}"
    value = f"{item.id}|{item.due_date.isoformat()}"
    return text, [
        _section(text),
        _actions(
            "action_item_actions",
            _button(t._("Done"), ACTION_DONE, item.id, style="primary", value=value),
            _button(t._("Push a week"), ACTION_PUSH, item.id, value=value),
        ),
    ]


def _section(text: str) -> dict:
    return {"type": "section", "text": {"type": "mrkdwn", "text": _cut(text, 3000)}}


def _actions(block_id: str, *elements: dict) -> dict:
    return {"type": "actions", "block_id": block_id, "elements": list(elements)}


def _modal(callback_id: str, title: str, submit: str, metadata: str, t: Translator, blocks: list[dict]) -> dict:
    return {
        "type": "modal",
        "callback_id": callback_id,
        "private_metadata": metadata,
        "title": {"type": "plain_text", "text": _cut(title, 24)},  # Slack's limits for a modal's title and buttons
        "submit": {"type": "plain_text", "text": _cut(submit, 24)},
        "close": {"type": "plain_text", "text": _cut(t._("Cancel"), 24)},
        "blocks": blocks,
    }


def _severities(t: Translator) -> list[tuple[str, str]]:
    """Each severity with what it means, as a select's options."""
    return [(t.word("severity", s), s) for s in SEVERITIES]


def _text_input(block_id: str, label: str, placeholder: str, *, optional: bool = False, multiline: bool = False, max_length: int = 3000,
                initial: str | None = None) -> dict:
    block = {
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
    if initial:
        # A form shows plain text: what a person typed as Slack markup (`&lt;`, `<@U…>`) is shown as they read it.
        block["element"]["initial_value"] = plain(initial)[:max_length]
    return block


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
