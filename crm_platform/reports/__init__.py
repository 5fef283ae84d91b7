"""Reports and dashboards: definitions compiled to SQL as the running user, charts and
exports (DESIGN §8). Other layers may import what this module exports."""

from .results import (
    ChartSpec,
    ColumnCell,
    Group,
    GroupKey,
    ReportColumn,
    ReportResult,
    ReportRow,
    ReportStream,
)

__all__ = [
    "ChartSpec",
    "ColumnCell",
    "Group",
    "GroupKey",
    "ReportColumn",
    "ReportResult",
    "ReportRow",
    "ReportStream",
]
