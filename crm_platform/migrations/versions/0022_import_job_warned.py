"""Import jobs count the rows written with a warning (a duplicate rule that warns let
them in), as ``crm import`` reports them, so the API's jobs show them too.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "sys_import_job", sa.Column("warned", sa.Integer, nullable=False, server_default="0")
    )


def downgrade() -> None:
    with op.batch_alter_table("sys_import_job") as batch:
        batch.drop_column("warned")
