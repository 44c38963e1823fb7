"""The Slack side of a change, run after the request is acknowledged.

Listeners put what must happen in Slack into `context["after_ack"]`; Bolt
runs `run_after_ack` as a lazy listener once the ack is sent. Each step
fails alone: a Slack error is logged with the incident and the call, and
never undoes what is already recorded.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.domain import lifecycle
from bot.domain.changes import Change
from bot.i18n import Message
from bot.planned import delivery as work_delivery
from bot.postmortem.delivery import deliver_postmortem
from bot.reminders.planner import sync_incident
from bot.services import Services
from bot.slack import blocks, texts, work_blocks
from bot.slack.catchup import ShowCatchup, post_catchup
from bot.slack.channel_setup import invite, set_up_channel
from bot.slack.home import publish_home
from bot.stats.delivery import ShowStats, post_stats
from storage.incident_store import reading

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class OpenStartForm:
    trigger_id: str
    origin_channel: str
    severity: str | None = None
    private: bool = False
    user: str | None = None  # who opens it: the form is in their language
    near_miss: bool = False


@dataclass(frozen=True)
class OpenForm:
    """Open a modal for an incident (status or severity) from a header button."""

    trigger_id: str
    form: str  # a key of FORMS
    incident_id: int
    user: str | None = None


FORMS = {
    blocks.STATUS_FORM: blocks.status_form,
    blocks.SEVERITY_FORM: blocks.severity_form,
    blocks.UPDATE_FORM: blocks.update_form,
    blocks.POSTMORTEM_FORM: blocks.postmortem_form,
    work_blocks.RUNBOOK_FORM: lambda incident, t: work_blocks.runbook_form(incident.id, t),
}


@dataclass(frozen=True)
class OpenPlanForm:
    """`/incident plan` with no text: the form with the same fields."""

    trigger_id: str
    origin_channel: str
    user: str | None = None


@dataclass(frozen=True)
class OpenSkipForm:
    """A step's Skip button: a form asking why."""

    trigger_id: str
    incident_id: int
    number: int
    user: str | None = None


@dataclass(frozen=True)
class Ephemeral:
    """Something only `user` sees, in their language: a refusal's message (shown with :warning:)."""

    channel: str
    user: str
    message: str | Message

    def text(self, services: Services) -> str:
        return texts.refusal(self.message, services.t_for(self.user))


@dataclass(frozen=True)
class PublishHome:
    """Draw someone's App Home tab, with a notice at its top if something was refused."""

    user: str
    notice: str | Message | None = None


def run_after_ack(context, client: WebClient, respond, services: Services) -> None:
    for step in context.get("after_ack") or []:
        try:
            _run(step, client, respond, services)
        except Exception:
            log.exception("after-ack step %r failed", step)


def _run(step, client: WebClient, respond, services: Services) -> None:
    if isinstance(step, Change):
        apply_change(step, client, respond, services)
    elif isinstance(step, OpenStartForm):
        t = services.t_for(step.user)
        view = blocks.start_form(step.origin_channel, t, severity=step.severity or "P3", private=step.private, near_miss=step.near_miss)
        _call("views.open", client.views_open, trigger_id=step.trigger_id, view=view)
    elif isinstance(step, OpenForm):
        with reading(services.db) as store:
            incident = store.incident(step.incident_id)
            report = work_delivery.report_prefill(store, incident, services) if step.form == blocks.UPDATE_FORM else None
        view = FORMS[step.form](incident, services.t_for(step.user))
        if report:
            view["blocks"][0]["element"]["initial_value"] = report
        _call("views.open", client.views_open, trigger_id=step.trigger_id, view=view)
    elif isinstance(step, OpenPlanForm):
        view = work_blocks.plan_form(step.origin_channel, services.t_for(step.user))
        _call("views.open", client.views_open, trigger_id=step.trigger_id, view=view)
    elif isinstance(step, OpenSkipForm):
        view = work_blocks.skip_form(step.incident_id, step.number, services.t_for(step.user))
        _call("views.open", client.views_open, trigger_id=step.trigger_id, view=view)
    elif isinstance(step, Ephemeral):
        tell_privately(step.channel, step.user, step.text(services), client, respond)
    elif isinstance(step, ShowStats):
        post_stats(step, client, respond, services)
    elif isinstance(step, PublishHome):
        publish_home(step.user, client, services, step.notice)
    elif isinstance(step, ShowCatchup):
        post_catchup(step, client, services)


