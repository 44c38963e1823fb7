"""`/incident …` text to a typed command, or a UsageError that says what is wrong.

Parsing knows only the words; times are read later against the incident's
time zone and clock (bot.domain.times), so this stays a pure function.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from bot.domain import impact_figures, tag_names
from bot.domain.records import ACTION_CLASSES, FACTOR_CATEGORIES, SEVERITIES, STATUSES
from bot.domain.requests import (
    AddActionItem,
    AddFactor,
    AddNote,
    AddWhy,
    AttachRunbook,
    ChangeSeverity,
    ChangeStatus,
    ClearDeadline,
    ClearFactors,
    ClearWhys,
    Declare,
    EscalateWork,
    FinishWork,
    Intent,
    MarkPostmortemDone,
    PlanWork,
    PostUpdate,
    RepostPostmortem,
    RetrySetup,
    SetDeadline,
    SetImpact,
    SetLead,
    SetMilestone,
    SetRole,
    StepAction,
    Tag,
    Untag,
    UseRunbook,
    WriteUp,
)
from bot.domain.storable_text import storable
from bot.i18n import N_, Message
from bot.stats import insights

MAX_TITLE = 250
MAX_ROLE = 40
TIME_MILESTONES = ("started", "detected", "identified", "mitigated", "resolve")

# Slack sends mentions escaped when the command has "escape channels, users and links" on.
_MENTION = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$")
_DUE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_ROLE_NAME = re.compile(r"^[\w\- ]+$")


class UsageError(ValueError):
    """The text is not a command we understand; `message` says why and how to write it (in the reader's language)."""

    def __init__(self, message: Message):
        super().__init__(str(message))
        self.message = message


# Commands that only read (answered without changing anything); the others parse into a
# change request of bot/domain/requests.py.


@dataclass(frozen=True)
class ShowDeadline:
    pass


@dataclass(frozen=True)
class ListTags:
    pass


@dataclass(frozen=True)
class ListActionItems:
    pass


@dataclass(frozen=True)
class Timeline:
    pass


@dataclass(frozen=True)
class Help:
    pass


@dataclass(frozen=True)
class ListOpen:
    pass


@dataclass(frozen=True)
class Stats:
    range: insights.StatsRange


@dataclass(frozen=True)
class Catchup:
    pass


Query = ShowDeadline | ListTags | ListActionItems | Timeline | Help | ListOpen | Stats | Catchup
Command = Query | Intent

# How to write each command, shown in the reader's language: the command words stay as they are
# (`/incident resolve` in every language), the parts a person fills in (<title>, [time]) are translated.
USAGE = {
    "start": N_(
        "`/incident start [P1|P2|P3|P4] [--private] [--near-miss] <title>` (`--private` or `-p` anywhere; "
        "`--near-miss` when users saw no impact; no title opens a form)"
    ),
    "status": N_("`/incident status investigating|identified|monitoring|resolved [message]`"),
    "update": N_("`/incident update <text>`"),
    "severity": N_("`/incident severity P1|P2|P3|P4`"),
    "lead": N_("`/incident lead @person`"),
    "role": N_("`/incident role <name> @person` (e.g. `role comms @ana`)"),
    "note": N_("`/incident note <text>`"),
    "started": N_("`/incident started <time> [confirm]`"),
    "detected": N_("`/incident detected <time>`"),
    "identified": N_("`/incident identified [time]`"),
    "mitigated": N_("`/incident mitigated [time]`"),
    "resolve": N_("`/incident resolve [time]`"),
    "action": N_("`/incident action <text> [@owner] [due YYYY-MM-DD] [prevent|process|mitigate]`"),
    "deadline": N_("`/incident deadline <time> [what is decided]` (`deadline` shows it, `deadline clear` removes it)"),
    "postmortem": N_("`/incident postmortem` (post the draft again) or `/incident postmortem done` (reviewed)"),
    "summary": N_("`/incident summary <text>` (the postmortem's summary; repeat it to rewrite)"),
    "impact": N_("`/incident impact <text> [users=12000] [requests=150000] [revenue=5000] [slo=98.7%]`"),
    "trigger": N_("`/incident trigger <text>` (what set it off: a deploy, a config change, traffic…)"),
    "cause": N_("`/incident cause <text>` (the root cause, for the postmortem)"),
    "why": N_("`/incident why <text>` (the next of the 5 whys; `why clear` empties them)"),
    "factor": N_("`/incident factor people|process|technology|environment <text>` (a contributing factor; `factor clear [category]`)"),
    "catchup": N_("`/incident catchup` (where the incident stands, in one screen; only you see it)"),
    "retry": N_("`/incident retry [incident id]` (finish setting up an incident whose channel failed)"),
    "followups": N_("`/incident followups`"),
    "timeline": N_("`/incident timeline`"),
    "list": N_("`/incident list`"),
    "tag": N_("`/incident tag <name> [more names]` (a cause class such as `db`, `deploy`, `network`; no name lists the tags)"),
    "untag": N_("`/incident untag <name>`"),
    "stats": N_("`/incident stats [30d|90d|365d]` (anywhere: counts, TTD/TTM/TTR per month, missed targets, repeated tags)"),
    "plan": N_(
        "`/incident plan release|maintenance <title> at <time> [for <duration>] [go-no-go <time>] [rollback-by <time or duration>]` "
        "(anywhere; no text opens a form)"
    ),
    "runbook": N_("`/incident runbook` (paste the steps in a form) or `/incident runbook use <name>` (a checklist from RUNBOOK_DIR)"),
    "step": N_("`/incident step <n> start|done|failed|skip [reason]` (as the runbook's buttons)"),
    "finish": N_("`/incident finish [completed|rolled-back|stopped]` (planned work is over: the after report and the work log)"),
    "escalate": N_("`/incident escalate [P1|P2|P3|P4]` (planned work becomes an incident, keeping its timeline)"),
    "help": N_("`/incident help`"),
}

# Words Japanese and Korean teams type for the common commands, as they say them in an incident:
# `/incident 解決` is `/incident resolve`. Accepted in every workspace (a person types in their own
# language whatever the workspace's); `/incident help` lists those of the reader's language.
ALIASES = {
    "ja": {
        "開始": "start", "状況": "status", "報告": "update", "重大度": "severity", "担当": "lead", "メモ": "note",
        "検知": "detected", "原因特定": "identified", "緩和": "mitigated", "解決": "resolve", "対策": "action",
        "期限": "deadline", "タイムライン": "timeline", "一覧": "list", "統計": "stats", "ヘルプ": "help",
        "概要": "summary", "影響": "impact", "発端": "trigger", "原因": "cause", "なぜ": "why", "要因": "factor",
        "経緯": "catchup",
    },
    "ko": {
        "시작": "start", "상태": "status", "보고": "update", "심각도": "severity", "담당": "lead", "메모": "note",
        "감지": "detected", "원인": "identified", "완화": "mitigated", "해결": "resolve", "조치": "action",
        "기한": "deadline", "타임라인": "timeline", "목록": "list", "통계": "stats", "도움말": "help",
        "요약": "summary", "영향": "impact", "계기": "trigger", "근본원인": "cause", "왜": "why", "요인": "factor",
        "현황": "catchup",
    },
}
# The statuses as the glossary (README, "Languages") says them: `/incident status 監視中`.
STATUS_ALIASES = {
    "ja": {"調査中": "investigating", "特定済み": "identified", "監視中": "monitoring", "解決済み": "resolved"},
    "ko": {"조사중": "investigating", "원인파악": "identified", "모니터링": "monitoring", "해결됨": "resolved"},
}
# The fishbone's categories as the glossary says them: `/incident factor プロセス …`.
FACTOR_ALIASES = {
    "ja": {"人": "people", "プロセス": "process", "技術": "technology", "環境": "environment"},
    "ko": {"사람": "people", "프로세스": "process", "기술": "technology", "환경": "environment"},
}
_ALIASES = {alias: command for aliases in ALIASES.values() for alias, command in aliases.items()}
_STATUS_ALIASES = {alias: status for aliases in STATUS_ALIASES.values() for alias, status in aliases.items()}
_FACTOR_ALIASES = {alias: category for aliases in FACTOR_ALIASES.values() for alias, category in aliases.items()}


def parse(text: str) -> Command:
    text = storable(text or "").strip()
    if not text:
        return Help()
    word, rest = _first_word(text)
    word = word.lower()
    word = _ALIASES.get(unicodedata.normalize("NFKC", word), word)
    rest = rest.strip()
    parser = _PARSERS.get(word)
    if parser is None:
        raise UsageError(Message(N_("`{word}` is not an /incident command. Try `/incident help`."), {"word": _quote(word)}))
    return parser(word, rest)


def _first_word(text: str) -> tuple[str, str]:
    """The first word and the rest; a Japanese keyboard's ideographic space (U+3000) separates words too."""
    match = re.match(r"([^ \u3000]*)[ \u3000]?(.*)", text, re.DOTALL)
    return match[1], match[2]


# `/incident start`'s flags, by name without dashes. A new flag (say `--near-miss`) is one entry here
# and one field of Declare.
START_FLAGS = {
    "private": "private", "p": "private",
    "near-miss": "near_miss", "near_miss": "near_miss", "nearmiss": "near_miss",
}
# Every dash a keyboard, a phone or an autocorrect makes of `-` or `--`: hyphen, non-breaking
# hyphen, figure, en and em dashes, horizontal bar, minus sign, small and full-width hyphen-minus.
_DASHES = str.maketrans(dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d", "-"))
# A word that looks like a flag: dashes, then a letter (`-p`, `--private`, `—private`, `--x`).
# A dash before a digit (`-1`), a dash alone (`500 errors – checkout`) and a dash inside a word
# (`2024-01`, `re-deploy`) are not flags, and stay in the title.
_FLAG = re.compile(r"^-+([^\W\d_][\w-]*):?$")


def _start(word: str, rest: str) -> Declare:
    """`[P1-P4] [private] <title>` with flags anywhere. A flag we do not know is refused before
    anything is created: a mistyped `--private` must never declare a public incident."""
    flags = set()
    pieces = re.split(r"(\s+)", rest)  # words at even positions, the spaces between them kept as typed
    for i in range(0, len(pieces), 2):
        name = _flag_name(pieces[i])
        if name is None:
            continue
        if name not in START_FLAGS:
            raise UsageError(
                Message(
                    N_(
                        "`{flag}` is not an option of `/incident start`; it takes `--private` (or `-p`) and `--near-miss`. "
                        "If the word belongs in the title, put it in quotes. Use {usage}."
                    ),
                    {"flag": _quote(pieces[i]), "usage": _usage("start")},
                )
            )
        flags.add(START_FLAGS[name])
        pieces[i] = ""
        if i + 1 < len(pieces):
            pieces[i + 1] = ""  # and the space after it
    rest = "".join(pieces).strip()
    severity = None
    # The severity and a bare `private` (or `private:`) may lead the title, in either order.
    for _ in range(2):
        first, _, remainder = rest.partition(" ")
        if first.upper() in SEVERITIES and severity is None:
            severity, rest = first.upper(), remainder.strip()
        elif first.lower() in ("private", "private:"):
            flags.add("private")
            rest = remainder.strip()
    title = rest
    if len(title) > MAX_TITLE:
        raise UsageError(
            Message(
                N_("The title is {length} characters; keep it under {most}. Use {usage}."),
                {"length": len(title), "most": MAX_TITLE, "usage": _usage("start")},
            )
        )
    return Declare(severity=severity, title=title, private="private" in flags, near_miss="near_miss" in flags)


def _flag_name(token: str) -> str | None:
    """The flag a word names (`private` for `--private`, `—private`, `－－private`, `-p`), or None
    when it does not look like a flag."""
    normal = unicodedata.normalize("NFKC", token).translate(_DASHES)
    match = _FLAG.match(normal)
    return match[1].lower() if match else None


def _status(word: str, rest: str) -> ChangeStatus:
    first, message = _first_word(rest)
    status = _STATUS_ALIASES.get(unicodedata.normalize("NFKC", first), first.lower())
    if status not in STATUSES:
        raise UsageError(
            Message(N_("Status must be one of {statuses}. Use {usage}."), {"statuses": ", ".join(STATUSES), "usage": _usage("status")})
        )
    return ChangeStatus(status=status, message=message.strip())


def _update(word: str, rest: str) -> PostUpdate:
    return PostUpdate(text=_required_text(word, rest))


def _note(word: str, rest: str) -> AddNote:
    return AddNote(text=_required_text(word, rest))


def _severity(word: str, rest: str) -> ChangeSeverity:
    if rest.upper() not in SEVERITIES:
        raise UsageError(
            Message(
                N_("Severity must be one of {severities}. Use {usage}."),
                {"severities": ", ".join(SEVERITIES), "usage": _usage("severity")},
            )
        )
    return ChangeSeverity(severity=rest.upper())


def _lead(word: str, rest: str) -> SetLead:
    return SetLead(user_id=_mention(rest, word))


def _role(word: str, rest: str) -> SetRole:
    name, _, person = rest.rpartition(" ")
    name = name.strip().lower()
    if not name or not _ROLE_NAME.match(name) or len(name) > MAX_ROLE:
        raise UsageError(Message(N_("Give the role a short name and a person. Use {usage}."), {"usage": _usage("role")}))
    if name in ("lead", "commander", "incident commander"):
        raise UsageError(Message(N_("The commander is set with {usage}."), {"usage": _usage("lead")}))
    return SetRole(role=name, user_id=_mention(person, word))


def _milestone(word: str, rest: str) -> SetMilestone:
    if not rest and word in ("started", "detected"):
        raise UsageError(Message(N_("Say when. Use {usage}, e.g. `/incident {word} 14:05`."), {"usage": _usage(word), "word": word}))
    milestone = "resolved" if word == "resolve" else word
    # `confirm` after the time: yes, it really was that long before the declaration.
    time_text, confirm = rest, False
    if rest.lower().endswith(" confirm"):
        time_text, confirm = rest[: -len(" confirm")].strip(), True
    return SetMilestone(milestone=milestone, time_text=time_text or None, confirm=confirm)


def _action(word: str, rest: str) -> AddActionItem:
    words = rest.split()
    owner = due = klass = None
    kept: list[str] = []
    i = 0
    while i < len(words):
        token = words[i]
        if _MENTION.match(token):
            if owner is not None:
                raise UsageError(Message(N_("An action item has one owner. Use {usage}."), {"usage": _usage("action")}))
            owner = _MENTION.match(token)[1]
        elif token.lower() == "due" and i + 1 < len(words) and _DUE.match(words[i + 1]):
            due = words[i + 1]
            i += 1
        elif token.lower() == "due" and _ends_the_item(words, i + 2):
            # `due` near the end is meant as the due date, not as part of the text.
            raise UsageError(Message(N_("`due {text}` is not a date; write due YYYY-MM-DD."), {"text": _quote(words[i + 1])}))
        elif token.lower() in ACTION_CLASSES and i == len(words) - 1:
            klass = token.lower()
        else:
            kept.append(token)
        i += 1
    text = " ".join(kept)
    if not text:
        raise UsageError(Message(N_("Say what should be done. Use {usage}."), {"usage": _usage("action")}))
    return AddActionItem(text=text, owner_id=owner, due_text=due, klass=klass)


def _ends_the_item(words: list[str], start: int) -> bool:
    """True when only an owner or a class word can follow position `start`."""
    if start > len(words):
        return False
    return all(_MENTION.match(w) or w.lower() in ACTION_CLASSES for w in words[start:])


def _deadline(word: str, rest: str) -> ShowDeadline | ClearDeadline | SetDeadline:
    if not rest:
        return ShowDeadline()
    if rest.lower() == "clear":
        return ClearDeadline()
    first, _, what = rest.partition(" ")
    # `YYYY-MM-DD HH:MM` is two words; keep them together as the time.
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", first) and re.match(r"\d{1,2}:\d{2}\b", what):
        clock, _, what = what.partition(" ")
        first = f"{first} {clock}"
    return SetDeadline(time_text=first, what=what.strip())


def _postmortem(word: str, rest: str) -> MarkPostmortemDone | RepostPostmortem:
    if not rest:
        return RepostPostmortem()
    if rest.lower() != "done":
        raise UsageError(Message(N_("Use {usage}."), {"usage": _usage("postmortem")}))
    return MarkPostmortemDone()


def _retry(word: str, rest: str) -> RetrySetup:
    ref = rest.lstrip("#")
    if rest and not ref.isdigit():
        raise UsageError(Message(N_("Give the incident's number. Use {usage}."), {"usage": _usage("retry")}))
    return RetrySetup(incident_ref=ref or None)


def _tag(word: str, rest: str) -> Tag | Untag | ListTags:
    try:
        tags = tuple(tag_names.normalise_all(rest.split()))
    except tag_names.TagError as error:
        raise UsageError(error.message) from None
    if word == "untag":
        if not tags:
            raise UsageError(Message(N_("Say which tag to remove. Use {usage}."), {"usage": _usage("untag")}))
        return Untag(tags=tags)
    return Tag(tags=tags) if tags else ListTags()


def _stats(word: str, rest: str) -> Stats:
    try:
        return Stats(range=insights.parse_range(rest or None))
    except insights.RangeError as error:
        raise UsageError(error.message) from None


def _write_up(word: str, rest: str) -> WriteUp:
    return WriteUp(part=word, text=_required_text(word, rest))


def _impact(word: str, rest: str) -> SetImpact:
    if not rest:
        raise UsageError(Message(N_("Say what the impact was. Use {usage}."), {"usage": _usage("impact")}))
    try:
        text, figures = impact_figures.split_figures(rest)
    except impact_figures.FigureError as error:
        raise UsageError(error.message) from None
    return SetImpact(text=text, figures=figures)


def _why(word: str, rest: str) -> AddWhy | ClearWhys:
    if rest.lower() == "clear":
        return ClearWhys()
    return AddWhy(text=_required_text(word, rest))


def _factor(word: str, rest: str) -> AddFactor | ClearFactors:
    first, text = _first_word(rest)
    if first.lower() == "clear":
        category = _factor_category(text.strip()) if text.strip() else None
        return ClearFactors(category=category)
    category = _factor_category(first)
    return AddFactor(category=category, text=_required_text(word, text.strip()))


def _factor_category(word: str) -> str:
    category = _FACTOR_ALIASES.get(unicodedata.normalize("NFKC", word), word.lower())
    if category not in FACTOR_CATEGORIES:
        raise UsageError(
            Message(
                N_("A factor's category is one of {categories}. Use {usage}."),
                {"categories": ", ".join(FACTOR_CATEGORIES), "usage": _usage("factor")},
            )
        )
    return category
_PLAN_OPTIONS = ("at", "for", "go-no-go", "rollback-by")
_TIME_START = re.compile(r"^(\d{1,2}:\d{2}|\d{4}-\d{2}-\d{2}([T ].*)?)$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_CLOCK = re.compile(r"^\d{1,2}:\d{2}(:\d{2})?$")


def _plan(word: str, rest: str) -> PlanWork:
    """`release|maintenance <title> at <time> [for <d>] [go-no-go <time>] [rollback-by <time|d>]`; empty: the form."""
    if not rest:
        return PlanWork(kind="", title="")
    kind, _, text = rest.partition(" ")
    kind = kind.lower()
    if kind not in ("release", "maintenance"):
        raise UsageError(Message(N_("Say what is planned: `release` or `maintenance`. Use {usage}."), {"usage": _usage("plan")}))
    words = text.split()
    # The title ends at the last `at` followed by a time: a title may say "at" too.
    starts = [i for i, w in enumerate(words[:-1]) if w.lower() == "at" and _TIME_START.match(words[i + 1])]
    if not starts:
        raise UsageError(Message(N_("Say when it starts: `at <time>`. Use {usage}."), {"usage": _usage("plan")}))
    title, options, i = " ".join(words[: starts[-1]]), {}, starts[-1]
    while i < len(words):
        option = words[i].lower()
        if option not in _PLAN_OPTIONS or option in options or i + 1 >= len(words):
            raise UsageError(Message(N_("`{word}` is not understood here. Use {usage}."), {"word": _quote(words[i]), "usage": _usage("plan")}))
        value = words[i + 1]
        i += 2
        # `YYYY-MM-DD HH:MM` is two words; keep them together.
        if _DATE.match(value) and i < len(words) and _CLOCK.match(words[i]):
            value, i = f"{value} {words[i]}", i + 1
        options[option] = value
    if not title:
        raise UsageError(Message(N_("Give the work a title. Use {usage}."), {"usage": _usage("plan")}))
    if len(title) > MAX_TITLE:
        raise UsageError(Message(N_("The title is {length} characters; keep it under {most}. Use {usage}."), {"length": len(title), "most": MAX_TITLE, "usage": _usage("plan")}))
    return PlanWork(
        kind=kind, title=title, start_text=options["at"], duration_text=options.get("for"),
        go_no_go_text=options.get("go-no-go"), rollback_text=options.get("rollback-by"),
    )


def _runbook(word: str, rest: str) -> AttachRunbook | UseRunbook:
    if not rest:
        return AttachRunbook(text="")  # the form
    first, _, name = rest.partition(" ")
    if first.lower() != "use" or not name.strip():
        raise UsageError(Message(N_("Use {usage}."), {"usage": _usage("runbook")}))
    return UseRunbook(name=name.strip())


_STEP_ACTIONS = {"start": "start", "done": "done", "failed": "failed", "fail": "failed", "skip": "skip"}


def _step(word: str, rest: str) -> StepAction:
    number, _, more = rest.partition(" ")
    action, _, reason = more.strip().partition(" ")
    number = number.lstrip("#")
    if not number.isdigit() or action.lower() not in _STEP_ACTIONS or len(number) > 4:
        raise UsageError(Message(N_("Use {usage}."), {"usage": _usage("step")}))
    return StepAction(number=int(number), action=_STEP_ACTIONS[action.lower()], reason=reason.strip())


_OUTCOMES = {
    "": "completed", "completed": "completed", "complete": "completed", "done": "completed",
    "rolled-back": "rolled_back", "rolled_back": "rolled_back", "rollback": "rolled_back", "stopped": "stopped", "stop": "stopped",
}


def _finish(word: str, rest: str) -> FinishWork:
    outcome = _OUTCOMES.get(rest.strip().lower())
    if outcome is None:
        raise UsageError(Message(N_("Use {usage}."), {"usage": _usage("finish")}))
    return FinishWork(outcome=outcome)


def _escalate(word: str, rest: str) -> EscalateWork:
    if rest and rest.upper() not in SEVERITIES:
        raise UsageError(Message(N_("Severity must be one of {severities}. Use {usage}."), {"severities": ", ".join(SEVERITIES), "usage": _usage("escalate")}))
    return EscalateWork(severity=rest.upper() or None)


def _no_arguments(command: Command):
    def parse_bare(word: str, rest: str) -> Command:
        if rest:
            raise UsageError(Message(N_("{usage} takes no arguments."), {"usage": _usage(word)}))
        return command

    return parse_bare


def _required_text(word: str, rest: str) -> str:
    if not rest:
        raise UsageError(Message(N_("Say what to record. Use {usage}."), {"usage": _usage(word)}))
    return rest


def _mention(text: str, word: str) -> str:
    match = _MENTION.match(text.strip())
    if match is None:
        raise UsageError(Message(N_("Mention the person with @ so Slack sends who they are. Use {usage}."), {"usage": _usage(word)}))
    return match[1]


def _usage(word: str) -> Message:
    return Message(USAGE[word])


def _quote(text: str) -> str:
    """Echo user input in a reply without letting it break out of inline code, nor leaving half of
    a `<!channel>` that the cut could join to a later `>`: `<` and `>` are echoed escaped, as Slack's."""
    return text.replace("`", "'")[:40].replace("<", "&lt;").replace(">", "&gt;")


_PARSERS = {
    "start": _start,
    "declare": _start,
    "status": _status,
    "update": _update,
    "note": _note,
    "severity": _severity,
    "sev": _severity,
    "lead": _lead,
    "role": _role,
    "action": _action,
    "deadline": _deadline,
    "postmortem": _postmortem,
    "retry": _retry,
    "followups": _no_arguments(ListActionItems()),
    "timeline": _no_arguments(Timeline()),
    "help": _no_arguments(Help()),
    "list": _no_arguments(ListOpen()),
    "tag": _tag,
    "tags": _tag,
    "untag": _tag,
    "stats": _stats,
    "summary": _write_up,
    "trigger": _write_up,
    "cause": _write_up,
    "impact": _impact,
    "why": _why,
    "factor": _factor,
    "catchup": _no_arguments(Catchup()),
    "catch-up": _no_arguments(Catchup()),
    "plan": _plan,
    "runbook": _runbook,
    "step": _step,
    "finish": _finish,
    "escalate": _escalate,
    **{word: _milestone for word in TIME_MILESTONES},
}
