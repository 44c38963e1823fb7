"""What every listener needs: settings and the database, handed over through Bolt's context."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.config import Settings
from storage.db import Database

if TYPE_CHECKING:
    from bot.scheduling import Clock


@dataclass(frozen=True)
class Services:
    settings: Settings
    db: Database
    clock: "Clock | None" = None  # stores reminder jobs; None where nothing schedules (export, migrate)

    def __deepcopy__(self, memo) -> "Services":
        # Bolt deep-copies the context for lazy listeners; the engine and its pool must be shared, not copied.
        return self
