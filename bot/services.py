"""What every listener needs: settings and the database, handed over through Bolt's context."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bot.config import Settings
from bot.ingest.incident_channels import IncidentChannels
from bot.ingest.timeline_writer import TimelineWriter
from storage.db import Database

if TYPE_CHECKING:
    from bot.reminders.clock import Clock


@dataclass(frozen=True)
class Services:
    settings: Settings
    db: Database
    clock: "Clock | None" = None  # stores reminder jobs; None where nothing schedules (export, migrate)
    # The message event path (bot/listeners/events.py): which channels are incidents', and group commit.
    incident_channels: IncidentChannels = field(init=False)
    timeline_writer: TimelineWriter = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "incident_channels", IncidentChannels(self.db))
        object.__setattr__(self, "timeline_writer", TimelineWriter(self.db))

    def __deepcopy__(self, memo) -> "Services":
        # Bolt deep-copies the context for lazy listeners; the engine and its pool must be shared, not copied.
        return self
