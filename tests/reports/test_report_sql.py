"""A run is one statement for every group, subtotal and the grand total (grouping sets
on PostgreSQL, one UNION ALL over a CTE on SQLite), plus one for the detail rows."""

from __future__ import annotations

from contextlib import contextmanager

import sqlalchemy as sa

from tests.conftest import ON_POSTGRES


@contextmanager
def statements(engine):
    """The SQL statements executed on ``engine`` inside the block."""
    seen: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)


def run_as(crm, who: str, name: str):
    from crm_platform.reports import run_report
    from crm_platform.runtime import find_user

    with crm.org.db.read() as conn:
        user = find_user(conn, crm.users[who].email)
    with (
        crm.org.records.session(user, write=False) as session,
        statements(crm.org.db.engine) as seen,
    ):
        result = run_report(session, name)
    return result, seen


def test_a_summary_with_columns_is_two_statements(crm):
    result, seen = run_as(crm, "manager", "pipeline_by_stage")
    assert result.groups and result.rows
    assert len(seen) == 2
    grouped = seen[0].upper()
    assert ("GROUPING SETS" in grouped) if ON_POSTGRES else ("UNION ALL" in grouped)


def test_a_matrix_with_row_and_column_totals_is_one_statement(crm):
    result, seen = run_as(crm, "rep1", "weighted_forecast")
    assert result.groups and result.column_keys and result.total.by_column
    assert len(seen) == 1
    if ON_POSTGRES:
        assert "GROUPING(" in seen[0].upper()
    else:
        # (owner, columns), (owner), (columns), (): four branches over one CTE
        assert seen[0].upper().count("UNION ALL") == 3 and seen[0].upper().startswith("WITH")


def test_two_groupings_are_one_statement_with_three_sets(crm):
    result, seen = run_as(crm, "admin", "cases_by_priority_status")
    assert any(g.groups for g in result.groups)
    assert len(seen) == 1
    if not ON_POSTGRES:
        assert seen[0].upper().count("UNION ALL") == 2


def test_a_computed_sum_over_large_amounts_stays_exact_without_overflow(crm):
    """Ten places (a division's) summed over large amounts would overflow SQLite's 64-bit
    scaled integers: a computed sum keeps its fields' places plus four."""
    from decimal import Decimal

    from crm_platform.core.tables import SYSTEM_USER_ID
    from crm_platform.runtime import find_user

    big = {
        "api_name": "big_deal",
        "fields": [
            {"api_name": "name", "type": "text", "required": True},
            {"api_name": "amount", "type": "currency"},
            {"api_name": "share", "type": "percent"},
        ],
    }
    crm.org.metadata.apply_objects([big], author_id=SYSTEM_USER_ID)
    report = {
        "api_name": "big_weighted",
        "object": "big_deal",
        "aggregates": [{"name": "weighted", "of": "sum(amount * share / 100)"}, "avg(amount / 3)"],
    }
    crm.org.metadata.put_component("report", report, author_id=SYSTEM_USER_ID)
    rows = [
        {"name": f"b{i}", "amount": Decimal("12345678.91"), "share": Decimal("33.33")}
        for i in range(300)
    ]
    with crm.org.db.read() as conn:
        admin = find_user(conn, crm.users["admin"].email)
    with crm.org.records.session(admin) as session:
        session.create_many("big_deal", rows)
    body = crm.users["admin"].client.post("/api/v1/reports/big_weighted/run", json={})
    assert body.status_code == 200, body.get_json()
    values = body.get_json()["total"]["values"]
    assert values["weighted"] == Decimal("12345678.91") * Decimal("33.33") / 100 * 300
    assert values["avg(amount / 3)"] == Decimal("4115226.303333")
