"""What a rule answers: a Change to show people, or a refusal that says why."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.domain.requests import Via
from bot.i18n import Message


class IncidentError(Exception):
    """A request that cannot be carried out; the message is for the person who asked.

    `message` is a text to translate where it is shown (bot.i18n.Message, or a plain text
    marked with N_); `field` names the part of the request at fault (e.g. "started"), so a form
    can show the message beside the input it is about.
    """

    def __init__(self, message: "str | Message", field: str | None = None):
        super().__init__(str(message))
        self.message = message
        self.field = field


@dataclass(frozen=True)
class Context:
    """Who asks, by which way, and when: the same for every rule a request meets."""

    actor: str | None
    via: Via
    now: datetime
    tz: ZoneInfo
    reactions: dict[str, str] = field(default_factory=dict)  # emoji -> mark (REACTION_<MARK>)
    rhythm: object = None  # bot.reminders.rhythm.Rhythm: the reminder settings


@dataclass
class Change:
    """What an operation did, and what people should now be shown in Slack.

    `kind` and `details` say what happened as data, in no language: the Slack layer
    (bot/slack/texts.py) says it in the reader's. Details hold the bot's own words as keys
    (`{"from": "investigating", "to": "resolved"}`, a milestone's name, a decision), times as
    datetimes, people as user ids, and people's own words (a title, a role's name) as they typed them.
    """

    incident_id: int
    kind: str  # the timeline kind recorded, e.g. "status", "update", "declared"
    actor: str | None
    details: dict = field(default_factory=dict)  # what texts.summary needs for this kind (see there)
    text: str = ""  # the person's own words, if any
    post_in_channel: bool = True
    announce: bool = False
    refresh_header: bool = True
    set_up_channel: bool = False
    post_postmortem: bool = False
    resolved: bool = False  # this change resolved the incident (not merely touched a resolved one)
    invite: tuple[str, ...] = ()
    runbook: str | None = None  # planned work: "post" the runbook message, or "update" it in place
    work_log: bool = False  # planned work is over: the after report and the work log
    extra: list["Change"] = field(default_factory=list)  # follow-on changes (e.g. resolution)

    def all(self) -> list["Change"]:
        return [self, *(c for extra in self.extra for c in extra.all())]
