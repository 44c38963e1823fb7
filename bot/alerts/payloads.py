"""Each source's webhook payload, checked and read into plain values (bot.domain.records.Alert).

- Alertmanager's webhook (version 4): `groupKey`, `status`, `alerts[]` with `status`, `labels`,
  `annotations`, `startsAt`, `endsAt`, `generatorURL`, `fingerprint`.
- Grafana Alerting's webhook contact point: the same, plus `orgId` and, per alert, `panelURL`,
  `dashboardURL`, `silenceURL` and `values`.
- PagerDuty's v3 webhooks: one `event` with `event_type` and the incident as `event.data`.

A payload that is not JSON or not the documented shape is refused with PayloadError, whose message
is one line saying what is wrong (the HTTP answer and the log line). Nothing here talks to Slack
or storage, and nothing is translated: these are machines' words, and the alerts' own words are
kept as they came.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from datetime import datetime, timezone

from bot.domain.records import Alert

ALERTMANAGER, GRAFANA, PAGERDUTY = "alertmanager", "grafana", "pagerduty"
STATUSES = ("firing", "resolved")
PAGERDUTY_EVENTS = {"incident.triggered": "firing", "incident.acknowledged": "firing", "incident.resolved": "resolved"}
MAX_ALERTS = 1000
MAX_TEXT = 3000  # a label, annotation or title is cut to this
MAX_URL = 2000
# Alertmanager's "no time" (Go's zero time), sent as endsAt while an alert fires.
_BEFORE_ANY_ALERT = datetime(1971, 1, 1, tzinfo=timezone.utc)


class PayloadError(ValueError):
    """Not the payload this endpoint takes; the message is one line for the sender and the log."""


@dataclass(frozen=True)
class Notification:
    source: str
    group_key: str
    status: str  # firing | resolved: the group as a whole
    alerts: tuple[Alert, ...]
    truncated: int = 0  # alerts the sender left out (Alertmanager's max_alerts)


def alertmanager(body: bytes) -> Notification:
    payload = _json_object(body)
    return _group_notification(ALERTMANAGER, payload, _text(payload, "groupKey", required=True))


def grafana(body: bytes) -> Notification:
    payload = _json_object(body)
    org = payload.get("orgId", "")
    if not isinstance(org, (int, str)) or isinstance(org, bool):
        raise PayloadError("orgId is not a number")
    # Two Grafana organisations can use the same group key.
    return _group_notification(GRAFANA, payload, f"{org}:{_text(payload, 'groupKey', required=True)}")


def pagerduty(body: bytes) -> Notification | None:
    """A v3 webhook; None for an event type that is not an incident's trigger, acknowledgement or
    resolution (the subscription's test ping `pagey.ping`, notes, priority changes…)."""
    payload = _json_object(body)
    event = payload.get("event")
    if not isinstance(event, dict):
        raise PayloadError("no `event` object: not a PagerDuty v3 webhook")
    event_type = _text(event, "event_type", required=True)
    status = PAGERDUTY_EVENTS.get(event_type)
    if status is None:
        return None
    data = event.get("data")
    if not isinstance(data, dict) or data.get("type", "incident") != "incident":
        raise PayloadError(f"{event_type}: `event.data` is not an incident")
    incident_id = _text(data, "id", required=True)
    title = _text(data, "title") or _text(data, "summary") or incident_id
    occurred = _time(event, "occurred_at", "event")
    created = _time(data, "created_at", "event.data") or occurred
    if created is None:
        raise PayloadError(f"{event_type}: the incident has no created_at")
    labels = {"alertname": title, "source": PAGERDUTY}
    for name, value in (("service", _summary(data, "service")), ("urgency", _text(data, "urgency")),
                        ("priority", _summary(data, "priority")), ("status", _text(data, "status"))):
        if value:
            labels[name] = value
    acknowledged = event_type == "incident.acknowledged"
    alert = Alert(
        fingerprint=incident_id,
        status=status,
        name=title[:MAX_TEXT],
        starts_at=created,
        ends_at=occurred if status == "resolved" else None,
        labels=tuple(sorted(labels.items())),
        links=_links([("pagerduty", data.get("html_url"))]),
        acknowledged_by=(_summary(event, "agent") or "PagerDuty") if acknowledged else None,
        acknowledged_at=occurred if acknowledged else None,
        event_id=_text(event, "id") or None,
    )
    return Notification(PAGERDUTY, incident_id, status, (alert,))


# --- Alertmanager and Grafana ---------------------------------------------------------------------


def _group_notification(source: str, payload: dict, group_key: str) -> Notification:
    status = _text(payload, "status", required=True)
    if status not in STATUSES:
        raise PayloadError(f"status is {status[:40]!r}, not firing or resolved")
    alerts = payload.get("alerts")
    if not isinstance(alerts, list) or not alerts:
        raise PayloadError("no `alerts` list, or an empty one")
    if len(alerts) > MAX_ALERTS:
        raise PayloadError(f"{len(alerts)} alerts in one notification; at most {MAX_ALERTS} are taken")
    truncated = payload.get("truncatedAlerts", 0)
    parsed = tuple(_group_alert(source, alert, number) for number, alert in enumerate(alerts, start=1))
    return Notification(source, group_key, status, parsed, truncated if isinstance(truncated, int) else 0)


def _group_alert(source: str, alert: object, number: int) -> Alert:
    where = f"alert {number}"
    if not isinstance(alert, dict):
        raise PayloadError(f"{where} is not an object")
    labels = _string_map(alert, "labels", where)
    if not labels:
        raise PayloadError(f"{where} has no labels: an alert is named by its labels")
    annotations = _string_map(alert, "annotations", where)
    status = _text(alert, "status", required=True, where=where)
    if status not in STATUSES:
        raise PayloadError(f"{where}: status is {status[:40]!r}, not firing or resolved")
    starts_at = _time(alert, "startsAt", where)
    if starts_at is None:
        raise PayloadError(f"{where} has no startsAt")
    ends_at = _time(alert, "endsAt", where)
    fingerprint = _text(alert, "fingerprint", where=where) or _fingerprint(labels)
    links = [("source", alert.get("generatorURL"))]
    if source == GRAFANA:
        links += [("panel", alert.get("panelURL")), ("dashboard", alert.get("dashboardURL")),
                  ("silence", alert.get("silenceURL"))]
    return Alert(
        fingerprint=fingerprint[:200],
        status=status,
        name=labels.get("alertname") or next(f"{k}={v}" for k, v in sorted(labels.items())),
        starts_at=starts_at,
        ends_at=ends_at if status == "resolved" else None,
        summary=annotations.get("summary", ""),
        description=annotations.get("description", ""),
        labels=tuple(sorted(labels.items())),
        links=_links(links),
        values=_values(alert) if source == GRAFANA else "",
    )


def _fingerprint(labels: dict[str, str]) -> str:
    """For a sender that gives none: the labels name the alert, as Alertmanager's fingerprint does."""
    return hashlib.sha256(json.dumps(sorted(labels.items())).encode()).hexdigest()[:16]


def _values(alert: dict) -> str:
    """Grafana's `values` ({"B": 44.23943737541908, "C": 1}) as `B=44.24, C=1`; else its `valueString`."""
    values = alert.get("values")
    if isinstance(values, dict) and values:
        shown = [f"{name}={_number(value)}" for name, value in list(values.items())[:10]]
        return ", ".join(shown)[:300]
    text = alert.get("valueString")
    return text[:300] if isinstance(text, str) else ""


def _number(value: object) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return str(value)[:40]
    return f"{value:.4g}"


# --- reading values -----------------------------------------------------------------------------------


def _json_object(body: bytes) -> dict:
    try:
        payload = json.loads(body.decode("utf-8"))
    except UnicodeDecodeError:
        raise PayloadError("the body is not UTF-8") from None
    except json.JSONDecodeError as error:
        raise PayloadError(f"the body is not JSON ({error.msg} at line {error.lineno} column {error.colno})") from None
    if not isinstance(payload, dict):
        raise PayloadError("the body is JSON but not an object")
    return payload


def _text(data: dict, name: str, *, required: bool = False, where: str = "the payload") -> str:
    value = data.get(name)
    if value is None or value == "":
        if required:
            raise PayloadError(f"{where} has no `{name}`")
        return ""
    if not isinstance(value, str):
        raise PayloadError(f"{where}: `{name}` is not a string")
    return value.replace("\x00", "\ufffd")[:MAX_TEXT]


def _string_map(data: dict, name: str, where: str) -> dict[str, str]:
    value = data.get(name) or {}
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        raise PayloadError(f"{where}: `{name}` is not a map of strings to strings")
    return {k.replace("\x00", "\ufffd")[:200]: v.replace("\x00", "\ufffd")[:MAX_TEXT] for k, v in list(value.items())[:100]}


def _time(data: dict, name: str, where: str) -> datetime | None:
    """An RFC 3339 time; None when absent or Go's zero time (Alertmanager's "not ended")."""
    value = data.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise PayloadError(f"{where}: `{name}` is not a time")
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise PayloadError(f"{where}: `{name}` is {value[:40]!r}, not an RFC 3339 time") from None
    if parsed.tzinfo is None:
        raise PayloadError(f"{where}: `{name}` has no time zone")
    parsed = parsed.astimezone(timezone.utc)
    return None if parsed < _BEFORE_ANY_ALERT else parsed


def _summary(data: dict, name: str) -> str:
    """A PagerDuty reference's `summary` (a service, a priority, an agent), if there is one."""
    value = data.get(name)
    if isinstance(value, dict) and isinstance(value.get("summary"), str):
        return value["summary"][:200]
    return ""


def _links(pairs: list[tuple[str, object]]) -> tuple[tuple[str, str], ...]:
    """Only http(s) links of a sane length: a link the header shows must not be `javascript:`."""
    return tuple(
        (kind, url) for kind, url in pairs
        if isinstance(url, str) and url.startswith(("https://", "http://")) and len(url) <= MAX_URL
        and not any(c in url for c in " <>|\n\r\t")
    )
