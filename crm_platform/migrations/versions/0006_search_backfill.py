"""Search backfill progress: one row per object whose records are being (re)indexed in
the background, with the last record id done, so an interrupted backfill resumes.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

from crm_platform.core.types import UTCDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sys_search_backfill",
        sa.Column("object", sa.Text, primary_key=True),
        sa.Column("last_id", sa.String(36), nullable=False),
        sa.Column("indexed", sa.BigInteger, nullable=False),
        sa.Column("requested_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.Column("finished_at", UTCDateTime),
        sa.Column("claimed_until", UTCDateTime),
    )


def downgrade() -> None:
    op.drop_table("sys_search_backfill")
