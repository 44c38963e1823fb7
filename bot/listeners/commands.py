"""`/incident …`: parse, change the incident in one unit of work, ack, then act in Slack."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field

from bot.slack import texts
from bot.domain import command_parser as cp
from bot.domain import deadlines, incidents, tags
from bot.domain import action_items
from bot.domain.incidents import Change, IncidentError
from bot.domain.times import utcnow
from bot.slack.after_ack import OpenStartForm, run_after_ack
from bot.slack.formatting import safe
from bot.slack.membership import MembershipUnknown, is_member
from bot.services import Services
from bot.stats.delivery import ShowStats
from bot.stats.text import working_on_it

log = logging.getLogger(__name__)


def register(app) -> None:
    app.command("/incident")(ack=handle_incident_command, lazy=[run_after_ack])


@dataclass
class Outcome:
    text: str
    after_ack: list = field(default_factory=list)


def handle_incident_command(ack, command: dict, context, client, services: Services) -> None:
    outcome = answer(command, services, client)
    context["after_ack"] = outcome.after_ack
    ack(response_type="ephemeral", text=safe(outcome.text))  # replies echo what was typed: defuse it


def answer(command: dict, services: Services, client=None) -> Outcome:
    try:
        parsed = cp.parse(command.get("text", ""))
    except cp.UsageError as error:
        return Outcome(f":warning: {error}")
    try:
        return _dispatch(parsed, command, services, client)
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


def _dispatch(parsed: cp.Command, command: dict, services: Services, client) -> Outcome:
    settings = services.settings
    user, channel, now = command["user_id"], command.get("channel_id", ""), utcnow()
    if isinstance(parsed, cp.Help):
        return Outcome(texts.help_text())
    if isinstance(parsed, cp.Start):
        if not parsed.title:
            form = OpenStartForm(trigger_id=command.get("trigger_id", ""), origin_channel=channel, severity=parsed.severity, private=parsed.private)
            return Outcome("", [form])
        with services.db.session() as session:
            change = incidents.declare(
                session,
                title=parsed.title,
                severity=parsed.severity or "P3",
                declared_by=user,
                now=now,
                team_id=command.get("team_id"),
                origin_channel_id=channel,
                is_private=parsed.private,
            )
        return Outcome(texts.reply(change), [change])
    if isinstance(parsed, cp.Retry):
        with services.db.session() as session:
            change = incidents.retry_setup(session, parsed.incident_ref, user)
        return Outcome(texts.reply(change), [change])
    if isinstance(parsed, cp.ListOpen):
        with services.db.session() as session:
            return Outcome(texts.open_incidents_text(incidents.open_incidents(session), settings.timezone, now))
    if isinstance(parsed, cp.ListActionItems):
        with services.db.session() as session:
            return Outcome(texts.action_items_text(action_items.open_action_items(session), settings.timezone, now))
    if isinstance(parsed, cp.Stats):
        # Reading the window and drawing the chart wait for the lazy follow-up: the ack never does.
        return Outcome(working_on_it(parsed.range.label), [ShowStats(channel=channel, user=user, range=parsed.range)])

    # Everything else acts on the incident of the channel it is typed in, for its members only.
    # Asked before the incident is locked, so no lock is held while Slack answers.
    with services.db.session() as session:
        if incidents.incident_for_channel(session, channel) is None:
            return Outcome(texts.NOT_AN_INCIDENT_CHANNEL)
    if client is not None and not is_member(client, channel, user):
        return Outcome(texts.NOT_A_MEMBER)
    with services.db.session() as session:
        incident = incidents.incident_for_channel(session, channel, for_update=True)
        if isinstance(parsed, cp.Timeline):
            return Outcome(texts.timeline_text(incident, incidents.timeline(session, incident), settings.timezone))
        if isinstance(parsed, cp.Deadline) and parsed.time_text is None and not parsed.clear:
            return Outcome(deadlines.describe_deadline(incident, settings.timezone, now))
        if isinstance(parsed, cp.Tag) and not parsed.tags:
            return Outcome(tags.describe_tags(session, incident))
        change = _change(session, incident, parsed, user, now, settings.timezone)
    return Outcome(texts.reply(change), change.all())


def _change(session, incident, parsed: cp.Command, user: str, now, tz) -> Change:
    if isinstance(parsed, cp.Status):
        return incidents.change_status(session, incident, parsed.status, parsed.message, user, now)
    if isinstance(parsed, cp.Update):
        return incidents.post_update(session, incident, parsed.text, user, now)
    if isinstance(parsed, cp.Severity):
        return incidents.change_severity(session, incident, parsed.severity, user, now)
    if isinstance(parsed, cp.Lead):
        return incidents.set_lead(session, incident, parsed.user_id, user, now)
    if isinstance(parsed, cp.Role):
        return incidents.set_role(session, incident, parsed.role, parsed.user_id, user, now)
    if isinstance(parsed, cp.Note):
        return incidents.add_note(session, incident, parsed.text, user, now)
    if isinstance(parsed, cp.SetMilestone):
        return incidents.set_milestone(session, incident, parsed.milestone, parsed.time_text, user, now, tz)
    if isinstance(parsed, cp.Action):
        return incidents.add_action(session, incident, parsed.text, parsed.owner_id, parsed.due_text, parsed.klass, user, now, tz)
    if isinstance(parsed, cp.Deadline):
        if parsed.clear:
            return deadlines.clear_deadline(session, incident, user, now)
        return deadlines.set_deadline(session, incident, parsed.time_text, parsed.what, user, now, tz)
    if isinstance(parsed, cp.Tag):
        return tags.add_tags(session, incident, list(parsed.tags), user, now)
    if isinstance(parsed, cp.Untag):
        return tags.remove_tags(session, incident, list(parsed.tags), user, now)
    if isinstance(parsed, cp.PostmortemDone):
        return action_items.mark_postmortem_done(session, incident, user, now)
    if isinstance(parsed, cp.RepostPostmortem):
        if incident.is_open:
            raise IncidentError("The postmortem draft is posted when the incident is resolved: `/incident resolve`.")
        return Change(incident.id, "postmortem", user, "posting the postmortem draft again", post_in_channel=False, refresh_header=False, post_postmortem=True)
    raise AssertionError(f"unhandled command {parsed!r}")
