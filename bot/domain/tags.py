"""Tags on an incident (`db`, `deploy`, `network`): the cause class insights count across incidents."""

from __future__ import annotations

from bot.domain.changes import Change, Context, IncidentError
from bot.domain.lifecycle import record
from bot.domain.records import IncidentRecord
from bot.domain.requests import Tag, Untag
from bot.domain.store import IncidentStore
from bot.domain.tag_names import EXAMPLES


def add_tags(store: IncidentStore, incident: IncidentRecord, intent: Tag, ctx: Context) -> Change:
    """Tag the incident; a tag it already has is left as it is (the unique constraint decides races)."""
    tags = list(intent.tags)
    added = [tag for tag in tags if store.add_tag(incident.id, tag, ctx.actor, ctx.now)]
    already = [tag for tag in tags if tag not in added]
    if not added:
        raise IncidentError(f"This incident is already tagged {listed(already)}.")
    record(store, incident, "tag", ctx, ", ".join(added), {"added": added})
    summary = f"added {listed(added)}" + (f" (already tagged {listed(already)})" if already else "")
    return Change(incident.id, "tag", ctx.actor, summary, refresh_header=False)


def remove_tags(store: IncidentStore, incident: IncidentRecord, intent: Untag, ctx: Context) -> Change:
    tags = list(intent.tags)
    removed = store.remove_tags(incident.id, tags)
    removed = [tag for tag in tags if tag in removed]  # in the order typed
    if not removed:
        remaining = store.tags(incident.id)
        has = f" Its tags: {listed(remaining)}." if remaining else " It has no tags."
        raise IncidentError(f"This incident is not tagged {listed(tags)}.{has}")
    record(store, incident, "untag", ctx, ", ".join(removed), {"removed": removed})
    missing = [tag for tag in tags if tag not in removed]
    summary = f"removed {listed(removed)}" + (f" (was not tagged {listed(missing)})" if missing else "")
    return Change(incident.id, "untag", ctx.actor, summary, refresh_header=False)


def describe_tags(incident_id: int, tags: list[str]) -> str:
    if not tags:
        return f":label: Incident #{incident_id} has no tags yet. Add the cause class with `/incident tag <name>`, e.g. {EXAMPLES}."
    return f":label: Incident #{incident_id} is tagged {listed(tags)}. `/incident untag <name>` removes one."


def listed(tags: list[str]) -> str:
    return ", ".join(f"`{tag}`" for tag in tags)
