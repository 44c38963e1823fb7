"""What Alertmanager, Grafana and PagerDuty send to the bot: their documented sample payloads, and
builders for Alertmanager-shaped notifications, POSTed over real HTTP like the senders do.

The samples are the ones each vendor documents, as published (only the times and ids a test must
control are changed, by the builders below):
- Alertmanager: the version 4 webhook payload (prometheus.io/docs/alerting/latest/configuration/#webhook_config;
  a captured sample as shipped in the docs.rs crate alertmanager-webhook-types, assets/sample-v4-payload.json).
- Grafana: "Configure webhook notifications", JSON payload (grafana.com/docs/grafana/latest/alerting/
  configure-notifications/manage-contact-points/integrations/webhook-notifier/).
- PagerDuty: "V3 Webhooks overview", webhook payload and the `incident` event data type
  (developer.pagerduty.com/docs/webhooks/v3-overview), signed as "Verifying Signatures" says.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import urllib.error
import urllib.request
from datetime import datetime, timezone

ALERTMANAGER_SAMPLE = json.loads(r"""
{
  "receiver": "sms",
  "status": "firing",
  "alerts": [
    {
      "status": "firing",
      "labels": {
        "alertname": "ProbeFailure",
        "instance": "https://server.example.org",
        "job": "http_checks",
        "monitor": "master",
        "severity": "critical"
      },
      "annotations": {
        "description": "Instance https://server.example.org has been down for over 5m. Job: http_checks",
        "summary": "BlackBox Probe Failure: https://server.example.org"
      },
      "startsAt": "2023-02-06T13:08:45.828Z",
      "endsAt": "0001-01-01T00:00:00Z",
      "generatorURL": "http://prometheus.example.org:9090/graph?g0.expr=probe_success+%3D%3D+0\u0026g0.tab=1",
      "fingerprint": "1a30ba71cca2921f"
    }
  ],
  "groupLabels": {
    "alertname": "ProbeFailure"
  },
  "commonLabels": {
    "alertname": "ProbeFailure",
    "instance": "https://server.example.org",
    "job": "http_checks",
    "monitor": "master",
    "severity": "critical"
  },
  "commonAnnotations": {
    "description": "Instance https://server.example.org has been down for over 5m. Job: http_checks",
    "summary": "BlackBox Probe Failure: https://server.example.org"
  },
  "externalURL": "http://prometheus.example.org:9093",
  "version": "4",
  "groupKey": "{}/{severity=\"critical\"}:{alertname=\"ProbeFailure\"}",
  "truncatedAlerts": 0
}
""")

GRAFANA_SAMPLE = json.loads(r"""
{
  "receiver": "My Super Webhook",
  "status": "firing",
  "orgId": 1,
  "alerts": [
    {
      "status": "firing",
      "labels": {
        "alertname": "High memory usage",
        "team": "blue",
        "zone": "us-1"
      },
      "annotations": {
        "description": "The system has high memory usage",
        "runbook_url": "https://myrunbook.com/runbook/1234",
        "summary": "This alert was triggered for zone us-1"
      },
      "startsAt": "2021-10-12T09:51:03.157076+02:00",
      "endsAt": "0001-01-01T00:00:00Z",
      "generatorURL": "https://play.grafana.org/alerting/1afz29v7z/edit",
      "fingerprint": "c6eadffa33fcdf37",
      "silenceURL": "https://play.grafana.org/alerting/silence/new?alertmanager=grafana&matchers=alertname%3DT2%2Cteam%3Dblue%2Czone%3Dus-1",
      "dashboardURL": "",
      "panelURL": "",
      "values": {
        "B": 44.23943737541908,
        "C": 1
      }
    },
    {
      "status": "firing",
      "labels": {
        "alertname": "High CPU usage",
        "team": "blue",
        "zone": "eu-1"
      },
      "annotations": {
        "description": "The system has high CPU usage",
        "runbook_url": "https://myrunbook.com/runbook/1234",
        "summary": "This alert was triggered for zone eu-1"
      },
      "startsAt": "2021-10-12T09:56:03.157076+02:00",
      "endsAt": "0001-01-01T00:00:00Z",
      "generatorURL": "https://play.grafana.org/alerting/d1rdpdv7k/edit",
      "fingerprint": "bc97ff14869b13e3",
      "silenceURL": "https://play.grafana.org/alerting/silence/new?alertmanager=grafana&matchers=alertname%3DT1%2Cteam%3Dblue%2Czone%3Deu-1",
      "dashboardURL": "",
      "panelURL": "",
      "values": {
        "B": 44.23943737541908,
        "C": 1
      }
    }
  ],
  "groupLabels": {},
  "commonLabels": {
    "team": "blue"
  },
  "commonAnnotations": {},
  "externalURL": "https://play.grafana.org/",
  "version": "1",
  "groupKey": "{}:{}",
  "truncatedAlerts": 0,
  "title": "[FIRING:2]  (blue)",
  "state": "alerting",
  "message": "**Firing**\n\nLabels:\n - alertname = T2\n - team = blue\n - zone = us-1\nAnnotations:\n - description = This is the alert rule checking the second system\n - runbook_url = https://myrunbook.com\n - summary = This is my summary\nSource: https://play.grafana.org/alerting/1afz29v7z/edit\nSilence: https://play.grafana.org/alerting/silence/new?alertmanager=grafana&matchers=alertname%3DT2%2Cteam%3Dblue%2Czone%3Dus-1\n\nLabels:\n - alertname = T1\n - team = blue\n - zone = eu-1\nAnnotations:\nSource: https://play.grafana.org/alerting/d1rdpdv7k/edit\nSilence: https://play.grafana.org/alerting/silence/new?alertmanager=grafana&matchers=alertname%3DT1%2Cteam%3Dblue%2Czone%3Deu-1\n"
}
""")

PAGERDUTY_SAMPLE = json.loads(r"""
{
  "event": {
    "id": "5ac64822-4adc-4fda-ade0-410becf0de4f",
    "event_type": "incident.priority_updated",
    "resource_type": "incident",
    "occurred_at": "2020-10-02T18:45:22.169Z",
    "agent": {
      "html_url": "https://acme.pagerduty.com/users/PLH1HKV",
      "id": "PLH1HKV",
      "self": "https://api.pagerduty.com/users/PLH1HKV",
      "summary": "Tenex Engineer",
      "type": "user_reference"
    },
    "client": {
      "name": "PagerDuty"
    },
    "data": {
      "id": "PGR0VU2",
      "type": "incident",
      "self": "https://api.pagerduty.com/incidents/PGR0VU2",
      "html_url": "https://acme.pagerduty.com/incidents/PGR0VU2",
      "number": 2,
      "status": "triggered",
      "incident_key": "d3640fbd41094207a1c11e58e46b1662",
      "created_at": "2020-04-09T15:16:27Z",
      "title": "A little bump in the road",
      "service": {
        "html_url": "https://acme.pagerduty.com/services/PF9KMXH",
        "id": "PF9KMXH",
        "self": "https://api.pagerduty.com/services/PF9KMXH",
        "summary": "API Service",
        "type": "service_reference"
      },
      "assignees": [
        {
          "html_url": "https://acme.pagerduty.com/users/PTUXL6G",
          "id": "PTUXL6G",
          "self": "https://api.pagerduty.com/users/PTUXL6G",
          "summary": "User 123",
          "type": "user_reference"
        }
      ],
      "escalation_policy": {
        "html_url": "https://acme.pagerduty.com/escalation_policies/PUS0KTE",
        "id": "PUS0KTE",
        "self": "https://api.pagerduty.com/escalation_policies/PUS0KTE",
        "summary": "Default",
        "type": "escalation_policy_reference"
      },
      "teams": [
        {
          "html_url": "https://acme.pagerduty.com/teams/PFCVPS0",
          "id": "PFCVPS0",
          "self": "https://api.pagerduty.com/teams/PFCVPS0",
          "summary": "Engineering",
          "type": "team_reference"
        }
      ],
      "priority": {
        "html_url": "https://acme.pagerduty.com/account/incident_priorities",
        "id": "PSO75BM",
        "self": "https://api.pagerduty.com/priorities/PSO75BM",
        "summary": "P1",
        "type": "priority_reference"
      },
      "urgency": "high",
      "conference_bridge": {
        "conference_number": "+1 1234123412,,987654321#",
        "conference_url": "https://example.com"
      },
      "resolve_reason": null
    }
  }
}
""")

# PagerDuty's "Send Test Event" (the subscription's ping), as PagerDuty's docs show it.
PAGERDUTY_PING = json.loads(r"""
{"event": {"id": "01CH754SM17TWPE2V2H4VPBRO7", "event_type": "pagey.ping", "resource_type": "pagey",
 "occurred_at": "2021-12-08T22:58:53.510Z", "agent": null, "client": null,
 "data": {"message": "Hello from your friend Pagey!", "type": "ping"}}}
