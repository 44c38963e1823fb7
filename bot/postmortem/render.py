"""The postmortem as people read it: Markdown from Jinja2 templates, a Slack summary, and JSON.

PostmortemData holds texts exactly as Slack sent them. This module is the one
place that turns them into Markdown: mentions become names, broadcasts lose
their power, and Markdown syntax is escaped so a message can quote `# heading`
or `| pipes |` without changing the document around it.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from bot.domain.durations import format_duration
from bot.postmortem.data import MILESTONES, Person, PostmortemData, TimelineItem
from bot.slack.formatting import readable, safe

# Installed, the templates are package data in bot/templates; in the source tree, templates/ at its root.
_PACKAGE = Path(__file__).resolve().parents[1]
TEMPLATES = _PACKAGE / "templates" if (_PACKAGE / "templates").is_dir() else _PACKAGE.parent / "templates"
LANGUAGES = ("en", "ja")

# Characters that mean something anywhere in a Markdown line (tables, emphasis, code, links, HTML).
_INLINE = re.compile(r"[\\`*_\[\]<>|~#]")
_ENTITY = re.compile(r"&(?=#?\w+;)")
# What makes a line a heading, quote, list item or rule when it starts it (a backslash goes before it).
_LINE_START = re.compile(r"^([-+=]|\d+(?=[.)]))")


@lru_cache(maxsize=1)
def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=False,  # Markdown, not HTML: md() escapes what needs it
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=StrictUndefined,
    )
    return env


def render_postmortem(data: PostmortemData, language: str = "en") -> str:
    return _render(f"postmortem.{_language(language)}.md.j2", data)


def render_summary(data: PostmortemData, language: str = "en") -> str:
    """The short Slack message posted beside the document (mrkdwn, broadcasts defused)."""
    return _render(f"summary.{_language(language)}.txt.j2", data).strip()


def postmortem_filename(data: PostmortemData) -> str:
    return f"postmortem-{data.channel_name or f'incident-{data.incident_id}'}.md"


def _language(language: str) -> str:
    if language not in LANGUAGES:
        raise ValueError(f"no postmortem template for language {language!r}")
    return language


def _render(template: str, data: PostmortemData) -> str:
    tz = ZoneInfo(data.timezone)
    names = data.people

    def md(markup: str | None) -> str:
        return markdown_text(markup or "", names)

    shown_names: dict[str, str] = {}  # a person is named on every line they wrote: escape each name once

    def at(value: datetime | None, missing: str = "—") -> str:
        return _show(value, tz) if value else missing

    def clock(value: datetime) -> str:
        return value.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S")

    def who(person: Person | None, missing: str = "—") -> str:
        if not person:
            return missing
        shown = shown_names.get(person.name)
        if shown is None:
            shown = shown_names[person.name] = md(person.name)
        return shown

    def dur(delta: timedelta | None, missing: str) -> str:
        return format_duration(delta, missing)

    milestones = data.milestones
    return _environment().get_template(template).render(
        d=data,
        m=milestones,
        milestone_names=MILESTONES,
        duration=_span(milestones["started"].at, milestones["resolved"].at),
        md=md,
        slack=lambda markup: safe(markup or "", 300),
        at=at,
        clock=clock,
        who=who,
        dur=dur,
        cell=lambda text: md(text).replace("\n", " "),
        is_message=lambda item: item.kind == "message",
    )


def markdown_text(markup: str, names: dict[str, str]) -> str:
    """Slack markup to Markdown that shows exactly the words written and nothing more.

    Line breaks stay (as Markdown hard breaks indented to stay inside a list
    item); every character that could start a heading, quote, table cell,
    link, HTML tag or emphasis is backslash-escaped.
    """
    text = readable(markup, names)
    lines = []
    for line in text.replace("\r\n", "\n").split("\n"):
        line = _INLINE.sub(_backslashed, line)
        if "&" in line:
            line = _ENTITY.sub(r"\\&", line)
        stripped = line.lstrip(" \t")
        indent = len(line) - len(stripped)
        if _LINE_START.match(stripped):
            stripped = "\\" + stripped
        # Leading spaces would turn a continuation line into a code block.
        lines.append("&nbsp;" * indent + stripped if indent else stripped)
    return lines[0] if len(lines) == 1 else "  \n  ".join(lines)


def _backslashed(match: re.Match) -> str:
    # A function, not the template r"\\\1": re expands a template in Python for every match.
    return "\\" + match[0]


def _show(value: datetime, tz: ZoneInfo) -> str:
    local = value.astimezone(tz)
    return local.strftime("%Y-%m-%d %H:%M ") + (local.tzname() or "")


def _span(start: datetime | None, end: datetime | None) -> timedelta | None:
    return end - start if start and end else None


def incident_as_json(data: PostmortemData) -> dict:
    """The whole record for use outside Slack; texts exactly as Slack sent them."""

    def person(p: Person | None) -> dict | None:
        return {"id": p.user_id, "name": p.name} if p else None

    def when(value: datetime | None) -> str | None:
        return value.isoformat() if value else None

    def seconds(delta: timedelta | None) -> float | None:
        return delta.total_seconds() if delta is not None else None

    def item(entry: TimelineItem) -> dict:
        return {
            "at": entry.at.isoformat(),
            "kind": entry.kind,
            "author": person(entry.author),
            "text": entry.text,
            "marks": list(entry.marks),
            "in_thread": entry.in_thread,
            "files": list(entry.files),
        }

    durations = data.durations
    return {
        "id": data.incident_id,
        "title": data.title,
        "status": data.status,
        "severity": data.severity,
        "timezone": data.timezone,
        "channel": data.channel_name,
        "declared_at": when(data.declared_at),
        "declared_by": person(data.declared_by),
        "commander": person(data.commander),
        "roles": [{"role": role, "person": person(p)} for role, p in data.roles],
        "participants": [person(p) for p in data.participants],
        "description": data.description,
        "impact": data.impact,
        "tags": list(data.tags),
        "milestones": {
            name: {"at": when(m.at), "source": m.source} for name, m in data.milestones.items()
        },
        "durations": {
            "ttd_seconds": seconds(durations.ttd),
            "ttm_seconds": seconds(durations.ttm),
            "ttr_seconds": seconds(durations.ttr),
            "ttd": format_duration(durations.ttd),
            "ttm": format_duration(durations.ttm),
            "ttr": format_duration(durations.ttr),
        },
        "action_items": [
            {
                "text": a.text,
                "owner": person(a.owner),
                "due": a.due.isoformat() if a.due else None,
                "class": a.klass,
                "status": a.status,
            }
            for a in data.action_items
        ],
        "key_timeline": [item(e) for e in data.key_timeline],
        "timeline": [item(e) for e in data.full_log],
        "generated_at": when(data.generated_at),
        "imported_from": data.imported_from,
    }
