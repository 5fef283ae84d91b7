"""A report obeys its reader's field-level security and object permissions in SQL: a
field hidden from them cannot be a column, filter, grouping, aggregate, condition or
sort — refused exactly as a field that does not exist — and a report over an object
they may not read answers 403."""

from __future__ import annotations

import pytest

RUN = "/api/v1/reports/{}/run"
BASE = {"object": "opportunity"}
HIDDEN = {
    "hidden_column": ({"columns": ["name", "secret_score"]}, "columns", "secret_score"),
    "hidden_filter": (
        {"columns": ["name"], "filter": "secret_score > 10"},
        "filter",
        "secret_score",
    ),
    "hidden_grouping": (
        {"format": "summary", "group_by": ["secret_score"]},
        "group_by",
        "secret_score",
    ),
    "hidden_aggregate": (
        {"aggregates": ["count", "sum(secret_score)"]},
        "aggregates",
        "secret_score",
    ),
    "hidden_condition": (
        {"aggregates": [{"name": "scored", "of": "count", "where": "secret_score > 1"}]},
        "aggregates",
        "secret_score",
    ),
    "hidden_sort": ({"columns": ["name"], "sort": ["-secret_score"]}, "sort", "secret_score"),
    "hidden_parent_column": (
        {"columns": ["name", "account.annual_revenue"]},
        "columns",
        "account.annual_revenue",
    ),
    "hidden_parent_grouping": (
        {"format": "summary", "group_by": ["account.annual_revenue"]},
        "group_by",
        "account.annual_revenue",
    ),
}


@pytest.fixture(scope="module")
def hidden_reports(crm):
    from crm_platform.core.tables import SYSTEM_USER_ID

    for name, (parts, _where, _field) in HIDDEN.items():
        definition = {"api_name": name, **BASE, **parts}
        crm.org.metadata.put_component("report", definition, author_id=SYSTEM_USER_ID)
    return crm


def unknown_field_message(crm, who: str, path: str) -> str:
    """What the reader is told for a field that does not exist at all."""
    response = crm.users[who].client.post(
        RUN.format("opportunity_list"), json={"filter": f"{path}_nope > 1"}
    )
    assert response.status_code == 400
    [message] = response.get_json()["errors"]["filter"]
    return message.replace(f"{path}_nope", path)


@pytest.mark.parametrize("name", sorted(HIDDEN))
def test_a_hidden_field_anywhere_in_a_report_is_refused_as_unknown(hidden_reports, name):
    crm = hidden_reports
    _parts, where, path = HIDDEN[name]
    admin = crm.users["admin"].client.post(RUN.format(name), json={})
    assert admin.status_code == 200, admin.get_json()
    response = crm.users["rep1"].client.post(RUN.format(name), json={})
    assert response.status_code == 400
    assert response.content_type == "application/problem+json"
    errors = response.get_json()["errors"]
    assert list(errors) == [where]
    assert errors[where] == [unknown_field_message(crm, "rep1", path)]
    assert "secret" not in str(response.get_json()).replace(path, "")


def test_a_hidden_field_in_a_runtime_filter_is_refused_as_unknown(crm):
    response = crm.users["rep1"].client.post(
        RUN.format("pipeline_by_stage"), json={"filter": "secret_score > 1"}
    )
    assert response.status_code == 400
    assert response.get_json()["errors"] == {
        "filter": [unknown_field_message(crm, "rep1", "secret_score")]
    }
    # the admin may filter on it
    admin = crm.users["admin"].client.post(
        RUN.format("pipeline_by_stage"), json={"filter": "secret_score > 1"}
    )
    assert admin.status_code == 200


def test_a_report_over_an_object_the_user_may_not_read_is_forbidden(crm):
    outsider = crm.users["outsider"].client
    assert outsider.post(RUN.format("cases_by_priority_status"), json={}).status_code == 403
    assert outsider.get("/api/v1/reports/cases_by_priority_status").status_code == 403
    listed = outsider.get("/api/v1/reports").get_json()["reports"]
    names = {r["name"] for r in listed}
    assert "cases_by_priority_status" not in names and "pipeline_by_stage" in names
    # an opportunity report runs, over the nothing they own
    body = outsider.post(RUN.format("win_rate_by_owner"), json={}).get_json()
    assert body["total"]["values"]["won"] == 0 and body["groups"] == []
    # a column through an object they may not read is unknown to them, as in a list
    response = outsider.post(RUN.format("pipeline_by_stage"), json={})
    assert response.status_code == 400
    assert response.get_json()["errors"] == {
        "columns": [unknown_field_message(crm, "outsider", "account.name")]
    }


def test_an_unknown_report_is_not_found(crm):
    response = crm.users["rep1"].client.post(RUN.format("no_such_report"), json={})
    assert response.status_code == 404
    assert response.content_type == "application/problem+json"
