"""Alerts: what a notification from Alertmanager, Grafana or PagerDuty does to incidents.

A notification names its group (Alertmanager's groupKey, a PagerDuty incident) and carries the
group's alerts. The gate (bot/gate.py) locks the group, asks `incident_for` which incident the
notification is about, and then applies `receive` to it, or, when there is none, `declare_or_post`.
The rules, each in one function:

- **One incident per group.** A group points to one incident, the one its alerts go to. While that
  incident is open, everything the group reports joins it. Once people resolved it, news of alerts it
  already has (a resolution, Alertmanager's repeat notification) still goes to it, but an alert that
  fires anew (a new `startsAt`) starts over: a new incident, if the rules say so.
- **Nothing twice.** Each thing done with an alert is a receipt with a unique key per group: its
  firing and its resolution per fingerprint and `startsAt`, a PagerDuty acknowledgement per event.
  Alertmanager's retries and repeat notifications, and two instances given the same notification,
  insert nothing the second time, and so add no entry.
- **Declaring** (`declare_or_post`): a notification with a new firing alert declares when a rule in
  ALERT_RULES matched (bot/alerts/rules.py decided that, as the request's `declare`); the incident
  starts at the earliest `startsAt` of its alerts and was detected when the notification arrived,
  both claimed with the source "alert". Alerts no rule matched are posted once, with a Declare
  button (`declare_from_button`).
- **Milestones:** "alert" is not an explicit source (bot/domain/milestones.py): the alert's guess
  stands until a person says otherwise with a command or a reaction, and comes back if their
  reaction is removed. When every alert of an incident has resolved, the bot offers to mark it
  mitigated at the last `endsAt` (`ConfirmMitigated`): people decide resolution, alerts do not.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Protocol

from bot.domain import lifecycle, times
from bot.domain.changes import Change, Context, IncidentError
from bot.domain.milestones import order_problem
from bot.domain.records import Alert, Claim, IncidentRecord, NewEntry
from bot.domain.requests import (
    AlertDeclaration,
    ConfirmMitigated,
    Declare,
    DeclareFromAlerts,
    ReceiveAlerts,
    SetMilestone,
)
from bot.domain.storable_text import storable
from bot.domain.store import IncidentStore
from bot.i18n import N_, Message

# The source of milestone claims made from alerts (the templates name it).
SOURCE = "alert"
# What a receipt records about an alert.
FIRING, RESOLVED, ACKNOWLEDGED, POSTED = "firing", "resolved", "acknowledged", "posted"
# Timeline entry kinds.
FIRING_ENTRY, RESOLVED_ENTRY, ACKNOWLEDGED_ENTRY = "alert", "alert_resolved", "alert_ack"
# Link kinds the header shows, and how many links it keeps.
HEADER_LINKS = ("source", "panel", "dashboard", "pagerduty")
MAX_LINKS = 12


@dataclass(frozen=True)
class AlertGroupRecord:
    id: int
    source: str
    group_key: str
    incident_id: int | None  # the incident its alerts go to


@dataclass(frozen=True)
class Receipt:
    key: str  # "<what>|<digest>", see receipt_key
    incident_id: int | None
    alert: Alert
    received_at: datetime

    @property
    def what(self) -> str:
        return self.key.split("|", 1)[0]

    @property
    def episode(self) -> str:
        return self.key.split("|", 1)[1]


class AlertStore(IncidentStore, Protocol):
    """What the alert rules need from storage besides the incident store."""

    def alert_group(self, source: str, group_key: str) -> AlertGroupRecord:
        """The group, created if new, locked until the unit of work ends."""
        ...

    def alert_group_by_id(self, group_id: int) -> AlertGroupRecord | None:
        """The group, locked until the unit of work ends."""
        ...

    def point_alert_group(self, group_id: int, incident_id: int) -> None: ...

    def add_alert_receipt(self, group_id: int, key: str, incident_id: int | None, alert: Alert, at: datetime) -> bool:
        """Keep a receipt once; False when the group already has one with this key."""
        ...

    def existing_alert_receipts(self, group_id: int, keys: list[str]) -> set[str]: ...

    def alert_receipts(self, *, group_id: int | None = None, incident_id: int | None = None) -> list[Receipt]: ...


@dataclass
class AlertsChange(Change):
    """A Change whose Slack side also lists the alerts (bot/alerts/delivery.py)."""

    source: str = ""
    firing: tuple[Alert, ...] = ()
    resolved: tuple[Alert, ...] = ()
    acknowledged: tuple[Alert, ...] = ()
    mitigated_at: datetime | None = None  # every alert has resolved: offer to mark mitigated then


@dataclass(frozen=True)
class UnmatchedAlerts:
    """Alerts no rule matched, new since they were last posted: the Slack side posts them once."""

    group_id: int
    source: str
    alerts: tuple[Alert, ...]


# --- where a request goes -------------------------------------------------------------------


def incident_for(store: AlertStore, intent: ReceiveAlerts) -> int | None:
    """The incident this notification is about (its group locked from here on), or None."""
    group = store.alert_group(intent.source, intent.group_key)
    incident = store.incident(group.incident_id) if group.incident_id is not None else None
    if incident is None:
        return None
    if incident.is_open or not _new_firing(store, group, intent.alerts):
        return incident.id
    return None  # people resolved it, and an alert fires anew: that is a new incident, if any


def incident_for_button(store: AlertStore, intent: DeclareFromAlerts) -> int | None:
    group = store.alert_group_by_id(intent.group_id)
    if group is None or group.incident_id is None:
        return None
    incident = store.incident(group.incident_id)
    return incident.id if incident is not None and incident.is_open else None


# --- the rules ---------------------------------------------------------------------------------


def receive(store: AlertStore, incident: IncidentRecord, intent: ReceiveAlerts, ctx: Context) -> AlertsChange | None:
    """The group's incident hears of its alerts: what is new goes on the timeline, once."""
    group = store.alert_group(intent.source, intent.group_key)
    firing, resolved, acknowledged = _record(store, group, incident, intent.alerts, ctx)
    if not (firing or resolved or acknowledged):
        return None  # a retry, a repeat notification, or news already heard from another instance
    links_moved = _add_links(incident, firing)
    return AlertsChange(
        incident.id,
        "alert",
        ctx.actor,
        {"firing": len(firing), "resolved": len(resolved), "acknowledged": len(acknowledged)},
        post_in_channel=False,  # the Slack side lists the alerts itself
        refresh_header=links_moved,
        source=intent.source,
        firing=tuple(firing),
        resolved=tuple(resolved),
        acknowledged=tuple(acknowledged),
        mitigated_at=_mitigated_at(store, incident, ctx) if resolved else None,
    )