""")


def rfc3339(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def alertmanager_alert(name: str, *, starts_at: datetime, severity: str | None = "critical", summary: str | None = None,
                       ends_at: datetime | None = None, fingerprint: str | None = None, **labels: str) -> dict:
    """One alert as Alertmanager's webhook carries it (firing unless `ends_at` is given)."""
    labels = {"alertname": name, **({"severity": severity} if severity else {}), **labels}
    return {
        "status": "resolved" if ends_at else "firing",
        "labels": labels,
        "annotations": {"summary": summary} if summary else {},
        "startsAt": rfc3339(starts_at),
        "endsAt": rfc3339(ends_at) if ends_at else "0001-01-01T00:00:00Z",
        "generatorURL": f"http://prometheus.example.org:9090/graph?g0.expr={name}",
        "fingerprint": fingerprint or hashlib.sha256(json.dumps(sorted(labels.items())).encode()).hexdigest()[:16],
    }


def alertmanager_notification(group_key: str, alerts: list[dict]) -> dict:
    """The documented sample's envelope around `alerts`; resolved when every alert is."""
    payload = copy.deepcopy(ALERTMANAGER_SAMPLE)
    payload.update(groupKey=group_key, alerts=alerts,
                   status="resolved" if all(a["status"] == "resolved" for a in alerts) else "firing")
    return payload


