"""Inputs an attacker sends to burn CPU or reach a 5xx: the input gate refuses each with a 400.

Every request passes one gate before any handler (and before sign-in): JSON depth,
number literals (digits and exponent, judged before conversion), string sizes, NUL
characters and lone surrogates, in the body, the path and the query. Keyset cursors
and revision numbers are bounded where they are read. Each refusal is problem+json,
names the place, and changes nothing.
"""

from __future__ import annotations

import base64
import json

import pytest

from crm_platform.core.inputs import MAX_JSON_DEPTH, MAX_STRING_LENGTH

REC = "/api/v1/records"
JSON_TYPE = {"Content-Type": "application/json"}


@pytest.fixture(scope="module")
def org_data(shared):
    """A few records to page through and aim at."""
    admin = shared.admin
    deals = [
        admin.post(f"{REC}/opportunity", json={"name": f"Deal {i}", "amount": amount}).get_json()
        for i, amount in enumerate(["10.50", 20, "9999999999999.99"])
    ]
    account = admin.post(f"{REC}/account", json={"name": "Acme"}).get_json()
    return {"deals": deals, "account": account}


def refused(response, where: str | None = None, says: str | None = None) -> dict:
    """A clear 400 problem naming ``where`` (and saying ``says``)."""
    assert response.status_code == 400, response.get_data(as_text=True)[:300]
    assert response.mimetype == "application/problem+json"
    problem = response.get_json()
    if where is not None:
        assert where in problem["errors"], problem
    if says is not None:
        assert says in json.dumps(problem), problem
    return problem


def count(client, obj: str) -> int:
    return client.get(f"{REC}/{obj}?count=true&limit=1").get_json()["total"]


def raw_post(client, path: str, text: str):
    return client.post(path, data=text.encode("utf-8", "surrogatepass"), headers=JSON_TYPE)


# --- JSON bodies ----------------------------------------------------------------------


@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 1, 5_000, 100_000])
@pytest.mark.parametrize("shape", ["array", "object"])
def test_json_nested_thousands_deep_is_refused_before_parsing(shared, org_data, depth, shape):
    before = count(shared.admin, "account")
    if shape == "array":
        body = '{"name": ' + "[" * depth + "]" * depth + "}"
    else:
        body = '{"name": ' + '{"a": ' * depth + "1" + "}" * depth + "}"
    response = raw_post(shared.admin, f"{REC}/account", body)
    refused(response, "(body)", f"nests more than {MAX_JSON_DEPTH} levels")
    assert count(shared.admin, "account") == before


def test_json_within_the_depth_bound_reaches_the_record_service(shared, org_data):
    nested = "[" * (MAX_JSON_DEPTH - 1) + "]" * (MAX_JSON_DEPTH - 1)
    response = raw_post(shared.admin, f"{REC}/account", '{"name": ' + nested + "}")
    refused(response, "name")  # the field's own message: the gate let it through


def test_brackets_inside_strings_do_not_count_as_nesting(shared, org_data):
    response = shared.admin.post(f"{REC}/account", json={"name": "[" * 500})
    refused(response, "name", "255")  # too long for the field, not too deep


def test_a_lone_surrogate_in_a_value_is_refused(shared, org_data):
    before = count(shared.admin, "account")
    response = raw_post(shared.admin, f"{REC}/account", '{"name": "x\\ud800y"}')
    refused(response, "name", "not valid Unicode")
    assert count(shared.admin, "account") == before


def test_a_lone_surrogate_in_a_key_is_refused_without_echoing_it(shared, org_data):
    response = raw_post(shared.admin, f"{REC}/account", '{"name": "x", "\\udc00": 1}')
    problem = refused(response, "(body)", "an object key is not valid Unicode")
    assert "\udc00" not in json.dumps(problem, ensure_ascii=False)


def test_a_surrogate_pair_is_valid_unicode(shared, org_data):
    response = raw_post(shared.admin, f"{REC}/account", '{"name": "emoji \\ud83d\\ude00"}')
    assert response.status_code == 201
    assert response.get_json()["name"] == "emoji \U0001f600"