def declare_or_post(store: AlertStore, intent: ReceiveAlerts, ctx: Context) -> AlertsChange | UnmatchedAlerts | None:
    """No incident takes the group's alerts: declare one if a rule matched, else post them once."""
    group = store.alert_group(intent.source, intent.group_key)
    firing = _new_firing(store, group, intent.alerts)
    if not firing:
        return None  # only news of alerts no incident has (resolved before anyone declared)
    if intent.declare is None:
        posted = [a for a in firing if store.add_alert_receipt(group.id, receipt_key(POSTED, a), None, a, ctx.now)]
        return UnmatchedAlerts(group.id, intent.source, tuple(posted)) if posted else None
    return _declare(store, group, intent.declare, intent.alerts, intent.received_at, intent.source, ctx)


def declare_from_button(store: AlertStore, intent: DeclareFromAlerts, ctx: Context) -> AlertsChange:
    """Someone pressed Declare under alerts no rule matched: declare from the alerts posted."""
    group = store.alert_group_by_id(intent.group_id)
    if group is None:
        raise IncidentError(N_("These alerts are no longer on record; nothing was declared."))
    receipts = store.alert_receipts(group_id=group.id)
    recorded = {r.episode for r in receipts if r.what == FIRING}
    posted = [r for r in receipts if r.what == POSTED and r.episode not in recorded]
    if not posted:
        raise IncidentError(N_("These alerts are already part of an incident; nothing was declared."))
    alerts = tuple(r.alert for r in posted)
    first = alerts[0]
    declaration = AlertDeclaration(title_of(first), lifecycle.DEFAULT_SEVERITY, (), first.description)
    detected = min(r.received_at for r in posted)  # when the first of them arrived
    return _declare(store, group, declaration, alerts, detected, group.source, ctx)


