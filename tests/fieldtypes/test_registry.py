"""Each field type is one registry entry that every layer asks: columns, JSON input, expressions,
search, export and the form widget all come from it."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal

import pytest
import sqlalchemy as sa
from marshmallow import ValidationError

from crm_platform.core import ValueType
from crm_platform.fieldtypes import FIELD_TYPES, field_type, sub_columns, type_names
from crm_platform.metadata import load_schema
from tests.metadata.test_field_types import FIELDS

DEFINITIONS = {f["type"]: {**field_type(f["type"]).defaults, **f} for f in reversed(FIELDS)}
DEFINITIONS["master_detail"] = {"api_name": "project", "type": "master_detail", "target": "p"}


def test_every_type_of_the_field_schema_has_one_entry_with_a_widget():
    assert load_schema("field")["properties"]["type"]["enum"] == list(FIELD_TYPES)
    assert set(DEFINITIONS) == set(FIELD_TYPES)
    widgets = {name: entry.widget for name, entry in FIELD_TYPES.items()}
    assert widgets["long_text"] == "textarea"
    assert widgets["picklist"] == "select"
    assert widgets["multi_picklist"] == "multiselect"
    assert widgets["boolean"] == "checkbox"
    assert widgets["lookup"] == widgets["master_detail"] == "lookup"
    assert widgets["address"] == "address"
    assert all(isinstance(w, str) and w for w in widgets.values())


def test_columns_come_from_the_entry():
    assert sub_columns(DEFINITIONS["text"]) == ("",)
    assert sub_columns(DEFINITIONS["formula"]) == ()
    assert sub_columns(DEFINITIONS["address"]) == (
        "street",
        "city",
        "state",
        "postal_code",
        "country",
    )
    assert sub_columns(DEFINITIONS["lookup"]) == ("",)
    polymorphic = next(f for f in FIELDS if "targets" in f)
    assert sub_columns(polymorphic) == ("", "object")


def test_the_codec_reads_json_with_the_entrys_field():
    email = field_type("email").input_field(DEFINITIONS["email"])
    assert email.deserialize("ann@example.com") == "ann@example.com"
    with pytest.raises(ValidationError):
        email.deserialize("not an address")
    budget = field_type("currency").input_field(DEFINITIONS["currency"])
    assert budget.deserialize("12.50") == Decimal("12.50")
    with pytest.raises(ValueError, match="not written through the API"):
        field_type("formula").input_field(DEFINITIONS["formula"])
    assert type_names(read_only=True) == {"formula", "rollup_summary", "auto_number"}


def test_expressions_see_each_type_as_its_entry_says():
    def info(kind, sqlite=True):
        return field_type(kind).expression_info(DEFINITIONS[kind], sqlite=sqlite)

    assert info("email").value_type is ValueType.TEXT
    assert info("decimal").scale == 4 and info("decimal").sql_scaled
    assert not info("decimal", sqlite=False).sql_scaled
    assert info("duration").scale == 0
    assert info("multi_picklist").picklist_values == ("a", "b")
    assert info("formula").value_type is ValueType.NUMBER  # returns currency
    assert info("encrypted_text") is None, "an encrypted value never reaches an expression"
    assert info("address") is None
    latitude = field_type("geolocation").sub_expression_info(
        DEFINITIONS["geolocation"], "latitude", sqlite=True
    )
    assert (latitude.value_type, latitude.scale) == (ValueType.NUMBER, 7)
    assert field_type("date").value_type is ValueType.DATE


def test_defaults_are_checked_by_the_entry():
    def problem(kind, value):
        return field_type(kind).literal_problem(DEFINITIONS[kind], value)

    assert problem("text", "x" * 81) == "longer than 80 characters"
    assert problem("integer", True) == "must be an integer"
    assert problem("picklist", "Lost") == "'Lost' is not one of the picklist values"
    assert (
        problem("datetime", "2024-01-01T10:00") == "must be an ISO 8601 datetime with a UTC offset"
    )
    assert problem("multi_picklist", ["a"]) is None


def test_only_readable_text_goes_into_the_search_index():
    assert type_names(searched=True) == {
        "text",
        "long_text",
        "email",
        "phone",
        "url",
        "picklist",
        "external_id",
        "auto_number",
        "address",
        "person_name",
    }


def test_the_search_text_is_the_columns_joined_by_the_database(database_url):
    """The database builds the index's entries: present values joined by a space, NULLs
    left out, '' for none (the same text on SQLite and PostgreSQL)."""
    engine = sa.create_engine(database_url)

    def text(kind, *values):
        columns = [sa.literal(v, sa.Text) if v is not None else sa.null() for v in values]
        with engine.connect() as conn:
            return conn.execute(sa.select(field_type(kind).search_expression(columns))).scalar()

    try:
        assert text("address", "1 Main St", None, None, "Springfield", None) == (
            "1 Main St Springfield"
        )
        assert text("address", None, "Springfield", None, None, "USA") == "Springfield USA"
        assert text("address", None, None, None, None, None) == ""
        assert text("text", "Acme") == "Acme"
        assert text("text", None) == ""
        assert text("person_name", None, "Ada", None, "Lovelace") == "Ada Lovelace"
    finally:
        engine.dispose()


def test_export_formats_each_value_for_csv_and_xlsx():
    def text(kind, value):
        return field_type(kind).export_text(DEFINITIONS[kind], value)

    def cell(kind, value):
        return field_type(kind).export_cell(DEFINITIONS[kind], value)

    moment = datetime(2024, 5, 1, 9, 30, tzinfo=timezone(timedelta(hours=2)))
    assert text("currency", Decimal("1200.50")) == "1200.50"
    assert cell("currency", Decimal("1200.50")) == Decimal("1200.50")
    assert text("boolean", True) == "true"
    assert text("date", date(2024, 5, 1)) == "2024-05-01"
    assert text("time", time(9, 30)) == "09:30:00"
    assert cell("datetime", moment) == datetime(2024, 5, 1, 7, 30)
    assert text("datetime", moment.astimezone(UTC)) == "2024-05-01T07:30:00+00:00"
    assert text("multi_picklist", ["a", "b"]) == "a;b"
    assert text("address", {"street": "1 Main St", "city": "Springfield", "state": None}) == (
        "1 Main St, Springfield"
    )
    assert text("person_name", {"first": "Ann", "last": "Lee"}) == "Ann Lee"
    assert text("lookup", "0190-id") == "0190-id"
    related = {"object": "account", "id": "0190-id"}
    assert field_type("lookup").export_text({"targets": ["a", "b"]}, related) == "account:0190-id"
    assert text("json", {"b": 1, "a": [1]}) == '{"a": [1], "b": 1}'
    assert text("encrypted_text", "4111111111111111") == "********", "never the plaintext"
    assert cell("encrypted_text", None) is None
    assert text("text", None) == "" and cell("text", None) is None


QUICK_VALUES = [
    None, "", "Ann", "a" * 80, "a" * 81, "x\x00y", "New", "Won", "Lost", "new",
    "ann@example.com", "not an address", "a@b@c.com", "a@localhost", "@b.com", "a@",
    "a b@c.com", "a@-b.com", "a.@b.com", "https://example.com/a", "ftp://example.com",
    "+1 (555) 010-0000", "call me", "0f8fe9a3-34c1-4d4e-9a6b-0d3c1c3e2f11",
    "0F8FE9A3-34C1-4D4E-9A6B-0D3C1C3E2F11", "0f8fe9a3-34c1-4d4e-9a6b-0d3c1c3e2f1",
    0, 1, -1, 1000, 1001, 2**63 - 1, 2**63, -(2**63), True, False, 1.0, Decimal("12.50"),
    Decimal("1"), Decimal("1.500"), Decimal("12.345"), Decimal("-0.01"), Decimal("1E+30"),
    Decimal("1E+2"), Decimal("NaN"), Decimal("-Infinity"), Decimal("99999999999999999.99"),
    date(2024, 3, 5), datetime(2024, 3, 5, 9, 30, tzinfo=UTC), "2024-03-05",
    time(9, 30), ["a"], {"id": "x"}, b"bytes",
]  # fmt: skip


@pytest.mark.parametrize("type_name", sorted(type_names(read_only=False)))
def test_a_value_the_codec_keeps_as_it_is_is_one_deserialize_returns_unchanged(type_name):
    """The record codec keeps a value its field's quick check passes without calling
    ``deserialize``: for every writable type and every value, the check may only pass a
    value ``deserialize`` returns unchanged, of the same type, without complaint."""
    field = field_type(type_name).input_field(DEFINITIONS[type_name])
    quick = field.quick_check() if hasattr(field, "quick_check") else None
    if quick is None:
        return
    passed = 0
    for value in QUICK_VALUES:
        if value is None or not quick(value):
            continue
        passed += 1
        loaded = field.deserialize(value)
        assert (type(loaded), loaded) == (type(value), value), (type_name, value)
    assert passed, f"{type_name}: the quick check passes none of the sample values"
