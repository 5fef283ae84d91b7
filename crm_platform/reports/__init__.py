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


def __getattr__(name: str):
    """``run_report``, ``stream_report`` and ``result_json`` on first use (they import the
    runtime's query layer, which the result types do not need)."""
    if name in {"run_report", "stream_report", "result_json", "readable_reports"}:
        from . import run

        return getattr(run, name)
    if name in {"CHART_TYPES", "FORMATS"}:  # what a report may be shaped as
        from . import definition

        return getattr(definition, name)
    raise AttributeError(name)


__all__ = [
    "CHART_TYPES",
    "FORMATS",
    "ChartSpec",
    "ColumnCell",
    "Group",
    "GroupKey",
    "ReportColumn",
    "ReportResult",
    "ReportRow",
    "ReportStream",
    "readable_reports",
    "result_json",
    "run_report",
    "stream_report",
]
