"""`unique: true` on email, phone and url fields as well as text; emails compare in any case.

A duplicate answers the same 409 as a text unique, whichever path writes it (create,
update, a composite batch, a restore from the recycle bin), and the database's own
partial index on lower(email) refuses what slips past the record service.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from tests.conftest import insert_rows

REC = "/api/v1/records"
OBJECTS = "/api/v1/metadata/objects"


@pytest.fixture
def contacts(api, load_fixture):
    load_fixture("contacts")
    return api


def _create(api, **values):
    response = api.post(f"{REC}/contact", json=values)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def _conflict(response, field):
    assert response.status_code == 409, response.get_json()
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["errors"] == {field: ["already used by another record"]}
    return body


def _count(api):
    return api.get(f"{REC}/contact?count=true").get_json()["total"]


@pytest.mark.parametrize(
    ("field", "first", "second"),
    [
        ("badge", "B-1", "B-1"),
        ("email", "ann@example.com", "ANN@Example.COM"),
        ("phone", "+1 555 0100", "+1 555 0100"),
        ("website", "https://example.com/ann", "https://example.com/ann"),
    ],
)
def test_a_duplicate_answers_the_same_409_as_a_text_unique(contacts, field, first, second):
    _create(contacts, name="Ann", **{field: first})
    body = _conflict(contacts.post(f"{REC}/contact", json={"name": "Bob", field: second}), field)
    assert body["detail"] == f"another contact record already has this {field}"
    assert _count(contacts) == 1


def test_emails_differing_in_case_are_the_same_but_urls_are_not(contacts):
    _create(contacts, name="Ann", email="ann@example.com", website="https://example.com/Ann")
    _create(contacts, name="Bob", email="bob@example.com", website="https://example.com/ann")
    # a field that is not unique takes any value
    _create(contacts, name="Cy", other_email="ann@example.com")
    _create(contacts, name="Di", other_email="ANN@example.com")
    assert _count(contacts) == 4


def test_updates_into_a_taken_email_are_409_but_a_record_may_recase_its_own(contacts):
    ann = _create(contacts, name="Ann", email="ann@example.com")
    bob = _create(contacts, name="Bob", email="bob@example.com")
    _conflict(
        contacts.patch(f"{REC}/contact/{bob['id']}", json={"email": "Ann@Example.com"}), "email"
    )
    assert contacts.get(f"{REC}/contact/{bob['id']}").get_json()["email"] == "bob@example.com"

    response = contacts.patch(f"{REC}/contact/{ann['id']}", json={"email": "Ann@Example.com"})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["email"] == "Ann@Example.com"  # kept as typed


def test_a_batch_with_the_same_email_twice_is_refused(contacts):
    operations = [
        {"method": "POST", "url": "/records/contact", "body": {"name": n, "email": e}}
        for n, e in [("Ann", "ann@example.com"), ("Bob", "ANN@example.com")]
    ]
    response = contacts.post("/api/v1/composite", json={"operations": operations})
    assert response.status_code == 400
    results = response.get_json()["results"]
    assert [r["status"] for r in results] == [201, 409]
    assert results[1]["body"]["errors"] == {"email": ["already used by another record"]}
    assert _count(contacts) == 0


def test_restoring_into_an_email_taken_in_another_case_is_409(contacts):
    ann = _create(contacts, name="Ann", email="ann@example.com")
    assert contacts.delete(f"{REC}/contact/{ann['id']}").status_code == 204
    _create(contacts, name="Ann again", email="ANN@EXAMPLE.COM")  # the old one is in the bin

    response = contacts.post(f"{REC}/contact/{ann['id']}/restore")

    assert response.status_code == 409
    assert response.mimetype == "application/problem+json"
    assert contacts.get(f"{REC}/contact/{ann['id']}").status_code == 404


def test_the_database_index_compares_emails_in_any_case(contacts, org):
    _create(contacts, name="Ann", email="ann@example.com")
    with pytest.raises(sa.exc.IntegrityError):
        insert_rows(org, "contact", [{"name": "Sneaky", "email": "Ann@EXAMPLE.com"}])


def test_upsert_by_email_finds_the_record_in_any_case(contacts):
    ann = _create(contacts, name="Ann", email="ann@example.com")
    response = contacts.put(f"{REC}/contact/by/email/ANN@example.com", json={"name": "Ann B."})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["id"] == ann["id"]
    assert response.get_json()["name"] == "Ann B."
    assert _count(contacts) == 1


def test_making_a_field_unique_checks_existing_emails_in_any_case(contacts):
    _create(contacts, name="Ann", other_email="ann@example.com")
    bob = _create(contacts, name="Bob", other_email="ANN@example.com")
    field = f"{OBJECTS}/contact/fields/other_email"

    response = contacts.patch(field, json={"unique": True})
    assert response.status_code == 400, response.get_json()
    assert "1 values occur more than once" in str(response.get_json()["errors"])

    contacts.patch(f"{REC}/contact/{bob['id']}", json={"other_email": "bob@example.com"})
    assert contacts.patch(field, json={"unique": True}).status_code == 200
    _conflict(
        contacts.post(f"{REC}/contact", json={"name": "Cy", "other_email": "BOB@example.com"}),
        "other_email",
    )


@pytest.mark.parametrize("kind", ["long_text", "boolean", "picklist"])
def test_types_that_cannot_be_unique_are_refused(contacts, kind):
    definition = {"api_name": "extra", "type": kind, "unique": True}
    if kind == "picklist":
        definition["values"] = ["A"]
    response = contacts.post(f"{OBJECTS}/contact/fields", json=definition)
    assert response.status_code == 400
    assert response.get_json()["errors"] == {"unique": [f"a {kind} field cannot be unique"]}


def _expression_statistics(org) -> set[str]:
    with org.db.read() as conn:
        query = (
            "SELECT stxname FROM pg_statistic_ext "
            "WHERE stxnamespace = current_schema()::regnamespace"
        )
        return {row[0] for row in conn.exec_driver_sql(query)}


def test_a_case_insensitive_unique_keeps_statistics_of_its_key_on_postgresql(contacts, org):
    """PostgreSQL's planner ignores the statistics of the partial unique index on
    lower(email): without statistics of their own a batch's unique check was planned as
    matching most of the table, and read it whole. They come and go with the flag."""
    if org.db.is_sqlite:
        pytest.skip("PostgreSQL's planner statistics")
    field = f"{OBJECTS}/contact/fields/other_email"
    before = _expression_statistics(org)
    assert contacts.patch(field, json={"unique": True}).status_code == 200
    made = _expression_statistics(org) - before
    assert len(made) == 1
    assert contacts.patch(field, json={"unique": False}).status_code == 200
    assert _expression_statistics(org) == before


def test_crm_upgrade_makes_the_key_statistics_an_older_org_lacks(contacts, org):
    """A field made unique before these statistics existed gets them from `crm upgrade`."""
    from click.testing import CliRunner

    from crm_platform.cli import main

    if org.db.is_sqlite:
        pytest.skip("PostgreSQL's planner statistics")
    before = _expression_statistics(org)
    field = f"{OBJECTS}/contact/fields/other_email"
    assert contacts.patch(field, json={"unique": True}).status_code == 200
    made = _expression_statistics(org) - before
    with org.db.write(ddl=True) as conn:
        for name in made:
            conn.exec_driver_sql(f'DROP STATISTICS "{name}"')
    assert _expression_statistics(org) == before
    env = {
        "CRM_DATABASE_URL": org.settings.database_url,
        "CRM_INSTANCE_PATH": str(org.settings.instance_path),
    }
    done = CliRunner().invoke(main, ["upgrade"], env=env)
    assert done.exit_code == 0, done.output
    assert f"Made planner statistics for {len(made)} case-insensitive" in done.output
    assert _expression_statistics(org) - before == made