@pytest.mark.parametrize(
    "body, where",
    [
        ('{"name": "a\\u0000b"}', "name"),
        ('{"operations": [{"method": "GET", "url": "/records/account/a\\u0000b"}]}', None),
    ],
)
def test_a_nul_character_in_a_body_string_is_refused(shared, org_data, body, where):
    path = f"{REC}/account" if where else "/api/v1/composite"
    problem = refused(raw_post(shared.admin, path, body), where, "NUL")
    if where is None:
        assert "operations[0].url" in problem["errors"]


def test_a_nul_byte_in_a_composite_url_is_refused(shared, org_data):
    operations = [{"method": "PATCH", "url": "/records/account/x\u0000", "body": {"name": "y"}}]
    response = shared.admin.post("/api/v1/composite", json={"operations": operations})
    refused(response, "operations[0].url", "NUL")


def test_a_string_longer_than_any_field_is_refused_by_the_gate(shared, org_data):
    response = shared.admin.post(f"{REC}/account", json={"name": "x" * (MAX_STRING_LENGTH + 1)})
    refused(response, "name", "longer than")


@pytest.mark.parametrize("literal", ["1E+999999999", "1e-999999999", "1E+101"])
def test_a_decimal_with_a_huge_exponent_is_refused(shared, org_data, literal):
    before = count(shared.admin, "opportunity")
    body = '{"name": "x", "amount": ' + literal + "}"
    refused(raw_post(shared.admin, f"{REC}/opportunity", body), "(body)", "exponent")
    assert count(shared.admin, "opportunity") == before


def test_an_integer_field_given_1e400000_is_refused_before_conversion(shared, org_data):
    # Converting 1E+400000 to an int costs seconds of CPU: the gate judges the literal's text.
    body = '{"name": "x", "quantity": 1E+400000}'
    refused(raw_post(shared.admin, f"{REC}/line_item", body), "(body)", "exponent is at most 100")


@pytest.mark.parametrize("literal", ["9" * 101, "0." + "0" * 99 + "1"])
def test_a_number_literal_with_too_many_digits_is_refused(shared, org_data, literal):
    body = '{"name": "x", "quantity": ' + literal + "}"
    refused(raw_post(shared.admin, f"{REC}/line_item", body), "(body)", "at most 100 characters")


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_are_not_json_numbers(shared, org_data, constant):
    body = '{"name": "x", "amount": ' + constant + "}"
    refused(raw_post(shared.admin, f"{REC}/opportunity", body), "(body)", "not a JSON number")


def test_a_body_that_is_not_utf8_is_refused(shared, org_data):
    response = shared.admin.post(f"{REC}/account", data=b'{"name": "\xff"}', headers=JSON_TYPE)
    refused(response, "(body)", "not UTF-8")


# --- paths and query parameters -------------------------------------------------------


@pytest.mark.parametrize("method", ["get", "patch", "delete"])
def test_a_nul_byte_in_a_record_id_in_the_path_is_refused(shared, org_data, method):
    deal = org_data["deals"][0]
    call = getattr(shared.admin, method)
    kwargs = {"json": {"name": "changed"}} if method == "patch" else {}
    response = call(f"{REC}/opportunity/{deal['id']}%00", **kwargs)
    refused(response, "(path)", "NUL")
    assert shared.admin.get(f"{REC}/opportunity/{deal['id']}").get_json()["name"] == "Deal 0"


def test_a_nul_byte_in_an_upsert_key_is_refused(shared, org_data):
    refused(shared.admin.put(f"{REC}/opportunity/by/name/a%00b", json={}), "(path)", "NUL")


@pytest.mark.parametrize(
    "query, where",
    [("where=name == 'a%00b'", "where"), ("q=a%00b", "q"), ("fields=name%00", "fields")],
)
def test_a_nul_byte_in_a_query_parameter_is_refused(shared, org_data, query, where):
    path = "/api/v1/search" if query.startswith("q=") else f"{REC}/opportunity"
    refused(shared.admin.get(f"{path}?{query}"), where, "NUL")


