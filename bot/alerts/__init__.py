"""Alerts from Alertmanager, Grafana and PagerDuty: their payloads, ALERT_RULES, the HTTP endpoints
beside /slack/events, and their Slack side. What alerts do to incidents is bot/domain/alerts.py."""
