"""Automation's outbox: one row per piece of async work, with its status and lease.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

from crm_platform.core.types import UTCDateTime

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sys_automation_run",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("job", sa.String(40), nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("object", sa.Text),
        sa.Column("record_id", sa.String(36)),
        sa.Column("payload", sa.JSON, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("late", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("due_at", UTCDateTime, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("step", sa.Integer, nullable=False, server_default="0"),
        sa.Column("error", sa.Text),
        sa.Column("failed_step", sa.Text),
        sa.Column("idempotency_key", sa.Text, nullable=False, unique=True),
        sa.Column("user_id", sa.String(36), nullable=False),
        sa.Column("lease_until", UTCDateTime),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("started_at", UTCDateTime),
        sa.Column("finished_at", UTCDateTime),
    )
    op.create_index("ix_sys_automation_run_due", "sys_automation_run", ["status", "due_at"])
    op.create_index("ix_sys_automation_run_record", "sys_automation_run", ["object", "record_id"])


def downgrade() -> None:
    op.drop_table("sys_automation_run")
