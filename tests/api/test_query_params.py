"""Unknown query parameters are refused everywhere under /api/v1: a typo (``?limt=1``) or a
wish (``?format=csv``) answers 400 problem+json naming the parameter instead of silently
answering something else; the parameters each operation documents keep working, and what
the API accepts is exactly what its OpenAPI document says."""

from __future__ import annotations

from typing import Any

import pytest

from crm_platform.api.params import declared_query_params

from .test_openapi import _served_by, fetch

V1 = "/api/v1"


def _resolve(document: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        *_, section, name = node["$ref"].split("/")
        node = document["components"][section][name]
    return node


def documented_query_params(document: dict[str, Any], path: str, method: str) -> set[str]:
    item = document["paths"][path]
    found = set()
    for parameter in [*item.get("parameters", ()), *item[method].get("parameters", ())]:
        parameter = _resolve(document, parameter)
        if parameter["in"] == "query":
            found.add(parameter["name"])
    return found


def test_every_operation_accepts_exactly_the_query_parameters_it_documents(app, api, org):
    from crm_platform.core.tables import SYSTEM_USER_ID
    from crm_platform.yamlio import read_definitions

    from ..conftest import FIXTURES

    definitions = [(k, d) for k, d, _ in read_definitions(FIXTURES / "projects")]
    org.metadata.apply_definitions(definitions, author_id=SYSTEM_USER_ID)
    document = fetch(api)
    drift = {}
    for (path, method), endpoint in _served_by(app, document).items():
        # a view that declares nothing takes nothing
        declared = declared_query_params(app.view_functions[endpoint]) or ()
        documented = documented_query_params(document, path, method)
        if set(declared) != documented:
            drift[f"{method.upper()} {path}"] = (declared, sorted(documented))
    assert drift == {}, "\n".join(f"{k}: {v}" for k, v in sorted(drift.items()))


def problem_names(response, name: str) -> None:
    assert response.status_code == 400, (response.status_code, response.get_data(as_text=True))
    assert response.mimetype == "application/problem+json"
    errors = response.get_json()["errors"]
    assert list(errors) == [name]
    assert "unknown query parameter" in errors[name][0]


@pytest.mark.parametrize(
    "url",
    [
        "/metadata",
        "/metadata/objects",
        "/metadata/objects/account",
        "/metadata/objects/account/fields/name/usages",
        "/metadata/validation_rules",
        "/metadata/permission_sets",
        "/metadata/objects/account/history",
        "/users",
        "/tokens",
        "/audit/logins",
        "/audit/setup",
        "/search?q=Acme",
        "/automation/runs",
        "/notifications",
        "/approvals/pending",
        "/automation/mail",
        "/openapi.json",
        "/records/account",
        "/records/account/aggregate",
    ],
)
def test_an_unknown_query_parameter_is_refused_naming_it(api, load_metadata, url):
    load_metadata("projects")
    before = api.get(V1 + url)
    assert before.status_code == 200, (url, before.get_data(as_text=True))

    glue = "&" if "?" in url else "?"
    problem_names(api.get(f"{V1}{url}{glue}limt=1"), "limt")
    problem_names(api.get(f"{V1}{url}{glue}format=csv"), "format")


def test_an_unknown_parameter_is_refused_on_writes_too_and_changes_nothing(api, load_metadata):
    load_metadata("projects")
    created = api.post(f"{V1}/records/account?dry_run=true", json={"name": "Acme"})
    problem_names(created, "dry_run")
    field = {"api_name": "vat", "type": "text"}
    added = api.post(f"{V1}/metadata/objects/account/fields?validate_only=1", json=field)
    problem_names(added, "validate_only")
    assert api.get(f"{V1}/records/account").get_json()["records"] == []
    assert api.get(f"{V1}/metadata/objects/account/fields/vat").status_code == 404


def test_documented_parameters_still_work_in_every_area(api, load_metadata):
    load_metadata("projects")
    for name in ("Acme", "Acme Labs", "Globex"):
        assert api.post(f"{V1}/records/account", json={"name": name}).status_code == 201

    hits = api.get(f"{V1}/search", query_string={"q": "Acme", "limit": 1, "objects": "account"})
    assert hits.status_code == 200 and len(hits.get_json()["results"]) == 1
    listed = api.get(f"{V1}/records/account", query_string={"limit": 2, "count": "true"})
    assert len(listed.get_json()["records"]) == 2 and listed.get_json()["total"] == 3
    changes = api.get(f"{V1}/audit/setup", query_string={"limit": 1})
    assert len(changes.get_json()["changes"]) == 1, changes.get_json()
    for url, params in (
        ("/automation/runs", {"limit": 5, "status": "succeeded"}),
        ("/notifications", {"unread": "true", "limit": 5}),
        ("/automation/mail", {"limit": 5, "status": "sent"}),
        ("/audit/logins", {"email": "admin@example.com", "limit": 5}),
        ("/metadata/objects", {"include_deleted": "true"}),
        ("/metadata/objects/account/fields", {"deleted": "true"}),
        ("/metadata/objects/account/diff", {"from": 1, "to": 2}),
    ):
        response = api.get(V1 + url, query_string=params)
        assert response.status_code == 200, (url, response.get_json())
