"""The catch-up: where an incident stands, in one screen, for someone who joins halfway.

`/incident catchup` shows it to whoever asks, and a person who joins the incident channel gets
it as an ephemeral message (CATCHUP_ON_JOIN). Only reads: nothing is recorded.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.domain import lifecycle
from bot.domain.durations import KeyDurations
from bot.domain.records import IncidentRecord
from bot.domain.times import utcnow
from bot.i18n import Translator
from bot.services import Services
from bot.slack.blocks import status_label
from bot.slack.formatting import safe
from storage.incident_store import SqlIncidentStore, reading

log = logging.getLogger(__name__)

KEY_MOMENTS = 3
MAX_ITEMS = 5
# What counts as telling stakeholders where things stand.
STAKEHOLDER_UPDATES = ("update", "status")


@dataclass(frozen=True)
class ShowCatchup:
    """After the ack: the catch-up for `user`, who just joined `channel` (an incident's)."""

    channel: str
    user: str


def catchup_text(store: SqlIncidentStore, incident: IncidentRecord, now: datetime, t: Translator) -> str:
    """The catch-up in `t`'s language, read in the caller's unit of work."""
    milestones = lifecycle.milestones(store, incident)
    started, detected, mitigated = (milestones[name].at for name in ("started", "detected", "mitigated"))
    durations = KeyDurations.from_milestones(started, detected, mitigated, milestones["resolved"].at)
    head = t._("*Catch-up: incident #{id}*", id=incident.id)
    title = safe(incident.title, 200)  # only members read it: the channel is the incident's
    lines = [f"{head} · {incident.severity} · {status_label(incident.status, t)} · {title}"]

    commander = f"<@{incident.commander_id}>" if incident.commander_id else t._("nobody yet: `/incident lead @you`")
    people = [t._("*Commander* {person}", person=commander)]
    roles = store.roles(incident.id)
    if roles:
        people.append(t._("*Roles* {roles}", roles=", ".join(f"{t.word('role', role)}: <@{user}>" for role, user in roles)))
    lines.append(" · ".join(people))

    declarer = f"<@{incident.declared_by}>"
    if incident.is_open:
        since = t._("*Open for* {age} (declared {at} by {person})", age=t.duration(now - incident.declared_at), at=incident.declared_at, person=declarer)
    else:
        since = t._("*Resolved*; declared {at} by {person}", at=incident.declared_at, person=declarer)
    lines.append(since + (" · " + t._("impact started {at}", at=started) if started and not milestones["started"].defaulted else ""))

    reached = []
    for name in ("detected", "identified", "mitigated", "resolved"):
        at = milestones[name].at
        if at is None or milestones[name].defaulted:
            continue
        reached.append(f"{t.word('milestone', name)} {t.clock(at)}")
    ttd = t.duration(durations.ttd)
    ttm = t.duration(durations.ttm) if mitigated else t._("running for {age}", age=t.duration(now - detected)) if detected else t._("not recorded")
    lines.append(
        t._("*Milestones* {reached} · TTD {ttd} · TTM {ttm}", reached=t.list(reached) if reached else t._("none marked yet"), ttd=ttd, ttm=ttm)
    )

    update = store.last_entry(incident.id, STAKEHOLDER_UPDATES)
    if update is None:
        lines.append(t._("*Last stakeholder update* none yet: `/incident update <text>`"))
    else:
        said = f": {safe(update.text.replace(chr(10), ' '), 300)}" if update.text else ""
        lines.append(
            t._("*Last stakeholder update* {ago} ago by {person}", ago=t.duration(now - update.occurred_at), person=f"<@{update.author_id}>")
            + said
        )

    if incident.deadline_at is not None:
        what = f": {safe(incident.deadline_what, 300)}" if incident.deadline_what else ""
        if incident.deadline_at > now:
            when = t._("*Go/no-go deadline* {at} (in {left})", at=incident.deadline_at, left=t.duration(incident.deadline_at - now))
        else:
            when = t._("*Go/no-go deadline* {at} (passed {ago} ago, not decided)", at=incident.deadline_at, ago=t.duration(now - incident.deadline_at))
        lines.append(when + what)

    moments = store.recent_marked_messages(incident.id, KEY_MOMENTS)
    if moments:
        lines.append(t._("*Key moments*"))
        for entry, marks in moments:
            shown = t.list([t.word("mark", mark) for mark in marks])
            text = safe(entry.text.replace("\n", " "), 200)
            lines.append(f"• {t.clock(entry.occurred_at)} <@{entry.author_id}> ({shown}): {text}")

    items = [item for item in store.action_items(incident.id) if item.status != "done"]
    if items:
        lines.append(t._("*Open action items* ({count})", count=t.number(len(items))))
        for item in items[:MAX_ITEMS]:
            owner = f"<@{item.owner_id}>" if item.owner_id else t._("no owner")
            due = t._("due {date}", date=item.due_date.isoformat()) if item.due_date else t._("no due date")
            lines.append(f"• #{item.id} {safe(item.text, 200)} · {owner} · {due}")
    return "\n".join(lines)


def post_catchup(step: ShowCatchup, client: WebClient, services: Services) -> None:
    """The catch-up for someone who joined the incident channel, only they see it."""
    with reading(services.db) as store:
        incident = store.incident_in(step.channel)
        if incident is None or step.user == incident.declared_by:
            return
        text = catchup_text(store, incident, utcnow(), services.t_for(step.user))
    try:
        client.chat_postEphemeral(channel=step.channel, user=step.user, text=text)
    except SlackApiError as error:
        log.warning("catch-up for %s in %s not shown: %s", step.user, step.channel, error.response.get("error"))
