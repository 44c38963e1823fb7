"""The App Home tab: the open incidents, and the viewer's own open action items.

Published with views.publish when someone opens the Home tab, and again after they
press a button on it. A private incident's title shows only to members of its channel;
everyone else sees that it exists, as `/incident list` and the announce channel say.
"""

from __future__ import annotations

import logging
from datetime import datetime

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.domain.records import SEVERITIES, ActionItemRecord, IncidentRecord
from bot.domain.times import utcnow
from bot.i18n import Message, Translator
from bot.services import Services
from bot.slack.blocks import ACTION_DONE, status_label
from bot.slack.formatting import mention, safe
from bot.slack.membership import MembershipUnknown, is_member
from storage.incident_store import reading

log = logging.getLogger(__name__)

# A Home view holds at most 100 blocks: each incident and each item is one block, and at
# most 7 others (notice, 2 headers, divider, 2 "and N more", footer) come with them.
MAX_INCIDENTS = 45
MAX_ITEMS = 45


def publish_home(user_id: str, client: WebClient, services: Services, notice: str | Message | None = None) -> None:
    """Draw the Home tab for `user_id` from the record as it is now, in their language (`notice`: a refusal to show atop it)."""
    now = utcnow()
    with reading(services.db) as store:  # opened often; on SQLite a read takes no write lock
        shown = sorted(store.open_incidents(), key=_most_urgent_first)
        items = store.open_action_items(user_id)
    private = {i.id: i for i in shown[:MAX_INCIDENTS] + [incident for _, incident in items[:MAX_ITEMS]] if i.is_private}
    visible = {i.id for i in private.values() if _member(client, i, user_id)}
    t = services.t_for(user_id)
    view = home_view(shown, items, visible, now, t, f":warning: {t._(notice)}" if notice else None)
    try:
        client.views_publish(user_id=user_id, view=view)
    except SlackApiError as error:
        code = error.response.get("error")
        hint = " (turn on App Home → Home Tab in the app's settings)" if code == "not_enabled" else ""
        log.warning("views.publish of the Home tab for %s failed: %s%s", user_id, code, hint)


def home_view(
    shown: list[IncidentRecord],
    items: list[tuple[ActionItemRecord, IncidentRecord]],
    visible: set[int],
    now: datetime,
    t: Translator,
    notice: str | None = None,
) -> dict:
    """The Home view in `t`'s language; `visible` holds the private incidents whose channel the viewer is in."""
    blocks: list[dict] = []
    if notice:
        blocks.append(_context(notice))
    blocks.append(_header(t._("Open incidents ({count})", count=t.number(len(shown))) if shown else t._("Open incidents")))
    if not shown:
        blocks.append(_section(":sunny: " + t._("No open incidents. Declare one with `/incident start <title>`.")))
    for incident in shown[:MAX_INCIDENTS]:
        line = _incident_line(incident, incident.id in visible or not incident.is_private, now, t)
        blocks.append(_section(line, f"home_incident_{incident.id}"))
    if len(shown) > MAX_INCIDENTS:
        more = t._("…and {count} more, less urgent. `/incident list` shows them all.", count=t.number(len(shown) - MAX_INCIDENTS))
        blocks.append(_context(more))
    blocks.append({"type": "divider"})
    blocks.append(_header(t._("Your action items ({count})", count=t.number(len(items))) if items else t._("Your action items")))
    if not items:
        blocks.append(_section(":sparkles: " + t._("You have no open action items.")))
    today = now.astimezone(t.tz).date()
    for item, incident in items[:MAX_ITEMS]:
        seen = incident.id in visible or not incident.is_private
        klass = f" · {t.word('class', item.klass)}" if item.klass else ""
        line = f"{safe(item.text, 1500)}\n{_where(incident, seen, t)} · {_due(item, today, t)}{klass}"
        done = {
            "type": "button",
            "text": {"type": "plain_text", "text": t._("Done")},
            "action_id": ACTION_DONE,  # the same button as the reminder's, answered by the same handler
            "value": f"{item.id}|{item.due_date.isoformat() if item.due_date else ''}",
            "style": "primary",
        }
        blocks.append({**_section(line, f"home_item_{item.id}"), "accessory": done})
    if len(items) > MAX_ITEMS:
        more = t._("…and {count} more, due later. `/incident followups` lists them all.", count=t.number(len(items) - MAX_ITEMS))
        blocks.append(_context(more))
    blocks.append(_context(t._("Updated {at} · times in {zone} · `/incident help`", at=now, zone=t.tz.key)))
    return {"type": "home", "blocks": blocks}


def _incident_line(incident: IncidentRecord, seen: bool, now: datetime, t: Translator) -> str:
    status = status_label(incident.status, t)
    age = t._("open {age}", age=now - incident.declared_at)
    if not seen:
        # Never the title or the channel: its name is made from the title.
        private = t._("private incident #{id}", id=incident.id)
        return f"*{incident.severity}* · :lock: {private} · {status}\n{age}"
    lead = t._("led by {person}", person=mention(incident.commander_id)) if incident.commander_id else t._("no commander yet")
    lock = ":lock: " if incident.is_private else ""
    if incident.is_planned_work and incident.escalated_at is None:
        # Planned work has no severity until it becomes an incident: its kind and state instead.
        kind, state = t.word("work_kind", incident.kind), t.word("work_status", incident.work_status)
        return f"*{kind}* · {_where(incident, True, t)} · {state}\n{age} · {lead}"
    return f"*{incident.severity}* · {lock}{_where(incident, True, t)} · {status}\n{age} · {lead}"


def _where(incident: IncidentRecord, seen: bool, t: Translator) -> str:
    if not seen:
        return ":lock: " + t._("private incident #{id}", id=incident.id)
    channel = f"<#{incident.channel_id}>" if incident.channel_id else t._("#{id} (no channel yet)", id=incident.id)
    return f"{channel} {safe(incident.title, 200)}"


def _due(item: ActionItemRecord, today, t: Translator) -> str:
    if item.due_date is None:
        return t._("no due date")
    late = (today - item.due_date).days
    due = item.due_date.isoformat()
    if late > 0:
        return ":red_circle: " + t.ngettext("*overdue* by {n} day (due {date})", "*overdue* by {n} days (due {date})", late, date=due)
    if late == 0:
        return t._("*due today* ({date})", date=due)
    return t._("due {date}", date=due)


def _most_urgent_first(incident: IncidentRecord) -> tuple:
    rank = SEVERITIES.index(incident.severity) if incident.severity in SEVERITIES else len(SEVERITIES)
    return rank, incident.declared_at, incident.id


def _member(client: WebClient, incident: IncidentRecord, user_id: str) -> bool:
    if incident.channel_id is None:
        return False
    try:
        return is_member(client, incident.channel_id, user_id)
    except MembershipUnknown:
        return False  # not shown rather than guessed


def _header(text: str) -> dict:
    return {"type": "header", "text": {"type": "plain_text", "text": text}}


def _section(text: str, block_id: str | None = None) -> dict:
    block = {"type": "section", "text": {"type": "mrkdwn", "text": text[:3000]}}
    if block_id:
        block["block_id"] = block_id
    return block


def _context(text: str) -> dict:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": text[:3000]}]}
