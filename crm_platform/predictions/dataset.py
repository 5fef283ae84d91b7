"""The rows a prediction learns from and scores, selected set-based in SQL.

Each feature, the target and the two selections (``training``, ``scoring``) are
expressions of the platform's language compiled to SQL on the object's table (joins
for lookup paths), so one SELECT reads every example. Training reads as the system:
the trainer sees every record, and only aggregate figures leave it (the training
report); the scores it writes land in ordinary fields that sharing and field-level
security guard like any other.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from crm_platform.expressions import ValueType
from crm_platform.runtime.records import RecordSession

from .definition import Prediction

T = ValueType
NUMERIC = "numeric"
CATEGORY = "category"
AGE = "age"  # a date, read as its age in days
FLAG = "flag"  # a boolean, read as the category "true" or "false"


@dataclass(frozen=True)
class Feature:
    """One feature: its source, how the model reads it and how people read it."""

    source: str
    kind: str  # numeric | age | category | flag
    label: str


@dataclass(frozen=True)
class Dataset:
    """Rows of one object: ids, feature values (as the model reads them), outcomes."""

    features: tuple[Feature, ...]
    ids: tuple[str, ...]
    rows: tuple[tuple[Any, ...], ...]
    outcomes: tuple[int, ...]  # 1 where the target is true (examples only)
    current: tuple[tuple[Any, Any], ...] = ()  # (score, factors) now stored (scoring only)


def read_examples(session: RecordSession, prediction: Prediction) -> Dataset:
    """The training examples with their outcomes (the target: 1 when true)."""
    obj = session.object(prediction.object)
    builder = session.builder(obj, as_system=True)
    features, columns = _feature_columns(session, builder, prediction)
    _checked, target = builder.expression(prediction.target, T.BOOLEAN, "target")
    _checked, where = builder.expression(prediction.training, T.BOOLEAN, "training")
    outcome = sa.case((target, 1), else_=0).label("_outcome")
    query = _select(obj, builder, [*columns, outcome], where)
    found = session.conn.execute(query).all()
    ids = tuple(r[0] for r in found)
    rows = tuple(_model_values(features, r[1:-1], session.now) for r in found)
    return Dataset(features, ids, rows, tuple(int(r[-1]) for r in found))


def read_open(session: RecordSession, prediction: Prediction) -> Dataset:
    """The records to score, with the score and factors they hold now."""
    obj = session.object(prediction.object)
    builder = session.builder(obj, as_system=True)
    features, columns = _feature_columns(session, builder, prediction)
    _checked, where = builder.expression(prediction.scoring, T.BOOLEAN, "scoring")
    held = [builder.column((prediction.score_field,))]
    held.append(
        builder.column((prediction.factors_field,))
        if prediction.factors_field
        else sa.literal(None)
    )
    query = _select(obj, builder, [*columns, *held], where)
    found = session.conn.execute(query).all()
    count = len(columns)
    return Dataset(
        features,
        tuple(r[0] for r in found),
        tuple(_model_values(features, r[1 : count + 1], session.now) for r in found),
        (),
        tuple((r[count + 1], r[count + 2]) for r in found),
    )


def _select(obj, builder, columns: Sequence[Any], where: Any) -> sa.Select:
    # the builder's joins (lookup paths) exist once every expression was compiled
    return (
        sa.select(obj.table.c.id, *columns)
        .select_from(builder.from_clause)
        .where(obj.table.c.deleted_at.is_(None), where)
        .order_by(obj.table.c.id)
    )


def _feature_columns(session: RecordSession, builder, prediction: Prediction):
    features, columns = [], []
    obj = session.object(prediction.object)
    for index, source in enumerate(prediction.features):
        checked, column = builder.expression(source, None, f"features[{index}]")
        kinds = {T.NUMBER: NUMERIC, T.DATE: AGE, T.DATETIME: AGE, T.BOOLEAN: FLAG}
        kind = kinds.get(checked.value_type, CATEGORY)
        features.append(Feature(source, kind, feature_label(session, obj, source)))
        columns.append(column.label(f"f{index}"))
    return tuple(features), columns


def feature_label(session: RecordSession, obj, source: str) -> str:
    """How a factor names a feature: a field path by its labels ("Account › Industry"),
    any other expression by its text."""
    path = source.split(".")
    if not all(step.isidentifier() for step in path):
        return source
    steps = session.model.labelled_steps(obj, path)
    labels = [_label(fld.definition.get("label"), name) if fld else name for name, fld in steps]
    return " › ".join(labels) or source


def _label(label: Any, default: str) -> str:
    if isinstance(label, str):
        return label
    if isinstance(label, dict) and label:
        return str(label.get("en") or next(iter(label.values())))
    return default


def _model_values(features: Sequence[Feature], values: Sequence[Any], now: datetime) -> tuple:
    return tuple(_model_value(f, v, now) for f, v in zip(features, values, strict=True))


def _model_value(feature: Feature, value: Any, now: datetime) -> Any:
    """A value as the model reads it: numbers as floats, dates as ages in days,
    everything else as text (a blank stays None, imputed by the model)."""
    if value is None:
        return None
    if feature.kind == NUMERIC:
        return float(value) if isinstance(value, Decimal | int | float) else float(str(value))
    if feature.kind == AGE:
        when = _as_date(value)
        return None if when is None else float((now.date() - when).days)
    if feature.kind == FLAG:  # SQLite answers 0 or 1
        return "true" if value else "false"
    return str(value)


def _as_date(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None
