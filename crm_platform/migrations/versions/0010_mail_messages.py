"""Automation's email: every message sent, kept (no SMTP configured) or failed.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

from crm_platform.core.types import UTCDateTime

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sys_mail_message",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("run_id", sa.String(36)),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("template", sa.Text, nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("object", sa.Text),
        sa.Column("record_id", sa.String(36)),
        sa.Column("sender", sa.Text),
        sa.Column("to_addresses", sa.JSON, nullable=False),
        sa.Column("cc_addresses", sa.JSON, nullable=False),
        sa.Column("subject", sa.Text, nullable=False),
        sa.Column("body_text", sa.Text, nullable=False),
        sa.Column("body_html", sa.Text),
        sa.Column("message_id", sa.Text, nullable=False),
        sa.Column("error", sa.Text),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("finished_at", UTCDateTime),
    )
    op.create_index("ix_sys_mail_message_status", "sys_mail_message", ["status", "id"])


def downgrade() -> None:
    op.drop_table("sys_mail_message")
