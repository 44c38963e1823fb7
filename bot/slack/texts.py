"""The texts people read in Slack: replies, channel notices, announcements, help.

Every function takes the reader's Translator `t` (bot/i18n.py): a channel's texts are in the
workspace's language, a reply or a refusal in the language of whoever reads it. A Change says
what happened as data (bot/domain/changes.py); `summary` says it in words. People's own words
(titles, updates, notes, a role's name) are shown as they wrote them, defused (`safe`).
"""

from __future__ import annotations

from datetime import datetime

from bot.domain.changes import Change
from bot.domain.command_parser import ALIASES, STATUS_ALIASES, USAGE
from bot.domain.records import MARKS, ActionItemRecord, IncidentRecord
from bot.domain.tag_names import EXAMPLES
from bot.i18n import N_, Message, Translator, Word
from bot.reminders.rhythm import DECISIONS
from bot.slack import work_texts
from bot.slack.formatting import mention, safe

INTERNAL_ERROR = N_(
    "Something went wrong on our side and nothing was changed. Please try again; if it keeps happening, "
    "tell your operator (reference: {ref})."
)
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
    "write_up": ":pencil:",
    "postmortem_form": ":pencil:",
    "planned": ":calendar:",
    "runbook": ":scroll:",
    "finished": ":checkered_flag:",
    "escalated": ":rotating_light:",
    "escalation_ack": ":ok_hand:",
}
# What a notice, a reply or an announcement calls each kind of change.
TITLES = {
    "status": N_("Status"),
    "update": N_("Update"),
    "severity": N_("Severity"),
    "lead": N_("Commander"),
    "role": N_("Role"),
    "note": N_("Note"),
    "milestone": N_("Milestone"),
    "action": N_("Action item"),
    "reopened": N_("Reopened"),
    "deadline": N_("Go/no-go deadline"),
    "decision": N_("Go/no-go decision"),
    "action_done": N_("Action item done"),
    "action_pushed": N_("Action item pushed"),
    "postmortem_done": N_("Postmortem"),
    "snooze": N_("Nudges snoozed"),
    "alert": N_("Alerts"),
    "tag": N_("Tags"),
    "untag": N_("Tags"),
    "write_up": N_("Postmortem"),
    "postmortem_form": N_("Postmortem"),
    "planned": N_("Planned work"),
    "runbook": N_("Runbook"),
    "step": N_("Runbook step"),
    "finished": N_("Planned work over"),
    "escalated": N_("Escalated"),
    "escalation_ack": N_("Escalation"),
}


def title(change: Change, t: Translator) -> str:
    known = TITLES.get(change.kind)
    return t._(known) if known else change.kind


