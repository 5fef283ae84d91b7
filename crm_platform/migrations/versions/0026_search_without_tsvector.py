"""PostgreSQL's search entries lose their generated ``tsvector`` and its GIN index: a
search matches every word of the query as a substring through the trigram index alone
(which every query used already) and ranks by ``word_similarity``. The tsvector cost an
import of 100,000 records 2.3 seconds of its 5 in the search index and served only
multi-word queries, which the trigram index answers (ADR 0055).

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-05
"""

from alembic import op

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        return  # FTS5's trigram index: no tsvector there
    op.execute("DROP INDEX IF EXISTS ix_sys_search_tsv")
    op.execute("ALTER TABLE sys_search DROP COLUMN IF EXISTS tsv")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        return
    op.execute(
        "ALTER TABLE sys_search ADD COLUMN tsv tsvector "
        "GENERATED ALWAYS AS (to_tsvector('simple', coalesce(body, ''))) STORED"
    )
    op.execute("CREATE INDEX ix_sys_search_tsv ON sys_search USING gin (tsv)")
