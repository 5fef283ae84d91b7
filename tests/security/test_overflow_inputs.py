"""Numbers that overflow in filters, sorts and aggregates: a clear 400, never a 500.

A part of an expression that reads no field (``9**100``, ``VALUE('999…')``) is
evaluated in Python before the SQL runs, so it is refused with its position on both
databases. A value that overflows only for some rows is SQLite's to refuse: its
arithmetic runs in Python functions over 64-bit scaled integers, and a result out of
range fails the query with the expression's 400 (PostgreSQL's NUMERIC computes it).
"""

from __future__ import annotations

import pytest

from tests.conftest import ON_POSTGRES

REC = "/api/v1/records"
BIG = "9999999999999.99"  # the largest amount a currency field (18, 2) holds, about


@pytest.fixture(scope="module")
def deals(shared):
    admin = shared.admin
    for name, amount in (("Small", "7.00"), ("Big", BIG)):
        created = admin.post(f"{REC}/opportunity", json={"name": name, "amount": amount})
        assert created.status_code == 201, created.get_json()
    return admin


def refused(response, where: str, says: str) -> None:
    assert response.status_code == 400, response.get_data(as_text=True)[:300]
    assert response.mimetype == "application/problem+json"
    problem = response.get_json()
    assert where in problem["errors"], problem
    assert says in str(problem["errors"][where]), problem


# --- constant parts: the same 400 on both databases ------------------------------------


@pytest.mark.parametrize(
    "where, position",
    [
        ("amount > 9**100", 10),
        ("amount > 10 ** 41", 10),
        ("VALUE('" + "9" * 3000 + "') > 1", 1),
        ("amount > 99999999999999999999 * 99999999999999999999 * 99999999999999999999", 10),
        ("amount < -(9**60)", 12),
    ],
)
def test_a_constant_out_of_range_in_a_filter_is_refused_with_its_position(deals, where, position):
    response = deals.get(f"{REC}/opportunity", query_string={"where": where})
    refused(response, "where", f"number out of range at position {position}")


def test_a_constant_out_of_range_in_a_sort_is_refused(deals):
    response = deals.get(f"{REC}/opportunity", query_string={"order_by": "amount + 9**100"})
    refused(response, "order_by", "number out of range")


def test_a_constant_out_of_range_in_an_aggregate_filter_is_refused(deals):
    response = deals.get(
        f"{REC}/opportunity/aggregate",
        query_string={"metrics": "count", "where": "amount > 9**100"},
    )
    refused(response, "where", "number out of range")


def test_a_large_literal_that_fits_still_filters(deals):
    response = deals.get(
        f"{REC}/opportunity", query_string={"where": "amount < 99999999999999999999"}
    )
    assert response.status_code == 200
    assert {r["name"] for r in response.get_json()["records"]} >= {"Small", "Big"}


# --- values that overflow for some rows ----------------------------------------------


@pytest.mark.parametrize(
    "param, source",
    [
        ("where", "amount ** 100 > 1"),
        ("where", "amount * amount * amount * amount > 1"),
        ("order_by", "amount * 1000000 * 1000000"),
        ("order_by", "amount * 100000 / 3"),
    ],
)
def test_arithmetic_beyond_sqlite_range_is_a_400_there(deals, param, source):
    response = deals.get(f"{REC}/opportunity", query_string={param: source})
    if ON_POSTGRES:
        assert response.status_code == 200  # NUMERIC computes it exactly
        return
    refused(response, "(query)", "out of range")


def test_a_sort_that_overflows_at_ten_places_says_to_round_it(deals):
    response = deals.get(f"{REC}/opportunity", query_string={"order_by": "amount * 100000 / 3"})
    if not ON_POSTGRES:
        refused(response, "(query)", "ROUND")
    rounded = deals.get(
        f"{REC}/opportunity", query_string={"order_by": "ROUND(amount * 100000 / 3)"}
    )
    assert rounded.status_code == 200
    names = [r["name"] for r in rounded.get_json()["records"]]
    assert names.index("Small") < names.index("Big")


def test_the_same_division_filters_on_both_databases(deals):
    response = deals.get(f"{REC}/opportunity", query_string={"where": "amount * 100000 / 3 > 1000"})
    assert response.status_code == 200
    assert "Big" in {r["name"] for r in response.get_json()["records"]}


def test_an_aggregate_over_an_overflowing_filter_is_a_400_on_sqlite(deals):
    response = deals.get(
        f"{REC}/opportunity/aggregate",
        query_string={"metrics": "sum(amount)", "where": "amount ** 100 > 1"},
    )
    if ON_POSTGRES:
        assert response.status_code == 200
    else:
        refused(response, "(query)", "out of range")


def test_an_overflow_changes_nothing_and_the_next_request_works(deals):
    if not ON_POSTGRES:
        bad = deals.get(f"{REC}/opportunity", query_string={"where": "amount ** 100 > 1"})
        assert bad.status_code == 400
    # a later failure of another kind is not mistaken for the earlier overflow
    good = deals.get(f"{REC}/opportunity", query_string={"where": "amount > 1"})
    assert good.status_code == 200
