"""Many duplicates at once: a legacy load left 60 pairs of accounts sharing an email, and
the clusters list shows every pair with both its records (their records are read back in
pieces the list's `where` accepts, whatever their number)."""

from __future__ import annotations

import random
import string

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


def test_company_names_sharing_a_legal_form_are_not_one_block(dd):
    """600 Chinese companies all end in 有限公司: their names are compared within blocks of
    what precedes it, so the report is whole and the one real pair is found."""
    # two-character words, no character shared: any two names differ in two places
    chars = [chr(0x4E00 + 7 * k) for k in range(100)]
    first = [chars[2 * i] + chars[2 * i + 1] for i in range(30)]
    second = [chars[60 + 2 * i] + chars[61 + 2 * i] for i in range(20)]
    rows = [{"name": f"{a}{b}科技有限公司"} for a in first for b in second]
    rows += [{"name": "北京华为技术有限公司"}, {"name": "北京华为技朮有限公司"}]
    insert_rows(dd.org, "account", rows)

    response = dd.api.get("/api/v1/records/account/duplicates?rule=same_name&limit=100")

    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["truncated_blocks"] == 0
    names = [sorted(r["name"] for r in c["records"]) for c in body["clusters"]]
    chinese = [n for n in names if n[0].endswith("有限公司")]  # (the module's others aside)
    assert chinese == [["北京华为技朮有限公司", "北京华为技术有限公司"]]


def test_english_company_names_ending_in_inc_are_not_one_block(dd):
    words = ["".join(random.Random(i).choices(string.ascii_lowercase, k=9)) for i in range(600)]
    rows = [{"name": f"{w.title()} Inc."} for w in words]
    rows += [{"name": "Globex Industries Inc."}, {"name": "Globex Industires Inc."}]
    insert_rows(dd.org, "account", rows)

    response = dd.api.get("/api/v1/records/account/duplicates?rule=same_name&limit=100")

    body = response.get_json()
    assert body["truncated_blocks"] == 0
    names = [sorted(r["name"] for r in c["records"]) for c in body["clusters"]]
    assert ["Globex Industires Inc.", "Globex Industries Inc."] in names
    assert not [n for n in names if n[0].endswith("Inc.") and not n[0].startswith("Globex")]
