"""Import jobs know which process runs them and how much of their error file is
committed: a second ``crm import --resume`` of a running job takes it over instead of
importing its rows a second time beside the first, and a resumed job cuts its error file
back to the rows of the batches that committed (a process killed between writing a
batch's rejected rows and its commit left them in the file).

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("sys_import_job", sa.Column("runner", sa.String(36)))
    op.add_column("sys_import_job", sa.Column("error_bytes", sa.BigInteger))


def downgrade() -> None:
    with op.batch_alter_table("sys_import_job") as batch:
        batch.drop_column("error_bytes")
        batch.drop_column("runner")
