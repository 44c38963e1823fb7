"""Modal submissions: declare an incident, update its status, set its severity, post an update.

Each form becomes one Request to the gate (bot/gate.py), under the same rules as the command
that does the same thing; a refusal is shown in the form, beside the input it is about.
"""

from __future__ import annotations

from bot.domain.changes import IncidentError
from bot.domain.records import FACTOR_CATEGORIES
from bot.domain.requests import (
    AttachRunbook,
    ChangeSeverity,
    ChangeStatus,
    Declare,
    FillPostmortem,
    Intent,
    PlanWork,
    PostUpdate,
    Request,
    StepAction,
    Via,
)
from bot.i18n import N_
from bot.services import Services
from bot.slack import blocks, work_blocks
from bot.slack.after_ack import run_after_ack
from bot.slack.formatting import markup_from_plain
from bot.slack.membership import MembershipUnknown


def register(app) -> None:
    app.view(blocks.START_FORM)(ack=submit_start_form, lazy=[run_after_ack])
    app.view(blocks.STATUS_FORM)(ack=submit_status_form, lazy=[run_after_ack])
    app.view(blocks.SEVERITY_FORM)(ack=submit_severity_form, lazy=[run_after_ack])
    app.view(blocks.UPDATE_FORM)(ack=submit_update_form, lazy=[run_after_ack])
    app.view(blocks.POSTMORTEM_FORM)(ack=submit_postmortem_form, lazy=[run_after_ack])
    app.view(work_blocks.PLAN_FORM)(ack=submit_plan_form, lazy=[run_after_ack])
    app.view(work_blocks.RUNBOOK_FORM)(ack=submit_runbook_form, lazy=[run_after_ack])
    app.view(work_blocks.SKIP_FORM)(ack=submit_skip_form, lazy=[run_after_ack])


def submit_start_form(ack, body: dict, view: dict, context, services: Services) -> None:
    values = _values(view)
    intent = Declare(
        title=markup_from_plain(values.get("title") or "").strip(),
        severity=values.get("severity") or None,
        private="private" in (values.get("private") or "").split(","),
        near_miss="near_miss" in (values.get("private") or "").split(","),
        description=markup_from_plain(values.get("description") or ""),
        started_text=values.get("impact_start") or None,
        origin_channel=view.get("private_metadata") or None,
        team_id=(body.get("team") or {}).get("id"),
    )
    _submit(ack, context, services, body, view, intent, {"title": "title", "started": "impact_start"})


def submit_status_form(ack, body: dict, view: dict, context, services: Services) -> None:
    values = _values(view)
    intent = ChangeStatus(values.get("status") or "", markup_from_plain(values.get("message") or ""))
    _submit(ack, context, services, body, view, intent, {None: "message"})


def submit_severity_form(ack, body: dict, view: dict, context, services: Services) -> None:
    intent = ChangeSeverity(_values(view).get("severity") or "")
    _submit(ack, context, services, body, view, intent, {None: "severity"})


def submit_update_form(ack, body: dict, view: dict, context, services: Services) -> None:
    """The nudge's "Post update": the same as `/incident update <text>`."""
    intent = PostUpdate(markup_from_plain(_values(view).get("update") or "").strip())
    _submit(ack, context, services, body, view, intent, {None: "update"})


def submit_postmortem_form(ack, body: dict, view: dict, context, services: Services) -> None:
    """"Fill in the postmortem": the same as the commands, all at once; the draft is posted again once resolved."""
    values = _values(view)

    def text(name: str) -> str:
        return markup_from_plain(values.get(name) or "").strip()

    def lines(name: str) -> tuple[str, ...]:
        return tuple(line.strip() for line in text(name).split("\n") if line.strip())

    intent = FillPostmortem(
        summary=text("summary"),
        impact=text("impact"),
        figures_text=(values.get("figures") or "").strip(),
        trigger=text("trigger"),
        cause=text("cause"),
        whys=lines("whys"),
        factors=tuple((category, lines(f"factor_{category}")) for category in FACTOR_CATEGORIES),
    )
    fields = {name: name for name in ("summary", "impact", "figures", "trigger", "cause", "whys")}
    _submit(ack, context, services, body, view, intent, {**fields, None: "summary"})


def submit_plan_form(ack, body: dict, view: dict, context, services: Services) -> None:
    """`/incident plan` with no text: the same as the command with these fields."""
    values = _values(view)
    intent = PlanWork(
        kind=values.get("kind") or "",
        title=markup_from_plain(values.get("title") or "").strip(),
        start_text=values.get("start") or "",
        duration_text=values.get("duration") or None,
        go_no_go_text=values.get("go_no_go") or None,
        rollback_text=values.get("rollback") or None,
        origin_channel=view.get("private_metadata") or None,
        team_id=(body.get("team") or {}).get("id"),
    )
    fields = {"kind": "kind", "title": "title", "start": "start", "duration": "duration", "go_no_go": "go_no_go", "rollback": "rollback", None: "title"}
    _submit(ack, context, services, body, view, intent, fields)


def submit_runbook_form(ack, body: dict, view: dict, context, services: Services) -> None:
    intent = AttachRunbook(text=markup_from_plain(_values(view).get("steps") or ""))
    _submit(ack, context, services, body, view, intent, {None: "steps"})


def submit_skip_form(ack, body: dict, view: dict, context, services: Services) -> None:
    """A step's Skip, with the reason asked for: the same as `/incident step <n> skip <reason>`."""
    incident, _, number = (view.get("private_metadata") or "").partition("|")
    intent = StepAction(int(number) if number.isdigit() else 0, "skip", markup_from_plain(_values(view).get("reason") or ""))
    _submit(ack, context, services, body, view, intent, {None: "reason"}, incident_id=int(incident) if incident.isdigit() else 0)


def _submit(ack, context, services: Services, body: dict, view: dict, intent: Intent, blocks_by_field: dict, incident_id: int | None = None) -> None:
    """Hand the form to the gate; a refusal is shown in the form, beside the input it is about."""
    metadata = view.get("private_metadata") or ""
    if incident_id is None:
        incident_id = None if isinstance(intent, (Declare, PlanWork)) else int(metadata) if metadata.isdigit() else 0
    request = Request(intent, actor=body["user"]["id"], via=Via.FORM, incident_id=incident_id)
    try:
        change = services.gate.submit(request)
    except IncidentError as error:
        # Shown in the form, in the language of whoever submitted it.
        block = blocks_by_field.get(error.field) or blocks_by_field.get(None) or next(iter(blocks_by_field.values()))
        return ack(response_action="errors", errors={block: services.t_for(request.actor)._(error.message)})
    except MembershipUnknown as error:
        block = blocks_by_field.get(None) or next(iter(blocks_by_field.values()))
        said = services.t_for(request.actor)._(
            N_("Slack would not say who is in the incident channel ({error}); nothing was changed."), error=str(error)
        )
        return ack(response_action="errors", errors={block: said})
    context["after_ack"] = change.all() if change else []
    ack()


def _values(view: dict) -> dict[str, str]:
    """{block_id: typed text or selected value} from a submitted view's state."""
    result: dict[str, str] = {}
    for block_id, actions in ((view.get("state") or {}).get("values") or {}).items():
        for element in actions.values():
            if element.get("type") == "static_select":
                result[block_id] = (element.get("selected_option") or {}).get("value") or ""
            elif element.get("type") == "checkboxes":
                result[block_id] = ",".join(o.get("value", "") for o in element.get("selected_options") or [])
            else:
                result[block_id] = element.get("value") or ""
    return result
