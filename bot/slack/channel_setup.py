"""Give a declared incident its Slack channel: create, invite, topic, header, announce."""

from __future__ import annotations

import logging

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.domain import channel_names, lifecycle, planned_work
from bot.domain.changes import Change
from bot.i18n import N_
from bot.services import Services
from bot.slack import blocks, texts, work_blocks, work_texts
from bot.slack.formatting import channel_link, plain, safe
from storage.incident_store import reading, record_delivery

log = logging.getLogger(__name__)

MAX_NAME_ATTEMPTS = 20
INVALID_NAME = ("invalid_name", "invalid_name_specials", "invalid_name_punctuation", "invalid_name_maxlength", "invalid_name_required")


class SetupFailed(Exception):
    def __init__(self, step: str, error: str):
        super().__init__(f"{step} failed: {error}")
        self.step, self.error = step, error


def set_up_channel(incident_id: int, client: WebClient, respond, services: Services) -> None:
    """The channel, its topic and header in the workspace's language; the declarer hears how it went in theirs."""
    tz, t = services.settings.timezone, services.t
    with reading(services.db) as store:
        incident = store.incident(incident_id)
    # A retry after a failed setup announces only if the first attempt never got that far.
    announced_before = incident.header_ts is not None
    try:
        if incident.channel_id is None:
            channel_id, name = _create_channel(client, incident, tz)
            incident = record_delivery(services.db, incident_id, channel_id=channel_id, channel_name=name)
            services.incident_channels.remember(channel_id, incident_id)
        invite(client, incident.channel_id, incident.declared_by, incident.id)
        status = t.word("status", incident.status)
        topic = plain(f"{incident.severity} · {status} · {incident.title}")
        if incident.is_planned_work:
            topic = plain(f"{t.word('work_kind', incident.kind)} · {t.word('work_status', incident.work_status)} · {incident.title}")
        topic = channel_names.cut(topic, channel_names.MAX_TOPIC)
        _optional_step("conversations.setTopic", client.conversations_setTopic, channel=incident.channel_id, topic=topic)
        if incident.header_ts is None:
            with reading(services.db) as store:
                milestones = lifecycle.milestones(store, incident)
                steps = store.steps(incident.id)
            header = work_blocks.header(incident, steps, t) if incident.is_planned_work else blocks.header(incident, milestones, t)
            posted = client.chat_postMessage(channel=incident.channel_id, text=blocks.header_text(incident, t), blocks=header)
            record_delivery(services.db, incident_id, header_ts=posted["ts"])
            _optional_step("pins.add", client.pins_add, channel=incident.channel_id, timestamp=posted["ts"])
        incident = record_delivery(services.db, incident_id, setup_error=None)
    except SetupFailed as failure:
        _record_failure(incident_id, str(failure), services)
        said = services.t_for(incident.declared_by)._(
            N_(
                "Incident #{id} ({title}) is recorded, but its channel could not be set up: `{step}` failed with `{error}`. "
                "Nothing was lost: run `/incident retry {id}` to try again (and ask an admin to check the bot's "
                "permissions if it keeps failing)."
            ),
            id=incident.id, title=safe(incident.title, 200), step=failure.step, error=failure.error,
        )
        _tell_declarer(incident, f":x: {said}", client, respond)
        return
    except (SlackApiError, OSError) as error:
        # A Slack refusal, or a timeout or lost connection that the client's retries did not cure.
        failure = f"{error.response.get('error')}" if isinstance(error, SlackApiError) else f"{type(error).__name__}: {error}"
        _record_failure(incident_id, failure, services)
        declarer = services.t_for(incident.declared_by)
        if incident.channel_id:
            said = declarer._(
                N_("Incident #{id} is recorded in {channel}, but a setup step failed: `{error}`. Run `/incident retry {id}` to finish it."),
                id=incident.id, channel=channel_link(incident.channel_id), error=failure,
            )
        else:
            said = declarer._(
                N_("Incident #{id} is recorded, but a setup step failed: `{error}`. Run `/incident retry {id}` to finish it."),
                id=incident.id, error=failure,
            )
        _tell_declarer(incident, f":x: {said}", client, respond)
        return
    announce = services.settings.announce_channel
    if announce and announce != incident.channel_id and incident.setup_error is None and not announced_before:
        if incident.is_planned_work:
            with reading(services.db) as store:
                text = work_texts.before_report(incident, store.steps(incident.id), t)
        else:
            text = texts.announcement(Change(incident.id, "declared", incident.declared_by), incident, t)
        _optional_step("chat.postMessage", client.chat_postMessage, channel=announce, text=text)
    if incident.is_planned_work:
        said = services.t_for(incident.declared_by)._(
            N_("{kind} #{id} is planned in {channel}. Attach its runbook there with `/incident runbook`."),
            kind=services.t_for(incident.declared_by).word("work_kind", incident.kind), id=incident.id, channel=channel_link(incident.channel_id),
        )
        _tell_declarer(incident, f"{work_blocks.KIND_EMOJI.get(incident.kind, '')} {said}", client, respond)
        return
    said = services.t_for(incident.declared_by)._(
        N_("Incident #{id} is open in {channel}."), id=incident.id, channel=channel_link(incident.channel_id)
    )
    _tell_declarer(incident, f":rotating_light: {said}", client, respond)


