"""What people read about alerts in Slack: the alerts in the incident channel, the offer to mark it
mitigated, alerts no rule matched (in the announce channel), and the header's links.

Every text of the bot's own is marked for translation; the alerts' words (names, summaries, label
values, who acknowledged) are passed as they came, escaped and defused, never translated.
"""

from __future__ import annotations

from datetime import datetime

from bot.domain.alerts import SOURCE as ALERT_SOURCE
from bot.domain.alerts import AlertsChange, UnmatchedAlerts
from bot.domain.records import Alert, IncidentRecord, MilestoneTime
from bot.i18n import N_, Translator
from bot.slack.formatting import markup_from_plain, safe

# Action ids: the contract between these messages and bot/listeners/actions.py.
DECLARE = "alerts_declare"
MARK_MITIGATED = "alerts_mark_mitigated"
# Products' names, as they write them.
SOURCES = {"alertmanager": "Alertmanager", "grafana": "Grafana", "pagerduty": "PagerDuty"}
LINK_WORDS = {"panel": N_("panel"), "dashboard": N_("dashboard"), "silence": N_("silence")}
MAX_LISTED = 15  # alerts listed in one message; the rest are counted
MAX_SECTION = 3000  # Slack's limit for a section's text


def alerts_message(change: AlertsChange, t: Translator) -> tuple[str, list[dict]] | None:
    """The alerts a change brought to an incident, for its channel: firing, resolved, acknowledged."""
    source = SOURCES.get(change.source, change.source)
    sections = []
    if change.firing:
        head = t.ngettext(":rotating_light: *{n} alert firing* ({source})", ":rotating_light: *{n} alerts firing* ({source})",
                          len(change.firing), source=source)
        sections.append(_listed(head, change.firing, lambda a: t._("since {at}", at=a.starts_at), t))
    if change.resolved:
        head = t.ngettext(":white_check_mark: *{n} alert resolved* ({source})",
                          ":white_check_mark: *{n} alerts resolved* ({source})", len(change.resolved), source=source)
        sections.append(_listed(head, change.resolved, lambda a: t._("ended {at}", at=a.ends_at) if a.ends_at else "", t))
    for alert in change.acknowledged:
        sections.append(t._(":eyes: Acknowledged in {source} by {who}: {name}", source=source,
                            who=_words(alert.acknowledged_by or ""), name=_alert_link(alert)))
    if not sections:
        return None
    blocks = [_section(text) for text in sections]
    return "\n".join(sections)[:MAX_SECTION], blocks


def mitigation_offer(incident_id: int, at: datetime, t: Translator) -> tuple[str, list[dict]]:
    """Every alert has resolved: people decide whether the incident is mitigated, and the button says when."""
    text = t._(
        ":white_check_mark: Every alert of this incident has resolved; the last one ended at {at}. "
        "Alerts do not decide when an incident is mitigated, people do: mark it mitigated then?",
        at=at,
    )
    button = _button(t._("Mark mitigated at {clock}", clock=t.clock(at)), MARK_MITIGATED, f"{incident_id}|{at.isoformat()}")
    return text, [_section(text), {"type": "actions", "block_id": "alerts_mitigated", "elements": [button]}]


def unmatched_message(unmatched: UnmatchedAlerts, t: Translator) -> tuple[str, list[dict]]:
    """For the announce channel: alerts no rule in ALERT_RULES matched, and a button to declare anyway."""
    source = SOURCES.get(unmatched.source, unmatched.source)
    head = t.ngettext(
        ":bell: *{n} alert from {source}* matched no rule in ALERT_RULES, so no incident was declared.",
        ":bell: *{n} alerts from {source}* matched no rule in ALERT_RULES, so no incident was declared.",
        len(unmatched.alerts), source=source,
    )
    text = _listed(head, unmatched.alerts, lambda a: t._("since {at}", at=a.starts_at), t)
    button = _button(t._("Declare incident"), DECLARE, str(unmatched.group_id), style="primary")
    return text, [_section(text), {"type": "actions", "block_id": "alerts_declare", "elements": [button]}]


def setup_failed(incident: IncidentRecord, t: Translator) -> str:
    return t._(
        ":x: Incident #{id} ({title}) was declared from an alert, but its channel could not be set up: `{error}`. "
        "Nothing was lost, and anyone can finish it with `/incident retry {id}`.",
        id=str(incident.id), title=safe(incident.title, 200), error=(incident.setup_error or "")[:200],
    )


def milestone_note(milestone: MilestoneTime, t: Translator) -> str:
    """After a milestone's time in the header: that the alerts gave it (people can still correct it)."""
    return " " + t._("(alert)") if milestone.source == ALERT_SOURCE else ""


def header_blocks(incident: IncidentRecord, t: Translator) -> list[dict]:
    """The header's line of links to the alerts: each alert's source, and Grafana's panel and dashboard."""
    if not incident.links:
        return []
    by_name: dict[str, list[dict]] = {}
    for link in incident.links:
        by_name.setdefault(link.get("name") or "", []).append(link)
    shown = []
    for name, links in by_name.items():
        main = next((link for link in links if link["kind"] in ("source", "pagerduty")), None)
        label = _link(main["url"], name) if main else _words(name)
        extras = [_link(link["url"], t._(LINK_WORDS[link["kind"]])) for link in links if link["kind"] in LINK_WORDS]
        shown.append(label + (f" ({', '.join(extras)})" if extras else ""))
    text = f"*{t._('Alerts')}* " + " · ".join(shown)
    return [_section(text[:MAX_SECTION])]


def _listed(head: str, alerts: tuple[Alert, ...], when, t: Translator) -> str:
    lines = [head]
    for alert in alerts[:MAX_LISTED]:
        parts = [_alert_link(alert)]
        if alert.summary and alert.summary != alert.name:
            parts[0] += " — " + _words(alert.summary, 300)
        if alert.values:
            parts.append(f"`{_words(alert.values, 100).replace('`', '')}`")
        moment = when(alert)
        if moment:
            parts.append(moment)
        extras = [_link(url, t._(LINK_WORDS[kind])) for kind, url in alert.links if kind in LINK_WORDS]
        if extras:
            parts.append(", ".join(extras))
        lines.append("• " + " · ".join(parts))
    if len(alerts) > MAX_LISTED:
        lines.append(t._("…and {n} more", n=len(alerts) - MAX_LISTED))
    text = "\n".join(lines)
    return text if len(text) <= MAX_SECTION else text[: MAX_SECTION - 1] + "…"


def _alert_link(alert: Alert) -> str:
    url = alert.link("source") or alert.link("pagerduty")
    return _link(url, alert.name) if url else f"*{_words(alert.name, 200)}*"


def _link(url: str, label: str) -> str:
    """A link whose label cannot end it early or ping anyone (the URL was checked when it came in)."""
    return f"<{url}|{_words(label, 200).replace('|', '¦')}>"


def _words(text: str, limit: int | None = None) -> str:
    """An alert's own words, as Slack shows them literally: escaped, and unable to notify anyone."""
    return safe(markup_from_plain(" ".join(text.split())), limit)


def _section(text: str) -> dict:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def _button(text: str, action_id: str, value: str, style: str | None = None) -> dict:
    button = {"type": "button", "text": {"type": "plain_text", "text": text[:75]}, "action_id": action_id, "value": value}
    if style:
        button["style"] = style
    return button
