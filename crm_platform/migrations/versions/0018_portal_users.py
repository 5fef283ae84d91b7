"""Portal users: a user type and the contact a portal user is, the org's portal sharing
setting, and portal invitations (ADR 0046).

Revision ID: 0018
Revises: 0016
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

from crm_platform.core.types import UTCDateTime

revision = "0018"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # plain ADD COLUMNs with server defaults: no table is rebuilt (DESIGN §0)
    op.add_column(
        "sys_user",
        sa.Column("user_type", sa.Text, nullable=False, server_default="standard"),
    )
    op.add_column("sys_user", sa.Column("contact_id", sa.String(36)))
    op.create_index("ix_sys_user_contact_id", "sys_user", ["contact_id"])
    op.add_column(
        "sys_org",
        sa.Column("portal_sharing", sa.Text, nullable=False, server_default="contact"),
    )
    op.create_table(
        "sys_portal_invitation",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("user_id", sa.String(36), nullable=False, index=True),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("created_by", sa.String(36), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("expires_at", UTCDateTime, nullable=False),
        sa.Column("used_at", UTCDateTime),
    )


def downgrade() -> None:
    op.drop_table("sys_portal_invitation")
    op.drop_column("sys_org", "portal_sharing")
    op.drop_index("ix_sys_user_contact_id", "sys_user")
    op.drop_column("sys_user", "contact_id")
    op.drop_column("sys_user", "user_type")