def _create_channel(client: WebClient, incident, tz) -> tuple[str, str]:
    """Create `inc-YYYYMMDD-slug`, adding -2, -3… while the name is taken. When Slack refuses the
    name's characters, the next of channel_names.slug_choices: the ASCII slug, then the id alone."""
    title = plain(incident.title)
    slugs = channel_names.slug_choices(title, incident.id)
    choice, attempt = 0, 1
    prefix = planned_work.CHANNEL_PREFIX.get(incident.kind, "inc-")
    day = incident.planned_start or incident.declared_at  # a release's channel is named for the day it ships
    for _ in range(MAX_NAME_ATTEMPTS):
        name = channel_names.channel_name(title, day, tz, attempt, slug=slugs[choice], kind=prefix)
        try:
            response = client.conversations_create(name=name, is_private=incident.is_private)
            return response["channel"]["id"], response["channel"]["name"]
        except SlackApiError as error:
            code = error.response.get("error")
            if code == "name_taken":
                attempt += 1
            elif code in INVALID_NAME and choice + 1 < len(slugs):
                log.info("conversations.create refused %r (%s) for incident %s; trying %r", name, code, incident.id, slugs[choice + 1])
                choice, attempt = choice + 1, 1
            else:
                raise SetupFailed("conversations.create", code) from None
    raise SetupFailed("conversations.create", f"name_taken {MAX_NAME_ATTEMPTS} times")


def invite(client: WebClient, channel: str, user: str, incident_id: int) -> None:
    """Bring someone into the incident channel; a refusal is logged, never fatal."""
    try:
        client.conversations_invite(channel=channel, users=user)
    except SlackApiError as error:
        # Already there, or the bot itself: the person is in the channel either way.
        if error.response.get("error") not in ("already_in_channel", "cant_invite_self"):
            log.warning("conversations.invite failed for incident %s user %s: %s", incident_id, user, error.response.get("error"))


def _optional_step(method: str, function, **kwargs) -> None:
    """A step the incident can do without (topic, pin, announcement): log and go on."""
    try:
        function(**kwargs)
    except SlackApiError as error:
        log.warning("%s failed during incident setup: %s", method, error.response.get("error"))


def _record_failure(incident_id: int, failure: str, services: Services) -> None:
    log.error("incident %s setup failed: %s", incident_id, failure)
    record_delivery(services.db, incident_id, setup_error=failure)


def _tell_declarer(incident, text: str, client: WebClient, respond) -> None:
    """Through the command's response_url when there is one; a form has none, so by direct message."""
    if respond is not None and getattr(respond, "response_url", None):
        try:
            respond(text=text, response_type="ephemeral", replace_original=False)
            return
        except Exception as error:  # noqa: BLE001 - an expired response_url: fall back to a DM
            log.info("response_url for incident %s failed (%s); telling the declarer by DM", incident.id, error)
    try:
        client.chat_postMessage(channel=incident.declared_by, text=text)
    except SlackApiError as error:
        log.error("could not tell %s about incident %s: %s", incident.declared_by, incident.id, error.response.get("error"))
