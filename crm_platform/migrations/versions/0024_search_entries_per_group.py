"""Search entries per visibility group: a record's indexed fields that the same users may
read share one entry (ADR 0052), named by a digest of their columns instead of a field's
name; ``sys_search_group`` says which columns each name stands for. Entries written one
per field match no search after this: every object that has any is given a backfill,
which ``crm upgrade`` runs (and the org's work runner, should it stop half-way).

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

from crm_platform.core.types import UTCDateTime, utc_now

revision = "0024"
down_revision = "0023"
branch_labels = None
depends_on = None

entries = sa.table("sys_search", sa.column("object"))
backfills = sa.table(
    "sys_search_backfill",
    sa.column("object"),
    sa.column("last_id"),
    sa.column("indexed"),
    sa.column("requested_at", UTCDateTime),
    sa.column("updated_at", UTCDateTime),
    sa.column("finished_at", UTCDateTime),
    sa.column("claimed_until", UTCDateTime),
)


def upgrade() -> None:
    op.create_table(
        "sys_search_group",
        sa.Column("object", sa.Text, nullable=False),
        sa.Column("key", sa.Text, nullable=False),
        sa.Column("columns", sa.Text, nullable=False),  # the entry's columns, by commas
        sa.PrimaryKeyConstraint("object", "key"),
    )
    _restart_backfills()


def downgrade() -> None:
    op.drop_table("sys_search_group")
    # the older code writes entries per field, and its runner rebuilds them the same way
    _restart_backfills()


def _restart_backfills() -> None:
    """A backfill from the first record for every object that has entries."""
    conn = op.get_bind()
    now = utc_now()
    objects = [r[0] for r in conn.execute(sa.select(entries.c.object).distinct())]
    for name in objects:
        restart = {"last_id": "", "indexed": 0, "updated_at": now, "finished_at": None}
        moved = conn.execute(backfills.update().where(backfills.c.object == name).values(restart))
        if not moved.rowcount:
            conn.execute(backfills.insert().values(object=name, requested_at=now, **restart))
