"""`/incident stats` as a person reads it: a private reply, readable at a glance.

Private incidents count in every number but are never named: a stats reply goes to whoever
asks, anywhere, so, as in `list` and `followups`, they show as `#id :lock: private`. A tag used
only on private incidents is not named either (it would say what they were about): it is counted.
A tag also used on a public incident is named, with only its public incidents listed.
"""

from __future__ import annotations

import unicodedata
from zoneinfo import ZoneInfo

from bot.domain import times
from bot.i18n import Translator
from bot.slack.formatting import mention, safe
from bot.stats.insights import METRIC_NAMES, METRICS, SEVERITIES, Breach, IncidentFacts, Stats, StatsRange

MAX_LISTED = 5  # incidents named per missed target or repeated tag; the rest are counted
MAX_TAGS_SHOWN = 15
TITLE_LIMIT = 40
MAX_MONTH_ROWS = 24  # a longer window's earlier months are in the chart


def range_label(window: StatsRange, t: Translator) -> str:
    """`30 days`, `6 weeks`, `12 months`; one of them alone is `day`, `week`… (`the last day`)."""
    if window.amount == 1:
        return {
            "d": t.pgettext("range", "day"), "w": t.pgettext("range", "week"),
            "m": t.pgettext("range", "month"), "y": t.pgettext("range", "year"),
        }[window.unit]
    n = window.amount
    if window.unit == "d":
        return t.ngettext("{n} day", "{n} days", n)
    if window.unit == "w":
        return t.ngettext("{n} week", "{n} weeks", n)
    if window.unit == "m":
        return t.ngettext("{n} month", "{n} months", n)
    return t.ngettext("{n} year", "{n} years", n)


def working_on_it(window: StatsRange, t: Translator) -> str:
    return ":hourglass_flowing_sand: " + t._("Working out the stats for the last {range}…", range=range_label(window, t))


def stats_text(stats: Stats, t: Translator) -> str:
    """The answer, in `t`'s language; days and months are counted in the stats' own time zone."""
    head = t._(
        "*Incidents in the last {range}* ({since} → {until}, {zone})",
        range=range_label(stats.range, t), since=_day(stats.since, stats), until=_day(stats.until, stats), zone=stats.timezone,
    )
    head = f":bar_chart: {head}"
    near_misses = t.ngettext(
        "*{n} near miss* (no user impact), counted apart", "*{n} near misses* (no user impact), counted apart", stats.near_misses
    ) if stats.near_misses else ""
    planned = _planned(stats, t)
    apart = [line for line in (near_misses, planned) if line]
    if not stats.total:
        none = t._("No incidents were declared in this window.")
        return "\n".join([f"{head}\n{none} :sunny:", *apart])
    lines = [head, _counts(stats, t), *([near_misses] if near_misses else []), _tags(stats, t), *([planned] if planned else []), ""]
    lines.append(t._("*Per month* (median / p90, by month declared in {zone})", zone=stats.timezone))
    lines.append(_month_table(stats, t))
    lines += ["", t._("*Missed targets* (worst first)")]
    lines += [_breach_line(stats, metric, t) for metric in METRICS]
    lines.append(_targets_line(stats, t))
    lines += ["", t._("*Causes coming back* (a tag on two or more incidents)")]
    if stats.repeated:
        lines += [f"• `{r.tag}` × {r.total}: {_incidents(r.incidents, t, r.private)}" for r in stats.repeated[:MAX_TAGS_SHOWN]]
        if len(stats.repeated) > MAX_TAGS_SHOWN:
            more = len(stats.repeated) - MAX_TAGS_SHOWN
            lines.append("• " + t.ngettext("… and {n} more tag", "… and {n} more tags", more))
    if stats.private_repeated:
        lines.append("• :lock: " + _private_tags(stats.private_repeated, t))
    if not stats.repeated and not stats.private_repeated:
        tagged = stats.by_tag or stats.private_tags
        none = t._("none") if tagged else t._("none (no incident is tagged: `/incident tag <name>` in its channel)")
        lines.append(f"• {none}")
    return "\n".join(lines)


def _planned(stats: Stats, t: Translator) -> str:
    """Planned work, counted apart: `Planned work: 3 (2 releases, 1 maintenance) · completed 1 · rolled back 1 …`."""
    p = stats.planned
    if not p.total:
        return ""
    kinds = t.list([f"{t.word('work_kind', kind)} {n}" for kind, n in p.by_kind.items() if n], style="standard-narrow")
    outcomes = " · ".join(f"{t.word('work_status', state)} {n}" for state, n in p.by_outcome.items() if n)
    line = t._("*Planned work* {total} ({kinds}) · {outcomes}", total=p.total, kinds=kinds, outcomes=outcomes)
    line += " · " + t.ngettext("{n} step overran", "{n} steps overran", p.overran) + " " + t._("of {steps}", steps=p.steps)
    if p.escalated:
        line += " · " + t.ngettext("{n} became an incident", "{n} became incidents", p.escalated)
    return line


def no_chart_text(stats: Stats, t: Translator) -> str:
    if not stats.total:
        return ""
    return ":information_source: " + t._("No TTR chart: no incident declared in this window is resolved yet.")


def chart_title(stats: Stats, t: Translator) -> str:
    return t._("Time to resolve per month, last {range}", range=range_label(stats.range, t))


