"""rhythm: deadlines, snoozes, postmortem review, action item completion, reminder claims

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("incidents") as batch:
        batch.add_column(sa.Column("deadline_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("deadline_what", sa.Text(), nullable=True))
        batch.add_column(sa.Column("nudge_snoozed_until", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("last_nudged_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("postmortem_done_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("action_items") as batch:
        batch.add_column(sa.Column("done_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("done_by", sa.String(length=32), nullable=True))
        batch.add_column(sa.Column("last_reminded_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "reminder_claims",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_by", sa.String(length=100), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_reminder_claims")),
    )
    # APScheduler's job store table (same shape as SQLAlchemyJobStore's), made here so that
    # several processes starting at once do not race to create it.
    op.create_table(
        "apscheduler_jobs",
        sa.Column("id", sa.Unicode(length=191), nullable=False),
        sa.Column("next_run_time", sa.Float(precision=25), nullable=True),
        sa.Column("job_state", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_apscheduler_jobs")),
    )
    op.create_index("ix_apscheduler_jobs_next_run_time", "apscheduler_jobs", ["next_run_time"])


def downgrade() -> None:
    op.drop_index("ix_apscheduler_jobs_next_run_time", table_name="apscheduler_jobs")
    op.drop_table("apscheduler_jobs")
    op.drop_table("reminder_claims")
    with op.batch_alter_table("action_items") as batch:
        batch.drop_column("last_reminded_at")
        batch.drop_column("done_by")
        batch.drop_column("done_at")
    with op.batch_alter_table("incidents") as batch:
        batch.drop_column("postmortem_done_at")
        batch.drop_column("last_nudged_at")
        batch.drop_column("nudge_snoozed_until")
        batch.drop_column("deadline_what")
        batch.drop_column("deadline_at")
