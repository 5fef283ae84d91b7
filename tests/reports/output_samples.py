"""Hand-built report results and streams, as the compiler answers them, for the tests
of charts, exports and dashboards (which read only the result contract)."""

from __future__ import annotations

from decimal import Decimal

from crm_platform.reports import (
    ChartSpec,
    ColumnCell,
    Group,
    GroupKey,
    ReportColumn,
    ReportResult,
    ReportRow,
)

COUNT = ReportColumn("count", "记录数", "number", 0)
AMOUNT = ReportColumn("sum(amount)", "金额合计", "currency", 2)
STAGE = ReportColumn("stage", "阶段", "picklist")
OWNER = ReportColumn("owner", "负责人", "lookup")
QUARTER = ReportColumn("close_date by quarter", "结束季度", "date")


def pipeline_by_stage(chart: ChartSpec | None = None) -> ReportResult:
    """Pipeline by stage, read in Chinese: three stages (one of them blank)."""
    stages = [
        ("prospecting", "潜在客户", 3, Decimal("300000.00")),
        ("negotiation", "谈判", 2, Decimal("450000.50")),
        (None, None, 1, None),
    ]
    groups = tuple(
        Group(GroupKey(value, label), {"count": count, "sum(amount)": amount})
        for value, label, count, amount in stages
    )
    return ReportResult(
        name="pipeline_by_stage",
        label="按阶段的销售管道",
        format="summary",
        columns=(),
        groupings=(STAGE,),
        column_groupings=(),
        aggregates=(COUNT, AMOUNT),
        rows=(),
        rows_truncated=False,
        groups=groups,
        column_keys=(),
        total=Group(None, {"count": 6, "sum(amount)": Decimal("750000.50")}),
        chart=chart or ChartSpec("funnel", "stage", ("sum(amount)",)),
    )


def amount_by_owner_and_stage() -> ReportResult:
    """A summary grouped by owner, then stage: the chart's series is the second grouping."""
    ann = Group(
        GroupKey("u1", "Ann"),
        {"sum(amount)": 30},
        (
            Group(GroupKey("prospecting", "潜在客户"), {"sum(amount)": 10}),
            Group(GroupKey("negotiation", "谈判"), {"sum(amount)": 20}),
        ),
    )
    bob = Group(
        GroupKey("u2", "Bob"),
        {"sum(amount)": 5},
        (Group(GroupKey("negotiation", "谈判"), {"sum(amount)": 5}),),
    )
    return ReportResult(
        name="by_owner_stage",
        label="By owner and stage",
        format="summary",
        columns=(),
        groupings=(OWNER, STAGE),
        column_groupings=(),
        aggregates=(AMOUNT,),
        rows=(),
        rows_truncated=False,
        groups=(ann, bob),
        column_keys=(),
        total=Group(None, {"sum(amount)": 35}),
        chart=ChartSpec("stacked_column", "owner", ("sum(amount)",), series="stage"),
    )


def forecast_matrix() -> ReportResult:
    """Owner x quarter: a matrix whose column grouping is the chart's series."""
    q1, q2 = (GroupKey("2026-01-01", "2026 Q1"),), (GroupKey("2026-04-01", "2026 Q2"),)

    def owner(key: str, label: str, a: int, b: int) -> Group:
        return Group(
            GroupKey(key, label),
            {"sum(amount)": a + b},
            by_column=(ColumnCell(q1, {"sum(amount)": a}), ColumnCell(q2, {"sum(amount)": b})),
        )

    groups = (owner("u1", "Ann", 100, 200), owner("u2", "Bob", 50, 0))
    return ReportResult(
        name="forecast",
        label="Weighted forecast",
        format="matrix",
        columns=(),
        groupings=(OWNER,),
        column_groupings=(QUARTER,),
        aggregates=(AMOUNT,),
        rows=(),
        rows_truncated=False,
        groups=groups,
        column_keys=(q1, q2),
        total=Group(
            None,
            {"sum(amount)": 350},
            (),
            (ColumnCell(q1, {"sum(amount)": 150}), ColumnCell(q2, {"sum(amount)": 200})),
        ),
        chart=ChartSpec("line", "close_date by quarter", ("sum(amount)",), series="owner"),
    )


def tabular_result() -> ReportResult:
    """A tabular report with two detail rows and no chart."""
    return ReportResult(
        name="open_deals",
        label="Open deals",
        format="tabular",
        columns=(
            ReportColumn("name", "Name", "text"),
            ReportColumn("amount", "Amount", "currency", 2),
        ),
        groupings=(),
        column_groupings=(),
        aggregates=(COUNT,),
        rows=(
            ReportRow(("Acme", Decimal("10.00")), (), "r1"),
            ReportRow(("Globex", None), (), "r2"),
        ),
        rows_truncated=False,
        groups=(),
        column_keys=(),
        total=Group(None, {"count": 2}),
    )
