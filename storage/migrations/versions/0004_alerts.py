"""alerts: alert groups and what was done with each alert, how an incident was declared, its header links

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("incidents") as batch:
        batch.add_column(sa.Column("declared_via", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("links", sa.JSON(), nullable=True))
    op.create_table(
        "alert_groups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("group_key", sa.Text(), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["incident_id"], ["incidents.id"], name=op.f("fk_alert_groups_incident_id_incidents"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_groups")),
        sa.UniqueConstraint("source", "key_hash", name=op.f("uq_alert_groups_source_key_hash")),
    )
    op.create_table(
        "alert_receipts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=80), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["group_id"], ["alert_groups.id"], name=op.f("fk_alert_receipts_group_id_alert_groups"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["incident_id"], ["incidents.id"], name=op.f("fk_alert_receipts_incident_id_incidents"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_receipts")),
        sa.UniqueConstraint("group_id", "key", name=op.f("uq_alert_receipts_group_id_key")),
    )
    op.create_index("ix_alert_receipts_incident_id", "alert_receipts", ["incident_id"])


def downgrade() -> None:
    op.drop_index("ix_alert_receipts_incident_id", table_name="alert_receipts")
    op.drop_table("alert_receipts")
    op.drop_table("alert_groups")
    with op.batch_alter_table("incidents") as batch:
        batch.drop_column("links")
        batch.drop_column("declared_via")
