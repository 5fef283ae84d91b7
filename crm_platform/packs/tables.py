"""The pack engine's platform tables: installed packs, and every component each installed
with the version and checksum of what it installed (so local changes are known exactly).

Their DDL is the Alembic script ``0012_packs``.
"""

from __future__ import annotations

import sqlalchemy as sa

from crm_platform.core.ids import ID_LENGTH
from crm_platform.core.types import UTCDateTime

pack_metadata = sa.MetaData()

installed_packs = sa.Table(
    "sys_pack",
    pack_metadata,
    sa.Column("name", sa.String(40), primary_key=True),
    sa.Column("version", sa.Text, nullable=False),
    sa.Column("manifest", sa.JSON, nullable=False),
    sa.Column("checksum", sa.String(64), nullable=False),
    sa.Column("installed_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.Column("installed_by", sa.String(ID_LENGTH), nullable=False),
)

pack_components = sa.Table(
    "sys_pack_component",
    pack_metadata,
    sa.Column("kind", sa.String(40), primary_key=True),
    sa.Column("name", sa.Text, primary_key=True),
    sa.Column("pack", sa.String(40), nullable=False),
    sa.Column("version", sa.Text, nullable=False),
    sa.Column("checksum", sa.String(64), nullable=False),
    # the definition as installed: the base of an upgrade's three-way merge
    sa.Column("definition", sa.JSON, nullable=False),
    sa.Column("installed_at", UTCDateTime, nullable=False),
    sa.Index("ix_sys_pack_component_pack", "pack"),
)
