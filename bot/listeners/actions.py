"""Buttons: the incident header (status, severity, resolve) and the reminders (nudges, deadlines, action items).

Each press becomes one Request to the gate (bot/gate.py), which applies the same rules as the
command that does the same thing; a refusal goes privately to whoever pressed.
"""

from __future__ import annotations

from bot.alerts import delivery as alert_delivery
from bot.alerts import texts as alert_texts
from bot.domain import access, lifecycle
from bot.domain.changes import IncidentError
from bot.domain.requests import (
    AcknowledgeEscalation,
    ChangeStatus,
    CompleteActionItem,
    ConfirmMitigated,
    Decide,
    DeclareFromAlerts,
    Intent,
    PushActionItem,
    Request,
    SetLead,
    SnoozeNudges,
    StepAction,
    Via,
)
from bot.gate import NO_SUCH_INCIDENT_FOR_BUTTON
from bot.i18n import N_, Message
from bot.services import Services
from bot.domain import planned_work
from bot.slack import blocks, work_blocks
from bot.slack.after_ack import Ephemeral, OpenForm, OpenSkipForm, PublishHome, run_after_ack
from bot.slack.membership import MembershipUnknown
from storage.incident_store import reading


def register(app) -> None:
    app.action(blocks.UPDATE_STATUS)(ack=open_status_form, lazy=[run_after_ack])
    app.action(blocks.SET_SEVERITY)(ack=open_severity_form, lazy=[run_after_ack])
    app.action(blocks.RESOLVE)(ack=resolve_incident, lazy=[run_after_ack])
    app.action(blocks.NUDGE_UPDATE)(ack=open_update_form, lazy=[run_after_ack])
    app.action(blocks.FILL_POSTMORTEM)(ack=open_postmortem_form, lazy=[run_after_ack])
    app.action(blocks.NUDGE_SNOOZE)(ack=snooze_nudges, lazy=[run_after_ack])
    app.action(blocks.LEAD_ME)(ack=take_the_lead, lazy=[run_after_ack])
    for action_id in blocks.DECIDE.values():
        app.action(action_id)(ack=decide_at_deadline, lazy=[run_after_ack])
    app.action(blocks.ACTION_DONE)(ack=complete_action_item, lazy=[run_after_ack])
    app.action(blocks.ACTION_PUSH)(ack=push_action_item, lazy=[run_after_ack])
    app.action(alert_texts.DECLARE)(ack=declare_from_alerts, lazy=[alert_delivery.run_after_button])
    app.action(alert_texts.MARK_MITIGATED)(ack=mark_mitigated_from_alerts, lazy=[run_after_ack])
    for action, action_id in work_blocks.STEP_ACTIONS.items():
        app.action(action_id)(ack=open_skip_form if action == "skip" else press_step, lazy=[run_after_ack])
    app.action(work_blocks.ESCALATION_ACK)(ack=acknowledge_escalation, lazy=[run_after_ack])


def open_status_form(ack, body: dict, action: dict, context, services: Services) -> None:
    ack()
    context["after_ack"] = _form_or_refusal(body, action, blocks.STATUS_FORM, services)


def open_severity_form(ack, body: dict, action: dict, context, services: Services) -> None:
    ack()
    context["after_ack"] = _form_or_refusal(body, action, blocks.SEVERITY_FORM, services)


def open_update_form(ack, body: dict, action: dict, context, services: Services) -> None:
    ack()
    context["after_ack"] = _form_or_refusal(body, action, blocks.UPDATE_FORM, services)


def open_postmortem_form(ack, body: dict, action: dict, context, services: Services) -> None:
    """The postmortem is written during the incident and after it: the form opens either way, for members."""
    ack()
    context["after_ack"] = _form_or_refusal(body, action, blocks.POSTMORTEM_FORM, services, open_only=False)


def resolve_incident(ack, body: dict, action: dict, context, services: Services) -> None:
    ack()
    context["after_ack"] = _submit(body, services, ChangeStatus("resolved"), _incident_id(action))


def snooze_nudges(ack, body: dict, action: dict, context, services: Services) -> None:
    ack()
    context["after_ack"] = _submit(body, services, SnoozeNudges(), _incident_id(action))


def take_the_lead(ack, body: dict, action: dict, context, services: Services) -> None:
    ack()
    user = body["user"]["id"]
    context["after_ack"] = _submit(body, services, SetLead(user, only_if_unled=True), _incident_id(action))


def decide_at_deadline(ack, body: dict, action: dict, context, services: Services) -> None:
    ack()
    decision = next(d for d, action_id in blocks.DECIDE.items() if action_id == action.get("action_id"))
    incident_ref, _, deadline_iso = str(action.get("value", "")).partition("|")
    incident_id = int(incident_ref) if incident_ref.isdigit() else 0
    context["after_ack"] = _submit(body, services, Decide(decision, deadline_iso), incident_id)


def complete_action_item(ack, body: dict, action: dict, context, services: Services) -> None:
    ack()
    item_id, _ = _item_value(action)
    context["after_ack"] = _for_home(body, _submit(body, services, CompleteActionItem(item_id)))


def push_action_item(ack, body: dict, action: dict, context, services: Services) -> None:
    ack()
    item_id, due = _item_value(action)
    context["after_ack"] = _for_home(body, _submit(body, services, PushActionItem(item_id, due)))