def summary(change: Change, t: Translator) -> str:
    """What a change did, in a few words of `t`'s language (people's words in it as they wrote them)."""
    d, kind = change.details, change.kind
    planned = work_texts.summary(change, t)
    if planned is not None:
        return planned
    if kind == "declared":
        return f"{d['severity']} {d['title']}"
    if kind == "retry":
        return t._("setting up again")
    if kind in ("status", "reopened"):
        to = Word("status", d["to"])
        if d.get("reopened"):
            return t._("reopened ({status})", status=to)
        if d["from"] == d["to"]:
            return t._("still {status}", status=to)
        return f"{t.word('status', d['from'])} → {t.word('status', d['to'])}"
    if kind == "update":
        return t._("status update")
    if kind == "severity":
        return f"{d['from']} → {d['to']}"
    if kind == "lead":
        return t._("{person} is incident commander", person=mention(d['user']))
    if kind == "role":
        return f"{t.word('role', d['role'])}: <@{d['user']}>"
    if kind == "note":
        return t._("note")
    if kind == "milestone":
        return f"{t.word('milestone', d['milestone'])}: {t.datetime(d['at'])}"
    if kind == "snooze":
        return t._("until {time}", time=d["until"])
    if kind == "postmortem_done":
        return t._("postmortem marked done")
    if kind == "postmortem":
        return t._("posting the postmortem draft again")
    if kind == "action":
        return t._(
            "action item #{item} ({owner}, {due}, {klass})",
            item=d["item"],
            owner=t._("owner {person}", person=mention(d["owner"])) if d.get("owner") else t._("no owner yet"),
            due=t._("due {date}", date=d["due"].isoformat()) if d.get("due") else t._("no due date"),
            klass=t.word("class", d["class"]) if d.get("class") else t._("unclassed"),
        )
    if kind == "action_done":
        return t._("action item #{item} done", item=d["item"])
    if kind == "action_pushed":
        return t._("action item #{item} now due {due}", item=d["item"], due=d["due"].isoformat())
    if kind == "deadline":
        if d.get("at") is None:
            return t._("deadline cleared")
        if d.get("what"):
            return t._("go/no-go at {at}: {what}", at=d["at"], what=d["what"])
        return t._("go/no-go at {at}", at=d["at"])
    if kind == "decision" and d.get("planned"):
        said = t.word("decision", d["decision"])
        return said + (" · " + t._("next: rollback limit {at}", at=d["next"]) if d.get("next") else "")
    if kind == "decision":
        if d.get("next") is not None:
            return t._("{decision}: next go/no-go at {at}", decision=Message(DECISIONS[d["decision"]]), at=d["next"])
        return t._(DECISIONS[d["decision"]])
    if kind == "tag":
        added = t._("added {tags}", tags=_tags(d["added"]))
        return added + (t._(" (already tagged {tags})", tags=_tags(d["already"])) if d.get("already") else "")
    if kind == "untag":
        removed = t._("removed {tags}", tags=_tags(d["removed"]))
        return removed + (t._(" (was not tagged {tags})", tags=_tags(d["missing"])) if d.get("missing") else "")
    if kind == "alert":
        counts = [
            t.ngettext("{n} alert firing", "{n} alerts firing", d["firing"]) if d.get("firing") else "",
            t.ngettext("{n} alert resolved", "{n} alerts resolved", d["resolved"]) if d.get("resolved") else "",
            t.ngettext("{n} alert acknowledged", "{n} alerts acknowledged", d["acknowledged"]) if d.get("acknowledged") else "",
        ]
        return t.list([c for c in counts if c])
    if kind == "write_up":
        return _write_up_summary(d, t)
    if kind == "postmortem_form":
        return t._("filled in from the form: {parts}", parts=t.list([t.word("write_up", part) for part in d["parts"]]))
    if kind == "mark":
        mark = Word("mark", d["mark"])
        return t._("marked {mark}", mark=mark) if d.get("added") else t._("unmarked {mark}", mark=mark)
    return ""


def _write_up_summary(d: dict, t: Translator) -> str:
    part = d["part"]
    if part == "why":
        return t._("5 whys cleared") if d.get("cleared") else t._("why #{n}", n=d["number"])
    if part == "factor":
        if d.get("cleared"):
            category = d.get("category")
            return t._("{category} factors cleared", category=Word("factor", category)) if category else t._("fishbone factors cleared")
        return t._("contributing factor ({category})", category=Word("factor", d["category"]))
    if part == "impact" and d.get("figures"):
        figures = " ".join(f"{name}={value}" for name, value in d["figures"].items() if name != "currency")
        return t._("impact ({figures})", figures=figures)
    return t.word("write_up", part)


def reply(change: Change, t: Translator) -> str:
    """What the person who made the change is told (ephemeral)."""
    planned = work_texts.reply(change, t)
    if planned is not None:
        return planned
    if change.kind == "declared":
        said = t._(
            "Declared incident #{id}: {summary}. Opening its channel…", id=change.incident_id, summary=safe(summary(change, t), 300)
        )
        return f":white_check_mark: {said}"
    if change.kind == "retry":
        return ":arrows_counterclockwise: " + t._("Setting up incident #{id} again…", id=change.incident_id)
    if change.kind == "postmortem":
        return ":page_facing_up: " + t._("Posting the postmortem draft again…")
    said = t._("Recorded. {title}: {summary}", title=title(change, t), summary=safe(summary(change, t), 500))
    if change.kind == "write_up" and change.details.get("resolved"):
        said += " " + t._("The incident is resolved: run `/incident postmortem` to post the draft with it.")
    return f":white_check_mark: {said}"


