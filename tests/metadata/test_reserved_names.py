"""Objects and fields named as CRMs name them: `case`, `order`, `to`, `check`, `select`...

SQL's reserved words are valid API names (every identifier we emit is quoted); only
Python keywords, the system columns and, as object names, the directory's own names
(`user`, `group`, `queue`, `role`) stay reserved, with a 400 naming the field.
"""

from __future__ import annotations

import keyword
from decimal import Decimal
from urllib.parse import quote

import pytest

from crm_platform.core.tables import group_members
from tests.conftest import physical, table_columns

REC = "/api/v1/records"
OBJECTS = "/api/v1/metadata/objects"


@pytest.fixture
def desk(api, org, load_metadata, make_user):
    """A service desk: `case` objects with `order`s pointing at them, a sharing rule, a user."""
    load_metadata("service")
    agent = make_user("agent@example.com", profile="case_agent")
    with org.db.write() as conn:
        conn.execute(
            group_members.insert().values(group_name="support_team", user_id=agent.user_id)
        )
    api.agent = agent
    return api


def _created(response):
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def _list(client, obj, **params):
    query = "&".join(f"{k}={quote(str(v))}" for k, v in params.items())
    response = client.get(f"{REC}/{obj}?{query}")
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def _refused(response, path, contains):
    assert response.status_code == 400, response.get_json()
    assert response.mimetype == "application/problem+json"
    errors = response.get_json()["errors"]
    assert path in errors, errors
    assert contains in " ".join(errors[path]), errors
    return errors


def test_reserved_sql_words_are_real_tables_and_columns(desk, org):
    table = physical(org, "case")
    columns = table_columns(org, table)
    for field in ("to", "order", "check", "select", "group_by", "user_id", "returning", "nothing"):
        assert physical(org, "case", field)["columns"][""] in columns
    definition = desk.get(f"{OBJECTS}/case").get_json()
    assert {"to", "order", "check", "select"} <= {f["api_name"] for f in definition["fields"]}


def test_records_formulas_lookups_and_rollups_with_reserved_names(desk):
    case = _created(
        desk.post(
            f"{REC}/case",
            json={
                "name": "Printer jam",
                "to": "Desk@Example.com",
                "order": 3,
                "check": True,
                "returning": "soon",
                "nothing": 0,
            },
        )
    )
    assert (case["to"], case["order"], case["check"], case["where"]) == (
        "Desk@Example.com",
        3,
        True,
        "Desk@Example.com",
    )
    first = _created(
        desk.post(f"{REC}/order", json={"name": "O-1", "case": case["id"], "amount": 10.5})
    )
    _created(
        desk.post(
            f"{REC}/order", json={"name": "O-2", "case": case["id"], "amount": 4, "check": True}
        )
    )
    assert first["from_case"] == "Desk@Example.com"  # a formula through the lookup `case`

    got = desk.get(f"{REC}/case/{case['id']}").get_json()
    assert (got["order_total"], got["checked_orders"]) == (Decimal("14.50"), 1)

    updated = desk.patch(
        f"{REC}/case/{case['id']}", json={"check": False, "select": "High"}
    ).get_json()
    assert updated["where"] == "High"

    related = desk.get(f"{REC}/case/{case['id']}/related/order").get_json()
    assert sorted(r["name"] for r in related["records"]) == ["O-1", "O-2"]


def test_validation_rule_on_a_reserved_name(desk):
    response = desk.post(f"{REC}/case", json={"name": "Bad", "order": -1})
    assert response.status_code == 400
    assert "The order cannot be negative" in " ".join(response.get_json()["errors"]["order"])
    assert _list(desk, "case", count="true")["total"] == 0


def test_list_where_order_by_fields_and_aggregate(desk):
    for name, order, select in [("A", 1, "Low"), ("B", 5, "High"), ("C", 3, "High")]:
        _created(desk.post(f"{REC}/case", json={"name": name, "order": order, "select": select}))

    body = _list(
        desk,
        "case",
        where="order > 1 and select == 'High' and not check",
        order_by="-order,to",
        fields="name,order,select,to,check",
    )
    assert [(r["name"], r["order"], r["select"]) for r in body["records"]] == [
        ("B", 5, "High"),
        ("C", 3, "High"),
    ]
    assert set(body["records"][0]) >= {"to", "check"}

    orders = _list(desk, "order", where="ISBLANK(case)", order_by="name", fields="name,case")
    assert orders["records"] == []

    agg = desk.get(f"{REC}/case/aggregate?group_by=select&metrics=count,sum(order)").get_json()
    figures = {g["select"]: (g["count"], g["sum(order)"]) for g in agg["groups"]}
    assert figures == {"High": (2, 8), "Low": (1, 1)}


def test_sharing_criteria_on_reserved_names(desk):
    high = _created(desk.post(f"{REC}/case", json={"name": "Hot", "select": "High", "order": 2}))
    low = _created(desk.post(f"{REC}/case", json={"name": "Cold", "select": "Low", "order": 2}))
    agent = desk.agent
    assert agent.get(f"{REC}/case/{high['id']}").status_code == 200
    assert agent.get(f"{REC}/case/{low['id']}").status_code == 404
    listed = _list(agent, "case", where="order == 2", order_by="name", fields="name")
    assert [r["name"] for r in listed["records"]] == ["Hot"]