def already_declared(store: AlertStore, incident: IncidentRecord, intent: DeclareFromAlerts, ctx: Context) -> Change:
    where = f"<#{incident.channel_id}>" if incident.channel_id else f"#{incident.id}"
    raise IncidentError(Message(N_("These alerts already have an open incident: {where}."), {"where": where}))


def confirm_mitigated(store: AlertStore, incident: IncidentRecord, intent: ConfirmMitigated, ctx: Context) -> Change:
    """The offered "Mark mitigated": the milestone at the alerts' end, as `/incident mitigated <time>` would."""
    try:
        at = datetime.fromisoformat(intent.at_iso)
        if at.tzinfo is None:
            raise ValueError(intent.at_iso)
    except ValueError:
        raise IncidentError(N_("This button names no time I can read; run `/incident mitigated <time>` instead.")) from None
    current = lifecycle.milestones(store, incident)["mitigated"]
    if current.at == at:
        raise IncidentError(Message(N_("The incident is already mitigated at {at}."), {"at": times.show(at, ctx.tz)}))
    return lifecycle.set_milestone(store, incident, SetMilestone("mitigated", at.isoformat()), ctx)


# --- what they share ---------------------------------------------------------------------------


def title_of(alert: Alert) -> str:
    """The title an alert suggests: its summary, else its name (ALERT_RULES uses the same)."""
    return " ".join((alert.summary or alert.name).split())


def receipt_key(what: str, alert: Alert) -> str:
    """What was done with which firing of which alert, in 80 characters whatever the alert sends."""
    if what == ACKNOWLEDGED:
        basis = f"{alert.fingerprint}\x00{alert.event_id or alert.acknowledged_at}"
    else:
        basis = f"{alert.fingerprint}\x00{alert.starts_at.astimezone(timezone.utc).isoformat()}"
    return f"{what}|{hashlib.sha256(basis.encode()).hexdigest()[:48]}"


def _new_firing(store: AlertStore, group: AlertGroupRecord, alerts: tuple[Alert, ...]) -> list[Alert]:
    """The firing alerts no incident has yet (by fingerprint and startsAt)."""
    firing = [a for a in alerts if a.firing]
    known = store.existing_alert_receipts(group.id, [receipt_key(FIRING, a) for a in firing])
    return [a for a in firing if receipt_key(FIRING, a) not in known]


def _declare(
    store: AlertStore, group: AlertGroupRecord, declaration: AlertDeclaration, alerts: tuple[Alert, ...],
    detected: datetime, source: str, ctx: Context,
) -> AlertsChange:
    """Declare, point the group at the new incident and record its alerts, in the caller's unit of work."""
    declared = lifecycle.declare(
        store,
        Declare(title=_markup(declaration.title[:200]), severity=declaration.severity,
                description=_markup(declaration.description[:2500]) or None),
        ctx,
    )
    incident = store.incident(declared.incident_id)
    store.point_alert_group(group.id, incident.id)
    firing, resolved, acknowledged = _record(store, group, incident, alerts, ctx)
    # The alerts that declared it know when the problem began, which people rarely type: TTD then
    # means something. A clock running ahead at the source cannot put it after the arrival.
    detected = min(detected, ctx.now)
    started = min([a.starts_at for a in firing] + [detected])
    for name, at in (("started", started), ("detected", detected)):
        store.add_claim(incident.id, Claim(name, at, ctx.now, SOURCE), ctx.actor)
        lifecycle.record(store, incident, "milestone", ctx, name, {"milestone": name, "at": at.isoformat(), "source": SOURCE})
    tags = [tag for tag in declaration.tags if store.add_tag(incident.id, tag, ctx.actor, ctx.now)]
    if tags:
        lifecycle.record(store, incident, "tag", ctx, ", ".join(tags), {"added": tags})
    _add_links(incident, firing)
    store.save(incident)
    return AlertsChange(
        incident.id,
        declared.kind,
        ctx.actor,
        declared.details,
        post_in_channel=False,
        announce=True,
        refresh_header=False,
        set_up_channel=True,
        source=source,
        firing=tuple(firing),
        resolved=tuple(resolved),
        acknowledged=tuple(acknowledged),
    )