def notice(change: Change, t: Translator) -> str:
    """What the incident channel is told about a change."""
    if change.kind == "step":
        return work_texts.step_notice(change, t)
    # A summary can carry what a person typed (a deadline's `what`, a role's name): defused like their text.
    head = f"{NOTICE_EMOJI.get(change.kind, '')} *{title(change, t)}* {safe(summary(change, t), 500)}"
    by = " · " + t._("by {person}", person=mention(change.actor)) if change.actor else ""
    body = f"\n>{safe(change.text, 2900)}" if change.text else ""
    return (head + by + body).strip()


def announcement(change: Change, incident: IncidentRecord, t: Translator) -> str | None:
    """What the announce channel hears; of a private incident, only that it exists and when it ends."""
    if incident.is_private:
        if change.kind == "declared":
            said = t._(
                "A private {severity} incident (#{id}) was declared by {person}.",
                severity=incident.severity, id=incident.id, person=mention(incident.declared_by),
            )
            return f":lock: {said}"
        if change.resolved:
            return ":lock: " + t._("Private incident #{id} is resolved.", id=incident.id)
        return None
    if change.kind == "escalated":
        return work_texts.escalated_announcement(incident, t)
    where = f"<#{incident.channel_id}>" if incident.channel_id else t._("incident #{id}", id=incident.id)
    shown = safe(incident.title, 300)
    if change.kind == "declared":
        new = t._("New {severity} incident", severity=incident.severity)
        by = t._("declared by {person}", person=mention(incident.declared_by))
        return f":rotating_light: *{new}* {where}: {shown} · {by}"
    if change.resolved:
        resolved = t._("Resolved")
        return f":white_check_mark: *{resolved}* {where}: {shown}"
    body = f": {safe(change.text, 2500)}" if change.text else ""
    head = f"{NOTICE_EMOJI.get(change.kind, '')} *{incident.severity} {title(change, t)}*"
    return f"{head} {where} {shown} · {safe(summary(change, t), 500)}{body}"


def refusal(message: str | Message, t: Translator) -> str:
    """A refusal (an IncidentError's or UsageError's message), privately to whoever asked."""
    return f":warning: {t._(message)}"


def help_text(t: Translator) -> str:
    lines = [t._("*`/incident` commands* (inside an incident channel unless noted)")]
    lines += [f"• {t._(usage)}" for usage in USAGE.values()]
    lines.append(t._("`start`, `list` and `help` work anywhere. Times are read in the incident time zone."))
    marks = t.list([t.word("mark", mark) for mark in MARKS], style="standard-narrow")
    lines.append(t._("Mark moments with reactions: {marks} (see the header message for the emoji).", marks=marks))
    aliases = ALIASES.get(t.language)
    if aliases:
        words = ", ".join(f"`{alias}` = `{command}`" for alias, command in aliases.items())
        statuses = ", ".join(f"`{alias}` = `{status}`" for alias, status in STATUS_ALIASES.get(t.language, {}).items())
        lines.append(t._("You can also type these words for the commands: {words}.", words=words))
        lines.append(t._("And for the statuses (`/incident status …`): {words}.", words=statuses))
    return "\n".join(lines)


def open_incidents_text(incidents: list[IncidentRecord], now: datetime, t: Translator) -> str:
    if not incidents:
        return ":sunny: " + t._("No open incidents.")
    heading = t._("Open incidents")
    lines = [f"*{heading}* ({len(incidents)})"]
    for incident in incidents:
        where = f"<#{incident.channel_id}>" if incident.channel_id else t._("(channel not created yet)")
        age = t.duration(now - incident.declared_at)
        lead = f"<@{incident.commander_id}>" if incident.commander_id else t._("no commander")
        status = t.word("status", incident.status)
        if incident.is_planned_work and incident.escalated_at is None:
            # Planned work has no severity until it becomes an incident: its kind and state instead.
            lines.append(
                f"• #{incident.id} {t.word('work_kind', incident.kind)} {t.word('work_status', incident.work_status)} · {where} "
                f"{safe(incident.title, 200)} · {age} · {lead}"
            )
            continue
        if incident.is_private:
            private = t._("private")
            lines.append(f"• #{incident.id} {incident.severity} {status} · :lock: {private} · {age}")
            continue
        lines.append(f"• #{incident.id} {incident.severity} {status} · {where} {safe(incident.title, 200)} · {age} · {lead}")
    return _fit(lines, t)


