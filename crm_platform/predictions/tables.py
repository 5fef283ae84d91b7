"""The predictions' platform tables: each prediction's fitted model (its coefficients as
JSON, never a pickle) and every training run with its aggregate quality figures.

Their DDL is the Alembic script ``0020_predictions``.
"""

from __future__ import annotations

import sqlalchemy as sa

from crm_platform.core.ids import ID_LENGTH
from crm_platform.core.types import UTCDateTime

prediction_metadata = sa.MetaData()

prediction_models = sa.Table(
    "sys_prediction_model",
    prediction_metadata,
    sa.Column("prediction", sa.Text, primary_key=True),
    sa.Column("run_id", sa.String(ID_LENGTH), nullable=False),
    sa.Column("object", sa.Text, nullable=False),
    # the fitted pipeline as plain numbers (imputation, scaling, one-hot categories,
    # coefficients): scoring needs no unpickling of anything stored in the database
    sa.Column("model", sa.JSON, nullable=False),
    sa.Column("trained_at", UTCDateTime, nullable=False),
)

prediction_runs = sa.Table(
    "sys_prediction_run",
    prediction_metadata,
    sa.Column("id", sa.String(ID_LENGTH), primary_key=True),
    sa.Column("prediction", sa.Text, nullable=False),
    sa.Column("status", sa.String(20), nullable=False),  # trained | refused | failed
    sa.Column("reason", sa.String(20), nullable=False),  # asked | schedule
    sa.Column("user_id", sa.String(ID_LENGTH), nullable=False),
    sa.Column("started_at", UTCDateTime, nullable=False),
    sa.Column("finished_at", UTCDateTime, nullable=False),
    sa.Column("examples", sa.Integer, nullable=False),
    sa.Column("positives", sa.Integer, nullable=False),
    # aggregate figures only: AUC, Brier score, the reliability table, the held-out
    # count, the records scored (never a record's values)
    sa.Column("quality", sa.JSON, nullable=False),
    sa.Column("message", sa.Text),
    sa.Index("ix_sys_prediction_run_prediction", "prediction", "started_at"),
)
