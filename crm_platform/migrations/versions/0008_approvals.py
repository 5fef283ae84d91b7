"""Approval processes: requests, step instances, approvers with their decisions, history.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

from crm_platform.core.types import UTCDateTime

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

ID = 36


def upgrade() -> None:
    op.create_table(
        "sys_approval_request",
        sa.Column("id", sa.String(ID), primary_key=True),
        sa.Column("process", sa.Text, nullable=False),
        sa.Column("object", sa.Text, nullable=False),
        sa.Column("record_id", sa.String(ID), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("lock_record", sa.Boolean, nullable=False),
        sa.Column("submitted_by", sa.String(ID), nullable=False),
        sa.Column("submitted_at", UTCDateTime, nullable=False),
        sa.Column("decided_at", UTCDateTime),
    )
    op.create_index(
        "ix_sys_approval_request_record",
        "sys_approval_request",
        ["object", "record_id", "status"],
    )
    op.create_table(
        "sys_approval_step",
        sa.Column("id", sa.String(ID), primary_key=True),
        sa.Column("request_id", sa.String(ID), nullable=False),
        sa.Column("step_index", sa.Integer, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("mode", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("started_at", UTCDateTime, nullable=False),
        sa.Column("decided_at", UTCDateTime),
        sa.Column("escalated", sa.Boolean, nullable=False, server_default=sa.false()),
    )
    op.create_index("ix_sys_approval_step_request_id", "sys_approval_step", ["request_id"])
    op.create_table(
        "sys_approval_approver",
        sa.Column("id", sa.String(ID), primary_key=True),
        sa.Column("step_id", sa.String(ID), nullable=False),
        sa.Column("request_id", sa.String(ID), nullable=False),
        sa.Column("user_id", sa.String(ID), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("comment", sa.Text),
        sa.Column("assigned_at", UTCDateTime, nullable=False),
        sa.Column("decided_at", UTCDateTime),
    )
    op.create_index("ix_sys_approval_approver_step_id", "sys_approval_approver", ["step_id"])
    op.create_index("ix_sys_approval_approver_user", "sys_approval_approver", ["user_id", "status"])
    op.create_table(
        "sys_approval_history",
        sa.Column("id", sa.String(ID), primary_key=True),
        sa.Column("request_id", sa.String(ID), nullable=False),
        sa.Column("step", sa.Text),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("actor_id", sa.String(ID), nullable=False),
        sa.Column("target_id", sa.String(ID)),
        sa.Column("comment", sa.Text),
        sa.Column("at", UTCDateTime, nullable=False),
    )
    op.create_index("ix_sys_approval_history_request_id", "sys_approval_history", ["request_id"])


def downgrade() -> None:
    for table in (
        "sys_approval_history",
        "sys_approval_approver",
        "sys_approval_step",
        "sys_approval_request",
    ):
        op.drop_table(table)
