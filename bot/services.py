"""What every listener needs: settings and the database, handed over through Bolt's context."""

from __future__ import annotations

from dataclasses import dataclass

from bot.config import Settings
from storage.db import Database


@dataclass(frozen=True)
class Services:
    settings: Settings
    db: Database

    def __deepcopy__(self, memo) -> "Services":
        # Bolt deep-copies the context for lazy listeners; the engine and its pool must be shared, not copied.
        return self
