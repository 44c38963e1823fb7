"""Each incident's milestones, durations and tags, read for a whole window at once.

Four queries whatever the number of incidents (incidents, milestone claims, milestone marks,
tags), each selecting only the columns it needs; the milestones are then worked out by the
same rules as one incident's (bot.domain.milestones), so stats and postmortems agree.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.domain.milestones import effective_milestones, reaction_claim
from bot.domain.records import Claim
from bot.stats.insights import IncidentFacts, PlannedWorkStats
from storage.incident_store import counting_milestone_marks
from storage.models import Incident, IncidentTag, MilestoneClaim, ReactionMark, RunbookStep

# Incidents, and planned work once it became one; planned work is counted apart (load_planned).
_AN_INCIDENT = (Incident.kind == "incident") | Incident.escalated_at.is_not(None)


def load(session: Session, since: datetime, until: datetime) -> list[IncidentFacts]:
    """Every incident declared from `since` to `until`, oldest first."""
    in_window = (Incident.declared_at >= since) & (Incident.declared_at <= until) & _AN_INCIDENT
    window_ids = select(Incident.id).where(in_window)
    rows = session.execute(
        select(
            Incident.id, Incident.title, Incident.severity, Incident.is_private, Incident.declared_at, Incident.reopened_at,
            Incident.near_miss,
        )
        .where(in_window)
        .order_by(Incident.declared_at, Incident.id)
    ).all()
    claims: dict[int, list[Claim]] = {row.id: [] for row in rows}
    stored = session.execute(
        select(MilestoneClaim.incident_id, MilestoneClaim.milestone, MilestoneClaim.at, MilestoneClaim.recorded_at, MilestoneClaim.source)
        .where(MilestoneClaim.incident_id.in_(window_ids))
    )
    for incident_id, milestone, at, recorded_at, source in stored:
        claims.setdefault(incident_id, []).append(Claim(milestone, at, recorded_at, source))
    marks = session.execute(counting_milestone_marks(ReactionMark.incident_id.in_(window_ids)))
    for incident_id, mark, message_ts, event_ts in marks:
        claims.setdefault(incident_id, []).append(reaction_claim(mark, message_ts, event_ts))
    tags: dict[int, list[str]] = {}
    for incident_id, tag in session.execute(
        select(IncidentTag.incident_id, IncidentTag.tag).where(IncidentTag.incident_id.in_(window_ids)).order_by(IncidentTag.tag)
    ):
        tags.setdefault(incident_id, []).append(tag)
    facts = []
    for row in rows:
        times = effective_milestones(row.declared_at, claims[row.id], row.reopened_at)
        facts.append(
            IncidentFacts(
                id=row.id,
                title=row.title,
                severity=row.severity,
                is_private=bool(row.is_private),
                declared_at=row.declared_at,
                started=times["started"].at,
                detected=times["detected"].at,
                mitigated=times["mitigated"].at,
                resolved=times["resolved"].at,
                tags=tuple(tags.get(row.id, ())),
                near_miss=bool(row.near_miss),
            )
        )
    return facts


def load_planned(session: Session, since: datetime, until: datetime) -> PlannedWorkStats:
    """Releases and maintenance planned from `since` to `until`: how many, how each ended, steps that overran."""
    in_window = (Incident.declared_at >= since) & (Incident.declared_at <= until) & (Incident.kind != "incident")
    rows = session.execute(select(Incident.id, Incident.kind, Incident.work_status, Incident.escalated_at).where(in_window)).all()
    steps = session.execute(
        select(RunbookStep.started_at, RunbookStep.ended_at, RunbookStep.expected, RunbookStep.overrun_nudged_at)
        .where(RunbookStep.incident_id.in_(select(Incident.id).where(in_window)))
    ).all()

    def overran(step) -> bool:
        if step.overrun_nudged_at is not None:
            return True
        took = (step.ended_at - step.started_at).total_seconds() / 60 if step.started_at and step.ended_at else None
        return took is not None and step.expected is not None and took > step.expected

    return PlannedWorkStats(
        total=len(rows),
        by_kind={kind: sum(1 for r in rows if r.kind == kind) for kind in ("release", "maintenance")},
        by_outcome={state: sum(1 for r in rows if r.work_status == state) for state in ("completed", "rolled_back", "stopped", "planned", "in_progress")},
        escalated=sum(1 for r in rows if r.escalated_at is not None),
        steps=len(steps),
        overran=sum(1 for step in steps if overran(step)),
    )
