"""Platform tables: org settings, users, API tokens, metadata components and revisions, counters.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

from crm_platform.core.types import UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

ID = sa.String(36)


def upgrade() -> None:
    op.create_table(
        "sys_org",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("time_zone", sa.Text, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("locale", sa.Text, nullable=False),
        sa.Column("fiscal_year_start_month", sa.Integer, nullable=False),
        sa.Column("week_start", sa.Integer, nullable=False),
        sa.Column("metadata_version", sa.BigInteger, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
    )
    op.create_table(
        "sys_user",
        sa.Column("id", ID, primary_key=True),
        sa.Column("email", sa.Text, nullable=False, unique=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("password_hash", sa.Text),
        sa.Column("is_system", sa.Boolean, nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("time_zone", sa.Text),
        sa.Column("locale", sa.Text),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
    )
    op.create_table(
        "sys_api_token",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("user_id", ID, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("secret_hash", sa.String(64), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("last_used_at", UTCDateTime),
        sa.Column("expires_at", UTCDateTime),
        sa.Column("revoked_at", UTCDateTime),
    )
    op.create_index("ix_sys_api_token_user_id", "sys_api_token", ["user_id"])
    op.create_table(
        "sys_metadata_component",
        sa.Column("id", ID, primary_key=True),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("parent", sa.Text),
        sa.Column("owner", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("definition", sa.JSON, nullable=False),
        sa.Column("physical", sa.JSON, nullable=False),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
    )
    # A purged component keeps its row (its history stays readable) but frees its name.
    op.create_index(
        "ux_sys_metadata_component_name",
        "sys_metadata_component",
        ["kind", "name"],
        unique=True,
        sqlite_where=sa.text("status <> 'purged'"),
        postgresql_where=sa.text("status <> 'purged'"),
    )
    op.create_index("ix_sys_metadata_component_parent", "sys_metadata_component", ["parent"])
    op.create_table(
        "sys_metadata_revision",
        sa.Column("id", ID, primary_key=True),
        sa.Column("metadata_version", sa.BigInteger, nullable=False),
        sa.Column("component_id", ID, nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("parent", sa.Text),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("before", sa.JSON),
        sa.Column("after", sa.JSON),
        sa.Column("author_id", ID, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
    )
    op.create_index(
        "ix_sys_metadata_revision_version", "sys_metadata_revision", ["metadata_version"]
    )
    op.create_index("ix_sys_metadata_revision_component", "sys_metadata_revision", ["component_id"])
    op.create_table(
        "sys_counter",
        sa.Column("name", sa.Text, primary_key=True),
        sa.Column("value", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    for table in (
        "sys_counter",
        "sys_metadata_revision",
        "sys_metadata_component",
        "sys_api_token",
        "sys_user",
        "sys_org",
    ):
        op.drop_table(table)