def timeline_text(incident: IncidentRecord, entries: list, t: Translator) -> str:
    lines = [t._("*Timeline of incident #{id}* (times in {zone})", id=incident.id, zone=t.tz.key)]
    for entry in entries:
        at = entry.occurred_at.astimezone(t.tz).strftime("%m-%d %H:%M:%S")
        who = f"<@{entry.author_id}>" if entry.author_id else t._("bot")
        label = "" if entry.kind == "message" else f"[{t.word('entry', entry.kind)}] "
        text = safe(entry.text.replace("\n", " "), 300)
        lines.append(f"`{at}` {who}: {label}{text}")
    return _fit(lines, t, newest_last=True)


def _fit(lines: list[str], t: Translator, newest_last: bool = False) -> str:
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
    note = "_" + t.ngettext(
        "… {n} earlier line not shown; `python app.py export` prints all of it.",
        "… {n} earlier lines not shown; `python app.py export` prints all of it.",
        omitted,
    ) + "_"
    return "\n".join([head, note, *kept] if newest_last else [head, *kept, note])


def review_reminder(incident: IncidentRecord, due_days: int, t: Translator) -> str:
    who = f"<@{incident.commander_id}>" if incident.commander_id else f"<@{incident.declared_by}>"
    said = t.ngettext(
        "{person}: the postmortem for incident #{id} ({title}) is due for review ({n} business day after resolution). "
        "Review it with the team, then run `/incident postmortem done`.",
        "{person}: the postmortem for incident #{id} ({title}) is due for review ({n} business days after resolution). "
        "Review it with the team, then run `/incident postmortem done`.",
        due_days,
        person=who, id=incident.id, title=safe(incident.title, 200),
    )
    return f":books: {said}"


def action_items_text(rows: list[tuple[ActionItemRecord, IncidentRecord]], now: datetime, t: Translator) -> str:
    """Open action items across incidents, oldest due first."""
    if not rows:
        return ":sparkles: " + t._("No open action items.")
    today = now.astimezone(t.tz).date()
    lines = [t._("*Open action items* ({count}, oldest due first)", count=t.number(len(rows)))]
    for item, incident in rows:
        owner = f"<@{item.owner_id}>" if item.owner_id else t._("no owner")
        if item.due_date is None:
            due = t._("no due date")
        elif item.due_date < today:
            due = t._("*overdue* since {date}", date=item.due_date.isoformat())
        else:
            due = t._("due {date}", date=item.due_date.isoformat())
        where = f"<#{incident.channel_id}>" if incident.channel_id else t._("incident #{id}", id=incident.id)
        klass = f" · {t.word('class', item.klass)}" if item.klass else ""
        text = ":lock: " + t._("(a private incident's item)") if incident.is_private else safe(item.text, 200)
        lines.append(f"• #{item.id} {text} · {owner} · {due}{klass} · {where}")
    return _fit(lines, t)


def deadline_text(incident: IncidentRecord, now: datetime, t: Translator) -> str:
    """`/incident deadline`: the go/no-go deadline, if any, and what is to be decided."""
    if incident.deadline_at is None:
        return t._("No go/no-go deadline is set. Set one with `/incident deadline <time> [what is decided]`.")
    if incident.deadline_at <= now:
        if incident.deadline_what:
            return t._("The go/no-go deadline passed {at} to decide: {what}.", at=incident.deadline_at, what=safe(incident.deadline_what, 500))
        return t._("The go/no-go deadline passed {at}.", at=incident.deadline_at)
    if incident.deadline_what:
        return t._("The go/no-go deadline is {at} to decide: {what}.", at=incident.deadline_at, what=safe(incident.deadline_what, 500))
    return t._("The go/no-go deadline is {at}.", at=incident.deadline_at)


def tags_text(incident_id: int, tags: list[str], t: Translator) -> str:
    """`/incident tag` alone: the incident's tags."""
    if not tags:
        said = t._(
            "Incident #{id} has no tags yet. Add the cause class with `/incident tag <name>`, e.g. {examples}.",
            id=incident_id, examples=EXAMPLES,
        )
        return f":label: {said}"
    said = t._("Incident #{id} is tagged {tags}. `/incident untag <name>` removes one.", id=incident_id, tags=_tags(tags))
    return f":label: {said}"


def _tags(tags: list[str]) -> str:
    """Tags are names, not words: listed as code, the same in every language."""
    return ", ".join(f"`{tag}`" for tag in tags)