def test_the_gate_runs_before_sign_in(shared, org_data):
    response = shared.app.test_client().get(f"{REC}/opportunity/x%00")
    refused(response, "(path)", "NUL")


def test_a_nul_byte_in_a_sign_in_form_is_refused(shared, org_data):
    client = shared.app.test_client()
    response = client.post("/login", data={"email": "a\x00@example.com", "password": "x"})
    refused(response, "email", "NUL")


# --- keyset cursors -------------------------------------------------------------------


def cursor_of(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def test_a_real_cursor_still_pages(shared, org_data):
    first = shared.admin.get(f"{REC}/opportunity?order_by=amount&limit=2").get_json()
    rest = shared.admin.get(
        f"{REC}/opportunity?order_by=amount&limit=2&cursor={first['next_cursor']}"
    ).get_json()
    names = [r["name"] for r in first["records"] + rest["records"]]
    assert names[:3] == ["Deal 0", "Deal 1", "Deal 2"]


@pytest.mark.parametrize(
    "order_by, values",
    [
        ("amount", '[1E+99, "x"]'),  # a huge number
        ("amount", '[1E+20, "x"]'),  # beyond a 64-bit integer at the column's scale
        ("amount", '[9223372036854775808, "x"]'),
        ("amount", '["abc", "x"]'),  # a string where a number is sorted
        ("amount", '[true, "x"]'),
        ("amount", '[1E+999999999, "x"]'),  # past the gate's exponent bound
        ("created_at", '["2024-01-01T00:00:00", "x"]'),  # a naive datetime
        ("created_at", '[12, "x"]'),
        ("name", '[1, "x"]'),  # a number where text is sorted
        ("name", '["a\\u0000", "x"]'),
        ("name", '["\\ud800", "x"]'),
        ("amount", "[" * 5000 + "]" * 5000),
    ],
)
def test_a_forged_cursor_is_refused(shared, org_data, order_by, values):
    response = shared.admin.get(f"{REC}/opportunity?order_by={order_by}&cursor={cursor_of(values)}")
    refused(response, "cursor", "not a cursor of this list")


# --- revision numbers -----------------------------------------------------------------


@pytest.mark.parametrize(
    "path, where",
    [
        ("/api/v1/metadata/objects/account/history/" + "9" * 31, "revision"),
        ("/api/v1/metadata/objects/account/diff?from=" + "9" * 31, "from"),
        ("/api/v1/metadata/objects/account/diff?from=1&to=" + "9" * 31, "to"),
        ("/api/v1/metadata/objects/account/diff?from=-" + "9" * 31, "from"),
        ("/api/v1/audit/setup?before=" + "9" * 31, "before"),
    ],
)
def test_a_31_digit_revision_number_is_refused(shared, org_data, path, where):
    refused(shared.admin.get(path), where)


def test_rolling_back_to_a_31_digit_revision_is_refused(shared, org_data):
    body = '{"revision": ' + "9" * 31 + "}"
    response = raw_post(shared.admin, "/api/v1/metadata/objects/account/rollback", body)
    refused(response, "revision")


def test_a_31_digit_if_match_version_is_refused(shared, org_data):
    deal = org_data["deals"][1]
    response = shared.admin.patch(
        f"{REC}/opportunity/{deal['id']}",
        json={"name": "changed"},
        headers={"If-Match": '"' + "9" * 31 + '"'},
    )
    assert response.status_code in (400, 412), response.get_data(as_text=True)[:300]
    assert shared.admin.get(f"{REC}/opportunity/{deal['id']}").get_json()["name"] == "Deal 1"


@pytest.mark.parametrize("access", [{}, [], ["read"], 1, None])
def test_a_share_whose_access_is_not_text_is_refused(shared, org_data, access):
    # found by the schemathesis run: {"access": {}} was a TypeError and a 500
    deal = org_data["deals"][0]
    response = shared.admin.post(
        f"{REC}/opportunity/{deal['id']}/shares", json={"access": access, "group": "finance"}
    )
    refused(response, "access", "read or edit")
