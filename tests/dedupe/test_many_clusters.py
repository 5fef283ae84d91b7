"""Many duplicates at once: a legacy load left 60 pairs of accounts sharing an email, and
the clusters list shows every pair with both its records (their records are read back in
pieces the list's `where` accepts, whatever their number)."""

from __future__ import annotations

from tests.conftest import insert_rows


def test_sixty_pairs_of_duplicates_are_listed_with_their_records(dd):
    rows = []
    for i in range(60):
        rows.append({"name": f"Legacy {i:02} Ltd", "email": f"office{i}@legacy.example"})
        rows.append({"name": f"Legacy {i:02} Limited", "email": f"Office{i}@Legacy.example"})
    ids = insert_rows(dd.org, "account", rows)

    response = dd.api.get("/api/v1/records/account/duplicates?rule=same_email&limit=100")

    assert response.status_code == 200, response.get_json()
    clusters = response.get_json()["clusters"]
    assert len(clusters) == 60
    assert sorted(r["id"] for c in clusters for r in c["records"]) == sorted(ids)
    assert all(len(c["records"]) == 2 for c in clusters)
