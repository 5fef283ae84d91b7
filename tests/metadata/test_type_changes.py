"""Safe type changes keep the data; unsafe ones are refused with the reason."""

from __future__ import annotations

from decimal import Decimal

from tests.conftest import insert_rows, physical, read_column, table_columns

OBJECTS = "/api/v1/metadata/objects"


def _make(api, *fields):
    response = api.post(OBJECTS, json={"api_name": "project", "fields": list(fields)})
    assert response.status_code == 201, response.get_json()


def _patch(api, field, body):
    return api.patch(f"{OBJECTS}/project/fields/{field}", json=body)


def test_widening_text_is_metadata_only(api, org):
    _make(api, {"api_name": "code", "type": "text", "max_length": 10})
    insert_rows(org, "project", [{"code": "ABC"}])
    columns = table_columns(org, "o_project")

    response = _patch(api, "code", {"max_length": 200})

    assert response.status_code == 200
    assert response.get_json()["max_length"] == 200
    assert table_columns(org, "o_project") == columns
    assert read_column(org, "project", "code") == ["ABC"]


def test_narrowing_text_below_existing_values_is_refused(api, org):
    _make(api, {"api_name": "code", "type": "text", "max_length": 50})
    insert_rows(org, "project", [{"code": "x" * 30}, {"code": "short"}])

    response = _patch(api, "code", {"max_length": 10})

    assert response.status_code == 400
    assert "1 records hold longer values" in response.get_json()["errors"]["max_length"][0]
    assert api.get(f"{OBJECTS}/project/fields/code").get_json()["max_length"] == 50


def test_integer_to_decimal_copies_into_a_new_column(api, org):
    _make(api, {"api_name": "seats", "type": "integer"})
    insert_rows(org, "project", [{"seats": 12}, {"seats": None}, {"seats": -3}])
    old_column = physical(org, "project", "seats")["columns"][""]

    response = _patch(api, "seats", {"type": "decimal", "precision": 12, "scale": 2})

    assert response.status_code == 200, response.get_json()
    assert response.get_json()["type"] == "decimal"
    new = physical(org, "project", "seats")
    assert new["columns"][""] != old_column
    assert new["retired_columns"] == [old_column]
    assert read_column(org, "project", "seats") == [Decimal("12.00"), None, Decimal("-3.00")]
    assert old_column in table_columns(org, "o_project")  # kept until the field is purged


def test_increasing_decimal_scale_keeps_values_exact(api, org):
    _make(api, {"api_name": "rate", "type": "decimal", "precision": 10, "scale": 2})
    insert_rows(org, "project", [{"rate": Decimal("1.25")}, {"rate": Decimal("-0.10")}])

    response = _patch(api, "rate", {"precision": 12, "scale": 4})

    assert response.status_code == 200, response.get_json()
    assert read_column(org, "project", "rate") == [Decimal("1.2500"), Decimal("-0.1000")]


def test_widening_decimal_precision_keeps_values(api, org):
    _make(api, {"api_name": "amount", "type": "currency", "precision": 10, "scale": 2})
    insert_rows(org, "project", [{"amount": Decimal("12345678.90")}])
    assert _patch(api, "amount", {"precision": 18}).status_code == 200
    insert_rows(org, "project", [{"amount": Decimal("1234567890123456.78")}])
    assert read_column(org, "project", "amount") == [
        Decimal("12345678.90"),
        Decimal("1234567890123456.78"),
    ]


def test_narrowing_decimal_is_refused(api):
    _make(api, {"api_name": "amount", "type": "decimal", "precision": 10, "scale": 4})
    response = _patch(api, "amount", {"scale": 2})
    assert response.status_code == 400
    assert "narrowing" in response.get_json()["errors"]["precision"][0]


def test_text_and_long_text_convert_both_ways(api, org):
    _make(api, {"api_name": "summary", "type": "text"})
    insert_rows(org, "project", [{"summary": "hello"}])

    to_long = _patch(api, "summary", {"type": "long_text"})
    back = _patch(api, "summary", {"type": "text", "max_length": 100})

    assert to_long.status_code == 200 and to_long.get_json()["max_length"] == 32768
    assert back.status_code == 200 and back.get_json()["type"] == "text"
    assert read_column(org, "project", "summary") == ["hello"]


def test_picklist_values_can_be_added_reordered_and_deactivated(api, org):
    _make(api, {"api_name": "stage", "type": "picklist", "values": ["Planned", "Active", "Done"]})
    insert_rows(org, "project", [{"stage": "Active"}])

    response = _patch(
        api,
        "stage",
        {
            "values": [
                "Done",
                {"value": "Active", "active": False},
                "Planned",
                "On hold",
            ]
        },
    )

    assert response.status_code == 200, response.get_json()
    assert [(v["value"], v["active"]) for v in response.get_json()["values"]] == [
        ("Done", True),
        ("Active", False),
        ("Planned", True),
        ("On hold", True),
    ]
    assert read_column(org, "project", "stage") == ["Active"]


def test_removing_a_picklist_value_in_use_is_refused(api, org):
    _make(api, {"api_name": "stage", "type": "picklist", "values": ["Planned", "Active"]})
    insert_rows(org, "project", [{"stage": "Active"}, {"stage": "Active"}])

    response = _patch(api, "stage", {"values": ["Planned"]})

    assert response.status_code == 400
    message = response.get_json()["errors"]["values"][0]
    assert "'Active' (2)" in message and "deactivate" in message


def test_unsafe_type_change_is_refused_naming_why(api, org):
    _make(api, {"api_name": "start", "type": "date"})
    response = _patch(api, "start", {"type": "integer"})
    assert response.status_code == 400
    assert response.get_json()["errors"]["type"] == [
        "cannot change a date field to integer: create a new field and copy the data"
    ]
    assert api.get(f"{OBJECTS}/project/fields/start").get_json()["type"] == "date"


def test_making_a_field_unique_checks_existing_duplicates(api, org):
    _make(api, {"api_name": "code", "type": "text"})
    insert_rows(org, "project", [{"code": "A"}, {"code": "A"}, {"code": "B"}])
    response = _patch(api, "code", {"unique": True})
    assert response.status_code == 400
    assert "1 values occur more than once" in response.get_json()["errors"]["unique"][0]


def test_making_a_field_unique_adds_the_index(api, org):
    _make(api, {"api_name": "code", "type": "text"})
    insert_rows(org, "project", [{"code": "A"}, {"code": "B"}])
    assert _patch(api, "code", {"unique": True}).status_code == 200
    indexes = physical(org, "project", "code")["indexes"]
    assert indexes and indexes[0]["unique"]
    import pytest
    import sqlalchemy as sa

    with pytest.raises(sa.exc.IntegrityError):
        insert_rows(org, "project", [{"code": "A"}])


def test_renaming_to_a_reserved_name_is_refused(api):
    _make(api, {"api_name": "code", "type": "text"})
    response = _patch(api, "code", {"api_name": "created_at"})
    assert response.status_code == 400
    assert "reserved" in response.get_json()["errors"]["api_name"][0]
    assert api.get(f"{OBJECTS}/project/fields/code").status_code == 200
