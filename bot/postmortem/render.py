"""The postmortem as people read it: Markdown from Jinja2 templates, a Slack summary, and JSON.

PostmortemData holds texts exactly as Slack sent them. This module is the one
place that turns them into Markdown: mentions become names, broadcasts lose
their power, and Markdown syntax is escaped so a message can quote `# heading`
or `| pipes |` without changing the document around it.

One template per document (templates/postmortem.md.j2, templates/summary.txt.j2) speaks every
language: its words are `_("…")` from the gettext catalogs (bot/i18n.py), its durations, statuses,
milestones, classes and outcomes come from the Translator, and people's words are quoted as written.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from bot.i18n import DEFAULT_LANGUAGE, LANGUAGES, jinja_environment, translator
from bot.postmortem.data import MILESTONES, Person, PostmortemData, TimelineItem
from bot.slack.formatting import HIDDEN, readable, safe

# Installed, the templates are package data in bot/templates; in the source tree, templates/ at its root.
_PACKAGE = Path(__file__).resolve().parents[1]
TEMPLATES = _PACKAGE / "templates" if (_PACKAGE / "templates").is_dir() else _PACKAGE.parent / "templates"

# Characters that mean something anywhere in a Markdown line (tables, emphasis, code, links, HTML).
_INLINE = re.compile(r"[\\`*_\[\]<>|~#]")
_ENTITY = re.compile(r"&(?=#?\w+;)")
# What makes a line a list item, a setext underline or a thematic break when it starts it:
# `-`, `+` and `=` take a backslash; an ordered list marker (`1.`, `1)`) takes it on its `.` or `)`,
# since a backslash before a digit is no escape in CommonMark and would show.
_LINE_START = re.compile(r"^(?:[-+=]|(\d+)([.)]))")
# Whitespace at a line's ends: leading spaces and tabs would make an indented code block, and
# CommonMark renderers trim spaces, tabs and Unicode spaces (U+3000, U+00A0…) off a paragraph's
# ends and before a line break.
_SPACE_CHARACTERS = frozenset("\t \u00a0\u1680\u2028\u2029\u202f\u205f\u3000" + "".join(map(chr, range(0x2000, 0x200B))))
_SPACES = "".join(sorted(_SPACE_CHARACTERS))  # for character classes
# A text with none of these, no line-start marker and no space at either end comes out as it went
# in: what readable() resolves or defuses (markup, entities, @-broadcasts, controls, bidi overrides,
# CR), what _markdown_line escapes, and line breaks.
_NEEDS_WORK = re.compile(r"[\\`*_\[\]<>|~#&@\n" + HIDDEN.pattern[1:-1] + "]")
_LEADING_SPACE = re.compile(f"^[{_SPACES}]+")
_TRAILING_SPACE = re.compile(f"[{_SPACES}]+$")


@lru_cache(maxsize=16)
def template_environment(language: str, timezone: str) -> Environment:
    """One environment per language and time zone for every Markdown document (the postmortem, its
    summary and customer notice, planned work's log), its templates compiled once."""
    return jinja_environment(
        FileSystemLoader(TEMPLATES),
        translator(language, ZoneInfo(timezone)),
        autoescape=False,  # Markdown, not HTML: md() escapes what needs it
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=StrictUndefined,
    )


POSTED_TEMPLATES = ("postmortem.md.j2", "summary.txt.j2", "customer-notice.md.j2")


def prepare(language: str, timezone: str) -> None:
    """Compile the templates posted at resolution, at start-up (bot/app.py): the first postmortem of
    a worker then costs what every later one does (compiling took 0.05–0.1 s, BENCHMARKS.md)."""
    environment = template_environment(language, timezone)
    for template in POSTED_TEMPLATES:
        environment.get_template(template)


def render_postmortem(data: PostmortemData, language: str = DEFAULT_LANGUAGE) -> str:
    return _render("postmortem.md.j2", data, language)


def render_summary(data: PostmortemData, language: str = DEFAULT_LANGUAGE) -> str:
    """The short Slack message posted beside the document (mrkdwn, broadcasts defused)."""
    return _render("summary.txt.j2", data, language).strip()


def render_customer_notice(data: PostmortemData, language: str = DEFAULT_LANGUAGE) -> str:
    """The customer-facing notice drafted beside the postmortem: no people, channels or quoted messages."""
    return _render("customer-notice.md.j2", data, language)


CUSTOMER_NOTICE_FILENAME = "customer-notice.md"


def postmortem_filename(data: PostmortemData) -> str:
    return f"postmortem-{data.channel_name or f'incident-{data.incident_id}'}.md"


def _render(template: str, data: PostmortemData, language: str) -> str:
    if language not in LANGUAGES:
        raise ValueError(f"no catalog for language {language!r}")
    tz = ZoneInfo(data.timezone)
    names = data.people
    environment = template_environment(language, data.timezone)

    def md(markup: str | None) -> str:
        return markdown_text(markup or "", names)

    shown_names: dict[str, str] = {}  # a person is named on every line they wrote: escape each name once

    def at(value: datetime | None, missing: str = "—") -> str:
        return _show(value, tz) if value else missing

    minutes: dict[int, str] = {}  # "YYYY-MM-DD HH:MM:" of each minute shown: a log has thousands of lines a minute

    def clock(value: datetime) -> str:
        minute = int(value.timestamp()) // 60
        prefix = minutes.get(minute)
        if prefix is None:
            local = value.astimezone(tz)
            if local.utcoffset().seconds % 60:  # an offset with seconds (before 1972): no shortcut
                return local.strftime("%Y-%m-%d %H:%M:%S")
            prefix = minutes[minute] = local.strftime("%Y-%m-%d %H:%M:")
        return prefix + _SECONDS[value.second]

    def who(person: Person | None, missing: str = "—") -> str:
        if not person:
            return missing
        shown = shown_names.get(person.name)
        if shown is None:
            shown = shown_names[person.name] = md(person.name)
        return shown

    def public(markup: str | None) -> str:
        # For customers: mentions of people and channels, and broadcasts, are left out, not named.
        return md(_DOUBLE_SPACE.sub(" ", _PRIVATE_REFERENCES.sub("", markup or "")).strip())

    started, resolved = data.milestones["started"].at, data.milestones["resolved"].at
    several_days = bool(started and resolved and started.astimezone(tz).date() != resolved.astimezone(tz).date())

    def hhmm(value: datetime) -> str:
        # `HH:MM`, as status reports are written; with the date when the incident ran over several days.
        return value.astimezone(tz).strftime("%m-%d %H:%M" if several_days else "%H:%M")

    word = environment.globals["word"]
    entry_lines: dict[int, str] = {}  # id(item) -> its macro line: the key timeline's entries are in the log too

    def quote_lines(items, entry, bot: str, in_thread: str, files_label: str) -> str:
        """The template's `entry` macro line for each item, one per line. A person's message (most of
        a long incident's log) is made here, as the macro would: a template loop and a macro call per
        line were most of the rendering time (BENCHMARKS.md)."""
        lines = []
        for item in items:
            if item.kind != "message":  # a bot-recorded entry: the template's macro
                line = entry_lines.get(id(item))
                if line is None:
                    line = entry_lines[id(item)] = entry(item)
                lines.append(line)
                continue
            marks = "".join(f"`{word('mark', mark)}` " for mark in item.marks) if item.marks else ""
            thread = in_thread + " " if item.in_thread else ""
            files = f" · {files_label} " + ", ".join(md(f) for f in item.files) if item.files else ""
            lines.append(f"- **{clock(item.at)}** · {who(item.author, bot)} · {marks}{thread}{md(item.text)}{files}")
        return "\n".join(lines)

    milestones = data.milestones
    return environment.get_template(template).render(
        public=public,
        hhmm=hhmm,
        money=_money,
        d=data,
        m=milestones,
        milestone_names=MILESTONES,
        span=_span(milestones["started"].at, milestones["resolved"].at),  # the incident's, started → resolved
        md=md,
        slack=lambda markup: safe(markup or "", 300),
        at=at,
        clock=clock,
        who=who,
        cell=lambda text: md(text).replace("\n", " "),
        quote_lines=quote_lines,
    )


_SECONDS = tuple(f"{second:02d}" for second in range(60))
_PRIVATE_REFERENCES = re.compile(r"<[@#!][^>]*>")
_DOUBLE_SPACE = re.compile(r"(?<=\S)[ \t]{2,}(?=\S)")
_CURRENCY_SIGNS = "$€£¥₩"


def _money(figures: dict, number) -> str:
    """Revenue as typed: `$5,000`, `5,000 USD`, or the bare number."""
    amount, currency = number(figures["revenue"]), figures.get("currency")
    if not currency:
        return amount
    return f"{currency}{amount}" if currency in _CURRENCY_SIGNS else f"{amount} {currency}"


def markdown_text(markup: str, names: dict[str, str]) -> str:
    """Slack markup to Markdown that shows exactly the words written and nothing more.

    Every CommonMark renderer shows the original text (control and bidi-override characters as
    U+FFFD, `bot.slack.formatting.visible`): every character that could start a heading, quote,
    list, table cell, code block, link, HTML tag or emphasis is backslash-escaped, an ordered list
    marker on its `.` or `)`, and whitespace at either end of a line becomes `&nbsp;` (or the
    character's numeric reference) so it neither starts a code block nor is trimmed. Line breaks stay, as Markdown hard
    breaks indented to stay inside a list item; an empty line is an `&nbsp;` line, so a quote stays
    one paragraph.
    """
    if (
        not _NEEDS_WORK.search(markup) and not _LINE_START.match(markup)
        and markup[:1] not in _SPACE_CHARACTERS and markup[-1:] not in _SPACE_CHARACTERS
    ):
        return markup  # nothing to resolve, defuse or escape: most chat lines (BENCHMARKS.md)
    lines = readable(markup, names).split("\n")
    return _markdown_line(lines[0]) if len(lines) == 1 else "  \n  ".join(_markdown_line(line) or "&nbsp;" for line in lines)


def _markdown_line(line: str) -> str:
    line = _INLINE.sub(_backslashed, line)
    if "&" in line:
        line = _ENTITY.sub(r"\\&", line)
    indent = _LEADING_SPACE.match(line)
    lead = "".join(_space_reference(char) for char in indent[0]) if indent else ""
    line = line[indent.end() :] if indent else line
    end = _TRAILING_SPACE.search(line)
    tail = "".join(_space_reference(char) for char in end[0]) if end else ""
    line = line[: end.start()] if end else line
    start = _LINE_START.match(line)
    if start:
        # `1\.` for an ordered list marker, `\-` for the rest.
        line = f"{start[1]}\\{start[2]}{line[start.end():]}" if start[1] else "\\" + line
    return lead + line + tail


def _space_reference(char: str) -> str:
    # &nbsp; keeps a space or tab visible as indentation; any other space keeps its own width.
    return "&nbsp;" if char in " \t\u00a0" else f"&#x{ord(char):X};"


def _backslashed(match: re.Match) -> str:
    # A function, not the template r"\\\1": re expands a template in Python for every match.
    return "\\" + match[0]


def _show(value: datetime, tz: ZoneInfo) -> str:
    local = value.astimezone(tz)
    return local.strftime("%Y-%m-%d %H:%M ") + (local.tzname() or "")


def _span(start: datetime | None, end: datetime | None) -> timedelta | None:
    return end - start if start and end else None


def incident_json_text(data: PostmortemData) -> str:
    """The record as JSON text for `export --format json`: every text exactly as Slack sent it
    (json.loads gives it back unchanged: the record is evidence), with control and bidi-override
    characters written as \\u escapes, so the file shows where they are and no terminal or
    editor showing it acts on them. JSON's own syntax is ASCII, so they can only be in strings."""
    text = json.dumps(incident_as_json(data), ensure_ascii=False, indent=2)
    return HIDDEN.sub(lambda match: f"\\u{ord(match[0]):04x}", text)


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
            "outcome": entry.outcome,
            # What the bot recorded, beside the words: a change's from and to, a milestone and its time…
            "from": entry.before,
            "to": entry.after,
            "milestone": entry.milestone,
            "time": when(entry.moment),
            "user": entry.person,
            "role": entry.role,
            "severity": entry.severity,
        }

    durations = data.durations
    english = translator(DEFAULT_LANGUAGE, ZoneInfo(data.timezone))  # the JSON's readable durations
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
            "ttd": english.duration(durations.ttd),
            "ttm": english.duration(durations.ttm),
            "ttr": english.duration(durations.ttr),
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
        # What the team wrote for the postmortem during the incident, as written.
        "near_miss": data.near_miss,
        "summary": data.summary,
        "trigger": data.trigger,
        "cause": data.cause,
        "impact_figures": data.impact_figures,
        "whys": list(data.whys),
        "factors": {category: list(found) for category, found in data.factors.items()},
    }
