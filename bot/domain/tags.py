"""Tags on an incident (`db`, `deploy`, `network`): the cause class insights count across incidents."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bot.domain.incidents import Change, IncidentError, record
from bot.domain.tag_names import EXAMPLES
from bot.domain.timeline import insert_ignoring_duplicates
from storage.models import Incident, IncidentTag


def tags_of(session: Session, incident: Incident) -> list[str]:
    query = select(IncidentTag.tag).where(IncidentTag.incident_id == incident.id).order_by(IncidentTag.tag)
    return list(session.scalars(query))


def add_tags(session: Session, incident: Incident, tags: list[str], actor: str, now: datetime) -> Change:
    """Tag the incident; a tag it already has is left as it is (the unique constraint decides races)."""
    added = [
        tag
        for tag in tags
        if insert_ignoring_duplicates(
            session, IncidentTag, dict(incident_id=incident.id, tag=tag, added_by=actor, added_at=now)
        )
    ]
    already = [tag for tag in tags if tag not in added]
    if not added:
        raise IncidentError(f"This incident is already tagged {_listed(already)}.")
    record(session, incident, "tag", actor, ", ".join(added), now, {"added": added})
    summary = f"added {_listed(added)}" + (f" (already tagged {_listed(already)})" if already else "")
    return Change(incident.id, "tag", actor, summary, refresh_header=False)


def remove_tags(session: Session, incident: Incident, tags: list[str], actor: str, now: datetime) -> Change:
    removed = list(
        session.scalars(
            delete(IncidentTag)
            .where(IncidentTag.incident_id == incident.id, IncidentTag.tag.in_(tags))
            .returning(IncidentTag.tag)
        )
    )
    removed = [tag for tag in tags if tag in removed]  # in the order typed
    if not removed:
        remaining = tags_of(session, incident)
        has = f" Its tags: {_listed(remaining)}." if remaining else " It has no tags."
        raise IncidentError(f"This incident is not tagged {_listed(tags)}.{has}")
    record(session, incident, "untag", actor, ", ".join(removed), now, {"removed": removed})
    missing = [tag for tag in tags if tag not in removed]
    summary = f"removed {_listed(removed)}" + (f" (was not tagged {_listed(missing)})" if missing else "")
    return Change(incident.id, "untag", actor, summary, refresh_header=False)


def describe_tags(session: Session, incident: Incident) -> str:
    tags = tags_of(session, incident)
    if not tags:
        return f":label: Incident #{incident.id} has no tags yet. Add the cause class with `/incident tag <name>`, e.g. {EXAMPLES}."
    return f":label: Incident #{incident.id} is tagged {_listed(tags)}. `/incident untag <name>` removes one."


def _listed(tags: list[str]) -> str:
    return ", ".join(f"`{tag}`" for tag in tags)
