"""timeline entries: drop the two single-column indexes the (incident_id, occurred_at) index covers

Every query on timeline_entries names its incident, so ix_timeline_entries_incident_occurred
serves them all (and the foreign key's cascade); the single-column indexes on incident_id and
occurred_at were two more B-tree inserts for every message stored (BENCHMARKS.md: 12,000 ->
14,000 inserts/s on the local PostgreSQL with 12 writers).

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_timeline_entries_incident_id", table_name="timeline_entries")
    op.drop_index("ix_timeline_entries_occurred_at", table_name="timeline_entries")


def downgrade() -> None:
    op.create_index("ix_timeline_entries_occurred_at", "timeline_entries", ["occurred_at"])
    op.create_index("ix_timeline_entries_incident_id", "timeline_entries", ["incident_id"])
