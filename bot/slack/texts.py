"""The texts people read in Slack: replies, channel notices, announcements, help."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from bot.domain import times
from bot.domain.changes import Change
from bot.domain.command_parser import USAGE
from bot.domain.durations import format_duration
from bot.domain.marks import MARK_LABELS
from bot.domain.records import ActionItemRecord, IncidentRecord
from bot.slack.formatting import safe

INTERNAL_ERROR = "Something went wrong on our side and nothing was changed. Please try again; if it keeps happening, tell your operator (reference: {ref})."
MAX_REPLY = 3500

NOTICE_EMOJI = {
    "status": ":arrows_counterclockwise:",
    "update": ":mega:",
    "severity": ":rotating_light:",
    "lead": ":firefighter:",
    "role": ":busts_in_silhouette:",
    "note": ":memo:",
    "milestone": ":round_pushpin:",
    "action": ":clipboard:",
    "reopened": ":leftwards_arrow_with_hook:",
    "deadline": ":hourglass_flowing_sand:",
    "decision": ":vertical_traffic_light:",
    "action_done": ":white_check_mark:",
    "postmortem_done": ":books:",
    "tag": ":label:",
    "untag": ":label:",
}
TITLES = {
    "status": "Status",
    "update": "Update",
    "severity": "Severity",
    "lead": "Commander",
    "role": "Role",
    "note": "Note",
    "milestone": "Milestone",
    "action": "Action item",
    "reopened": "Reopened",
    "deadline": "Go/no-go deadline",
    "decision": "Go/no-go decision",
    "action_done": "Action item done",
    "action_pushed": "Action item pushed",
    "postmortem_done": "Postmortem",
    "snooze": "Nudges snoozed",
    "tag": "Tags",
    "untag": "Tags",
}


def reply(change: Change) -> str:
    """What the person who made the change is told (ephemeral)."""
    if change.kind == "declared":
        return f":white_check_mark: Declared incident #{change.incident_id}: {safe(change.summary, 300)}. Opening its channel…"
    if change.kind == "retry":
        return f":arrows_counterclockwise: Setting up incident #{change.incident_id} again…"
    if change.kind == "postmortem":
        return ":page_facing_up: Posting the postmortem draft again…"
    return f":white_check_mark: Recorded. {TITLES.get(change.kind, change.kind)}: {safe(change.summary, 500)}"


def notice(change: Change) -> str:
    """What the incident channel is told about a change."""
    # A summary can carry what a person typed (a deadline's `what`, a role's name): defused like their text.
    head = f"{NOTICE_EMOJI.get(change.kind, '')} *{TITLES.get(change.kind, change.kind)}* {safe(change.summary, 500)}"
    by = f" · by <@{change.actor}>" if change.actor else ""
    body = f"\n>{safe(change.text, 2900)}" if change.text else ""
    return (head + by + body).strip()


def announcement(change: Change, incident: IncidentRecord) -> str | None:
    """What the announce channel hears; of a private incident, only that it exists and when it ends."""
    if incident.is_private:
        if change.kind == "declared":
            return f":lock: A private {incident.severity} incident (#{incident.id}) was declared by <@{incident.declared_by}>."
        if change.resolved:
            return f":lock: Private incident #{incident.id} is resolved."
        return None
    where = f"<#{incident.channel_id}>" if incident.channel_id else f"incident #{incident.id}"
    title = safe(incident.title, 300)
    if change.kind == "declared":
        return f":rotating_light: *New {incident.severity} incident* {where}: {title} · declared by <@{incident.declared_by}>"
    if change.resolved:
        return f":white_check_mark: *Resolved* {where}: {title}"
    body = f": {safe(change.text, 2500)}" if change.text else ""
    return f"{NOTICE_EMOJI.get(change.kind, '')} *{incident.severity} {TITLES.get(change.kind, change.kind)}* {where} {title} · {safe(change.summary, 500)}{body}"


def help_text() -> str:
    lines = ["*`/incident` commands* (inside an incident channel unless noted)"]
    lines += [f"• {usage}" for usage in USAGE.values()]
    lines.append("`start`, `list` and `help` work anywhere. Times are read in the incident time zone.")
    lines.append(
        "Mark moments with reactions: "
        + ", ".join(f"{label}" for label in MARK_LABELS.values())
        + " (see the header message for the emoji)."
    )
    return "\n".join(lines)


def open_incidents_text(incidents: list[IncidentRecord], tz: ZoneInfo, now: datetime) -> str:
    if not incidents:
        return ":sunny: No open incidents."
    lines = [f"*Open incidents* ({len(incidents)})"]
    for incident in incidents:
        where = f"<#{incident.channel_id}>" if incident.channel_id else "(channel not created yet)"
        age = format_duration(now - incident.declared_at)
        lead = f"<@{incident.commander_id}>" if incident.commander_id else "no commander"
        if incident.is_private:
            lines.append(f"• #{incident.id} {incident.severity} {incident.status} · :lock: private · {age}")
            continue
        lines.append(f"• #{incident.id} {incident.severity} {incident.status} · {where} {safe(incident.title, 200)} · {age} · {lead}")
    return _fit(lines)


def timeline_text(incident: IncidentRecord, entries: list, tz: ZoneInfo) -> str:
    lines = [f"*Timeline of incident #{incident.id}* (times in {tz.key})"]
    for entry in entries:
        at = entry.occurred_at.astimezone(tz).strftime("%m-%d %H:%M:%S")
        who = f"<@{entry.author_id}>" if entry.author_id else "bot"
        label = "" if entry.kind == "message" else f"[{entry.kind}] "
        text = safe(entry.text.replace("\n", " "), 300)
        lines.append(f"`{at}` {who}: {label}{text}")
    return _fit(lines, newest_last=True)


def _fit(lines: list[str], newest_last: bool = False) -> str:
    """Keep a reply within one message; for a timeline keep the newest lines."""
    text = "\n".join(lines)
    if len(text) <= MAX_REPLY:
        return text
    head, body = lines[0], lines[1:]
    kept: list[str] = []
    size = len(head) + 80
    for line in reversed(body) if newest_last else body:
        if size + len(line) + 1 > MAX_REPLY:
            break
        kept.append(line)
        size += len(line) + 1
    if newest_last:
        kept.reverse()
    omitted = len(body) - len(kept)
    note = f"_… {omitted} earlier lines not shown; `python app.py export` prints all of it._"
    return "\n".join([head, note, *kept] if newest_last else [head, *kept, note])


def show_time(value: datetime | None, tz: ZoneInfo) -> str:
    return times.show(value, tz) if value else "not recorded"


def review_reminder(incident: IncidentRecord, due_days: int) -> str:
    who = f"<@{incident.commander_id}>" if incident.commander_id else f"<@{incident.declared_by}>"
    return (
        f":books: {who}: the postmortem for incident #{incident.id} ({safe(incident.title, 200)}) is due for review "
        f"({due_days} business days after resolution). Review it with the team, then run `/incident postmortem done`."
    )


def action_items_text(rows: list[tuple[ActionItemRecord, IncidentRecord]], tz: ZoneInfo, now: datetime) -> str:
    """Open action items across incidents, oldest due first."""
    if not rows:
        return ":sparkles: No open action items."
    today = now.astimezone(tz).date()
    lines = [f"*Open action items* ({len(rows)}, oldest due first)"]
    for item, incident in rows:
        owner = f"<@{item.owner_id}>" if item.owner_id else "no owner"
        if item.due_date is None:
            due = "no due date"
        elif item.due_date < today:
            due = f"*overdue* since {item.due_date.isoformat()}"
        else:
            due = f"due {item.due_date.isoformat()}"
        where = f"<#{incident.channel_id}>" if incident.channel_id else f"incident #{incident.id}"
        klass = f" · {item.klass}" if item.klass else ""
        text = ":lock: (a private incident's item)" if incident.is_private else safe(item.text, 200)
        lines.append(f"• #{item.id} {text} · {owner} · {due}{klass} · {where}")
    return _fit(lines)
