"""Merges: the log of records merged into a master, so a restore can undo the merge.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

from crm_platform.core.types import UTCDateTime

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sys_merge",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("merge_id", sa.String(36), nullable=False),
        sa.Column("object", sa.String(40), nullable=False),
        sa.Column("master_id", sa.String(36), nullable=False),
        sa.Column("other_id", sa.String(36), nullable=False),
        sa.Column("batch_id", sa.String(36), nullable=False),
        sa.Column("children", sa.JSON, nullable=False),
        sa.Column("master_before", sa.JSON, nullable=False),
        sa.Column("master_after", sa.JSON, nullable=False),
        sa.Column("merged_by", sa.String(36), nullable=False),
        sa.Column("merged_at", UTCDateTime, nullable=False),
        sa.Column("undone_at", UTCDateTime, nullable=True),
    )
    op.create_index("ix_sys_merge_other", "sys_merge", ["other_id"])
    op.create_index("ix_sys_merge_master", "sys_merge", ["master_id"])
    op.create_index("ix_sys_merge_merge", "sys_merge", ["merge_id"])


def downgrade() -> None:
    op.drop_table("sys_merge")