def pagerduty_event(event_type: str, *, incident_id: str, event_id: str, occurred_at: datetime, created_at: datetime,
                    title: str = "A little bump in the road") -> dict:
    """The documented incident webhook as another event type, for an incident and at times a test controls."""
    payload = copy.deepcopy(PAGERDUTY_SAMPLE)
    event, data = payload["event"], payload["event"]["data"]
    event.update(id=event_id, event_type=event_type, occurred_at=rfc3339(occurred_at))
    data.update(id=incident_id, title=title, created_at=rfc3339(created_at), html_url=f"https://acme.pagerduty.com/incidents/{incident_id}",
                status=event_type.split(".")[1])
    return payload


def pagerduty_signature(body: bytes, *secrets: str) -> str:
    """X-PagerDuty-Signature: `v1=<hex HMAC-SHA256>` per secret, comma-separated."""
    return ",".join("v1=" + hmac.new(s.encode(), body, hashlib.sha256).hexdigest() for s in secrets)


def post(url: str, body: bytes | dict, headers: dict | None = None, method: str = "POST") -> tuple[int, dict]:
    """An HTTP request like a sender's; returns the status and the JSON answer."""
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data if method == "POST" else None, method=method,
                                     headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        raw = error.read()
        try:
            return error.code, json.loads(raw)
        except ValueError:
            return error.code, {"raw": raw.decode(errors="replace")}