def _record(
    store: AlertStore, group: AlertGroupRecord, incident: IncidentRecord, alerts: tuple[Alert, ...], ctx: Context
) -> tuple[list[Alert], list[Alert], list[Alert]]:
    """An entry for each firing, resolution and acknowledgement the incident has not heard of yet."""
    firing, resolved, acknowledged = [], [], []
    for alert in alerts:
        steps = [(FIRING, firing)] if alert.firing else [(RESOLVED, resolved)]
        if alert.acknowledged_by is not None:
            steps.append((ACKNOWLEDGED, acknowledged))
        for what, heard in steps:
            if store.add_alert_receipt(group.id, receipt_key(what, alert), incident.id, alert, ctx.now):
                heard.append(alert)
                store.add_entry(incident.id, _entry(what, alert, ctx.now))
    return firing, resolved, acknowledged


def _entry(what: str, alert: Alert, now: datetime) -> NewEntry:
    """On the timeline at the alert's own time: when it fired, ended, or was acknowledged."""
    words = alert.name if not alert.summary or alert.summary == alert.name else f"{alert.name}: {alert.summary}"
    if what == FIRING:
        kind, at = FIRING_ENTRY, alert.starts_at
        words += f" ({alert.values})" if alert.values else ""
    elif what == RESOLVED:
        kind, at = RESOLVED_ENTRY, alert.ends_at or now
    else:
        kind, at = ACKNOWLEDGED_ENTRY, alert.acknowledged_at or now
        words += f" · {alert.acknowledged_by}"
    data = {
        "fingerprint": alert.fingerprint, "name": alert.name, "starts_at": alert.starts_at.isoformat(),
        "ends_at": alert.ends_at.isoformat() if alert.ends_at else None, "links": [list(pair) for pair in alert.links],
    }
    return NewEntry(kind, None, _markup(words)[:3000], min(at, now), data)


def _add_links(incident: IncidentRecord, alerts: list[Alert]) -> bool:
    """The header links each alert's source, panel and dashboard (up to MAX_LINKS); True if any was added."""
    links = list(incident.links or [])
    known = {link["url"] for link in links}
    for alert in alerts:
        for kind, url in alert.links:
            if kind in HEADER_LINKS and url not in known and len(links) < MAX_LINKS:
                links.append({"kind": kind, "name": alert.name, "url": url})
                known.add(url)
    if len(links) == len(incident.links or []):
        return False
    incident.links = links
    return True


def _mitigated_at(store: AlertStore, incident: IncidentRecord, ctx: Context) -> datetime | None:
    """When every alert the incident heard fire has resolved: the last one's end, if people may mark it then."""
    if not incident.is_open:
        return None
    receipts = store.alert_receipts(incident_id=incident.id)
    fired = {r.episode for r in receipts if r.what == FIRING}
    ended = {r.episode: r.alert.ends_at or r.received_at for r in receipts if r.what == RESOLVED}
    if not fired or not fired <= set(ended):
        return None
    current = lifecycle.milestones(store, incident)
    if current["mitigated"].at is not None:
        return None  # people already said when
    at = min(max(ended[e] for e in fired), ctx.now)
    return None if order_problem("mitigated", at, current) else at


def _markup(text: str) -> str:
    """An alert's plain words in the form texts are stored in (as bot.slack.formatting.markup_from_plain)."""
    return storable(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
