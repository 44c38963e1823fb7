"""Tags on an incident (`db`, `deploy`, `network`): the cause class insights count across incidents."""

from __future__ import annotations

from bot.domain.changes import Change, Context, IncidentError
from bot.domain.lifecycle import record
from bot.domain.records import IncidentRecord
from bot.domain.requests import Tag, Untag
from bot.domain.store import IncidentStore
from bot.i18n import N_, Message


def add_tags(store: IncidentStore, incident: IncidentRecord, intent: Tag, ctx: Context) -> Change:
    """Tag the incident; a tag it already has is left as it is (the unique constraint decides races)."""
    tags = list(intent.tags)
    added = [tag for tag in tags if store.add_tag(incident.id, tag, ctx.actor, ctx.now)]
    already = [tag for tag in tags if tag not in added]
    if not added:
        raise IncidentError(Message(N_("This incident is already tagged {tags}."), {"tags": listed(already)}))
    record(store, incident, "tag", ctx, ", ".join(added), {"added": added})
    return Change(incident.id, "tag", ctx.actor, {"added": added, "already": already}, refresh_header=False)


def remove_tags(store: IncidentStore, incident: IncidentRecord, intent: Untag, ctx: Context) -> Change:
    tags = list(intent.tags)
    removed = store.remove_tags(incident.id, tags)
    removed = [tag for tag in tags if tag in removed]  # in the order typed
    if not removed:
        remaining = store.tags(incident.id)
        has = Message(N_(" Its tags: {tags}."), {"tags": listed(remaining)}) if remaining else Message(N_(" It has no tags."))
        raise IncidentError(Message(N_("This incident is not tagged {tags}.{has}"), {"tags": listed(tags), "has": has}))
    record(store, incident, "untag", ctx, ", ".join(removed), {"removed": removed})
    missing = [tag for tag in tags if tag not in removed]
    return Change(incident.id, "untag", ctx.actor, {"removed": removed, "missing": missing}, refresh_header=False)


def listed(tags: list[str]) -> str:
    return ", ".join(f"`{tag}`" for tag in tags)
