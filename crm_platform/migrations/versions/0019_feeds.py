"""Feeds and follows: posts and comments on records, and who follows which record.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

from crm_platform.core.types import UTCDateTime

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sys_feed_post",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("object", sa.Text, nullable=False),
        sa.Column("record_id", sa.String(36), nullable=False),
        sa.Column("parent_id", sa.String(36)),
        sa.Column("author_id", sa.String(36), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("mentions", sa.JSON, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
    )
    op.create_index("ix_sys_feed_post_record", "sys_feed_post", ["object", "record_id", "id"])
    op.create_index("ix_sys_feed_post_parent", "sys_feed_post", ["parent_id"])
    op.create_table(
        "sys_record_follow",
        sa.Column("object", sa.Text, primary_key=True),
        sa.Column("record_id", sa.String(36), primary_key=True),
        sa.Column("user_id", sa.String(36), primary_key=True),
        sa.Column("created_at", UTCDateTime, nullable=False),
    )
    op.create_index("ix_sys_record_follow_user", "sys_record_follow", ["user_id"])


def downgrade() -> None:
    op.drop_table("sys_record_follow")
    op.drop_table("sys_feed_post")