def declare_from_alerts(ack, body: dict, action: dict, context, services: Services) -> None:
    """Declare under alerts no rule matched (the announce channel): anyone may."""
    ack()
    value = str(action.get("value", ""))
    context["after_ack"] = _submit(body, services, DeclareFromAlerts(int(value) if value.isdigit() else 0))


def mark_mitigated_from_alerts(ack, body: dict, action: dict, context, services: Services) -> None:
    """Mitigated at the alerts' end, offered once every alert of the incident has resolved."""
    ack()
    incident_ref, _, at_iso = str(action.get("value", "")).partition("|")
    incident_id = int(incident_ref) if incident_ref.isdigit() else 0
    context["after_ack"] = _submit(body, services, ConfirmMitigated(at_iso), incident_id)


def press_step(ack, body: dict, action: dict, context, services: Services) -> None:
    """A runbook step's Start, Done or Failed: the same as `/incident step <n> start|done|failed`."""
    ack()
    pressed = next(a for a, action_id in work_blocks.STEP_ACTIONS.items() if action_id == action.get("action_id"))
    incident_id, number = _step_value(action)
    context["after_ack"] = _submit(body, services, StepAction(number, pressed), incident_id)


def open_skip_form(ack, body: dict, action: dict, context, services: Services) -> None:
    """Skip asks why first; the form's submission is the step's skip."""
    ack()
    user, channel = body["user"]["id"], _channel(body)
    incident_id, number = _step_value(action)
    try:
        with reading(services.db) as store:
            incident = store.incident(incident_id)
            steps = store.steps(incident_id) if incident else []
        if incident is None:
            raise IncidentError(NO_SUCH_INCIDENT_FOR_BUTTON)
        access.check_member(incident, user, services.is_member)
        # Refused with the reason the gate would give, before anyone types a reason.
        planned_work.check_step_action(incident, steps, number, "skip", reason=None)
    except IncidentError as error:
        context["after_ack"] = [Ephemeral(channel, user, error.message)]
        return
    except MembershipUnknown as error:
        context["after_ack"] = [Ephemeral(channel, user, _membership_unknown(error))]
        return
    context["after_ack"] = [OpenSkipForm(trigger_id=body.get("trigger_id", ""), incident_id=incident_id, number=number, user=user)]


def acknowledge_escalation(ack, body: dict, action: dict, context, services: Services) -> None:
    ack()
    incident_ref, _, since_iso = str(action.get("value", "")).partition("|")
    incident_id = int(incident_ref) if incident_ref.isdigit() else 0
    context["after_ack"] = _submit(body, services, AcknowledgeEscalation(since_iso), incident_id)


def _step_value(action: dict) -> tuple[int, int]:
    """`<incident id>|<step number>`; a malformed value names no step."""
    incident, _, number = str(action.get("value", "")).partition("|")
    return (int(incident) if incident.isdigit() else 0), (int(number) if number.isdigit() else 0)


def _submit(body: dict, services: Services, intent: Intent, incident_id: int | None = None) -> list:
    """One press, one request to the gate; a refusal goes privately to whoever pressed it."""
    user, channel = body["user"]["id"], _channel(body)
    try:
        change = services.gate.submit(Request(intent, actor=user, via=Via.BUTTON, incident_id=incident_id))
        return change.all() if change else []
    except IncidentError as error:
        return [Ephemeral(channel, user, error.message)]
    except MembershipUnknown as error:
        return [Ephemeral(channel, user, _membership_unknown(error))]


def _for_home(body: dict, steps: list) -> list:
    """A button on the App Home: redraw it first, with any refusal at its top (there is no channel to answer in)."""
    if (body.get("view") or {}).get("type") != "home":
        return steps
    refusals = [f.message for f in steps if isinstance(f, Ephemeral)]
    home = PublishHome(body["user"]["id"], notice=refusals[0] if refusals else None)
    return [home, *(f for f in steps if not isinstance(f, Ephemeral))]


def _form_or_refusal(body: dict, action: dict, form: str, services: Services, open_only: bool = True) -> list:
    """A form opens only for someone who could submit it: the incident is open (for a form that needs it)
    and they are in its channel."""
    user, channel = body["user"]["id"], _channel(body)
    try:
        with reading(services.db) as store:
            incident = store.incident(_incident_id(action) or 0)
        if incident is None:
            raise IncidentError(NO_SUCH_INCIDENT_FOR_BUTTON)
        if open_only:
            lifecycle.require_open(incident)
        access.check_member(incident, user, services.is_member)
    except IncidentError as error:
        return [Ephemeral(channel, user, error.message)]
    except MembershipUnknown as error:
        return [Ephemeral(channel, user, _membership_unknown(error))]
    return [OpenForm(trigger_id=body.get("trigger_id", ""), form=form, incident_id=incident.id, user=user)]


def _membership_unknown(error: MembershipUnknown) -> Message:
    return Message(N_("Slack would not say who is in the incident channel (`{error}`); nothing was changed."), {"error": str(error)})


def _channel(body: dict) -> str:
    return (body.get("channel") or {}).get("id", "") or (body.get("container") or {}).get("channel_id", "")


def _incident_id(action: dict) -> int | None:
    """The incident a button names; buttons outlive incidents, so the gate checks it still exists."""
    value = str(action.get("value", ""))
    return int(value) if value.isdigit() else 0


def _item_value(action: dict) -> tuple[int, str]:
    """`<item id>|<due date the button was made for>`; a malformed value names no item."""
    item, _, due = str(action.get("value", "")).partition("|")
    return (int(item) if item.isdigit() else 0), due
