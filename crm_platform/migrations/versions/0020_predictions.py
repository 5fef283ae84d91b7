"""Predictions: each prediction's fitted model (as JSON) and its training runs.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

from crm_platform.core.types import UTCDateTime

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sys_prediction_model",
        sa.Column("prediction", sa.Text, primary_key=True),
        sa.Column("run_id", sa.String(36), nullable=False),
        sa.Column("object", sa.Text, nullable=False),
        sa.Column("model", sa.JSON, nullable=False),
        sa.Column("trained_at", UTCDateTime, nullable=False),
    )
    op.create_table(
        "sys_prediction_run",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("prediction", sa.Text, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("reason", sa.String(20), nullable=False),
        sa.Column("user_id", sa.String(36), nullable=False),
        sa.Column("started_at", UTCDateTime, nullable=False),
        sa.Column("finished_at", UTCDateTime, nullable=False),
        sa.Column("examples", sa.Integer, nullable=False),
        sa.Column("positives", sa.Integer, nullable=False),
        sa.Column("quality", sa.JSON, nullable=False),
        sa.Column("message", sa.Text),
    )
    op.create_index(
        "ix_sys_prediction_run_prediction", "sys_prediction_run", ["prediction", "started_at"]
    )


def downgrade() -> None:
    op.drop_table("sys_prediction_run")
    op.drop_table("sys_prediction_model")
