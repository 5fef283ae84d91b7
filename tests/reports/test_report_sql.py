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
