"""The alert endpoints, served beside /slack/events by the same WSGI app (bot/slack/server.py).

    POST /alerts/alertmanager   Prometheus Alertmanager's webhook     Authorization: Bearer $ALERT_WEBHOOK_TOKEN
    POST /alerts/grafana        Grafana Alerting's webhook            Authorization: Bearer $ALERT_WEBHOOK_TOKEN
    POST /alerts/pagerduty      PagerDuty v3 webhooks                 X-PagerDuty-Signature, $PAGERDUTY_WEBHOOK_SECRET

Each request is: check who sent it, read at most 1 MB, parse (bot/alerts/payloads.py), apply
ALERT_RULES (bot/alerts/rules.py), hand one request to the gate, answer. The gate stores the
notification before the answer, so a 200 means it is kept; the Slack side runs afterwards
(bot/alerts/delivery.py), so the answer never waits for Slack. Every refusal is a 4xx with a
one-line reason and a log line; an endpoint whose secret is not set answers 404, as if absent.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.alerts import payloads
from bot.alerts.delivery import AlertDelivery
from bot.alerts.payloads import Notification, PayloadError
from bot.domain.alerts import AlertsChange, UnmatchedAlerts
from bot.domain.changes import IncidentError
from bot.domain.requests import ReceiveAlerts, Request, Via
from bot.domain.times import utcnow
from bot.services import Services

log = logging.getLogger(__name__)

PREFIX = "/alerts/"
MAX_BODY = 1024 * 1024  # 1 MB: Alertmanager's largest groups stay far below it
DISCARD_MOST = 8 * MAX_BODY  # how much of a refused body is read, so its sender hears the 413


@dataclass(frozen=True)
class Endpoint:
    source: str
    parse: Callable[[bytes], Notification | None]
    signed: bool  # PagerDuty signs the body; the others send a bearer token


ENDPOINTS = {
    "/alerts/alertmanager": Endpoint(payloads.ALERTMANAGER, payloads.alertmanager, signed=False),
    "/alerts/grafana": Endpoint(payloads.GRAFANA, payloads.grafana, signed=False),
    "/alerts/pagerduty": Endpoint(payloads.PAGERDUTY, payloads.pagerduty, signed=True),
}


class Refused(Exception):
    def __init__(self, status: int, reason: str, headers: tuple[tuple[str, str], ...] = ()):
        super().__init__(reason)
        self.status, self.reason, self.headers = status, reason, headers


_STATUS_TEXT = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 404: "Not Found", 405: "Method Not Allowed",
                413: "Payload Too Large", 422: "Unprocessable Entity", 503: "Service Unavailable"}


class AlertWebhooks:
    """The WSGI application for /alerts/*."""

    def __init__(self, services: Services, client: WebClient):
        settings = services.settings
        self._services = services
        self._secrets = {
            payloads.ALERTMANAGER: settings.alert_webhook_token,
            payloads.GRAFANA: settings.alert_webhook_token,
            payloads.PAGERDUTY: settings.pagerduty_webhook_secret,
        }
        self._delivery = AlertDelivery(services, client)
        self._bot = BotUser(client)
        if any(self._secrets.values()):
            self._bot.learn_soon()
            if settings.socket_mode:
                log.warning("ALERT_WEBHOOK_TOKEN or PAGERDUTY_WEBHOOK_SECRET is set, but in Socket Mode the bot serves no "
                            "HTTP: the /alerts/* endpoints need HTTP mode (SLACK_SIGNING_SECRET, no SLACK_APP_TOKEN)")

    def __call__(self, environ: dict, start_response) -> list[bytes]:
        started = time.monotonic()
        endpoint = ENDPOINTS.get(environ.get("PATH_INFO", ""))
        headers: tuple[tuple[str, str], ...] = ()
        try:
            status, answer = 200, self._handle(endpoint, environ, started)
        except Refused as refusal:
            status, answer, headers = refusal.status, {"ok": False, "error": refusal.reason}, refusal.headers
            if refusal.status != 404:
                log.warning("refused %s %s from %s: %s %s", environ.get("REQUEST_METHOD"), environ.get("PATH_INFO"),
                            environ.get("REMOTE_ADDR"), refusal.status, refusal.reason)
        except Exception:  # noqa: BLE001 - the database or a bug: never a traceback to the sender
            log.exception("alert notification to %s failed; answering 503 so the sender retries", environ.get("PATH_INFO"))
            status, answer = 503, {"ok": False, "error": "could not store the notification; try again"}
        body = (json.dumps(answer, ensure_ascii=False) + "\n").encode()
        start_response(f"{status} {_STATUS_TEXT.get(status, '')}",
                       [("Content-Type", "application/json; charset=utf-8"), ("Content-Length", str(len(body))), *headers])
        return [body]

    def _handle(self, endpoint: Endpoint | None, environ: dict, started: float) -> dict:
        secret = self._secrets.get(endpoint.source) if endpoint else None
        if endpoint is None or not secret:
            raise Refused(404, "not found")
        if environ.get("REQUEST_METHOD") != "POST":
            raise Refused(405, "use POST", (("Allow", "POST"),))
        if not endpoint.signed:
            _check_bearer(environ.get("HTTP_AUTHORIZATION", ""), secret)
        body = _read_body(environ)
        if endpoint.signed:
            _check_signature(environ.get("HTTP_X_PAGERDUTY_SIGNATURE", ""), body, secret)
        received_at = utcnow()
        try:
            notification = endpoint.parse(body)
        except PayloadError as error:
            raise Refused(400, str(error)) from None
        if notification is None:
            log.info("%s: ignored an event that is not an incident's trigger, acknowledgement or resolution", endpoint.source)
            return {"ok": True, "result": "ignored"}
        return self._receive(notification, received_at, started)

    def _receive(self, notification: Notification, received_at, started: float) -> dict:
        context = f"{notification.source} group {notification.group_key[:120]!r}"
        actor = self._bot.user_id()
        if actor is None:
            raise Refused(503, "the bot could not ask Slack who it is yet (auth.test); try again")
        intent = ReceiveAlerts(
            source=notification.source,
            group_key=notification.group_key,
            alerts=notification.alerts,
            declare=self._services.settings.alert_rules.declaration(notification.alerts),
            received_at=received_at,
        )
        try:
            outcome = self._services.gate.submit(Request(intent, actor=actor, via=Via.ALERT))
        except IncidentError as error:
            raise Refused(422, str(error).splitlines()[0] if str(error) else "refused") from None
        if outcome is not None:
            self._delivery.submit(outcome, context)
        answer = _answer(outcome)
        log.info("%s (%s, %d alert(s)%s): %s in %.0f ms", context, notification.status, len(notification.alerts),
                 f", {notification.truncated} truncated by the sender" if notification.truncated else "",
                 answer["result"] + (f" #{answer['incident']}" if "incident" in answer else ""),
                 (time.monotonic() - started) * 1000)
        return answer


def _answer(outcome) -> dict:
    if isinstance(outcome, AlertsChange):
        result = "declared" if outcome.set_up_channel else "added"
        return {"ok": True, "result": result, "incident": outcome.incident_id}
    if isinstance(outcome, UnmatchedAlerts):
        return {"ok": True, "result": "no rule matched"}
    return {"ok": True, "result": "nothing new"}


def _check_bearer(header: str, token: str) -> None:
    scheme, _, given = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), token.encode()):
        raise Refused(401, "missing or wrong bearer token (Authorization: Bearer $ALERT_WEBHOOK_TOKEN)",
                      (("WWW-Authenticate", 'Bearer realm="alerts"'),))


def _check_signature(header: str, body: bytes, secret: str) -> None:
    """PagerDuty's `v1=<hex HMAC-SHA256 of the raw body>`, several comma-separated while a secret rotates."""
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    given = [part.strip()[3:] for part in header.split(",") if part.strip().startswith("v1=")]
    if not any(hmac.compare_digest(signature.lower().encode(), expected.encode()) for signature in given):
        raise Refused(401, "missing or wrong X-PagerDuty-Signature")


def _read_body(environ: dict) -> bytes:
    length = environ.get("CONTENT_LENGTH") or ""
    stream = environ["wsgi.input"]
    if length:
        if not length.isdigit():
            raise Refused(400, "Content-Length is not a number")
        if int(length) > MAX_BODY:
            _discard(stream, int(length))
            raise Refused(413, f"the body is over {MAX_BODY // 1024} KB")
        return stream.read(int(length))
    if environ.get("HTTP_TRANSFER_ENCODING", "").lower() != "chunked":
        return b""  # no length and not chunked: an empty body (HTTP/1.1)
    body = stream.read(MAX_BODY + 1)
    if len(body) > MAX_BODY:
        raise Refused(413, f"the body is over {MAX_BODY // 1024} KB")
    return body


def _discard(stream, length: int) -> None:
    """Read a refused body (up to DISCARD_MOST) before answering: a sender still sending hears 413,
    not a connection reset in the middle of its request. A larger one is left unread."""
    left = min(length, DISCARD_MOST)
    while left > 0:
        chunk = stream.read(min(left, 64 * 1024))
        if not chunk:
            return
        left -= len(chunk)


class BotUser:
    """The bot's own Slack user, who declares the incidents alerts declare (auth.test, asked once)."""

    WAIT = 2.0  # how long a notification waits for an answer already being asked for

    def __init__(self, client: WebClient):
        self._client = client
        self._id: str | None = None
        self._lock = threading.Lock()

    def learn_soon(self) -> None:
        threading.Thread(target=self.user_id, name="bot-user", daemon=True).start()

    def user_id(self) -> str | None:
        if self._id is not None:
            return self._id
        if not self._lock.acquire(timeout=self.WAIT):
            return self._id
        try:
            if self._id is None:
                self._id = self._client.auth_test()["user_id"]
        except (SlackApiError, OSError, KeyError) as error:
            log.warning("auth.test failed, so alerts cannot declare yet: %s",
                        error.response.get("error") if isinstance(error, SlackApiError) else error)
        finally:
            self._lock.release()
        return self._id


_ATTACHED: "weakref.WeakKeyDictionary[object, AlertWebhooks]" = weakref.WeakKeyDictionary()


def attach(app, services: Services) -> None:
    """Give the Bolt app its alert endpoints; bot/slack/server.py serves them beside /slack/events."""
    _ATTACHED[app] = AlertWebhooks(services, app.client)


def for_app(app) -> AlertWebhooks | None:
    return _ATTACHED.get(app)
