"""The Slack side of an alert notification, after the webhook has answered.

The notification is stored before the answer (bot/alerts/webhooks.py); what Slack must show runs
here, on a small pool of threads the app owns: the channel of an incident an alert declared (through
the same setup and after-ack steps as any declaration), the alerts listed in the incident channel,
the offer to mark it mitigated, and alerts no rule matched in the announce channel. Deliveries for
one incident run one after another, in the order their notifications were stored, so an incident's
alerts never reach its channel before the channel exists. A failed step is logged with the incident
and the group, and never undoes what was stored.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.alerts import texts
from bot.domain.alerts import AlertsChange, UnmatchedAlerts
from bot.domain.requests import Via
from bot.services import Services
from bot.slack import after_ack
from bot.slack.channel_setup import set_up_channel
from storage.incident_store import reading

log = logging.getLogger(__name__)

WORKERS = 4
# How long an incident's alerts wait for its channel when another instance is still setting it up.
CHANNEL_PATIENCE = 15.0


class AlertDelivery:
    """A bounded pool of threads, with each incident's deliveries kept in order."""

    def __init__(self, services: Services, client: WebClient, workers: int = WORKERS):
        self._services = services
        self._client = client
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="alert-delivery")
        self._queues: dict[object, deque] = {}
        self._lock = threading.Lock()

    def submit(self, outcome: AlertsChange | UnmatchedAlerts, context: str) -> None:
        """Deliver `outcome` soon; `context` names the notification in log lines."""
        key = outcome.incident_id if isinstance(outcome, AlertsChange) else ("group", outcome.group_id)
        job = (lambda: deliver(outcome, self._client, self._services), context)
        with self._lock:
            queue = self._queues.setdefault(key, deque())
            queue.append(job)
            if len(queue) == 1:
                self._pool.submit(self._drain, key)

    def _drain(self, key: object) -> None:
        while True:
            with self._lock:
                run, context = self._queues[key][0]
            try:
                run()
            except Exception:
                log.exception("alert delivery failed (%s); what the notification recorded is kept", context)
            with self._lock:
                queue = self._queues[key]
                queue.popleft()
                if not queue:
                    del self._queues[key]
                    return


def deliver(outcome: AlertsChange | UnmatchedAlerts, client: WebClient, services: Services, respond=None) -> None:
    if isinstance(outcome, UnmatchedAlerts):
        post_unmatched(outcome, client, services)
    else:
        deliver_change(outcome, client, services, respond)


def deliver_change(change: AlertsChange, client: WebClient, services: Services, respond=None) -> None:
    """The generic Slack side of the change (channel setup, header, reminders), then the alerts.

    `respond` answers whoever pressed a button; for an alert there is nobody to answer, and what
    setup would tell the declarer goes to the log (a failure also to the announce channel).
    """
    t = services.t
    if not change.set_up_channel:
        _wait_for_channel(change.incident_id, services)
    after_ack.apply_change(change, client, respond or _Unheard(change.incident_id), services)
    with reading(services.db) as store:
        incident = store.incident(change.incident_id)
    if incident.channel_id is None:
        if change.set_up_channel and incident.setup_error and incident.declared_via == Via.ALERT.value:
            # Nobody declared it to be told: the announce channel is where people hear of it.
            _post(client, services.settings.announce_channel, texts.setup_failed(incident, t), None, change.incident_id)
        elif incident.setup_error:
            # Alerts keep coming while the channel is missing: each notification tries to finish it.
            log.info("incident %s has no channel yet (%s); setting it up again", incident.id, incident.setup_error)
            set_up_channel(incident.id, client, _Unheard(incident.id), services)
            with reading(services.db) as store:
                incident = store.incident(change.incident_id)
        if incident.channel_id is None:
            return
    message = texts.alerts_message(change, t)
    if message is not None:
        _post(client, incident.channel_id, *message, change.incident_id)
    if change.mitigated_at is not None:
        _post(client, incident.channel_id, *texts.mitigation_offer(incident.id, change.mitigated_at, t), incident.id)


def post_unmatched(unmatched: UnmatchedAlerts, client: WebClient, services: Services) -> None:
    channel = services.settings.announce_channel
    if channel is None:
        log.info("%d %s alert(s) matched no rule in ALERT_RULES; INCIDENT_ANNOUNCE_CHANNEL is not set, so they are "
                 "not posted (group %s)", len(unmatched.alerts), unmatched.source, unmatched.group_id)
        return
    _post(client, channel, *texts.unmatched_message(unmatched, services.t), None)


def run_after_button(context, client: WebClient, respond, services: Services) -> None:
    """Bolt's lazy listener for the alert buttons: alert changes here, anything else as after_ack does."""
    steps = context.get("after_ack") or []
    for step in steps:
        if isinstance(step, (AlertsChange, UnmatchedAlerts)):
            try:
                deliver(step, client, services, respond)
            except Exception:
                log.exception("after-ack alert step for incident %s failed", getattr(step, "incident_id", None))
    others = [step for step in steps if not isinstance(step, (AlertsChange, UnmatchedAlerts))]
    if others:
        after_ack.run_after_ack({"after_ack": others}, client, respond, services)


class _Unheard:
    """A `respond` for setup when nobody asked: what it would tell the declarer is logged."""

    response_url = "(alert: nobody to answer)"

    def __init__(self, incident_id: int):
        self._incident_id = incident_id

    def __call__(self, text: str = "", **_kwargs) -> None:
        log.info("incident %s (declared from an alert): %s", self._incident_id, text)


def _wait_for_channel(incident_id: int, services: Services, patience: float = CHANNEL_PATIENCE) -> None:
    """Another instance may be setting the incident up right now: give it a moment to make the channel."""
    deadline = time.monotonic() + patience
    while True:
        with reading(services.db) as store:
            incident = store.incident(incident_id)
        if incident.channel_id is not None or incident.setup_error is not None or time.monotonic() > deadline:
            return
        time.sleep(0.2)


def _post(client: WebClient, channel: str | None, text: str, blocks: list[dict] | None, incident_id: int | None) -> None:
    if channel is None:
        return
    try:
        client.chat_postMessage(channel=channel, text=text, blocks=blocks)
    except SlackApiError as error:
        log.warning("chat.postMessage failed for alerts (incident %s, channel %s): %s", incident_id, channel,
                    error.response.get("error"))

