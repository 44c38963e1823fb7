"""planned work: releases and maintenance with their planned times, runbook steps and escalation

Revision ID: 0006
Revises: 0004 (the merge rechains it onto 0005)
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_WHEN = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("incidents") as batch:
        batch.add_column(sa.Column("kind", sa.String(length=16), nullable=False, server_default="incident"))
        for name in ("planned_start", "planned_end", "go_no_go_at", "rollback_by"):
            batch.add_column(sa.Column(name, _WHEN, nullable=True))
        batch.add_column(sa.Column("work_status", sa.String(length=16), nullable=True))
        for name in ("work_started_at", "work_ended_at", "escalated_at"):
            batch.add_column(sa.Column(name, _WHEN, nullable=True))
        batch.add_column(sa.Column("runbook_name", sa.String(length=80), nullable=True))
        batch.add_column(sa.Column("runbook_ts", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("escalation_since", _WHEN, nullable=True))
        batch.add_column(sa.Column("escalation_what", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("escalation_level", sa.Integer(), nullable=False, server_default="0"))
    op.create_index("ix_incidents_kind", "incidents", ["kind"])
    op.create_table(
        "runbook_steps",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("owner", sa.String(length=80), nullable=True),
        sa.Column("expected", sa.Float(), nullable=True),
        sa.Column("timeout", sa.Float(), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("started_at", _WHEN, nullable=True),
        sa.Column("started_by", sa.String(length=32), nullable=True),
        sa.Column("ended_at", _WHEN, nullable=True),
        sa.Column("ended_by", sa.String(length=32), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("overrun_nudged_at", _WHEN, nullable=True),
        sa.ForeignKeyConstraint(["incident_id"], ["incidents.id"], name=op.f("fk_runbook_steps_incident_id_incidents"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_runbook_steps")),
        sa.UniqueConstraint("incident_id", "number", name=op.f("uq_runbook_steps_incident_id_number")),
    )
    op.create_index("ix_runbook_steps_incident_id", "runbook_steps", ["incident_id"])


def downgrade() -> None:
    op.drop_index("ix_runbook_steps_incident_id", table_name="runbook_steps")
    op.drop_table("runbook_steps")
    op.drop_index("ix_incidents_kind", table_name="incidents")
    with op.batch_alter_table("incidents") as batch:
        for name in ("escalation_level", "escalation_what", "escalation_since", "runbook_ts", "runbook_name", "escalated_at",
                     "work_ended_at", "work_started_at", "work_status", "rollback_by", "go_no_go_at", "planned_end",
                     "planned_start", "kind"):
            batch.drop_column(name)
