"""`/incident …`: parse, hand the change to the gate (or answer a question), ack, then act in Slack."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field

from bot.domain import command_parser as cp
from bot.domain import deadlines, tags
from bot.domain.access import NOT_A_MEMBER
from bot.domain.changes import IncidentError
from bot.domain.requests import Declare, Request, Via
from bot.domain.times import utcnow
from bot.gate import NOT_AN_INCIDENT_CHANNEL
from bot.slack.formatting import safe
from bot.services import Services
from bot.slack import texts
from bot.slack.after_ack import OpenStartForm, run_after_ack
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
    try:
        parsed = cp.parse(command.get("text", ""))
    except cp.UsageError as error:
        return Outcome(f":warning: {error}")
    try:
        if isinstance(parsed, cp.Query):
            return _answer_question(parsed, command, services)
        return _change(parsed, command, services)
    except MembershipUnknown as error:
        return Outcome(f":warning: Slack would not tell me who is in this channel (`{error}`), so nothing was changed. Try again.")
    except IncidentError as error:
        return Outcome(f":warning: {error}")
    except Exception:
        ref = uuid.uuid4().hex[:8]
        log.exception(
            "/incident failed (ref %s) user=%s channel=%s text=%r",
            ref,
            command.get("user_id"),
            command.get("channel_id"),
            command.get("text", "")[:200],
        )
        return Outcome(texts.INTERNAL_ERROR.format(ref=ref))


def _change(intent, command: dict, services: Services) -> Outcome:
    user, channel = command["user_id"], command.get("channel_id", "")
    if isinstance(intent, Declare):
        if not intent.title:
            form = OpenStartForm(trigger_id=command.get("trigger_id", ""), origin_channel=channel, severity=intent.severity, private=intent.private)
            return Outcome("", [form])
        intent = Declare(
            title=intent.title, severity=intent.severity, private=intent.private,
            origin_channel=channel, team_id=command.get("team_id"),
        )
    change = services.gate.submit(Request(intent, actor=user, via=Via.COMMAND, channel_id=channel))
    return Outcome(texts.reply(change), change.all())


def _answer_question(query: cp.Query, command: dict, services: Services) -> Outcome:
    settings, now = services.settings, utcnow()
    user, channel = command["user_id"], command.get("channel_id", "")
    if isinstance(query, cp.Help):
        return Outcome(texts.help_text())
    if isinstance(query, cp.Stats):
        # Reading the window and drawing the chart wait for the lazy follow-up: the ack never does.
        return Outcome(working_on_it(query.range.label), [ShowStats(channel=channel, user=user, range=query.range)])
    with reading(services.db) as store:
        if isinstance(query, cp.ListOpen):
            return Outcome(texts.open_incidents_text(store.open_incidents(), settings.timezone, now))
        if isinstance(query, cp.ListActionItems):
            return Outcome(texts.action_items_text(store.open_action_items(), settings.timezone, now))
        # The rest are about the incident of the channel they are typed in, for its members only.
        incident = store.incident_in(channel)
    if incident is None:
        return Outcome(NOT_AN_INCIDENT_CHANNEL)
    if not services.is_member(channel, user):
        return Outcome(f":warning: {NOT_A_MEMBER}")
    with reading(services.db) as store:
        if isinstance(query, cp.Timeline):
            return Outcome(texts.timeline_text(incident, store.timeline(incident.id), settings.timezone))
        if isinstance(query, cp.ShowDeadline):
            return Outcome(deadlines.describe_deadline(incident, settings.timezone, now))
        if isinstance(query, cp.ListTags):
            return Outcome(tags.describe_tags(incident.id, store.tags(incident.id)))
    raise AssertionError(f"unhandled question {query!r}")
