"""Scenarios 3 and 4: formulas, roll-ups kept current, validation rules, defaults, auto-numbers."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

REC = "/api/v1/records"


def _create(api, obj, **values):
    response = api.post(f"{REC}/{obj}", json=values)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_formulas_come_back_computed(projects):
    account = _create(projects, "account", name="Acme", industry="Retail")
    due = date.today() + timedelta(days=10)
    project = _create(
        projects,
        "project",
        name="Apollo",
        budget="1000",
        probability=25,
        due_date=due.isoformat(),
        account=account["id"],
    )
    assert project["expected"] == Decimal("250.00")
    assert project["dated"] == "dated"
    assert project["days_left"] in (Decimal(9), Decimal(10), Decimal(11))  # org zone is UTC
    assert project["industry"] == "Retail"
    undated = _create(projects, "project", name="Gemini")
    assert undated["dated"] == "open" and undated["days_left"] is None


def test_formulas_cannot_be_written(projects):
    response = projects.post(f"{REC}/project", json={"name": "A", "expected": 5})
    assert response.status_code == 400
    assert response.get_json()["errors"]["expected"] == ["read-only field"]


@pytest.fixture
def acme(projects):
    return _create(projects, "account", name="Acme")


def _account(api, account):
    return api.get(f"{REC}/account/{account['id']}").get_json()


def test_rollups_follow_every_child_change(projects, acme):
    other = _create(projects, "account", name="Other")
    first = _create(
        projects,
        "project",
        name="A",
        budget=100,
        stage="Active",
        account=acme["id"],
        due_date="2027-01-01",
    )
    second = _create(
        projects, "project", name="B", budget=50, account=acme["id"], due_date="2027-03-01"
    )

    figures = _account(projects, acme)
    assert (figures["project_count"], figures["total_budget"], figures["active_budget"]) == (
        2,
        Decimal("150.00"),
        Decimal("100.00"),
    )
    assert figures["latest_due"] == "2027-03-01"

    projects.patch(f"{REC}/project/{second['id']}", json={"budget": 70, "stage": "Active"})
    figures = _account(projects, acme)
    assert (figures["total_budget"], figures["active_budget"]) == (
        Decimal("170.00"),
        Decimal("170.00"),
    )

    projects.patch(f"{REC}/project/{first['id']}", json={"account": other["id"]})  # reparent
    assert _account(projects, acme)["total_budget"] == Decimal("70.00")
    assert _account(projects, other)["total_budget"] == Decimal("100.00")

    projects.delete(f"{REC}/project/{second['id']}")
    figures = _account(projects, acme)
    assert (figures["project_count"], figures["total_budget"], figures["latest_due"]) == (
        0,
        Decimal("0.00"),
        None,
    )

    projects.post(f"{REC}/project/{second['id']}/restore")
    assert _account(projects, acme)["project_count"] == 1


def test_rollups_of_rollups_cascade(api):
    api.post("/api/v1/metadata/objects", json={"api_name": "region"})
    api.post(
        "/api/v1/metadata/objects",
        json={
            "api_name": "store",
            "fields": [{"api_name": "region", "type": "master_detail", "target": "region"}],
        },
    )
    api.post(
        "/api/v1/metadata/objects",
        json={
            "api_name": "sale",
            "fields": [
                {"api_name": "store", "type": "master_detail", "target": "store"},
                {"api_name": "amount", "type": "currency"},
            ],
        },
    )
    assert (
        api.post(
            "/api/v1/metadata/objects/store/fields",
            json={
                "api_name": "revenue",
                "type": "rollup_summary",
                "relation": "sale.store",
                "function": "sum",
                "field": "amount",
            },
        ).status_code
        == 201
    )
    assert (
        api.post(
            "/api/v1/metadata/objects/region/fields",
            json={
                "api_name": "revenue",
                "type": "rollup_summary",
                "relation": "store.region",
                "function": "sum",
                "field": "revenue",
            },
        ).status_code
        == 201
    )
    region = _create(api, "region", name="North")
    store = _create(api, "store", name="Oslo", region=region["id"])
    _create(api, "sale", name="s1", store=store["id"], amount="10.10")
    _create(api, "sale", name="s2", store=store["id"], amount="0.20")
    assert api.get(f"{REC}/region/{region['id']}").get_json()["revenue"] == Decimal("10.30")


def test_validation_rules_refuse_with_their_message_on_their_field(projects):
    response = projects.post(f"{REC}/project", json={"name": "A", "budget": -5})
    assert response.status_code == 400
    assert response.get_json()["errors"] == {"budget": ["The budget cannot be negative"]}

    done = projects.post(f"{REC}/project", json={"name": "B", "stage": "Done"})
    assert done.status_code == 400
    assert done.get_json()["errors"] == {"(record)": ["A finished project needs its due date"]}
    assert projects.get(f"{REC}/project?count=true").get_json()["total"] == 0


def test_validation_rules_apply_on_update_too(projects):
    record = _create(projects, "project", name="A", budget=5)
    response = projects.patch(f"{REC}/project/{record['id']}", json={"budget": -1})
    assert response.status_code == 400
    assert projects.get(f"{REC}/project/{record['id']}").get_json()["budget"] == Decimal("5.00")


def test_inactive_rules_do_not_apply(projects):
    rule = {
        "api_name": "budget_positive",
        "object": "project",
        "condition": "budget < 0",
        "message": "The budget cannot be negative",
        "field": "budget",
        "active": False,
    }
    assert (
        projects.put(
            "/api/v1/metadata/validation_rules/project.budget_positive", json=rule
        ).status_code
        == 200
    )
    assert projects.post(f"{REC}/project", json={"name": "A", "budget": -5}).status_code == 201


def test_a_rule_with_a_bad_condition_is_refused_when_saved(projects):
    rule = {"api_name": "broken", "object": "project", "condition": "budgett > 1", "message": "x"}
    response = projects.post("/api/v1/metadata/validation_rules", json=rule)
    assert response.status_code == 400
    assert "unknown field 'budgett'" in str(response.get_json()["errors"])


def test_a_formula_with_an_unknown_field_is_refused_when_saved(projects):
    response = projects.post(
        "/api/v1/metadata/objects/project/fields",
        json={"api_name": "bad", "type": "formula", "return_type": "text", "expression": "nam"},
    )
    assert response.status_code == 400
    assert "expression" in response.get_json()["errors"]


def test_default_expressions(api):
    api.post(
        "/api/v1/metadata/objects",
        json={
            "api_name": "ticket",
            "fields": [
                {"api_name": "opened_on", "type": "date", "default_expression": "TODAY()"},
                {
                    "api_name": "subject",
                    "type": "text",
                    "default_expression": "CONCAT('Ticket ', 'new')",
                },
            ],
        },
    )
    ticket = _create(api, "ticket", name="T")
    assert ticket["opened_on"] == date.today().isoformat() or ticket["opened_on"]
    assert ticket["subject"] == "Ticket new"


def test_auto_numbers_count_up_without_gaps(projects):
    numbers = [_create(projects, "project", name=f"P{i}")["number"] for i in range(3)]
    assert numbers == ["PRJ-00001", "PRJ-00002", "PRJ-00003"]
    failed = projects.post(f"{REC}/project", json={"name": "bad", "budget": -1})
    assert failed.status_code == 400
    assert _create(projects, "project", name="P4")["number"] == "PRJ-00004"  # no gap


def test_required_fields(projects):
    response = projects.post(f"{REC}/project", json={"budget": 1})
    assert response.status_code == 400
    assert response.get_json()["errors"] == {"name": ["required"]}
    record = _create(projects, "project", name="A")
    cleared = projects.patch(f"{REC}/project/{record['id']}", json={"name": ""})
    assert cleared.status_code == 400


def test_master_detail_parent_is_required(projects):
    response = projects.post(f"{REC}/task", json={"name": "Orphan"})
    assert response.status_code == 400 and response.get_json()["errors"]["project"] == ["required"]


def test_inactive_picklist_values_are_refused_for_new_values(projects):
    response = projects.post(f"{REC}/project", json={"name": "A", "stage": "Cancelled"})
    assert response.status_code == 400
    assert "no longer an active value" in response.get_json()["errors"]["stage"][0]


def test_rules_can_compare_with_the_prior_value(projects):
    rule = {
        "api_name": "no_reopen",
        "object": "project",
        "condition": "ISCHANGED(stage) and PRIORVALUE(stage) == 'Done'",
        "message": "A finished project cannot be reopened",
        "field": "stage",
    }
    assert projects.post("/api/v1/metadata/validation_rules", json=rule).status_code == 201
    record = _create(projects, "project", name="A", stage="Done", due_date="2027-01-01")
    assert projects.patch(f"{REC}/project/{record['id']}", json={"name": "B"}).status_code == 200
    reopened = projects.patch(f"{REC}/project/{record['id']}", json={"stage": "Active"})
    assert reopened.status_code == 400
    assert reopened.get_json()["errors"] == {"stage": ["A finished project cannot be reopened"]}
