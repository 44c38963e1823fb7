"""`/incident …`: parse, hand the change to the gate (or answer a question), ack, then act in Slack."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field

from bot.domain import command_parser as cp
from bot.domain import runbooks
from bot.domain.access import NOT_A_MEMBER
from bot.domain.changes import IncidentError
from bot.domain.requests import AttachRunbook, Declare, PlanWork, Request, UseRunbook, Via
from bot.domain.times import utcnow
from bot.gate import NOT_AN_INCIDENT_CHANNEL
from bot.i18n import N_, Message, Translator
from bot.services import Services
from bot.slack import texts, work_blocks
from bot.slack.after_ack import OpenForm, OpenPlanForm, OpenStartForm, run_after_ack
from bot.slack.catchup import catchup_text
from bot.slack.formatting import safe
from bot.slack.membership import MembershipUnknown
from bot.stats.delivery import ShowStats
from bot.stats.text import working_on_it
from storage.incident_store import reading

log = logging.getLogger(__name__)


def register(app) -> None:
    app.command("/incident")(ack=handle_incident_command, lazy=[run_after_ack])


@dataclass
class Outcome:
    text: str
    after_ack: list = field(default_factory=list)


def handle_incident_command(ack, command: dict, context, services: Services) -> None:
    outcome = answer(command, services)
    context["after_ack"] = outcome.after_ack
    ack(response_type="ephemeral", text=safe(outcome.text))  # replies echo what was typed: defuse it


def answer(command: dict, services: Services) -> Outcome:
    """The reply, in the language of whoever typed the command, and what to do after the ack."""
    t = services.t_for(command.get("user_id"))
    try:
        parsed = cp.parse(command.get("text", ""))
    except cp.UsageError as error:
        return Outcome(texts.refusal(error.message, t))
    try:
        if isinstance(parsed, cp.Query):
            return _answer_question(parsed, command, services, t)
        return _change(parsed, command, services, t)
    except MembershipUnknown as error:
        return Outcome(
            texts.refusal(
                Message(
                    N_("Slack would not tell me who is in this channel (`{error}`), so nothing was changed. Try again."),
                    {"error": str(error)},
                ),
                t,
            )
        )
    except IncidentError as error:
        return Outcome(texts.refusal(error.message, t))
    except Exception:
        ref = uuid.uuid4().hex[:8]
        log.exception(
            "/incident failed (ref %s) user=%s channel=%s text=%r",
            ref,
            command.get("user_id"),
            command.get("channel_id"),
            command.get("text", "")[:200],
        )
        return Outcome(t._(texts.INTERNAL_ERROR, ref=ref))


def _change(intent, command: dict, services: Services, t: Translator) -> Outcome:
    user, channel = command["user_id"], command.get("channel_id", "")
    if isinstance(intent, Declare):
        if not intent.title:
            form = OpenStartForm(
                trigger_id=command.get("trigger_id", ""), origin_channel=channel, severity=intent.severity,
                private=intent.private, near_miss=intent.near_miss, user=user,
            )
            return Outcome("", [form])
        intent = Declare(
            title=intent.title, severity=intent.severity, private=intent.private, near_miss=intent.near_miss,
            origin_channel=channel, team_id=command.get("team_id"),
        )
    if isinstance(intent, PlanWork):
        if not intent.kind:
            return Outcome("", [OpenPlanForm(trigger_id=command.get("trigger_id", ""), origin_channel=channel, user=user)])
        intent = PlanWork(**{**intent.__dict__, "origin_channel": channel, "team_id": command.get("team_id")})
    if isinstance(intent, AttachRunbook) and not intent.text:
        incident = _member_incident(channel, user, services)
        return Outcome("", [OpenForm(trigger_id=command.get("trigger_id", ""), form=work_blocks.RUNBOOK_FORM, incident_id=incident.id, user=user)])
    if isinstance(intent, UseRunbook):
        intent = _runbook_file(intent, services)
    change = services.gate.submit(Request(intent, actor=user, via=Via.COMMAND, channel_id=channel))
    return Outcome(texts.reply(change, t), change.all())


def _member_incident(channel: str, user: str, services: Services):
    """The incident of this channel, for a member: a form opens only for someone who could submit it."""
    with reading(services.db) as store:
        incident = store.incident_in(channel)
    if incident is None:
        raise IncidentError(NOT_AN_INCIDENT_CHANNEL)
    if not services.is_member(channel, user):
        raise IncidentError(NOT_A_MEMBER)
    return incident


def _runbook_file(intent: UseRunbook, services: Services) -> AttachRunbook:
    """`/incident runbook use <name>`: `<name>.md` in RUNBOOK_DIR, read here; the domain parses it."""
    folder = services.settings.runbook_dir
    if folder is None:
        raise IncidentError(N_("No runbook folder is set up (RUNBOOK_DIR). Paste the steps instead: `/incident runbook`."))
    try:
        name = runbooks.check_name(intent.name)
    except runbooks.RunbookError as error:
        raise IncidentError(error.message) from None
    path = folder / f"{name}.md"
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        log.info("runbook %s could not be read: %s", path, error)
        known = sorted(p.stem for p in folder.glob("*.md"))[:10] if folder.is_dir() else []
        raise IncidentError(
            Message(N_("There is no runbook `{name}`. Runbooks here: {known}."), {"name": name, "known": ", ".join(f"`{k}`" for k in known) or "—"})
        ) from None
    return AttachRunbook(text=text, name=name, checklist=True)


def _answer_question(query: cp.Query, command: dict, services: Services, t: Translator) -> Outcome:
    now = utcnow()
    user, channel = command["user_id"], command.get("channel_id", "")
    if isinstance(query, cp.Help):
        return Outcome(texts.help_text(t))
    if isinstance(query, cp.Stats):
        # Reading the window and drawing the chart wait for the lazy follow-up: the ack never does.
        return Outcome(working_on_it(query.range, t), [ShowStats(channel=channel, user=user, range=query.range)])
    with reading(services.db) as store:
        if isinstance(query, cp.ListOpen):
            return Outcome(texts.open_incidents_text(store.open_incidents(), now, t))
        if isinstance(query, cp.ListActionItems):
            return Outcome(texts.action_items_text(store.open_action_items(), now, t))
        # The rest are about the incident of the channel they are typed in, for its members only.
        incident = store.incident_in(channel)
    if incident is None:
        return Outcome(t._(NOT_AN_INCIDENT_CHANNEL))
    if not services.is_member(channel, user):
        return Outcome(texts.refusal(NOT_A_MEMBER, t))
    with reading(services.db) as store:
        if isinstance(query, cp.Timeline):
            return Outcome(texts.timeline_text(incident, store.timeline(incident.id), t))
        if isinstance(query, cp.ShowDeadline):
            return Outcome(texts.deadline_text(incident, now, t))
        if isinstance(query, cp.ListTags):
            return Outcome(texts.tags_text(incident.id, store.tags(incident.id), t))
        if isinstance(query, cp.Catchup):
            return Outcome(catchup_text(store, incident, now, t))
    raise AssertionError(f"unhandled question {query!r}")