def test_search_history_delete_and_restore(desk):
    case = _created(
        desk.post(f"{REC}/case", json={"name": "Quasar outage", "order": 1, "select": "Low"})
    )
    order = _created(desk.post(f"{REC}/order", json={"name": "Quasar order", "case": case["id"]}))
    desk.patch(f"{REC}/case/{case['id']}", json={"order": 2, "select": "High"})

    hits = desk.get("/api/v1/search?q=Quasar&objects=case,order").get_json()["results"]
    assert {(h["object"], h["id"]) for h in hits} == {("case", case["id"]), ("order", order["id"])}

    history = desk.get(f"{REC}/case/{case['id']}/history").get_json()["history"]
    assert {(e["field"], e["old_value"], e["new_value"]) for e in history} >= {
        ("order", 1, 2),
        ("select", "Low", "High"),
    }

    assert desk.delete(f"{REC}/case/{case['id']}").status_code == 204
    assert desk.get(f"{REC}/order/{order['id']}").get_json()["case"] is None
    assert desk.post(f"{REC}/case/{case['id']}/restore").status_code == 200
    assert desk.get(f"{REC}/order/{order['id']}").get_json()["case"] == case["id"]


def test_fields_named_after_sql_words_can_be_added_made_unique_and_purged(desk, org):
    for name in ("limit", "table", "values"):
        response = desk.post(f"{OBJECTS}/case/fields", json={"api_name": name, "type": "text"})
        assert response.status_code == 201, response.get_json()
    response = desk.post(
        f"{OBJECTS}/order/fields", json={"api_name": "desc", "type": "text", "unique": True}
    )
    assert response.status_code == 201, response.get_json()
    _created(desk.post(f"{REC}/case", json={"name": "A", "limit": "5", "table": "t"}))
    _created(desk.post(f"{REC}/order", json={"name": "A", "desc": "x"}))
    assert desk.post(f"{REC}/order", json={"name": "B", "desc": "x"}).status_code == 409

    column = physical(org, "order", "desc")["columns"][""]
    assert desk.delete(f"{OBJECTS}/order/fields/desc").status_code == 200
    purge = desk.delete(f"{OBJECTS}/order/fields/desc?purge=true&confirm=desc")
    assert purge.status_code == 200, purge.get_json()
    assert column not in table_columns(org, physical(org, "order"))


def test_openapi_and_audit_with_reserved_names(desk):
    document = desk.get("/api/v1/openapi.json").get_json()
    assert "/records/case" in document["paths"] and "/records/order" in document["paths"]
    assert desk.get("/api/v1/audit/setup").status_code == 200


@pytest.mark.parametrize("name", ["class", "from", "lambda", "import", "not", "none", "true"])
def test_python_keywords_are_refused_with_the_field_named(api, name):
    object_response = api.post(OBJECTS, json={"api_name": name})
    if keyword.iskeyword(name):
        _refused(object_response, "api_name", f"'{name}' is a Python keyword")
        field_response = api.post(
            OBJECTS, json={"api_name": "ticket", "fields": [{"api_name": name, "type": "text"}]}
        )
        _refused(field_response, f"fields.{name}.api_name", f"'{name}' is a Python keyword")
        assert api.get(OBJECTS).get_json()["objects"] == []
    else:  # `none` and `true` are plain names in Python: the expression language can name them
        assert object_response.status_code == 201, object_response.get_json()


@pytest.mark.parametrize("name", ["match", "case"])
def test_soft_keywords_are_fine_as_names(api, name):
    assert keyword.issoftkeyword(name)
    response = api.post(
        OBJECTS,
        json={
            "api_name": f"{name}_holder",
            "fields": [
                {"api_name": name, "type": "integer"},
                {
                    "api_name": "twice",
                    "type": "formula",
                    "return_type": "integer",
                    "expression": f"{name} * 2",
                },
            ],
        },
    )
    assert response.status_code == 201, response.get_json()
    record = api.post(f"{REC}/{name}_holder", json={"name": "x", name: 4}).get_json()
    assert record["twice"] == 8


@pytest.mark.parametrize("name", ["user", "group", "queue", "role"])
def test_directory_names_are_refused_as_objects_but_fine_as_fields(api, name):
    _refused(api.post(OBJECTS, json={"api_name": name}), "api_name", f"'{name}' is reserved")
    response = api.post(
        OBJECTS, json={"api_name": "ticket", "fields": [{"api_name": name, "type": "text"}]}
    )
    assert response.status_code == 201, response.get_json()


@pytest.mark.parametrize("name", ["id", "owner_id", "deleted_at", "version", "owner"])
def test_system_columns_stay_reserved(api, name):
    response = api.post(
        OBJECTS, json={"api_name": "ticket", "fields": [{"api_name": name, "type": "text"}]}
    )
    _refused(response, f"fields.{name}.api_name", "reserved by the platform")
