"""Writing scores: each open record's probability and its top three factors, through
the record service as the system user.

Scoring reads every record the prediction scores in one SELECT, scores them in memory
from the stored model's numbers, and writes only the records whose score or factors
moved, in batches of :data:`BATCH` records per transaction. The batches' transactions
are marked quiet (``quiet_automation``): the record's own bookkeeping runs (history of
tracked fields, search, roll-ups, criteria shares) but triggers do not, so a nightly
rescore of thousands of deals sends no flood of emails, webhooks or notifications.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from crm_platform.runtime.records.events import quiet_automation
from crm_platform.runtime.users import system_user

from .dataset import read_open
from .definition import Prediction
from .learner import score, top_factors
from .tables import prediction_models

if TYPE_CHECKING:
    from crm_platform.runtime import Org

BATCH = 200  # records per write transaction: short transactions, few statements each


@dataclass(frozen=True)
class ScoringResult:
    """What one scoring pass did."""

    scored: int  # the records the prediction scores
    written: int  # those whose score or factors moved


def stored_model(conn: sa.Connection, name: str) -> dict[str, Any] | None:
    """The fitted model of a prediction (None before its first training)."""
    query = sa.select(prediction_models.c.model).where(prediction_models.c.prediction == name)
    found = conn.execute(query).scalar()
    return None if found is None else _floats(found)


def _floats(value: Any) -> Any:
    """The stored JSON with its numbers as floats (the platform reads JSON numbers as
    exact decimals; the model computes in floating point)."""
    if isinstance(value, dict):
        return {k: _floats(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_floats(v) for v in value]
    return float(value) if isinstance(value, Decimal) else value


def score_records(org: Org, prediction: Prediction) -> ScoringResult:
    """Score every record the prediction scores; writes the ones that moved."""
    with org.db.read() as conn:
        model = stored_model(conn, prediction.name)
    if model is None:
        return ScoringResult(0, 0)
    with org.db.read() as conn:
        user = system_user(conn)
    with org.records.session(user, write=False) as session:
        rows = read_open(session, prediction)
        score_def = session.object(prediction.object).fields[prediction.score_field].definition
    changes = []
    for record_id, row, (held_score, held_factors) in zip(
        rows.ids, rows.rows, rows.current, strict=True
    ):
        probability, factors = score(model, row)
        values = {prediction.score_field: _score_value(score_def, probability)}
        if prediction.factors_field:
            values[prediction.factors_field] = top_factors(factors) or None
        if _moved(values, prediction, held_score, held_factors):
            changes.append((record_id, values))
    for start in range(0, len(changes), BATCH):
        _write(org, user, prediction, changes[start : start + BATCH])
    return ScoringResult(len(rows.ids), len(changes))


def _score_value(definition: dict[str, Any], probability: float) -> Decimal:
    """A percent field holds 0-100, a decimal field 0-1, at the field's scale."""
    value = Decimal(str(probability)) * (100 if definition["type"] == "percent" else 1)
    step = Decimal(1).scaleb(-int(definition.get("scale", 2)))
    return value.quantize(step, rounding=ROUND_HALF_UP)


def _moved(values: dict[str, Any], prediction: Prediction, held: Any, factors: Any) -> bool:
    if held is None or Decimal(str(held)) != values[prediction.score_field]:
        return True
    return bool(prediction.factors_field) and (factors or None) != values[prediction.factors_field]


def _write(org: Org, user: Any, prediction: Prediction, batch: Sequence[tuple]) -> None:
    with org.records.session(user) as session, quiet_automation(session.conn):
        for record_id, values in batch:
            session.update(prediction.object, record_id, values)