def chart_comment(stats: Stats, user: str, t: Translator) -> str:
    said = t._(
        "Time to resolve per month, last {range} (median and p90), for {person}", range=range_label(stats.range, t), person=mention(user)
    )
    return f":chart_with_upwards_trend: {said}"


def _counts(stats: Stats, t: Translator) -> str:
    severities = " · ".join(f"{s} {t.number(stats.by_severity[s])}" for s in SEVERITIES)
    still_open = stats.total - stats.resolved
    total = t.ngettext("*{n} incident*", "*{n} incidents*", stats.total)
    states = t._("({resolved} resolved, {open} open)", resolved=t.number(stats.resolved), open=t.number(still_open))
    return f"{total} {states} · {severities}"


def _tags(stats: Stats, t: Translator) -> str:
    """Tags on private incidents only are counted, never named (see insights.nameable_tags)."""
    if not stats.by_tag and not stats.private_tags:
        return t._("*By tag:* none tagged yet")
    parts = [f"`{tag}` {t.number(count)}" for tag, count in stats.by_tag[:MAX_TAGS_SHOWN]]
    if len(stats.by_tag) > MAX_TAGS_SHOWN:
        parts.append(t._("… {count} more", count=t.number(len(stats.by_tag) - MAX_TAGS_SHOWN)))
    if stats.private_tags:
        parts.append(":lock: " + _private_tags(stats.private_tags, t))
    if stats.untagged:
        parts.append(t._("untagged {count}", count=t.number(stats.untagged)))
    return t._("*By tag:* {tags}", tags=" · ".join(parts))


def _private_tags(count: int, t: Translator) -> str:
    return t.ngettext("{n} tag on private incidents only", "{n} tags on private incidents only", count)


def _month_table(stats: Stats, t: Translator) -> str:
    """A fixed-width table (a code block keeps its columns in Slack); wide (CJK) characters take two columns."""
    header = [t._("month"), t._("incidents"), t._("resolved"), *(t._("{metric} med / p90", metric=METRIC_NAMES[m]) for m in METRICS)]
    rows = [header]
    for month in stats.months[-MAX_MONTH_ROWS:]:
        spreads = [month.spreads[m] for m in METRICS]
        rows.append([month.month, t.number(month.incidents), t.number(month.spreads["ttr"].count), *(_spread(s, t) for s in spreads)])
    widths = [max(_width(row[i]) for row in rows) for i in range(len(header))]
    lines = [
        "  ".join(_pad(cell, w, right=i in (1, 2)) for i, (cell, w) in enumerate(zip(row, widths))).rstrip()
        for row in rows
    ]
    earlier = len(stats.months) - MAX_MONTH_ROWS
    note = "\n_" + t.ngettext("{n} earlier month is in the chart.", "{n} earlier months are in the chart.", earlier) + "_" if earlier > 0 else ""
    return "```\n" + "\n".join(lines) + "\n```" + note


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


def _pad(text: str, width: int, right: bool) -> str:
    room = " " * (width - _width(text))
    return room + text if right else text + room


def _spread(spread, t: Translator) -> str:
    if not spread.count:
        return "-"
    return f"{t.duration(spread.median)} / {t.duration(spread.p90)}"


def _targets_line(stats: Stats, t: Translator) -> str:
    parts = []
    for severity in SEVERITIES:
        limits = [
            f"{METRIC_NAMES[m]} {t.duration(stats.targets.get(severity, m))}"
            for m in METRICS
            if stats.targets.get(severity, m) is not None
        ]
        if limits:
            parts.append(f"{severity} " + " · ".join(limits))
    return "_" + t._("Targets: {targets}", targets=" | ".join(parts) or t._("none set")) + "_"


def _breach_line(stats: Stats, metric: str, t: Translator) -> str:
    found = stats.breaches[metric]
    name = METRIC_NAMES[metric]
    if not found:
        none = t._("none missed")
        return f"• *{name}* {none} :white_check_mark:"
    shown = " · ".join(_breach(b, t) for b in found[:MAX_LISTED])
    more = " · " + t._("… and {count} more", count=t.number(len(found) - MAX_LISTED)) if len(found) > MAX_LISTED else ""
    missed = t.ngettext("{n} missed:", "{n} missed:", len(found))
    return f"• *{name}* {missed} {shown}{more}"


def _breach(breach: Breach, t: Translator) -> str:
    took = t.duration(breach.took)
    how_long = t._("open {age}", age=took) if breach.ongoing else took
    return f"{_incident(breach.incident, t)} ({breach.incident.severity} {how_long} > {t.duration(breach.target)})"


def _incidents(facts: tuple[IncidentFacts, ...], t: Translator, private: int = 0) -> str:
    """Public incidents by number and title; private ones with the same tag only counted."""
    parts = [_incident(f, t) for f in facts[:MAX_LISTED]]
    if len(facts) > MAX_LISTED:
        parts.append(t._("… and {count} more", count=t.number(len(facts) - MAX_LISTED)))
    if private:
        parts.append(":lock: " + t._("{count} private", count=t.number(private)))
    return " · ".join(parts)


def _incident(facts: IncidentFacts, t: Translator) -> str:
    if facts.is_private:
        return f"#{facts.id} :lock: " + t._("private")
    return f"#{facts.id} {safe(facts.title, TITLE_LIMIT)}"


def _day(moment, stats: Stats) -> str:
    return times.show(moment, ZoneInfo(stats.timezone))[:10]
