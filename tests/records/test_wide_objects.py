"""500 fields on one object: every path works at 500 and the 501st field is refused.

The org is built once per module (one metadata apply of a 500-field object): create,
get, update, list with `fields=`, search, history, the metadata endpoints and the
OpenAPI document, on both databases.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from types import SimpleNamespace
from typing import Any
from urllib.parse import quote

import pytest

from tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, ApiClient, fresh_database_url, make_token

REC = "/api/v1/records"
OBJECTS = "/api/v1/metadata/objects"
MAX_FIELDS = 500

# The mix of a wide object's fields after `name`, cycled in this order.
KINDS = (
    "text",
    "integer",
    "currency",
    "picklist",
    "date",
    "boolean",
    "email",
    "decimal",
    "phone",
    "url",
    "long_text",
    "multi_picklist",
    "percent",
    "lookup",
)


def wide_definition() -> dict[str, Any]:
    """`wide`: a `name`, 497 fields of the mix, an address and a formula — 500 in all."""
    fields: list[dict[str, Any]] = [{"api_name": "name", "type": "text", "required": True}]
    for position in range(1, MAX_FIELDS - 2):
        kind = KINDS[(position - 1) % len(KINDS)]
        definition: dict[str, Any] = {"api_name": f"{kind}_{position:03d}", "type": kind}
        if kind in {"picklist", "multi_picklist"}:
            definition["values"] = ["Alpha", "Beta", "Gamma"]
        if kind == "lookup":
            definition["target"] = "account"
        if position % 50 == 1:
            definition["track_history"] = True
        fields.append(definition)
    fields.append({"api_name": "home", "type": "address"})
    fields.append(
        {
            "api_name": "doubled",
            "type": "formula",
            "return_type": "integer",
            "expression": "integer_002 * 2",
        }
    )
    return {"api_name": "wide", "fields": fields}


def last_of(kind: str, skip: int = 0) -> str:
    """The name of the last (or ``skip``-th from last) generated field of ``kind``."""
    names = [f["api_name"] for f in wide_definition()["fields"][1:] if f["type"] == kind]
    return names[-1 - skip]


def tracked(kind: str) -> str:
    """A tracked field of ``kind`` (every 50th generated field is tracked)."""
    fields = wide_definition()["fields"]
    return next(f["api_name"] for f in fields if f["type"] == kind and f.get("track_history"))


def value_for(name: str, kind: str, account_id: str) -> Any:
    """A valid value of each kind, different per field so a mix-up would show."""
    position = int(name.rsplit("_", 1)[1])
    return {
        "text": f"text {position}",
        "integer": position,
        "currency": Decimal(f"{position}.25"),
        "picklist": "Beta",
        "date": date(2026, 1 + position % 12, 1).isoformat(),
        "boolean": position % 2 == 0,
        "email": f"person{position}@example.com",
        "decimal": Decimal(f"{position}.50"),
        "phone": f"+1 555 {position:04d}",
        "url": f"https://example.com/{position}",
        "long_text": f"long text {position}",
        "multi_picklist": ["Alpha", "Gamma"],
        "percent": Decimal("12.50"),
        "lookup": account_id,
    }[kind]


@pytest.fixture(scope="module")
def wide(tmp_path_factory) -> Iterator[SimpleNamespace]:
    """An org with a small `account` object and the 500-field `wide` object, built once."""
    from crm_platform.app import create_app
    from crm_platform.assembly import open_org
    from crm_platform.core import load_settings
    from crm_platform.core.tables import SYSTEM_USER_ID
    from crm_platform.runtime import initialise_org

    folder = tmp_path_factory.mktemp("wide")
    with fresh_database_url(folder) as url:
        settings = load_settings(url, instance_path=folder / "instance")
        org = open_org(settings)
        try:
            initialise_org(org, admin_email=ADMIN_EMAIL, admin_password=ADMIN_PASSWORD)
            account = {"api_name": "account", "fields": [{"api_name": "name", "type": "text"}]}
            org.metadata.apply_objects([account, wide_definition()], author_id=SYSTEM_USER_ID)
            api = ApiClient(
                create_app(settings, org=org).test_client(), make_token(org, ADMIN_EMAIL)
            )
            acme = api.post(f"{REC}/account", json={"name": "Acme"}).get_json()
            yield SimpleNamespace(org=org, api=api, account_id=acme["id"])
        finally:
            org.dispose()


def full_record(wide: SimpleNamespace, name: str) -> dict[str, Any]:
    """A body that sets every writable field of `wide`."""
    body: dict[str, Any] = {"name": name, "home": {"city": "Lyon", "country": "FR"}}
    for field in wide_definition()["fields"][1:]:
        kind = field["type"]
        if kind in KINDS:
            body[field["api_name"]] = value_for(field["api_name"], kind, wide.account_id)
    return body


def _create(api, body):
    response = api.post(f"{REC}/wide", json=body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_the_object_has_500_fields(wide):
    definition = wide.api.get(f"{OBJECTS}/wide").get_json()
    assert len(definition["fields"]) == MAX_FIELDS
    listed = wide.api.get(f"{OBJECTS}/wide/fields").get_json()
    assert len(listed["fields"]) == MAX_FIELDS


def test_the_501st_field_is_refused_and_changes_nothing(wide):
    version = wide.api.get("/api/v1/metadata").headers["X-Metadata-Version"]
    response = wide.api.post(
        f"{OBJECTS}/wide/fields", json={"api_name": "one_more", "type": "text"}
    )
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["errors"] == {
        "wide.fields": [
            "an object has at most 500 fields (deleted ones count); this one would have 501"
        ]
    }
    assert wide.api.get("/api/v1/metadata").headers["X-Metadata-Version"] == version
    assert wide.api.get(f"{OBJECTS}/wide/fields/one_more").status_code == 404


def test_create_get_and_update_every_field(wide):
    body = full_record(wide, "Everything")
    created = _create(wide.api, body)
    got = wide.api.get(f"{REC}/wide/{created['id']}").get_json()
    assert len(body) == MAX_FIELDS - 1  # all but the formula
    for name, value in body.items():
        if name != "home":
            assert got[name] == value, name
    assert got["home"]["city"] == "Lyon"
    assert got["doubled"] == 4  # integer_002 is 2

    changes = {last_of("text"): "changed", last_of("integer"): 7}
    updated = wide.api.patch(f"{REC}/wide/{created['id']}", json=changes)
    assert updated.status_code == 200, updated.get_json()
    assert {k: updated.get_json()[k] for k in changes} == changes


def test_list_selecting_ten_of_500_fields(wide):
    number, text = last_of("integer"), last_of("text", skip=1)
    for i in range(3):
        _create(wide.api, {"name": f"Row {i}", number: i, text: f"t{i}"})
    chosen = ["name", number, text, *(last_of(k) for k in KINDS[2:9])]
    assert len(chosen) == 10
    where = quote(f"{number} >= 1 and {text} in ['t0', 't1', 't2']")
    query = f"where={where}&order_by=-{number}&fields={','.join(chosen)}"
    response = wide.api.get(f"{REC}/wide?{query}&limit=50")
    assert response.status_code == 200, response.get_json()
    records = response.get_json()["records"]
    assert [(r["name"], r[number], r[text]) for r in records] == [
        ("Row 2", 2, "t2"),
        ("Row 1", 1, "t1"),
    ]
    assert set(chosen) <= set(records[0])
    assert last_of("text") not in records[0] and "home" not in records[0]


def test_search_finds_a_value_of_a_late_field(wide):
    record = _create(wide.api, {"name": "Plain", last_of("text"): "Zanzibar lighthouse"})
    hits = wide.api.get("/api/v1/search?q=Zanzibar&objects=wide").get_json()["results"]
    assert [h["id"] for h in hits] == [record["id"]]


def test_history_of_tracked_fields_among_500(wide):
    text, money = tracked("text"), tracked("currency")
    record = _create(wide.api, {"name": "Tracked", text: "before", money: "1.00"})
    wide.api.patch(f"{REC}/wide/{record['id']}", json={text: "after", money: "2.50"})
    history = wide.api.get(f"{REC}/wide/{record['id']}/history").get_json()["history"]
    assert {(e["field"], e["old_value"], e["new_value"]) for e in history} == {
        (text, "before", "after"),
        (money, Decimal("1.00"), Decimal("2.50")),
    }


def test_the_openapi_document_describes_all_500_fields(wide):
    response = wide.api.get("/api/v1/openapi.json")
    assert response.status_code == 200
    schemas = response.get_json()["components"]["schemas"]
    described = [s for name, s in schemas.items() if name.lower().startswith("wide")]
    properties = set().union(*(s.get("properties", {}) for s in described))
    assert {f["api_name"] for f in wide_definition()["fields"]} <= properties


def test_an_object_of_501_fields_is_refused_in_one_request(api):
    fields = [{"api_name": f"f_{i:03d}", "type": "integer"} for i in range(MAX_FIELDS)]
    response = api.post(OBJECTS, json={"api_name": "too_wide", "fields": fields})  # + `name`
    assert response.status_code == 400
    errors = response.get_json()["errors"]
    assert errors == {
        "fields": ["an object has at most 500 fields (deleted ones count); this one would have 501"]
    }
    assert api.get(f"{OBJECTS}/too_wide").status_code == 404


def test_compound_fields_count_their_columns(api):
    fields = [{"api_name": f"place_{i:03d}", "type": "address"} for i in range(201)]
    response = api.post(OBJECTS, json={"api_name": "places", "fields": fields})
    assert response.status_code == 400
    (message,) = response.get_json()["errors"]["fields"]
    assert message.startswith("an object's fields use at most 1000 columns")
    assert message.endswith("these would use 1006")  # 201 addresses of 5, and `name`
    assert api.get(f"{OBJECTS}/places").status_code == 404
