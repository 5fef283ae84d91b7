"""SQLite: the FTS5 index of new search entries is written by the search module in one
INSERT … SELECT per batch instead of a trigger per row (a row trigger into FTS5 cost
six times the whole bulk insert). Deletes keep their trigger: FTS5 needs the old text.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-03
"""

from alembic import op

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS sys_search_ai")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "CREATE TRIGGER sys_search_ai AFTER INSERT ON sys_search BEGIN "
            "INSERT INTO sys_search_fts(rowid, body) VALUES (new.id, new.body); END"
        )
