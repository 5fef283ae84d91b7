"""Changing a field's type: a preview first, then the change with an explicit choice for
values that do not convert; every value that converts is kept, the rest never lost silently."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import sqlalchemy as sa

from crm_platform.core.tables import org as org_table
from tests.conftest import insert_rows, physical, read_column, table_columns

OBJECTS = "/api/v1/metadata/objects"


def _make(api, *fields, name="project"):
    response = api.post(OBJECTS, json={"api_name": name, "fields": list(fields)})
    assert response.status_code == 201, response.get_json()


def _preview(api, field, body, obj="project"):
    response = api.post(f"{OBJECTS}/{obj}/fields/{field}/type-change/preview", json=body)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def _change(api, field, body, obj="project"):
    return api.post(f"{OBJECTS}/{obj}/fields/{field}/type-change", json=body)


def _version(api):
    return api.get("/api/v1/metadata").get_json()["version"]


STAGES = {"type": "picklist", "values": ["Planned", "Active", "Done"]}


def test_the_preview_counts_what_converts_and_lists_what_does_not(api, org):
    _make(api, {"api_name": "stage", "type": "text"})
    ids = insert_rows(
        org,
        "project",
        [{"stage": "Active"}, {"stage": "active!"}, {"stage": None}, {"stage": "Done"}],
    )
    version = _version(api)

    preview = _preview(api, "stage", STAGES)

    assert preview["conversion"] == "text to picklist"
    assert (preview["records_with_a_value"], preview["convertible"]) == (3, 2)
    assert preview["unconvertible"] == {
        "count": 1,
        "records": [{"id": ids[1], "value": "active!"}],
        "truncated": False,
    }
    assert "on_unconvertible: clear" in preview["effect"][-1]
    assert preview["from"]["type"] == "text" and preview["to"]["type"] == "picklist"
    # nothing changed
    assert _version(api) == version
    assert api.get(f"{OBJECTS}/project/fields/stage").get_json()["type"] == "text"


def test_the_preview_caps_its_list_and_names_what_the_change_would_break(api, org):
    _make(
        api,
        {"api_name": "seats", "type": "text"},
        {"api_name": "double", "type": "formula", "return_type": "text", "expression": "seats"},
    )
    insert_rows(org, "project", [{"seats": f"n{i}"} for i in range(60)])

    preview = _preview(api, "seats", {"type": "integer"})

    assert preview["unconvertible"]["count"] == 60
    assert len(preview["unconvertible"]["records"]) == 50
    assert preview["unconvertible"]["truncated"] is True
    assert "project.fields.double.expression" in preview["problems"]


def test_a_change_that_would_lose_values_is_refused_unless_told_to_clear(api, org):
    _make(api, {"api_name": "stage", "type": "text"})
    ids = insert_rows(org, "project", [{"stage": "Active"}, {"stage": "active!"}])
    version = _version(api)

    refused = _change(api, "stage", STAGES)

    assert refused.status_code == 409
    assert refused.get_json()["unconvertible"]["records"] == [{"id": ids[1], "value": "active!"}]
    assert _version(api) == version
    assert read_column(org, "project", "stage") == ["Active", "active!"]

    cleared = _change(api, "stage", {**STAGES, "on_unconvertible": "clear"})

    assert cleared.status_code == 200, cleared.get_json()
    assert cleared.get_json()["type"] == "picklist"
    assert read_column(org, "project", "stage") == ["Active", None]
    # the object does not track history, yet the old value is kept there
    history = api.get(f"/api/v1/records/project/{ids[1]}/history").get_json()["history"]
    assert [(h["field"], h["old_value"], h["new_value"]) for h in history] == [
        ("stage", "active!", None)
    ]


def test_a_bad_choice_is_a_400(api):
    _make(api, {"api_name": "stage", "type": "text"})
    response = _change(api, "stage", {**STAGES, "on_unconvertible": "maybe"})
    assert response.status_code == 400
    assert "on_unconvertible" in response.get_json()["errors"]


def test_numbers_become_text_and_back_through_a_new_column(api, org):
    _make(
        api,
        {"api_name": "seats", "type": "integer"},
        {"api_name": "rate", "type": "decimal", "precision": 10, "scale": 2},
    )
    insert_rows(
        org,
        "project",
        [
            {"seats": 12, "rate": Decimal("1.50")},
            {"seats": -3, "rate": Decimal("-0.05")},
            {"seats": None, "rate": None},
        ],
    )
    old_column = physical(org, "project", "rate")["columns"][""]

    assert _change(api, "seats", {"type": "text"}).status_code == 200
    assert _change(api, "rate", {"type": "text"}).status_code == 200

    assert read_column(org, "project", "seats") == ["12", "-3", None]
    assert read_column(org, "project", "rate") == ["1.50", "-0.05", None]
    rate = physical(org, "project", "rate")
    assert rate["retired_columns"] == [old_column] and old_column in table_columns(org, "o_project")

    back = _change(api, "rate", {"type": "currency", "precision": 12, "scale": 2})

    assert back.status_code == 200, back.get_json()
    assert read_column(org, "project", "rate") == [Decimal("1.50"), Decimal("-0.05"), None]


def test_text_that_is_not_a_number_is_refused_or_cleared(api, org):
    _make(api, {"api_name": "seats", "type": "text"})
    insert_rows(org, "project", [{"seats": " 12 "}, {"seats": "twelve"}, {"seats": "1.5"}])

    refused = _change(api, "seats", {"type": "integer"})
    cleared = _change(api, "seats", {"type": "integer", "on_unconvertible": "clear"})

    assert refused.status_code == 409
    assert refused.get_json()["unconvertible"]["count"] == 2
    assert cleared.status_code == 200
    assert read_column(org, "project", "seats") == [12, None, None]


def test_dates_and_datetimes_convert_in_the_org_time_zone(api, org):
    with org.db.write() as conn:
        conn.execute(org_table.update().values(time_zone="Asia/Shanghai"))
    _make(api, {"api_name": "start", "type": "date"}, {"api_name": "seen", "type": "datetime"})
    insert_rows(
        org,
        "project",
        [{"start": date(2026, 3, 1), "seen": datetime(2026, 3, 1, 20, 0, tzinfo=UTC)}],
    )

    assert _change(api, "start", {"type": "datetime"}).status_code == 200
    assert _change(api, "seen", {"type": "date"}).status_code == 200

    # midnight in Shanghai is 16:00 UTC the day before; 20:00 UTC is the next day there
    assert read_column(org, "project", "start") == [datetime(2026, 2, 28, 16, 0, tzinfo=UTC)]
    assert read_column(org, "project", "seen") == [date(2026, 3, 2)]


def test_a_lookup_is_retargeted_through_a_mapping_of_ids(api, org):
    _make(api, name="account")
    _make(api, name="company")
    _make(api, {"api_name": "client", "type": "lookup", "target": "account"})
    accounts = insert_rows(org, "account", [{"name": "A"}, {"name": "B"}])
    companies = insert_rows(org, "company", [{"name": "A Inc"}])
    projects = insert_rows(org, "project", [{"client": accounts[0]}, {"client": accounts[1]}])
    retarget = {"type": "lookup", "target": "company"}

    unmapped = _change(api, "client", {**retarget, "mapping": {accounts[0]: companies[0]}})
    nowhere = _change(api, "client", {**retarget, "mapping": {accounts[1]: "no-such-id"}})

    assert unmapped.status_code == 409 and nowhere.status_code == 409
    assert unmapped.get_json()["unconvertible"]["records"] == [
        {"id": projects[1], "value": accounts[1]}
    ]
    assert api.get(f"{OBJECTS}/project/fields/client").get_json()["target"] == "account"

    mapping = {accounts[0]: companies[0], accounts[1]: companies[0]}
    done = _change(api, "client", {**retarget, "mapping": mapping})

    assert done.status_code == 200, done.get_json()
    assert done.get_json()["target"] == "company"
    assert read_column(org, "project", "client") == [companies[0], companies[0]]
    record = api.get(f"/api/v1/records/project/{projects[0]}").get_json()
    assert record["client"] == companies[0]
    inspector = sa.inspect(org.db.engine)
    indexed = {tuple(i["column_names"]) for i in inspector.get_indexes("o_project")}
    assert (physical(org, "project", "client")["columns"][""],) in indexed


def test_a_patch_with_the_new_type_takes_the_same_choice(api, org):
    _make(api, {"api_name": "seats", "type": "text"})
    insert_rows(org, "project", [{"seats": "4"}, {"seats": "four"}])

    refused = api.patch(f"{OBJECTS}/project/fields/seats", json={"type": "integer"})
    cleared = api.patch(
        f"{OBJECTS}/project/fields/seats", json={"type": "integer", "on_unconvertible": "clear"}
    )

    assert refused.status_code == 409
    assert cleared.status_code == 200, cleared.get_json()
    assert cleared.get_json()["type"] == "integer"
    assert read_column(org, "project", "seats") == [4, None]
