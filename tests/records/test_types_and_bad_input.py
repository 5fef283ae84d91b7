"""Every field type round-trips exactly; bad record input is a 4xx naming the field and changes nothing."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest

from tests.metadata.test_field_types import FIELDS

REC = "/api/v1/records"


@pytest.fixture
def kitchen_sink(api):
    api.post("/api/v1/metadata/objects", json={"api_name": "account"})
    api.post("/api/v1/metadata/objects", json={"api_name": "project"})
    api.post(
        "/api/v1/metadata/objects",
        json={
            "api_name": "task",
            "fields": [{"api_name": "project", "type": "master_detail", "target": "project"}],
        },
    )
    for field in FIELDS:
        assert api.post("/api/v1/metadata/objects/project/fields", json=field).status_code == 201
    return api


def test_every_type_round_trips(kitchen_sink):
    api = kitchen_sink
    account = api.post(f"{REC}/account", json={"name": "Acme"}).get_json()
    uploaded = api.post(
        "/api/v1/files/project/contract",
        data={"file": (io.BytesIO(b"%PDF-1.4"), "contract.pdf")},
    ).get_json()
    values = {
        "name": "Apollo 商机",
        "title": "Straße",
        "notes": "line one\nline two",
        "body": "<p>Hello <b>there</b></p>",
        "email": "ops@example.com",
        "phone": "+1 (555) 010-2030",
        "website": "https://example.com/x",
        "seats": 42,
        "ratio": "0.1235",
        "budget": "12345678901234.56",
        "probability": 12.5,
        "active": False,
        "start_date": "2026-02-28",
        "kickoff_at": "2026-03-01T09:30:00+01:00",
        "daily_call": "09:15:00",
        "effort": 5400,
        "stage": "Won",
        "tags": ["b", "a"],
        "account": account["id"],
        "related_to": {"object": "account", "id": account["id"]},
        "erp_id": "ERP-1",
        "secret": "s3cr3t",
        "extra": {"nested": [1, 2, {"x": None}]},
        "contract": uploaded["value"],
        "site": {"street": "1 Main St", "city": "Springfield", "postal_code": "12345"},
        "location": {"latitude": "59.9138688", "longitude": "10.7522454"},
        "sponsor": {"first": "Ada", "last": "Lovelace"},
    }
    response = api.post(f"{REC}/project", json=values)
    assert response.status_code == 201, response.get_json()
    record = api.get(f"{REC}/project/{response.get_json()['id']}").get_json()

    assert record["name"] == "Apollo 商机" and record["title"] == "Straße"
    assert record["body"] == "<p>Hello <b>there</b></p>"
    assert record["seats"] == 42
    assert record["ratio"] == Decimal("0.1235")
    assert record["budget"] == Decimal("12345678901234.56")
    assert record["probability"] == Decimal("12.50")
    assert record["active"] is False
    assert record["start_date"] == "2026-02-28"
    assert record["kickoff_at"] == "2026-03-01T08:30:00+00:00"
    assert record["daily_call"] == "09:15:00"
    assert record["effort"] == 5400
    assert record["tags"] == ["a", "b"]  # stored in the picklist's order
    assert record["account"] == account["id"]
    assert record["related_to"] == {"object": "account", "id": account["id"]}
    assert record["secret"] == "s3cr3t"
    assert record["extra"] == {"nested": [1, 2, {"x": None}]}
    assert record["site"] == {
        "street": "1 Main St",
        "city": "Springfield",
        "state": None,
        "postal_code": "12345",
        "country": None,
    }
    assert record["location"] == {
        "latitude": Decimal("59.9138688"),
        "longitude": Decimal("10.7522454"),
    }
    assert record["sponsor"]["first"] == "Ada"
    assert record["total"] == Decimal("24691357802469.12")
    assert record["number"] == "PRJ-00001"
    assert record["contract"] == uploaded["value"] and record["contract"].endswith("/contract.pdf")


def test_rich_text_is_sanitised(kitchen_sink):
    record = kitchen_sink.post(
        f"{REC}/project",
        json={"name": "x", "body": '<p onclick="steal()">hi<script>alert(1)</script></p>'},
    ).get_json()
    assert record["body"] == "<p>hi</p>"


def test_encrypted_text_is_ciphertext_at_rest(kitchen_sink, org):
    import sqlalchemy as sa

    record = kitchen_sink.post(f"{REC}/project", json={"name": "x", "secret": "s3cr3t"}).get_json()
    with org.db.read() as conn:
        stored = conn.execute(
            sa.text("SELECT secret FROM o_project WHERE id = :id"), {"id": record["id"]}
        ).scalar_one()
    assert stored != "s3cr3t" and stored.startswith("v1:")


@pytest.mark.parametrize(
    ("values", "field", "contains"),
    [
        ({"seats": "ten"}, "seats", "integer"),
        ({"seats": True}, "seats", "integer"),
        ({"seats": 1.5}, "seats", "integer"),
        ({"seats": 5000}, "seats", "at most 1000"),
        ({"budget": "12.345"}, "budget", "at most 2 decimal places"),
        ({"budget": "1e20"}, "budget", "digits before the decimal point"),
        ({"budget": "NaN"}, "budget", "finite"),
        ({"budget": True}, "budget", "number"),
        ({"active": "yes"}, "active", "boolean"),
        ({"title": "x" * 81}, "title", "80"),
        ({"name": "x" * 300}, "name", "255"),
        ({"email": "not-an-email"}, "email", "email"),
        ({"website": "javascript:alert(1)"}, "website", "URL"),
        ({"phone": "call me"}, "phone", "phone"),
        ({"start_date": "2026-02-30"}, "start_date", "date"),
        ({"kickoff_at": "2026-03-01T09:30:00"}, "kickoff_at", "aware"),
        ({"kickoff_at": "9999-12-31T23:59:59-05:00"}, "kickoff_at", "out of range"),
        ({"daily_call": "10:00:00+02:00"}, "daily_call", "no time zone"),
        ({"title": "nul\x00byte"}, "title", "NUL"),
        ({"stage": "Lost"}, "stage", "Must be one of"),
        ({"tags": ["a", "a"]}, "tags", "repeat"),
        ({"tags": ["zzz"]}, "tags[0]", "Must be one of"),
        ({"account": "not-an-id"}, "account", "record id"),
        ({"account": "01a205d3-cf84-7e21-ae22-3694afba3100"}, "account", "no account record"),
        (
            {"related_to": {"object": "task", "id": "01a205d3-cf84-7e21-ae22-3694afba3100"}},
            "related_to.object",
            "Must be one of",
        ),
        ({"location": {"latitude": 91, "longitude": 0}}, "location.latitude", "at most 90"),
        ({"site": {"planet": "Mars"}}, "site.planet", "Unknown"),
        ({"total": 5}, "total", "read-only"),
        ({"number": "PRJ-9"}, "number", "read-only"),
        ({"id": "x"}, "id", "read-only"),
        ({"created_at": "2020-01-01T00:00:00Z"}, "created_at", "read-only"),
        ({"colour": "red"}, "colour", "unknown field"),
        (
            {"owner_id": "01a205d3-cf84-7e21-ae22-3694afba3100"},
            "owner_id",
            "no active user or queue",
        ),
    ],
)
def test_bad_values_are_400_naming_the_field(kitchen_sink, values, field, contains):
    response = kitchen_sink.post(f"{REC}/project", json={"name": "x", **values})
    assert response.status_code == 400, response.get_json()
    assert response.mimetype == "application/problem+json"
    errors = response.get_json()["errors"]
    assert field in errors, errors
    assert contains.lower() in " ".join(errors[field]).lower()
    assert kitchen_sink.get(f"{REC}/project?count=true").get_json()["total"] == 0


def test_a_huge_string_is_refused(kitchen_sink):
    response = kitchen_sink.post(f"{REC}/project", json={"name": "x", "notes": "y" * 40000})
    assert response.status_code == 400


def test_body_must_be_an_object(kitchen_sink):
    assert kitchen_sink.post(f"{REC}/project", json=[1, 2]).status_code == 400
    response = kitchen_sink.client.post(
        f"{REC}/project",
        data="{oops",
        headers={
            "Authorization": f"Bearer {kitchen_sink.token}",
            "Content-Type": "application/json",
        },
    )
    assert response.status_code == 400


def test_updating_a_missing_record_is_404(kitchen_sink):
    response = kitchen_sink.patch(
        f"{REC}/project/01a205d3-cf84-7e21-ae22-3694afba3100", json={"seats": 1}
    )
    assert response.status_code == 404
