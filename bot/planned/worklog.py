"""The work log of planned work: planned vs actual per step, decisions, reports, the unexpected, action items.

Gathered from the record (the steps, and the timeline as the postmortem builder reads it) and
rendered from templates/worklog.md.j2 in the postmortem's language, with people's words quoted
exactly (bot.postmortem.render.markdown_text), never translated.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.domain.records import IncidentRecord, StepRecord
from bot.i18n import LANGUAGES
from bot.postmortem import builder
from bot.postmortem.data import PostmortemData, TimelineItem
from bot.postmortem.render import markdown_text, template_environment

# Marks that say something went otherwise than planned: the "what was unexpected" section.
UNEXPECTED_MARKS = ("went_wrong", "lucky", "key_event", "went_well")
REPORT_KINDS = ("update", "status")


@dataclass(frozen=True)
class StepRow:
    number: int
    text: str
    owner: str | None
    expected: timedelta | None
    timeout: timedelta | None
    started_at: datetime | None
    ended_at: datetime | None
    took: timedelta | None
    state: str
    reason: str | None
    over: bool  # took longer than expected (or ran past its timeout)


@dataclass(frozen=True)
class WorkLog:
    work: IncidentRecord
    record: PostmortemData
    steps: tuple[StepRow, ...]
    decisions: tuple[TimelineItem, ...]
    reports: tuple[TimelineItem, ...]
    escalations: tuple[TimelineItem, ...]
    unexpected: tuple[tuple[str, TimelineItem], ...]  # (mark, message)


def build(store, incident: IncidentRecord, tz: ZoneInfo, now: datetime) -> WorkLog:
    """Read inside one reading unit of work."""
    record = builder.build(store, incident, tz, now)
    rows = tuple(_row(step) for step in store.steps(incident.id))
    entries = record.full_log
    unexpected = tuple((mark, item) for mark in UNEXPECTED_MARKS for item in record.marked.get(mark, ()))
    return WorkLog(
        work=incident,
        record=record,
        steps=rows,
        decisions=tuple(e for e in entries if e.kind == "decision"),
        reports=tuple(e for e in entries if e.kind in REPORT_KINDS),
        escalations=tuple(e for e in entries if e.kind in ("escalated", "escalation", "escalation_ack")),
        unexpected=unexpected,
    )


def _row(step: StepRecord) -> StepRow:
    took = step.ended_at - step.started_at if step.started_at and step.ended_at else None
    expected = timedelta(minutes=step.expected) if step.expected else None
    timeout = timedelta(minutes=step.timeout) if step.timeout else None
    over = step.overrun_nudged_at is not None or (took is not None and expected is not None and took > expected)
    return StepRow(step.number, step.text, step.owner, expected, timeout, step.started_at, step.ended_at, took, step.state, step.reason, over)


def render(log: WorkLog, language: str) -> str:
    if language not in LANGUAGES:
        raise ValueError(f"no catalog for language {language!r}")
    data = log.record
    tz = ZoneInfo(data.timezone)
    names = data.people

    def md(markup: str | None) -> str:
        return markdown_text(markup or "", names)

    def owner(value: str | None) -> str:
        if not value:
            return "—"
        return md(f"<@{value}>") if value[:1] in "UW" and value.isalnum() and value.isupper() else md(value)

    def at(value: datetime | None) -> str:
        return value.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S") if value else "—"

    def clock(value: datetime | None) -> str:
        return value.astimezone(tz).strftime("%H:%M:%S") if value else "—"

    def who(person) -> str:
        return md(person.name) if person else ""

    return template_environment(language, data.timezone).get_template("worklog.md.j2").render(
        log=log, w=log.work, d=data, md=md, cell=lambda text: md(text).replace("\n", " "), owner=owner, at=at, clock=clock, who=who,
    )


def filename(incident: IncidentRecord) -> str:
    return f"worklog-{incident.channel_name or f'{incident.kind}-{incident.id}'}.md"