def apply_change(change: Change, client: WebClient, respond, services: Services) -> None:
    """Show a change in Slack: in the channel (and the announce channel) in the workspace's language."""
    settings = services.settings
    t = services.t
    if change.set_up_channel:
        set_up_channel(change.incident_id, client, respond, services)
        if change.kind == "retry":
            return  # nothing else changed; setup said how it went
    with reading(services.db) as store:
        incident = store.incident(change.incident_id)
        milestones = lifecycle.milestones(store, incident)
    if incident.channel_id is None:
        return  # setup failed; the declarer was told, and nothing else can be shown yet
    for user in change.invite:
        invite(client, incident.channel_id, user, incident.id)
    if change.post_in_channel:
        _call("chat.postMessage", client.chat_postMessage, channel=incident.channel_id, text=texts.notice(change, t), incident=incident.id)
    if change.refresh_header and incident.header_ts:
        if incident.is_planned_work:
            with reading(services.db) as store:
                header = work_blocks.header(incident, store.steps(incident.id), t)
        else:
            header = blocks.header(incident, milestones, t)
        _call(
            "chat.update",
            client.chat_update,
            channel=incident.channel_id,
            ts=incident.header_ts,
            text=blocks.header_text(incident, t),
            blocks=header,
            incident=incident.id,
        )
    if change.runbook or change.work_log:
        work_delivery.deliver(change, incident, client, services)
    announcement = texts.announcement(change, incident, t) if change.announce and change.kind != "declared" else None
    if announcement and settings.announce_channel:
        _call("chat.postMessage", client.chat_postMessage, channel=settings.announce_channel, text=announcement, incident=incident.id)
    if change.post_postmortem:
        deliver_postmortem(incident.id, client, services)
    if services.clock is not None:
        # Every change can move a reminder: an update restarts the nudge clock, a new severity
        # changes its cadence, resolution stops nudges and starts the review countdown.
        sync_incident(services, services.clock, incident.id)


def tell_privately(channel: str, user: str, text: str, client: WebClient, respond) -> None:
    """An ephemeral message in the channel. Slack refuses that to someone who is not in it (a
    refused non-member): then through the interaction's response_url, which reaches them
    anywhere, or, where there is none (a reaction event), by direct message."""
    try:
        client.chat_postEphemeral(channel=channel, user=user, text=text)
        return
    except SlackApiError as error:
        refusal = error.response.get("error")
    if refusal not in ("user_not_in_channel", "channel_not_found", "not_in_channel"):
        log.warning("could not tell %s privately in %s: %s", user, channel, refusal)
        return
    if respond is not None and getattr(respond, "response_url", None):
        try:
            respond(text=text, response_type="ephemeral", replace_original=False)
            return
        except Exception as error:  # noqa: BLE001 - the response_url expired
            refusal = f"{refusal}; response_url: {error}"
    try:
        client.chat_postMessage(channel=user, text=text)
    except SlackApiError as error:
        log.warning("could not tell %s privately (%s), nor by direct message: %s", user, refusal, error.response.get("error"))


def _call(method: str, function, incident: int | None = None, **kwargs) -> dict | None:
    try:
        return function(**kwargs).data
    except SlackApiError as error:
        log.warning("%s failed (incident %s): %s", method, incident, error.response.get("error"))
        return None
