"""Automation delivery: when a broker was last asked to deliver a run, and delivery checks.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

from crm_platform.core.types import UTCDateTime

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("sys_automation_run", sa.Column("dispatched_at", UTCDateTime))
    op.create_table(
        "sys_automation_ping",
        sa.Column("run_id", sa.String(36), primary_key=True),
        sa.Column("delivered_by", sa.Text, nullable=False),
        sa.Column("delivered_at", UTCDateTime, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("sys_automation_ping")
    op.drop_column("sys_automation_run", "dispatched_at")
