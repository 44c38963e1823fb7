"""`/incident stats` as a person reads it: a private reply, readable at a glance.

Private incidents count in every number but are never named: a stats reply goes to whoever
asks, anywhere, so, as in `list` and `followups`, they show as `#id :lock: private`. A tag used
only on private incidents is not named either (it would say what they were about): it is counted.
A tag also used on a public incident is named, with only its public incidents listed.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from bot.domain import times
from bot.domain.durations import format_duration
from bot.stats.insights import METRIC_NAMES, METRICS, SEVERITIES, Breach, IncidentFacts, Stats
from bot.slack.formatting import safe

MAX_LISTED = 5  # incidents named per missed target or repeated tag; the rest are counted
MAX_TAGS_SHOWN = 15
TITLE_LIMIT = 40
MAX_MONTH_ROWS = 24  # a longer window's earlier months are in the chart


def working_on_it(label: str) -> str:
    return f":hourglass_flowing_sand: Working out the stats for the last {label}…"


def stats_text(stats: Stats) -> str:
    tz = ZoneInfo(stats.timezone)
    head = (
        f":bar_chart: *Incidents in the last {stats.range.label}* "
        f"({_day(stats.since, tz)} → {_day(stats.until, tz)}, {stats.timezone})"
    )
    if not stats.total:
        return f"{head}\nNo incidents were declared in this window. :sunny:"
    lines = [head, _counts(stats), _tags(stats), "", f"*Per month* (median / p90, by month declared in {stats.timezone})"]
    lines.append(_month_table(stats))
    lines += ["", "*Missed targets* (worst first)"]
    lines += [_breach_line(stats, metric) for metric in METRICS]
    lines.append(_targets_line(stats))
    lines += ["", "*Causes coming back* (a tag on two or more incidents)"]
    if stats.repeated:
        lines += [f"• `{r.tag}` × {r.total}: {_incidents(r.incidents, r.private)}" for r in stats.repeated[:MAX_TAGS_SHOWN]]
        if len(stats.repeated) > MAX_TAGS_SHOWN:
            lines.append(f"• … and {len(stats.repeated) - MAX_TAGS_SHOWN} more tags")
    if stats.private_repeated:
        lines.append(f"• :lock: {_tags_count(stats.private_repeated)} on private incidents only")
    if not stats.repeated and not stats.private_repeated:
        tagged = stats.by_tag or stats.private_tags
        lines.append("• none" + ("" if tagged else " (no incident is tagged: `/incident tag <name>` in its channel)"))
    return "\n".join(lines)


def no_chart_text(stats: Stats) -> str:
    if not stats.total:
        return ""
    return ":information_source: No TTR chart: no incident declared in this window is resolved yet."


def chart_comment(stats: Stats, user: str) -> str:
    return f":chart_with_upwards_trend: Time to resolve per month, last {stats.range.label} (median and p90), for <@{user}>"


def _counts(stats: Stats) -> str:
    severities = " · ".join(f"{s} {stats.by_severity[s]}" for s in SEVERITIES)
    still_open = stats.total - stats.resolved
    return f"*{stats.total} incident{'s' if stats.total != 1 else ''}* ({stats.resolved} resolved, {still_open} open) · {severities}"


def _tags(stats: Stats) -> str:
    """Tags on private incidents only are counted, never named (see insights.nameable_tags)."""
    if not stats.by_tag and not stats.private_tags:
        return "*By tag:* none tagged yet"
    parts = [f"`{tag}` {count}" for tag, count in stats.by_tag[:MAX_TAGS_SHOWN]]
    if len(stats.by_tag) > MAX_TAGS_SHOWN:
        parts.append(f"… {len(stats.by_tag) - MAX_TAGS_SHOWN} more")
    if stats.private_tags:
        parts.append(f":lock: {_tags_count(stats.private_tags)} on private incidents only")
    if stats.untagged:
        parts.append(f"untagged {stats.untagged}")
    return "*By tag:* " + " · ".join(parts)


def _tags_count(count: int) -> str:
    return f"{count} tag{'s' if count != 1 else ''}"


def _month_table(stats: Stats) -> str:
    """A fixed-width table (a code block keeps its columns in Slack); durations are ASCII."""
    header = ["month", "incidents", "resolved", *(f"{METRIC_NAMES[m]} med / p90" for m in METRICS)]
    rows = [header]
    for month in stats.months[-MAX_MONTH_ROWS:]:
        spreads = [month.spreads[m] for m in METRICS]
        rows.append([month.month, str(month.incidents), str(month.spreads["ttr"].count), *(_spread(s) for s in spreads)])
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = [
        "  ".join(cell.rjust(w) if i in (1, 2) else cell.ljust(w) for i, (cell, w) in enumerate(zip(row, widths))).rstrip()
        for row in rows
    ]
    earlier = len(stats.months) - MAX_MONTH_ROWS
    note = f"\n_{earlier} earlier months are in the chart._" if earlier > 0 else ""
    return "```\n" + "\n".join(lines) + "\n```" + note


def _spread(spread) -> str:
    if not spread.count:
        return "-"
    return f"{format_duration(spread.median)} / {format_duration(spread.p90)}"


def _targets_line(stats: Stats) -> str:
    parts = []
    for severity in SEVERITIES:
        limits = [
            f"{METRIC_NAMES[m]} {format_duration(stats.targets.get(severity, m))}"
            for m in METRICS
            if stats.targets.get(severity, m) is not None
        ]
        if limits:
            parts.append(f"{severity} " + " · ".join(limits))
    return "_Targets: " + (" | ".join(parts) or "none set") + "_"


def _breach_line(stats: Stats, metric: str) -> str:
    found = stats.breaches[metric]
    if not found:
        return f"• *{METRIC_NAMES[metric]}* none missed :white_check_mark:"
    shown = " · ".join(_breach(b) for b in found[:MAX_LISTED])
    more = f" · … and {len(found) - MAX_LISTED} more" if len(found) > MAX_LISTED else ""
    return f"• *{METRIC_NAMES[metric]}* {len(found)} missed: {shown}{more}"


def _breach(breach: Breach) -> str:
    took = format_duration(breach.took)
    how_long = f"open {took}" if breach.ongoing else took
    return f"{_incident(breach.incident)} ({breach.incident.severity} {how_long} > {format_duration(breach.target)})"


def _incidents(facts: tuple[IncidentFacts, ...], private: int = 0) -> str:
    """Public incidents by number and title; private ones with the same tag only counted."""
    parts = [_incident(f) for f in facts[:MAX_LISTED]]
    if len(facts) > MAX_LISTED:
        parts.append(f"… and {len(facts) - MAX_LISTED} more")
    if private:
        parts.append(f":lock: {private} private")
    return " · ".join(parts)


def _incident(facts: IncidentFacts) -> str:
    if facts.is_private:
        return f"#{facts.id} :lock: private"
    return f"#{facts.id} {safe(facts.title, TITLE_LIMIT)}"


def _day(moment, tz: ZoneInfo) -> str:
    return times.show(moment, tz)[:10]
