"""Web forms: submissions counted per form and sending address, so the rate limit holds
across every worker and server sharing the database.

Revision ID: 0016
Revises: 0014
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

from crm_platform.core.types import UTCDateTime

revision = "0016"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sys_web_form_hit",
        sa.Column("key", sa.Text, primary_key=True),
        sa.Column("window_start", UTCDateTime, nullable=False),
        sa.Column("hits", sa.Integer, nullable=False),
    )
    op.create_index("ix_sys_web_form_hit_window", "sys_web_form_hit", ["window_start"])


def downgrade() -> None:
    op.drop_table("sys_web_form_hit")
