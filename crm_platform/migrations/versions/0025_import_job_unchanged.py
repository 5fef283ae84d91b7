"""Import jobs count the rows that matched a record already holding their values
(``unchanged``) apart from the rows that changed one (``updated``): a corrected file
imported again with ``--upsert-on`` said every row it matched was updated.

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "sys_import_job", sa.Column("unchanged", sa.Integer, nullable=False, server_default="0")
    )


def downgrade() -> None:
    with op.batch_alter_table("sys_import_job") as batch:
        batch.drop_column("unchanged")
