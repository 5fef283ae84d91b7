"""Generated matrices: object permission x operation, field permission x path, and
org-wide default x relationship, each checked on every read path (get, list, count,
search, related list, composite, history) so that any leak fails the test."""

from __future__ import annotations

import itertools

import pytest

from tests.conftest import ApiClient

REC = "/api/v1/records"


def _setup_objects(api, sharing_defaults):
    for sharing in sharing_defaults:
        name = f"thing_{sharing}"
        assert (
            api.post(
                "/api/v1/metadata/objects",
                json={
                    "api_name": name,
                    "sharing": sharing,
                    "track_history": True,
                    "fields": [
                        {"api_name": "name", "type": "text", "required": True},
                        {"api_name": "secret", "type": "text"},
                        {"api_name": "note", "type": "text"},
                    ],
                },
            ).status_code
            == 201
        )
        assert (
            api.post(
                "/api/v1/metadata/objects",
                json={
                    "api_name": f"part_{sharing}",
                    "fields": [{"api_name": "thing", "type": "master_detail", "target": name}],
                },
            ).status_code
            == 201
        )


def every_read_path(client: ApiClient, obj: str, record: dict, name: str) -> dict[str, bool]:
    """Whether the record shows up, path by path."""
    rid = record["id"]
    seen = {
        "get": client.get(f"{REC}/{obj}/{rid}").status_code == 200,
        "list": rid
        in [r["id"] for r in client.get(f"{REC}/{obj}?limit=200").get_json()["records"]],
        "count": client.get(f"{REC}/{obj}?count=true&where=id == '{rid}'").get_json()["total"] == 1,
        "search": rid
        in [h["id"] for h in client.get(f"/api/v1/search?q={name}").get_json()["results"]],
        "related": client.get(f"{REC}/{obj}/{rid}/related/part_{obj.split('_', 1)[1]}").status_code
        == 200,
        "history": client.get(f"{REC}/{obj}/{rid}/history").status_code == 200,
    }
    composite = client.post(
        "/api/v1/composite",
        json={"operations": [{"method": "GET", "url": f"/records/{obj}/{rid}"}]},
    )
    seen["composite"] = composite.get_json()["results"][0]["status"] == 200
    return seen


def can_edit(client: ApiClient, obj: str, record: dict) -> bool:
    response = client.patch(f"{REC}/{obj}/{record['id']}", json={"note": "edited"})
    assert response.status_code in (200, 403, 404), response.get_json()
    return response.status_code == 200


# --- object permission x operation -------------------------------------------------------

COMBINATIONS = [dict.fromkeys(("read", "create", "edit", "delete"), False)] + [
    {"read": True, "create": c, "edit": e, "delete": d}
    for c, e, d in itertools.product((False, True), repeat=3)
]


@pytest.mark.parametrize(
    "grants", COMBINATIONS, ids=lambda g: "".join(k[0] for k, v in g.items() if v) or "none"
)
def test_object_permissions_allow_exactly_their_operations(api, make_user, put_metadata, grants):
    _setup_objects(api, ["private"])
    put_metadata(
        "permission_set",
        {"api_name": "under_test", "objects": {"thing_private": grants}, "system": ["api_enabled"]},
    )
    user = make_user("u@example.com", profile="under_test")
    mine = api.post(
        f"{REC}/thing_private", json={"name": "Mine", "owner_id": user.user_id}
    ).get_json()

    created = user.post(f"{REC}/thing_private", json={"name": "New"})
    read = user.get(f"{REC}/thing_private/{mine['id']}")
    listed = user.get(f"{REC}/thing_private")
    edited = user.patch(f"{REC}/thing_private/{mine['id']}", json={"note": "x"})
    deleted = user.delete(f"{REC}/thing_private/{mine['id']}")

    assert (created.status_code == 201) == grants["create"]
    assert (read.status_code == 200) == grants["read"] == (listed.status_code == 200)
    assert (edited.status_code == 200) == grants["edit"]
    assert (deleted.status_code == 204) == grants["delete"]
    for response, allowed in (
        (created, "create"),
        (read, "read"),
        (edited, "edit"),
        (deleted, "delete"),
    ):
        if not grants[allowed]:
            assert response.status_code == 403, (allowed, response.get_json())


# --- field permission x path ---------------------------------------------------------------

FIELD_GRANTS = {
    "read_edit": {"read": True, "edit": True},
    "read_only": {"read": True, "edit": False},
    "hidden": {"read": False},
}


