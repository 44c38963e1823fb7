"""What every listener needs: settings, the database and the gate, handed over through Bolt's context."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from bot.config import Settings
from bot.domain.changes import Context
from bot.domain.requests import Request
from bot.gate import Gate
from bot.i18n import Translator, translator
from bot.ingest.incident_channels import IncidentChannels
from bot.ingest.timeline_writer import TimelineWriter
from bot.slack.languages import personal_language
from bot.slack.membership import is_member
from storage.db import Database

if TYPE_CHECKING:
    from slack_sdk import WebClient

    from bot.reminders.clock import Clock


@dataclass(frozen=True)
class Services:
    settings: Settings
    db: Database
    clock: "Clock | None" = None  # stores reminder jobs; None where nothing schedules (export, migrate)
    client: "WebClient | None" = None  # asks Slack who is in a channel; None where no person can ask (import)
    # Every change to an incident goes through the gate (bot/gate.py).
    gate: Gate = field(init=False)
    # The message event path (bot/listeners/events.py): which channels are incidents', and group commit.
    incident_channels: IncidentChannels = field(init=False)
    timeline_writer: TimelineWriter = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "gate", Gate(self.db, self.context, self.is_member))
        object.__setattr__(self, "incident_channels", IncidentChannels(self.db))
        object.__setattr__(self, "timeline_writer", TimelineWriter(self.db))

    def context(self, request: Request, now: datetime) -> Context:
        settings = self.settings
        return Context(
            actor=request.actor,
            via=request.via,
            now=request.at or now,
            tz=settings.timezone,
            reactions=settings.reactions,
            rhythm=settings.rhythm,
        )

    @property
    def t(self) -> Translator:
        """The workspace's language (BOT_LANGUAGE): everything posted in a channel."""
        return translator(self.settings.language, self.settings.timezone)

    def t_for(self, user_id: str | None) -> Translator:
        """What only `user_id` reads: in the language of their Slack locale, else the workspace's."""
        language = personal_language(self.client, user_id) or self.settings.language
        return translator(language, self.settings.timezone)

    @property
    def postmortem_t(self) -> Translator:
        """The postmortem draft's language (POSTMORTEM_LANGUAGE, by default the workspace's)."""
        return translator(self.settings.postmortem_language, self.settings.timezone)

    def is_member(self, channel_id: str, user_id: str) -> bool:
        if self.client is None:
            raise RuntimeError("a person's request reached a process without a Slack client")
        return is_member(self.client, channel_id, user_id)

    def __deepcopy__(self, memo) -> "Services":
        # Bolt deep-copies the context for lazy listeners; the engine and its pool must be shared, not copied.
        return self
