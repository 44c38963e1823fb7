"""insights, import and canvas: incident tags, where an imported incident came from, its postmortem canvas

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("incidents") as batch:
        batch.add_column(sa.Column("imported_from", sa.Text(), nullable=True))
        batch.add_column(sa.Column("postmortem_canvas_id", sa.String(length=32), nullable=True))
    op.create_table(
        "incident_tags",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("tag", sa.String(length=40), nullable=False),
        sa.Column("added_by", sa.String(length=32), nullable=True),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["incident_id"], ["incidents.id"], name=op.f("fk_incident_tags_incident_id_incidents"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incident_tags")),
        sa.UniqueConstraint("incident_id", "tag", name=op.f("uq_incident_tags_incident_id_tag")),
    )
    op.create_index("ix_incident_tags_tag", "incident_tags", ["tag"])


def downgrade() -> None:
    op.drop_index("ix_incident_tags_tag", table_name="incident_tags")
    op.drop_table("incident_tags")
    with op.batch_alter_table("incidents") as batch:
        batch.drop_column("postmortem_canvas_id")
        batch.drop_column("imported_from")