@pytest.mark.parametrize("grant", FIELD_GRANTS)
def test_field_permissions_on_every_path(api, make_user, put_metadata, grant):
    _setup_objects(api, ["private"])
    put_metadata(
        "permission_set",
        {
            "api_name": "under_test",
            "objects": {
                "thing_private": {"read": True, "create": True, "edit": True},
                "part_private": {"read": True, "create": True},
            },
            "fields": {"thing_private.secret": FIELD_GRANTS[grant]},
            "system": ["api_enabled"],
        },
    )
    user = make_user("u@example.com", profile="under_test")
    record = api.post(
        f"{REC}/thing_private", json={"name": "Vault", "secret": "sesame", "owner_id": user.user_id}
    ).get_json()
    api.patch(f"{REC}/thing_private/{record['id']}", json={"secret": "open sesame"})
    readable = grant != "hidden"
    editable = grant == "read_edit"

    got = user.get(f"{REC}/thing_private/{record['id']}").get_json()
    listed = user.get(f"{REC}/thing_private").get_json()["records"][0]
    composite = user.post(
        "/api/v1/composite",
        json={"operations": [{"method": "GET", "url": f"/records/thing_private/{record['id']}"}]},
    ).get_json()
    history = user.get(f"{REC}/thing_private/{record['id']}/history").get_json()["history"]
    assert ("secret" in got) == readable
    assert ("secret" in listed) == readable
    assert ("secret" in composite["results"][0]["body"]) == readable
    assert any(h["field"] == "secret" for h in history) == readable
    found = user.get("/api/v1/search?q=open sesame").get_json()["results"]
    assert bool(found) == readable  # the hidden field's text is no search side channel
    for param in ("fields=secret", "where=secret == 'open sesame'", "order_by=secret"):
        status = user.get(f"{REC}/thing_private?{param}").status_code
        assert (status == 200) == readable, param
    created = user.post(f"{REC}/thing_private", json={"name": "Mine", "secret": "x"})
    updated = user.patch(f"{REC}/thing_private/{record['id']}", json={"secret": "y"})
    assert (created.status_code == 201) == editable
    assert (updated.status_code == 200) == editable
    if not editable and readable:  # read-only: refused, and told why
        assert created.status_code == updated.status_code == 403
        assert "secret" in updated.get_json()["errors"]
    if not readable:  # hidden: refused exactly as a field that does not exist
        assert created.status_code == updated.status_code == 400
        assert updated.get_json()["errors"] == {"secret": ["unknown field of thing_private"]}


# --- org-wide default x relationship ---------------------------------------------------

RELATIONSHIPS = ("owner", "peer", "manager", "unrelated", "group_member", "shared_manually")
EXPECTED = {
    # relationship: (reads, edits) for private, public_read, public_read_write
    "private": {
        "owner": (1, 1),
        "peer": (0, 0),
        "manager": (1, 1),
        "unrelated": (0, 0),
        "group_member": (1, 0),
        "shared_manually": (1, 1),
    },
    "public_read": {
        "owner": (1, 1),
        "peer": (1, 0),
        "manager": (1, 1),
        "unrelated": (1, 0),
        "group_member": (1, 0),
        "shared_manually": (1, 1),
    },
    "public_read_write": dict.fromkeys(RELATIONSHIPS, (1, 1)),
}


@pytest.fixture
def matrix_org(api, make_user, put_metadata):
    defaults = list(EXPECTED)
    _setup_objects(api, defaults)
    for role, parent in (("boss", None), ("worker", "boss")):
        put_metadata("role", {"api_name": role, **({"parent": parent} if parent else {})})
    put_metadata("group", {"api_name": "crew"})
    full = {"read": True, "create": True, "edit": True, "delete": True}
    put_metadata(
        "permission_set",
        {
            "api_name": "worker_set",
            "objects": {f"{kind}_{d}": full for d in defaults for kind in ("thing", "part")},
            "system": ["api_enabled"],
        },
    )
    users = {
        "owner": make_user("owner@example.com", profile="worker_set", role="worker"),
        "peer": make_user("peer@example.com", profile="worker_set", role="worker"),
        "manager": make_user("manager@example.com", profile="worker_set", role="boss"),
        "unrelated": make_user("unrelated@example.com", profile="worker_set"),
        "group_member": make_user("member@example.com", profile="worker_set"),
        "shared_manually": make_user("shared@example.com", profile="worker_set"),
    }
    api.post("/api/v1/groups/crew/members", json={"user_id": users["group_member"].user_id})
    return users


@pytest.mark.parametrize("sharing", list(EXPECTED))
def test_org_wide_defaults_and_relationships(api, matrix_org, sharing):
    users = matrix_org
    obj = f"thing_{sharing}"
    name = f"Orbit{sharing.replace('_', '')}"
    record = users["owner"].post(f"{REC}/{obj}", json={"name": name}).get_json()
    users["owner"].post(f"{REC}/part_{sharing}", json={"name": "Part", "thing": record["id"]})
    if sharing != "public_read_write":
        owner = users["owner"]
        assert (
            owner.post(
                f"{REC}/{obj}/{record['id']}/shares", json={"group": "crew", "access": "read"}
            ).status_code
            == 201
        )
        assert (
            owner.post(
                f"{REC}/{obj}/{record['id']}/shares",
                json={"user": users["shared_manually"].user_id, "access": "edit"},
            ).status_code
            == 201
        )

    for relationship in RELATIONSHIPS:
        reads, edits = EXPECTED[sharing][relationship]
        client = users[relationship]
        paths = every_read_path(client, obj, record, name)
        assert set(paths.values()) == {bool(reads)}, (sharing, relationship, paths)
        part_listed = client.get(f"{REC}/part_{sharing}").get_json()["records"]
        assert bool(part_listed) == bool(reads), (
            sharing,
            relationship,
            "controlled_by_parent child",
        )
        assert can_edit(client, obj, record) == bool(edits), (sharing, relationship)
