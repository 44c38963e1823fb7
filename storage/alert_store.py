"""Alert groups and receipts (bot/domain/alerts.py's AlertStore), within the incident store's unit of work.

SqlIncidentStore takes these methods in, so the alert rules record through the same store, in the
same transaction, as every other rule.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.domain.alerts import AlertGroupRecord, Receipt
from bot.domain.records import Alert
from bot.domain.times import utcnow
from storage.models import AlertGroup, AlertReceipt
from storage.writes import insert_ignoring_duplicates


class AlertGroups:
    session: Session

    def alert_group(self, source: str, group_key: str) -> AlertGroupRecord:
        """Created if new, then locked: two instances deciding the same group's notification take turns.

        On PostgreSQL a second INSERT of the same new group waits for the first transaction and then
        does nothing; the SELECT … FOR UPDATE after it waits for that transaction too, and so sees the
        incident it declared. On SQLite every writer holds the database's write lock (BEGIN IMMEDIATE).
        """
        key_hash = hashlib.sha256(group_key.encode()).hexdigest()
        values = dict(source=source, group_key=group_key, key_hash=key_hash, created_at=utcnow())
        insert_ignoring_duplicates(self.session.connection(), AlertGroup, values)
        query = select(AlertGroup).where(AlertGroup.source == source, AlertGroup.key_hash == key_hash)
        return _group(self.session.scalars(query.with_for_update()).one())

    def alert_group_by_id(self, group_id: int) -> AlertGroupRecord | None:
        row = self.session.scalars(select(AlertGroup).where(AlertGroup.id == group_id).with_for_update()).one_or_none()
        return _group(row) if row is not None else None

    def point_alert_group(self, group_id: int, incident_id: int) -> None:
        self.session.get(AlertGroup, group_id).incident_id = incident_id
        self.session.flush()

    def add_alert_receipt(self, group_id: int, key: str, incident_id: int | None, alert: Alert, at: datetime) -> bool:
        values = dict(group_id=group_id, key=key, incident_id=incident_id, data=alert.as_data(), received_at=at)
        return insert_ignoring_duplicates(self.session.connection(), AlertReceipt, values)

    def existing_alert_receipts(self, group_id: int, keys: list[str]) -> set[str]:
        if not keys:
            return set()
        query = select(AlertReceipt.key).where(AlertReceipt.group_id == group_id, AlertReceipt.key.in_(keys))
        return set(self.session.scalars(query))

    def alert_receipts(self, *, group_id: int | None = None, incident_id: int | None = None) -> list[Receipt]:
        query = select(AlertReceipt).order_by(AlertReceipt.id)
        if group_id is not None:
            query = query.where(AlertReceipt.group_id == group_id)
        if incident_id is not None:
            query = query.where(AlertReceipt.incident_id == incident_id)
        return [Receipt(r.key, r.incident_id, Alert.from_data(r.data), r.received_at) for r in self.session.scalars(query)]


def _group(row: AlertGroup) -> AlertGroupRecord:
    return AlertGroupRecord(row.id, row.source, row.group_key, row.incident_id)
