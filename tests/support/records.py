"""Reading an incident's record in tests, through the same store the bot reads with."""

from __future__ import annotations

from bot.domain.lifecycle import milestones
from storage.db import Database
from storage.incident_store import reading


def milestones_of(db: Database, incident_id: int) -> dict:
    with reading(db) as store:
        return milestones(store, store.incident(incident_id))


def timeline_of(db: Database, incident_id: int) -> list:
    with reading(db) as store:
        return store.timeline(incident_id)


def marks_of(db: Database, incident_id: int) -> dict[str, list[str]]:
    with reading(db) as store:
        return store.marks_by_message(incident_id)
