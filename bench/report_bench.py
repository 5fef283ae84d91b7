"""Reports at scale: the five reports of issue 12 run through the compiler, each beside the
same figures computed by a query written by hand in SQLAlchemy Core on the physical
tables, in the same run, as a ratio (goal ≤ 1.3× as the admin).

Per database (a temporary SQLite file; a fresh PostgreSQL schema dropped at the end) and
per size (``--sizes 100000,1000000``): a private ``opportunity`` object (name, amount,
probability, stage, close_date, account lookup, is_won/is_closed formulas) and a private
``case`` object (priority, status, opened_on, closed_on, an age formula), records
bulk-inserted with SQLAlchemy Core, owners spread over the users of a five-level role
chain (CEO > VP > director > manager > 20 reps). Then, per report, the median time of
``run_report(session, name)`` inside ``org.records.session(user, write=False)`` for the
admin (who sees all), a director (level 3) and a rep at the bottom of the chain, and the
hand-written query's (which applies no sharing: the admin's figures), and the ratios.

The reports: pipeline by stage (summary, this year's open deals, 3 aggregates); won
amount by close month this year; the weighted forecast (owner × quarter matrix, sum of
``amount * probability / 100``, row and column totals); cases by priority and status with
their average age; win rate by owner (conditional counts, a summary formula).
Only the grouped figures are compared (the reports list no detail columns here).

Nothing is asserted (DESIGN §11).

    python bench/report_bench.py                      # 100,000 and 1,000,000, both databases
    python bench/report_bench.py --quick              # a small smoke run
    python bench/report_bench.py --databases sqlite --sizes 100000 --runs 5
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from bench_org import DEFAULT_POSTGRES_URL, build_org
from support import scratch_database, server_version

from crm_platform.reports import run_report

REPORTS = [
    {
        "api_name": "pipeline_by_stage",
        "object": "opportunity",
        "format": "summary",
        "filter": "is_closed == False and close_date in THIS_YEAR()",
        "group_by": ["stage"],
        "aggregates": ["count", "sum(amount)", "avg(probability)"],
        "sort": ["-sum(amount)"],
    },
    {
        "api_name": "won_by_month",
        "object": "opportunity",
        "format": "summary",
        "filter": "is_won and close_date in THIS_YEAR()",
        "group_by": ["close_date by month"],
        "aggregates": ["count", "sum(amount)"],
    },
    {
        "api_name": "weighted_forecast",
        "object": "opportunity",
        "format": "matrix",
        "filter": "is_closed == False",
        "group_by": ["owner"],
        "group_columns_by": ["close_date by quarter"],
        "aggregates": [{"name": "weighted", "of": "sum(amount * probability / 100)"}],
    },
    {
        "api_name": "cases_by_priority_status",
        "object": "case",
        "format": "summary",
        "group_by": ["priority", "status"],
        "aggregates": ["count", "avg(age_days)"],
    },
    {
        "api_name": "win_rate_by_owner",
        "object": "opportunity",
        "format": "summary",
        "group_by": ["owner"],
        "aggregates": [
            {"name": "won", "of": "count", "where": "is_won"},
            {"name": "closed", "of": "count", "where": "is_closed"},
        ],
        "summary_formulas": [{"name": "win_rate", "expression": "won / closed * 100"}],
    },
]


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--databases", default="sqlite,postgresql", help="sqlite,postgresql")
    parser.add_argument("--sizes", default="100000,1000000", help="opportunities per run")
    parser.add_argument("--runs", type=int, default=7, help="measured runs per case")
    parser.add_argument(
        "--postgres-url",
        default=os.environ.get("CRM_BENCH_POSTGRES_URL", DEFAULT_POSTGRES_URL),
    )
    parser.add_argument("--quick", action="store_true", help="a small smoke run")
    options = parser.parse_args(argv)
    if options.quick:
        options.sizes, options.runs = "5000", 3
    options.databases = [d.strip() for d in options.databases.split(",") if d.strip()]
    options.sizes = [int(s) for s in options.sizes.split(",")]
    return options


# --- the same figures, written by hand -------------------------------------------------------


def hand_queries(model, dialect: str) -> dict[str, Callable[[Any], Any]]:
    """Each report's groups, subtotals and total as one statement on the physical tables
    (the sets by hand: GROUPING SETS on PostgreSQL, a UNION ALL over a CTE on SQLite)."""
    opp, case = model.objects["opportunity"], model.objects["case"]
    pg = dialect == "postgresql"

    def col(obj, name):
        return obj.fields[name].columns[""]

    def sets_query(table, keys, measures, where, sets=None):
        """``measures``: (aggregate function, per-row expression) pairs."""
        sets = sets or [tuple(range(depth)) for depth in range(len(keys), -1, -1)]
        if pg:
            grouping = sa.func.grouping_sets(*[sa.tuple_(*(keys[i] for i in s)) for s in sets])
            figures = [function(expr) for function, expr in measures]
            return sa.select(*keys, *figures).select_from(table).where(*where).group_by(grouping)
        rows = (
            sa.select(
                *(k.label(f"k{i}") for i, k in enumerate(keys)),
                *(expr.label(f"m{i}") for i, (_f, expr) in enumerate(measures)),
            )
            .select_from(table)
            .where(*where)
            .cte()
        )
        branches = []
        for kept in sets:
            shown = [rows.c[f"k{i}"] if i in kept else sa.null() for i in range(len(keys))]
            figures = [function(rows.c[f"m{i}"]) for i, (function, _e) in enumerate(measures)]
            branch = sa.select(*shown, *figures)
            branches.append(branch.group_by(*(rows.c[f"k{i}"] for i in kept)) if kept else branch)
        return sa.union_all(*branches)

    t, c = opp.table, case.table
    today = datetime.now(UTC).date()
    stage, close = col(opp, "stage"), col(opp, "close_date")
    amount, probability = col(opp, "amount"), col(opp, "probability")
    closed = stage.in_(["Closed Won", "Closed Lost"])
    this_year = (close >= date(today.year, 1, 1), close < date(today.year + 1, 1, 1))
    live = t.c.deleted_at.is_(None)
    count = (sa.func.count, sa.literal(1))
    if pg:
        month = sa.cast(sa.func.date_trunc("month", close), sa.Date)
        quarter = sa.cast(sa.func.date_trunc("quarter", close), sa.Date)
        age = sa.func.coalesce(col(case, "closed_on"), today) - col(case, "opened_on")
    else:
        month = sa.func.date(close, "start of month")
        back = (sa.cast(sa.func.strftime("%m", close), sa.Integer) + 11) % 3
        quarter = sa.func.date(close, "start of month", sa.func.printf("-%d months", back))
        ended = sa.func.coalesce(col(case, "closed_on"), today.isoformat())
        age = sa.func.julianday(ended) - sa.func.julianday(col(case, "opened_on"))
    queries = {
        "pipeline_by_stage": sets_query(
            t,
            [stage],
            [count, (sa.func.sum, amount), (sa.func.avg, probability)],
            [live, *this_year, ~closed],
        ),
        "won_by_month": sets_query(
            t, [month], [count, (sa.func.sum, amount)], [live, *this_year, stage == "Closed Won"]
        ),
        "weighted_forecast": sets_query(
            t,
            [t.c.owner_id, quarter],
            [(sa.func.sum, amount * probability / 100)],
            [live, ~closed],
            sets=[(0, 1), (0,), (1,), ()],
        ),
        "cases_by_priority_status": sets_query(
            c,
            [col(case, "priority"), col(case, "status")],
            [count, (sa.func.avg, age)],
            [c.c.deleted_at.is_(None)],
        ),
        "win_rate_by_owner": sets_query(
            t,
            [t.c.owner_id],
            [
                (sa.func.count, sa.case((stage == "Closed Won", 1))),
                (sa.func.count, sa.case((closed, 1))),
            ],
            [live],
        ),
    }
    return {name: (lambda conn, q=query: conn.execute(q).all()) for name, query in queries.items()}


# --- measuring ---------------------------------------------------------------------------------


def median_seconds(action: Callable[[], Any], runs: int) -> float:
    action()  # warm: statement caches, the compiled model
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def run_database(kind: str, options) -> None:
    for size in options.sizes:
        with scratch_database(kind, options.postgres_url) as (url, folder):
            progress(f"{kind}: building {size:,} opportunities")
            org, people = build_org(url, folder, size, REPORTS)
            try:
                measure(org, people, kind, size, options)
            finally:
                org.dispose()


def measure(org, people, kind: str, size: int, options) -> None:
    with org.reading() as (_conn, model):
        hand = hand_queries(model, kind)
    print(f"\n## {server_version(org)}: {size:,} opportunities, {size // 10:,} cases\n")
    print("| report | hand SQL ms | admin ms | admin ratio | director ms | rep ms | rep ratio |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for report in REPORTS:
        name = report["api_name"]
        progress(f"  {name}")
        with org.db.read() as conn:
            baseline = median_seconds(lambda c=conn, n=name: hand[n](c), options.runs)
        timed = {}
        for who in ("admin", "director", "rep"):
            user = people[who]

            def run(user=user, name=name) -> None:
                with org.records.session(user, write=False) as session:
                    run_report(session, name)

            timed[who] = median_seconds(run, options.runs)
        print(
            f"| {name} | {baseline * 1000:.1f} | {timed['admin'] * 1000:.1f} | "
            f"{timed['admin'] / baseline:.2f} | {timed['director'] * 1000:.1f} | "
            f"{timed['rep'] * 1000:.1f} | {timed['rep'] / baseline:.2f} |",
            flush=True,
        )


def main(argv: list[str] | None = None) -> None:
    options = parse_args(argv)
    print(
        f"# report_bench — Python {platform.python_version()}, "
        f"SQLAlchemy {sa.__version__}, {os.cpu_count()} CPUs"
    )
    for kind in options.databases:
        run_database(kind, options)


if __name__ == "__main__":
    main()
