"""ALERT_RULES: which alerts declare an incident, at which severity, with which tags.

One rule per line (or separated by `;`), the first that matches an alert wins:

    <matchers> -> <P1|P2|P3|P4> [tags=<label>[,<label>…]]

- `<matchers>`: `label=value` conditions separated by commas, all of which must hold;
  `label=a|b` allows either value; `*` alone matches every alert.
- `tags=`: labels whose values become the incident's tags (normalised as `/incident tag` does;
  a value that cannot be a tag is left out).
- `#` starts a comment; blank lines are ignored. `ALERT_RULES=@/path/to/file` reads the rules
  from a file.

A notification declares when at least one of its firing alerts matches a rule: at the most severe
severity its matching alerts were given, titled with the first matching alert's
`annotations.summary` (else its `alertname`), tagged from every matching alert. Alerts that match
no rule are posted once to the announce channel with a Declare button. Pure: no Slack, no storage.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.domain.alerts import title_of
from bot.domain.records import SEVERITIES, Alert
from bot.domain.requests import AlertDeclaration
from bot.domain.tag_names import TagError, normalise

# critical pages at P1; `page` (the other common paging severity) and PagerDuty's high urgency at P2.
DEFAULT_RULES = """\
severity=critical -> P1 tags=service
severity=page -> P2 tags=service
urgency=high -> P2 tags=service
"""
_LABEL = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")


class RulesError(ValueError):
    """A rule that cannot be read; the message names the rule and what is wrong, on one line."""


@dataclass(frozen=True)
class Rule:
    matchers: tuple[tuple[str, frozenset[str]], ...]  # (label, allowed values); empty: every alert
    severity: str
    tag_labels: tuple[str, ...] = ()

    def matches(self, alert: Alert) -> bool:
        return all(alert.label(label) in values for label, values in self.matchers)


@dataclass(frozen=True)
class AlertRules:
    rules: tuple[Rule, ...]

    def rule_for(self, alert: Alert) -> Rule | None:
        return next((rule for rule in self.rules if rule.matches(alert)), None)

    def declaration(self, alerts: tuple[Alert, ...]) -> AlertDeclaration | None:
        """What to declare for a notification, or None when none of its firing alerts matches a rule."""
        matched = [(alert, rule) for alert in alerts if alert.firing for rule in [self.rule_for(alert)] if rule]
        if not matched:
            return None
        first = matched[0][0]
        severity = min(rule.severity for _, rule in matched)  # P1 < P2 < …
        tags: list[str] = []
        for alert, rule in matched:
            for label in rule.tag_labels:
                tag = _as_tag(alert.label(label))
                if tag and tag not in tags:
                    tags.append(tag)
        return AlertDeclaration(title_of(first), severity, tuple(tags[:10]), first.description)


def parse_rules(text: str) -> AlertRules:
    rules = []
    lines = [line.strip() for raw in text.splitlines() for line in raw.split("#", 1)[0].split(";")]
    for number, line in enumerate((line for line in lines if line), start=1):
        try:
            rules.append(_rule(line))
        except RulesError as error:
            raise RulesError(f"rule {number} ({line!r}): {error}") from None
    if not rules:
        raise RulesError("has no rules; leave it unset for the default (severity=critical -> P1 …)")
    return AlertRules(tuple(rules))


def default_rules() -> AlertRules:
    return parse_rules(DEFAULT_RULES)


def _rule(line: str) -> Rule:
    if line.count("->") != 1:
        raise RulesError("write it as `label=value -> P1`, with one `->`")
    left, right = (part.strip() for part in line.split("->"))
    words = right.split()
    if not words or words[0].upper() not in SEVERITIES:
        raise RulesError(f"after `->` comes a severity, one of {', '.join(SEVERITIES)}")
    tag_labels: tuple[str, ...] = ()
    for word in words[1:]:
        name, _, value = word.partition("=")
        if name != "tags" or not value:
            raise RulesError(f"`{word}` is not `tags=label,label`")
        tag_labels = tuple(_label(label) for label in value.split(","))
    return Rule(_matchers(left), words[0].upper(), tag_labels)


def _matchers(text: str) -> tuple[tuple[str, frozenset[str]], ...]:
    if text == "*":
        return ()
    matchers = []
    for condition in text.split(","):
        label, equals, values = condition.partition("=")
        allowed = frozenset(v.strip() for v in values.split("|"))
        if not equals or "" in allowed:
            raise RulesError(f"`{condition.strip()}` is not `label=value` (or `*` for every alert)")
        matchers.append((_label(label.strip()), allowed))
    return tuple(matchers)


def _label(name: str) -> str:
    name = name.strip()
    if not _LABEL.match(name):
        raise RulesError(f"`{name}` is not a label name (letters, digits and _, not starting with a digit)")
    return name


def _as_tag(value: str | None) -> str | None:
    if not value:
        return None
    try:
        return normalise("-".join(value.split()))
    except TagError:
        return None
