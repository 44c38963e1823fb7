"""postmortem fields: what the team writes during the incident (summary, trigger, cause, impact figures,
the 5 whys, fishbone factors) and near misses

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("incidents") as batch:
        batch.add_column(sa.Column("summary", sa.Text(), nullable=True))
        batch.add_column(sa.Column("trigger", sa.Text(), nullable=True))
        batch.add_column(sa.Column("cause", sa.Text(), nullable=True))
        batch.add_column(sa.Column("impact_figures", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("whys", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("factors", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("near_miss", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("incidents") as batch:
        for column in ("near_miss", "factors", "whys", "impact_figures", "cause", "trigger", "summary"):
            batch.drop_column(column)
