"""Security data: user role/manager/profile, permission-set assignments, group and queue
members, share rows, login history.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

from crm_platform.core.types import UTCDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

ID = sa.String(36)


def upgrade() -> None:
    op.add_column("sys_user", sa.Column("role", sa.Text))
    op.add_column("sys_user", sa.Column("manager_id", ID))
    op.add_column("sys_user", sa.Column("profile", sa.Text))
    op.create_index("ix_sys_user_role", "sys_user", ["role"])
    op.create_table(
        "sys_user_permission_set",
        sa.Column("user_id", ID, primary_key=True),
        sa.Column("permission_set", sa.Text, primary_key=True),
    )
    op.create_table(
        "sys_group_member",
        sa.Column("group_name", sa.Text, primary_key=True),
        sa.Column("user_id", ID, primary_key=True),
    )
    op.create_index("ix_sys_group_member_user", "sys_group_member", ["user_id"])
    op.create_table(
        "sys_queue_member",
        sa.Column("queue_name", sa.Text, primary_key=True),
        sa.Column("user_id", ID, primary_key=True),
    )
    op.create_index("ix_sys_queue_member_user", "sys_queue_member", ["user_id"])
    op.create_table(
        "sys_share",
        sa.Column("object", sa.Text, nullable=False),
        sa.Column("record_id", ID, nullable=False),
        sa.Column("principal", sa.Text, nullable=False),
        sa.Column("access", sa.String(8), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("object", "record_id", "principal", "reason"),
    )
    op.create_index("ix_sys_share_principal", "sys_share", ["object", "principal", "record_id"])
    op.create_table(
        "sys_login",
        sa.Column("id", ID, primary_key=True),
        sa.Column("user_id", ID),
        sa.Column("email", sa.Text, nullable=False),
        sa.Column("succeeded", sa.Boolean, nullable=False),
        sa.Column("method", sa.String(16), nullable=False),
        sa.Column("address", sa.Text),
        sa.Column("user_agent", sa.Text),
        sa.Column("at", UTCDateTime, nullable=False),
    )
    op.create_index("ix_sys_login_at", "sys_login", ["at"])


def downgrade() -> None:
    for table in (
        "sys_login",
        "sys_share",
        "sys_queue_member",
        "sys_group_member",
        "sys_user_permission_set",
    ):
        op.drop_table(table)
    op.drop_index("ix_sys_user_role", "sys_user")
    for column in ("profile", "manager_id", "role"):
        op.drop_column("sys_user", column)
