"""What a prediction's report shows: its definition, its last trained run's quality on
held-out records, its last attempt, and when it retrains next — aggregate figures
only (the CLI's ``show``, ``GET /api/v1/predictions/<name>``)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from crm_platform.core.tables import automation_runs
from crm_platform.workflow.outbox import QUEUED

from .definition import Prediction
from .schedule import JOB, source_of
from .tables import prediction_models
from .training import TRAINED, runs_of


def prediction_report(conn: sa.Connection, prediction: Prediction) -> dict[str, Any]:
    """The report of one prediction (JSON-ready)."""
    runs = runs_of(conn, prediction.name, limit=20)
    trained = next((r for r in runs if r.status == TRAINED), None)
    return {
        **prediction_summary(prediction),
        "features": list(prediction.features),
        "training": prediction.training,
        "target": prediction.target,
        "scoring": prediction.scoring,
        "min_examples": prediction.min_examples,
        "min_per_class": prediction.min_per_class,
        "trained_at": _iso(_trained_at(conn, prediction.name)),
        "next_training_at": _iso(next_training(conn, prediction.name)),
        "quality": trained.as_json() if trained else None,
        "last_run": runs[0].as_json() if runs else None,
    }


def prediction_summary(prediction: Prediction) -> dict[str, Any]:
    """A prediction as the list names it."""
    return {
        "name": prediction.name,
        "label": prediction.label,
        "object": prediction.object,
        "score_field": prediction.score_field,
        "factors_field": prediction.factors_field,
        "retrain_every_days": prediction.retrain_every_days,
    }


def next_training(conn: sa.Connection, name: str) -> Any:
    """When the next scheduled training is due (None: none is planned)."""
    t = automation_runs.c
    query = sa.select(sa.func.min(t.due_at)).where(
        t.source == source_of(name), t.job == JOB, t.status == QUEUED
    )
    return conn.execute(query).scalar()


def _trained_at(conn: sa.Connection, name: str) -> Any:
    query = sa.select(prediction_models.c.trained_at).where(prediction_models.c.prediction == name)
    return conn.execute(query).scalar()


def _iso(value: Any) -> str | None:
    return None if value is None else value.isoformat()
