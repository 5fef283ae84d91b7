"""Search index, one row per searchable field of a record (so field-level security can
filter it): FTS5 (trigram) on SQLite; tsvector with GIN and pg_trgm on PostgreSQL.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # Entries in a plain table (indexed by record, so writes never scan), and an
        # external-content FTS5 index over their text kept in step by triggers. The
        # trigram tokenizer gives case-insensitive substring search, CJK text included.
        op.create_table(
            "sys_search",
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("object", sa.Text, nullable=False),
            sa.Column("record_id", sa.String(36), nullable=False),
            sa.Column("field", sa.Text, nullable=False),
            sa.Column("title", sa.Text),
            sa.Column("body", sa.Text),
        )
        op.create_index("ix_sys_search_record", "sys_search", ["object", "record_id"])
        op.execute(
            "CREATE VIRTUAL TABLE sys_search_fts USING fts5("
            "body, content='sys_search', content_rowid='id', tokenize='trigram')"
        )
        op.execute(
            "CREATE TRIGGER sys_search_ai AFTER INSERT ON sys_search BEGIN "
            "INSERT INTO sys_search_fts(rowid, body) VALUES (new.id, new.body); END"
        )
        op.execute(
            "CREATE TRIGGER sys_search_ad AFTER DELETE ON sys_search BEGIN "
            "INSERT INTO sys_search_fts(sys_search_fts, rowid, body) "
            "VALUES ('delete', old.id, old.body); END"
        )
        return
    op.create_table(
        "sys_search",
        sa.Column("object", sa.Text, nullable=False),
        sa.Column("record_id", sa.String(36), nullable=False),
        sa.Column("field", sa.Text, nullable=False),
        sa.Column("title", sa.Text),
        sa.Column("body", sa.Text),
        sa.PrimaryKeyConstraint("object", "record_id", "field"),
    )
    op.execute(
        "ALTER TABLE sys_search ADD COLUMN tsv tsvector "
        "GENERATED ALWAYS AS (to_tsvector('simple', coalesce(body, ''))) STORED"
    )
    op.execute("CREATE INDEX ix_sys_search_tsv ON sys_search USING gin (tsv)")
    has_trgm = (
        op.get_bind()
        .exec_driver_sql("SELECT count(*) FROM pg_extension WHERE extname = 'pg_trgm'")
        .scalar()
    )
    if not has_trgm:
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public")
    op.execute("CREATE INDEX ix_sys_search_body_trgm ON sys_search USING gin (body gin_trgm_ops)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TABLE sys_search_fts")
    op.execute("DROP TABLE sys_search")
