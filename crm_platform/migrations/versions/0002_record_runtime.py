"""Record runtime: field history and the lookups a delete nulled (for restore).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

from crm_platform.core.types import UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

ID = sa.String(36)


def upgrade() -> None:
    op.create_table(
        "sys_field_history",
        sa.Column("id", ID, primary_key=True),
        sa.Column("object", sa.Text, nullable=False),
        sa.Column("record_id", ID, nullable=False),
        sa.Column("field", sa.Text, nullable=False),
        sa.Column("old_value", sa.JSON),
        sa.Column("new_value", sa.JSON),
        sa.Column("changed_by", ID, nullable=False),
        sa.Column("changed_at", UTCDateTime, nullable=False),
    )
    op.create_index(
        "ix_sys_field_history_record", "sys_field_history", ["object", "record_id", "changed_at"]
    )
    op.create_table(
        "sys_delete_link",
        sa.Column("batch_id", ID, nullable=False),
        sa.Column("object", sa.Text, nullable=False),
        sa.Column("record_id", ID, nullable=False),
        sa.Column("field", sa.Text, nullable=False),
        sa.Column("target_id", ID, nullable=False),
    )
    op.create_index("ix_sys_delete_link_batch", "sys_delete_link", ["batch_id"])


def downgrade() -> None:
    op.drop_table("sys_delete_link")
    op.drop_table("sys_field_history")
