"""The sales pack ships standard duplicate rules that warn: a contact file imported a
second time lets its rows in (two people may share an address), says how many may
duplicate, and `crm duplicates` then finds them to merge."""

from __future__ import annotations

import csv

from tests.conftest import ADMIN_EMAIL

from .shipped_helpers import install_shipped


def _admin(org):
    from crm_platform.runtime import find_user

    with org.db.read() as conn:
        return find_user(conn, ADMIN_EMAIL)


def _import(org, path):
    from crm_platform.imports import Importer, ImportOptions, Source, infer

    admin = _admin(org)
    source = Source(path)
    importer = Importer(org, admin, source, infer(org, source, "contact").mapping, ImportOptions())
    return importer.run(importer.start())


def test_a_contact_file_imported_twice_warns_of_every_row_and_shows_as_clusters(org, tmp_path):
    from crm_platform.dedupe import duplicate_clusters

    install_shipped(org, "sales", with_sample=False)
    components = org.metadata.list_components("duplicate_rule")
    rules = {f"{rule['object']}.{rule['api_name']}" for rule in components}
    assert {"contact.same_email", "lead.same_email"} <= rules
    path = tmp_path / "contacts.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(["First name", "Last name", "Email"])
        out.writerows([f"P{i}", f"Person {i}", f"p{i}@example.com"] for i in range(30))
    first = _import(org, path)
    assert (first.created, first.warned) == (30, 0)
    again = _import(org, path)
    assert (again.created, again.rejected, again.warned) == (30, 0, 30)
    with org.records.session(_admin(org), write=False) as session:
        report = duplicate_clusters(session, "contact")
    assert report.total == 30 and all(len(c.records) == 2 for c in report.clusters)
