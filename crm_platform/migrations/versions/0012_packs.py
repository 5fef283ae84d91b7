"""Packs: the installed packs, and each component a pack installed (pack, version, checksum).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

from crm_platform.core.types import UTCDateTime

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sys_pack",
        sa.Column("name", sa.String(40), primary_key=True),
        sa.Column("version", sa.Text, nullable=False),
        sa.Column("manifest", sa.JSON, nullable=False),
        sa.Column("checksum", sa.String(64), nullable=False),
        sa.Column("installed_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.Column("installed_by", sa.String(36), nullable=False),
    )
    op.create_table(
        "sys_pack_component",
        sa.Column("kind", sa.String(40), primary_key=True),
        sa.Column("name", sa.Text, primary_key=True),
        sa.Column("pack", sa.String(40), nullable=False),
        sa.Column("version", sa.Text, nullable=False),
        sa.Column("checksum", sa.String(64), nullable=False),
        sa.Column("definition", sa.JSON, nullable=False),
        sa.Column("installed_at", UTCDateTime, nullable=False),
    )
    op.create_index("ix_sys_pack_component_pack", "sys_pack_component", ["pack"])


def downgrade() -> None:
    op.drop_table("sys_pack_component")
    op.drop_table("sys_pack")
