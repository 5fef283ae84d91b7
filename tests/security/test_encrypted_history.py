"""Encrypted fields never leave their column in plaintext: not through field history,
the search index or the platform's tables, and they read masked without view_encrypted."""

from __future__ import annotations

import sqlalchemy as sa

from crm_platform.core.tables import field_history

from .conftest import create

NOTE = "IBAN DE89 3704 0044 0532 0130 00"
NEW_NOTE = "IBAN FR14 2004 1010 0505 0001 3029"


def masked(value: str) -> str:
    """How a ``mask: last4`` field shows without view_encrypted."""
    return "*" * (len(value) - 4) + value[-4:]


def client_with_changed_note(admin) -> str:
    client = create(admin, "client", name="Acme", secret_note=NOTE)
    changed = admin.patch(f"/api/v1/records/client/{client['id']}", json={"secret_note": NEW_NOTE})
    assert changed.status_code == 200, changed.get_json()
    return client["id"]


def note_history(client, record_id: str) -> list[dict]:
    response = client.get(f"/api/v1/records/client/{record_id}/history")
    assert response.status_code == 200, response.get_json()
    return [e for e in response.get_json()["history"] if e["field"] == "secret_note"]


def test_field_history_of_an_encrypted_field_holds_no_plaintext_on_disk(org, confidential):
    record_id = client_with_changed_note(confidential.admin)

    with org.db.read() as conn:
        stored = conn.execute(
            sa.select(field_history.c.old_value, field_history.c.new_value).where(
                field_history.c.record_id == record_id, field_history.c.field == "secret_note"
            )
        ).one()
    for value in stored:
        assert isinstance(value, str) and value.startswith("v1:")
        assert "IBAN" not in value and "3000" not in value and "3029" not in value


def test_field_history_of_an_encrypted_field_reads_masked_without_view_encrypted(confidential):
    record_id = client_with_changed_note(confidential.admin)

    (entry,) = note_history(confidential.seller, record_id)
    assert (entry["old_value"], entry["new_value"]) == (masked(NOTE), masked(NEW_NOTE))
    body = confidential.seller.get(f"/api/v1/records/client/{record_id}/history").get_data(True)
    assert "IBAN" not in body


def test_field_history_of_an_encrypted_field_reads_plaintext_with_view_encrypted(confidential):
    record_id = client_with_changed_note(confidential.admin)

    for reader in (confidential.keeper, confidential.admin):
        (entry,) = note_history(reader, record_id)
        assert (entry["old_value"], entry["new_value"]) == (NOTE, NEW_NOTE)


def test_a_history_ciphertext_swapped_in_from_another_field_is_never_shown(org, confidential):
    record_id = client_with_changed_note(confidential.admin)
    other = create(confidential.admin, "client", name="Other", secret_note="x")
    with org.db.write() as conn:
        client = org.models.model_for(conn).objects["client"]
        column = client.fields["secret_note"].columns[""]
        sealed = conn.execute(
            sa.select(column).where(client.table.c.id == other["id"])
        ).scalar_one()
        conn.execute(
            field_history.update()
            .where(field_history.c.record_id == record_id)
            .values(old_value=sealed)
        )

    (entry,) = note_history(confidential.keeper, record_id)
    assert entry["old_value"] == "********"
    assert entry["new_value"] == NEW_NOTE


def test_fields_naming_an_encrypted_field_work_for_an_admin_who_holds_view_encrypted(
    confidential,
):
    record = create(confidential.admin, "client", name="Acme", secret_note=NOTE)
    path = f"/api/v1/records/client/{record['id']}?fields=name,secret_note"

    shown = confidential.admin.get(path)
    assert shown.status_code == 200, shown.get_json()
    assert shown.get_json()["secret_note"] == NOTE
    listed = confidential.admin.get("/api/v1/records/client?fields=secret_note").get_json()
    assert [r["secret_note"] for r in listed["records"]] == [NOTE]
    assert confidential.keeper.get(path).get_json()["secret_note"] == NOTE


def test_fields_naming_an_encrypted_field_show_it_masked_without_view_encrypted(confidential):
    record = create(confidential.admin, "client", name="Acme", secret_note=NOTE)

    shown = confidential.seller.get(f"/api/v1/records/client/{record['id']}?fields=secret_note")
    assert shown.status_code == 200, shown.get_json()
    assert shown.get_json()["secret_note"] == masked(NOTE)


def test_an_encrypted_field_cannot_be_filtered_or_sorted_on_even_by_an_admin(confidential):
    create(confidential.admin, "client", name="Acme", secret_note=NOTE)

    for query in ("where=secret_note == 'x'", "order_by=secret_note"):
        response = confidential.admin.get(f"/api/v1/records/client?{query}")
        assert response.status_code == 400
        assert "unknown field 'secret_note'" in response.get_data(True)


def test_search_never_indexes_the_plaintext_of_an_encrypted_field(org, confidential):
    record = create(confidential.admin, "client", name="Acme", secret_note="zebracode 1234")
    confidential.admin.patch(
        f"/api/v1/records/client/{record['id']}", json={"secret_note": "zebracode 5678"}
    )

    for reader in (confidential.admin, confidential.keeper, confidential.seller):
        assert reader.get("/api/v1/search?q=zebracode").get_json()["results"] == []
    with org.db.read() as conn:
        bodies = [r[0] for r in conn.exec_driver_sql("SELECT body FROM sys_search")]
    assert not any("zebracode" in (b or "") for b in bodies)


def test_crm_upgrade_encrypts_history_written_in_plaintext_before(
    org, confidential, database_url, tmp_path
):
    from click.testing import CliRunner

    from crm_platform.cli import main
    from crm_platform.core import new_id, utc_now

    record = create(confidential.admin, "client", name="Acme", secret_note=NEW_NOTE)
    with org.db.write() as conn:  # a row as history kept it before it was encrypted
        conn.execute(
            field_history.insert().values(
                id=new_id(),
                object="client",
                record_id=record["id"],
                field="secret_note",
                old_value=NOTE,
                new_value=NEW_NOTE,
                changed_by=confidential.seller.user_id,
                changed_at=utc_now(),
            )
        )
    env = {"CRM_DATABASE_URL": database_url, "CRM_INSTANCE_PATH": str(tmp_path / "instance")}

    result = CliRunner().invoke(main, ["upgrade"], env=env, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "in 1 rows" in result.output

    with org.db.read() as conn:
        stored = conn.execute(
            sa.select(field_history.c.old_value, field_history.c.new_value).where(
                field_history.c.record_id == record["id"]
            )
        ).one()
    assert all(v.startswith("v1:") for v in stored)
    (entry,) = note_history(confidential.keeper, record["id"])
    assert (entry["old_value"], entry["new_value"]) == (NOTE, NEW_NOTE)
    (entry,) = note_history(confidential.seller, record["id"])
    assert entry["new_value"] == masked(NEW_NOTE)
    again = CliRunner().invoke(main, ["upgrade"], env=env, catch_exceptions=False)
    assert "Encrypted" not in again.output
