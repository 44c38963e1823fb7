"""What the rules need from storage, and nothing more: the port the domain writes through.

The rules stay plain Python: they read and record through this interface, and
storage/incident_store.py implements it with SQLAlchemy inside one unit of work.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from bot.domain.records import (
    ActionItemRecord,
    Claim,
    IncidentRecord,
    MarkRecord,
    MessageEntry,
    NewEntry,
    SlackMessage,
    StepRecord,
)


class IncidentStore(Protocol):
    # --- incidents --------------------------------------------------------------------
    def add_incident(self, incident: IncidentRecord) -> int: ...

    def incident(self, incident_id: int, *, for_update: bool = False) -> IncidentRecord | None: ...

    def incident_in(self, channel_id: str, *, for_update: bool = False) -> IncidentRecord | None: ...

    def add_entry(self, incident_id: int, entry: NewEntry) -> None: ...

    # --- milestones -------------------------------------------------------------------
    def claims(self, incident_id: int) -> list[Claim]:
        """Claims set by commands, status changes and imports, and one per milestone mark that
        counts (on a person's message that is still on the record)."""
        ...

    def add_claim(self, incident_id: int, claim: Claim, actor: str | None) -> None: ...

    # --- people and tags --------------------------------------------------------------
    def role_holder(self, incident_id: int, role: str) -> str | None: ...

    def set_role(self, incident_id: int, role: str, user_id: str) -> None: ...

    def tags(self, incident_id: int) -> list[str]: ...

    def add_tag(self, incident_id: int, tag: str, actor: str, at: datetime) -> bool: ...

    def remove_tags(self, incident_id: int, tags: list[str]) -> list[str]: ...

    # --- action items -----------------------------------------------------------------
    def action_item(self, item_id: int) -> ActionItemRecord | None: ...

    def add_action_item(self, item: ActionItemRecord) -> int: ...

    def save_action_item(self, item: ActionItemRecord) -> None: ...

    def action_items(self, incident_id: int) -> list[ActionItemRecord]: ...

    def last_update_at(self, incident_id: int, kinds: tuple[str, ...]) -> datetime | None: ...

    # --- runbook steps (planned work) ---------------------------------------------------
    def steps(self, incident_id: int) -> list[StepRecord]: ...

    def replace_steps(self, incident_id: int, plans) -> None:
        """Store the runbook's steps (bot.domain.runbooks.StepPlan), numbered from 1, replacing the old ones."""
        ...

    def save_step(self, step: StepRecord) -> None: ...

    # --- messages and marks -----------------------------------------------------------
    def message(self, channel_id: str, ts: str, *, for_update: bool = False) -> MessageEntry | None: ...

    def add_message(self, incident_id: int, message: SlackMessage, now: datetime, *, deleted: bool = False) -> bool:
        """Store a person's message once; False when (channel, ts) is already on the record."""
        ...

    def save_message(self, entry: MessageEntry) -> None: ...

    def mark(self, channel_id: str, message_ts: str, emoji: str, user_id: str) -> MarkRecord | None: ...

    def add_mark(self, mark: MarkRecord) -> bool:
        """Store a mark once; False when this person's emoji on this message is already there."""
        ...

    def save_mark(self, mark: MarkRecord) -> None: ...

    def claim_reminder(self, key: str, now: datetime) -> bool:
        """True for the one process that may send this reminder."""
        ...
