"""Runbook steps from what people write: pasted lines, or a Markdown checklist kept in RUNBOOK_DIR.

One step per line: `Stop the writers @ana ~10m !15m` is the text "Stop the writers", owned by
@ana, expected to take 10 minutes, overrunning after 15. Owner, `~` and `!` may stand anywhere
in the line, each at most once. A checklist file's steps are its `- [ ]` items; headings and prose
around them are for people and ignored. Plain Python: the Slack layer reads the file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.i18n import N_, Message

MAX_STEPS = 20  # a Slack message holds 50 blocks: two per step, and the runbook's heading
MAX_STEP_TEXT = 300
RUNBOOK_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,79}$")

_MENTION = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$")
_HANDLE = re.compile(r"^@([\w.\-]{1,80})$")
_DURATION = re.compile(r"^(?:(\d+(?:\.\d+)?)([smhd]))+$")
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)([smhd])")
_MINUTES = {"s": 1 / 60, "m": 1.0, "h": 60.0, "d": 1440.0}
_LIST_MARKER = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+")
_CHECKLIST_ITEM = re.compile(r"^\s*[-*+]\s+\[[ xX]\]\s+(.*)$")


class RunbookError(ValueError):
    """Text that is not a runbook; `message` says which line and why, for the person who gave it."""

    def __init__(self, message: Message):
        super().__init__(str(message))
        self.message = message


@dataclass(frozen=True)
class StepPlan:
    text: str
    owner: str | None = None
    expected: float | None = None  # minutes
    timeout: float | None = None  # minutes


def minutes(text: str) -> float | None:
    """`10m`, `90s`, `1h30m`, `0.05m` to minutes; None when it is not a duration."""
    text = text.strip().lower()
    if not text or not _DURATION.match(text):
        return None
    value = sum(float(number) * _MINUTES[unit] for number, unit in _DURATION_PART.findall(text))
    return value if value > 0 else None


def parse_pasted(text: str) -> list[StepPlan]:
    """One step per non-empty line (a leading `-`, `*`, `1.` or `- [ ]` is dropped)."""
    lines = [(number, line) for number, line in enumerate((text or "").splitlines(), 1) if line.strip()]
    steps = []
    for number, line in lines:
        item = _CHECKLIST_ITEM.match(line)
        line = item[1] if item else _LIST_MARKER.sub("", line, count=1)
        steps.append(parse_step(line, number))
    return _checked(steps)


def parse_checklist(text: str, name: str) -> list[StepPlan]:
    """A Markdown checklist: every `- [ ] …` (or `- [x] …`) item is a step, in order."""
    steps = [
        parse_step(item[1], number)
        for number, line in enumerate((text or "").splitlines(), 1)
        if (item := _CHECKLIST_ITEM.match(line))
    ]
    if not steps:
        raise RunbookError(
            Message(N_("The runbook `{name}` has no checklist items (lines such as `- [ ] Stop the writers @owner ~10m !15m`)."), {"name": name})
        )
    return _checked(steps)


def parse_step(line: str, line_number: int) -> StepPlan:
    owner = expected = timeout = None
    kept: list[str] = []
    for word in line.split():
        if (mention := _MENTION.match(word)) or _HANDLE.match(word):
            if owner is not None:
                raise _line_error(line_number, N_("a step has one owner"), word)
            owner = mention[1] if mention else word
        elif word.startswith("~") and len(word) > 1:
            if expected is not None or (expected := minutes(word[1:])) is None:
                raise _line_error(line_number, N_("`~` takes one duration such as ~10m"), word)
        elif word.startswith("!") and len(word) > 1:
            if timeout is not None or (timeout := minutes(word[1:])) is None:
                raise _line_error(line_number, N_("`!` takes one timeout such as !15m"), word)
        else:
            kept.append(word)
    text = " ".join(kept)
    if not text:
        raise _line_error(line_number, N_("say what the step does"), line.strip())
    if len(text) > MAX_STEP_TEXT:
        raise _line_error(line_number, N_("keep a step under 300 characters"), text[:20])
    return StepPlan(text, owner, expected, timeout)


def _checked(steps: list[StepPlan]) -> list[StepPlan]:
    if not steps:
        raise RunbookError(Message(N_("Write at least one step, one per line: `Stop the writers @owner ~10m !15m`.")))
    if len(steps) > MAX_STEPS:
        raise RunbookError(Message(N_("A runbook holds at most {most} steps; this one has {count}."), {"most": MAX_STEPS, "count": len(steps)}))
    return steps


def _line_error(line_number: int, why: str, word: str) -> RunbookError:
    shown = word.replace("`", "'")[:40].replace("<", "&lt;").replace(">", "&gt;")
    return RunbookError(Message(N_("Line {line} (`{word}`): {why}."), {"line": line_number, "word": shown, "why": Message(why)}))


def check_name(name: str) -> str:
    """A runbook's name is a file name in RUNBOOK_DIR, never a path."""
    name = name.strip()
    if name.endswith(".md"):
        name = name[:-3]
    if not RUNBOOK_NAME.match(name) or ".." in name:
        raise RunbookError(Message(N_("`{name}` is not a runbook name: use letters, digits, `-`, `_` or `.`, e.g. `db-recreate`."), {"name": name[:40].replace("`", "'")}))
    return name
