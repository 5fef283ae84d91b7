"""The merge log: one row per record merged into a master, with what a restore from the
recycle bin needs to undo it (the children moved, the master's values before).

Its DDL is the Alembic script ``0014_merges``.
"""

from __future__ import annotations

import sqlalchemy as sa

from crm_platform.core.ids import ID_LENGTH
from crm_platform.core.types import UTCDateTime

merge_metadata = sa.MetaData()

merges = sa.Table(
    "sys_merge",
    merge_metadata,
    sa.Column("id", sa.String(ID_LENGTH), primary_key=True),
    sa.Column("merge_id", sa.String(ID_LENGTH), nullable=False),
    sa.Column("object", sa.String(40), nullable=False),
    sa.Column("master_id", sa.String(ID_LENGTH), nullable=False),
    sa.Column("other_id", sa.String(ID_LENGTH), nullable=False),
    # the recycle-bin batch the other went to: restoring it undoes this row
    sa.Column("batch_id", sa.String(ID_LENGTH), nullable=False),
    # [[child object, child id, lookup field], ...] moved from the other to the master
    sa.Column("children", sa.JSON, nullable=False),
    # {field: value} of the master before the merge changed it (API form; never encrypted)
    sa.Column("master_before", sa.JSON, nullable=False),
    # {field: value} the merge gave the master
    sa.Column("master_after", sa.JSON, nullable=False),
    sa.Column("merged_by", sa.String(ID_LENGTH), nullable=False),
    sa.Column("merged_at", UTCDateTime, nullable=False),
    sa.Column("undone_at", UTCDateTime, nullable=True),
    sa.Index("ix_sys_merge_other", "other_id"),
    sa.Index("ix_sys_merge_master", "master_id"),
    sa.Index("ix_sys_merge_merge", "merge_id"),
)
