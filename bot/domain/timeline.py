"""The channel's messages and the marks people put on them, exactly once, in any order.

Slack delivers events at least once and not always in order, so:
- a message is stored once per (channel, ts), enforced by a unique constraint;
- an edit applies only if it is newer than the last edit applied;
- a deletion leaves a tombstone, so a late copy of the message stays deleted;
- a reaction mark keeps the newest add/remove per (message, emoji, person);
- a mark counts only on a person's message that is on the record: not on the bot's
  posts, and no longer once its message is deleted (storage's `claims` applies this
  when it turns marks into milestone claims, so every reader gets the same answer).
"""

from __future__ import annotations

from bot.domain import times
from bot.domain.changes import Change, Context, IncidentError
from bot.domain.lifecycle import check_milestone_order, milestones
from bot.domain.marks import MILESTONE_MARKS, base_emoji
from bot.domain.records import IncidentRecord, MarkRecord, SlackMessage
from bot.domain.requests import DeleteMessage, EditMessage, React, RecordMessage
from bot.domain.storable_text import storable
from bot.domain.store import IncidentStore
from bot.i18n import N_, Message

# Who wrote a message, as the Slack layer found out when the message was not on the record yet.
WRITTEN_BY_A_PERSON = "person"
WRITTEN_BY_A_BOT = "bot"


def record_message(store: IncidentStore, incident: IncidentRecord, intent: RecordMessage, ctx: Context) -> Change | None:
    """Store a person's message as an entry, once."""
    store.add_message(incident.id, intent.message, ctx.now)
    return None


def edit_message(store: IncidentStore, incident: IncidentRecord, intent: EditMessage, ctx: Context) -> Change | None:
    """Apply an edit, unless a newer edit already won; an edit of an unseen message stores it."""
    message = intent.message
    # Why lock: two edits (or an edit and a deletion) delivered at once would otherwise both
    # read the row before either writes, and the older edit could overwrite the newer one.
    entry = store.message(message.channel_id, message.ts, for_update=True)
    if entry is None:
        # The edit arrived before the message itself: keep the edited text.
        if store.add_message(incident.id, message, ctx.now):
            return None
        entry = store.message(message.channel_id, message.ts, for_update=True)
    if entry.deleted or not newer(message.edited_ts, entry.edited_ts):
        return None
    entry.text = storable(message.text)
    entry.files = [storable(name) for name in message.files] or None
    entry.edited_ts = message.edited_ts
    store.save_message(entry)
    return None


def delete_message(store: IncidentStore, incident: IncidentRecord, intent: DeleteMessage, ctx: Context) -> Change | None:
    """The message leaves the record, and so do the marks on it (a milestone it set falls back)."""
    channel = incident.channel_id
    entry = store.message(channel, intent.ts, for_update=True)  # see edit_message
    if entry is None:
        # Deleted before we saw it: a tombstone keeps a late copy from appearing.
        tombstone = SlackMessage(channel_id=channel, ts=intent.ts, user_id=None, text="")
        if store.add_message(incident.id, tombstone, ctx.now, deleted=True):
            return None
        entry = store.message(channel, intent.ts, for_update=True)
    if entry.deleted:
        return None
    entry.deleted = True
    entry.text = ""  # a deleted message is gone from the record, not only hidden
    entry.files = None
    store.save_message(entry)
    return None


def react(store: IncidentStore, incident: IncidentRecord, intent: React, ctx: Context) -> Change | None:
    """Mark or unmark a message; returns a Change when the mark is a milestone's."""
    emoji = base_emoji(intent.reaction)
    mark = ctx.reactions.get(emoji)
    if mark is None:
        return None
    channel = incident.channel_id
    if intent.added:
        check_mark(store, incident, mark, intent, ctx)
    values = MarkRecord(
        incident_id=incident.id,
        channel_id=channel,
        message_ts=intent.message_ts,
        emoji=emoji,
        user_id=ctx.actor,
        mark=mark,
        active=intent.added,
        event_ts=intent.event_ts,
        marked_at=ctx.now,
    )
    if not store.add_mark(values):
        existing = store.mark(channel, intent.message_ts, emoji, ctx.actor)
        # The same event again, or an older one arriving late: the newest already stands.
        if not newer(intent.event_ts, existing.event_ts) or existing.active == intent.added:
            existing.event_ts = max(existing.event_ts, intent.event_ts, key=ts_key)
            store.save_mark(existing)
            return None
        existing.active = intent.added
        existing.event_ts = intent.event_ts
        existing.marked_at = ctx.now
        store.save_mark(existing)
    if mark not in MILESTONE_MARKS:
        return None
    return Change(incident.id, "mark", ctx.actor, {"mark": mark, "added": intent.added}, post_in_channel=False)


def check_mark(store: IncidentStore, incident: IncidentRecord, mark: str, intent: React, ctx: Context) -> None:
    """A mark counts only on a person's message, and a milestone mark keeps the milestone order."""
    entry = store.message(incident.channel_id, intent.message_ts)
    by_a_person = entry is not None and not entry.deleted and entry.author_id is not None
    if intent.message_ts == incident.header_ts or (not by_a_person and intent.written_by == WRITTEN_BY_A_BOT):
        raise IncidentError(
            N_(
                "Marks count only on people's messages, not on the bot's posts: react to the message that says "
                "what happened (or use `/incident note`, then mark that)."
            )
        )
    if mark not in MILESTONE_MARKS:
        return
    at = times.from_slack_ts(intent.message_ts)
    if mark == "resolved" and not incident.is_open and milestones(store, incident)["resolved"].at != at:
        # A second ✅ on the message that resolved it agrees; one elsewhere would move the time unseen.
        raise IncidentError(
            Message(
                N_(
                    "Incident #{id} is already resolved, so this mark does not move its resolved time. "
                    "To correct it, run `/incident resolve <time>`."
                ),
                {"id": incident.id},
            )
        )
    check_milestone_order(store, incident, mark, at, ctx)


def ts_key(ts: str | None) -> tuple[int, int]:
    if not ts:
        return (0, 0)
    seconds, _, micros = ts.partition(".")
    return (int(seconds), int((micros or "0").ljust(6, "0")[:6]))


def newer(candidate: str | None, current: str | None) -> bool:
    return ts_key(candidate) > ts_key(current)
