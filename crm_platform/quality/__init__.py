"""The data-quality report (ADR 0042): completeness, uniqueness, invalid values,
duplicate clusters and stale records of an object, in SQL, as one reader sees them."""

from __future__ import annotations

from .report import (
    DEFAULT_STALE_DAYS,
    FieldFigures,
    Invalid,
    QualityReport,
    Uniqueness,
    data_quality,
)

__all__ = [
    "DEFAULT_STALE_DAYS",
    "FieldFigures",
    "Invalid",
    "QualityReport",
    "Uniqueness",
    "data_quality",
]
