"""Search keeps a record's text in one entry per group of fields the same users may read
(ADR 0052): a field a permission set hides is searched only by those who read it, from
the moment the set changes, and the rest of the record stays findable."""

from __future__ import annotations

REC = "/api/v1/records"
READER = {
    "api_name": "vault_reader",
    "objects": {"vault": {"read": True, "create": True, "edit": True}},
    "system": ["api_enabled"],
}


def _found(client, q: str) -> list[str]:
    response = client.get(f"/api/v1/search?q={q}")
    assert response.status_code == 200, response.get_json()
    return [hit["id"] for hit in response.get_json()["results"]]


def _entries(org) -> int:
    with org.db.read() as conn:
        return conn.exec_driver_sql("SELECT count(*) FROM sys_search").scalar_one()


def _vault(api, put_metadata, make_user):
    created = api.post(
        "/api/v1/metadata/objects",
        json={
            "api_name": "vault",
            "fields": [
                {"api_name": "name", "type": "text", "required": True},
                {"api_name": "code", "type": "text"},
                {"api_name": "secret", "type": "text"},
                {"api_name": "email", "type": "email"},
            ],
        },
    )
    assert created.status_code == 201, created.get_json()
    put_metadata("permission_set", READER)
    user = make_user("reader@example.com", profile="vault_reader")
    record = api.post(
        f"{REC}/vault",
        json={"name": "Zurich", "code": "ZX-9", "secret": "open sesame", "owner_id": user.user_id},
    ).get_json()
    return user, record["id"]


def test_fields_everyone_reads_share_one_entry(api, org, put_metadata, make_user):
    user, vault = _vault(api, put_metadata, make_user)

    assert _entries(org) == 1  # name, code and secret (the email is empty): one entry
    for q in ("Zurich", "ZX-9", "sesame"):
        assert _found(user, q) == [vault], q


def test_a_field_hidden_later_stops_matching_at_once(api, org, put_metadata, make_user):
    user, vault = _vault(api, put_metadata, make_user)
    assert _found(user, "sesame") == [vault]

    put_metadata("permission_set", {**READER, "fields": {"vault.secret": {"read": False}}})

    # the entry written before holds the secret with the rest: no one matches it now
    assert _found(user, "sesame") == []
    org.work.run_pending()  # the backfill the change asked for
    assert _found(user, "sesame") == []
    assert _found(user, "Zurich") == [vault]
    assert _found(api, "sesame") == [vault]  # the admin reads every field
    assert _entries(org) == 2  # what the reader may read, and the secret

    put_metadata("permission_set", READER)
    org.work.run_pending()
    assert _found(user, "sesame") == [vault]
    assert _entries(org) == 1


def test_a_field_a_set_names_for_portal_users_has_its_own_entry(api, org, put_metadata, make_user):
    """For a portal user a set is an allow-list: the fields it names are read by more
    users than the rest, so they form a group of their own; a colleague reads both."""
    user, vault = _vault(api, put_metadata, make_user)
    put_metadata("permission_set", {**READER, "fields": {"vault.code": {"read": True}}})
    org.work.run_pending()

    assert _entries(org) == 2  # the code (portal users read it too), and the rest
    assert _found(user, "ZX-9") == [vault]
    assert _found(user, "sesame") == [vault]  # a colleague reads the fields it leaves out
