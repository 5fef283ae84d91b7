"""A formula or roll-up computed from a field the user may not read is as hidden as that
field, in every output (unless an admin opens it with read_derived, and is warned); a
``visibility: viewer`` roll-up counts only the children the reader may see."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from .conftest import create


@pytest.fixture
def deals(confidential):
    """A client with two deals of the seller and one of another seller; margins set by
    the admin (sellers may not read them), the client's tier too."""
    users = confidential
    client = create(users.admin, "client", name="Acme", tier="Platinum")
    mine = [
        create(users.seller, "deal", name="Small", amount="100", buyer=client["id"]),
        create(users.seller, "deal", name="Medium", amount="200", buyer=client["id"]),
    ]
    theirs = create(users.other_seller, "deal", name="Large", amount="1000", buyer=client["id"])
    for deal, margin in zip([*mine, theirs], ("15", "40", "250"), strict=True):
        changed = users.admin.patch(f"/api/v1/records/deal/{deal['id']}", json={"margin": margin})
        assert changed.status_code == 200, changed.get_json()
    return SimpleNamespace(client=client["id"], mine=[d["id"] for d in mine], theirs=theirs["id"])


def refused_as_unknown(response, name: str) -> None:
    assert response.status_code == 400, response.get_json()
    assert f"unknown field '{name}'" in response.get_data(True)


def test_a_rollup_over_a_hidden_field_is_hidden_in_every_output(confidential, deals):
    seller = confidential.seller
    record = seller.get(f"/api/v1/records/client/{deals.client}").get_json()
    assert "best_margin" not in record
    listed = seller.get("/api/v1/records/client").get_json()["records"]
    # the values, not the text: a random id may hold the digits 250
    assert not [v for r in listed for v in r.values() if v == 250 or v in ("250", "250.00")]

    refused_as_unknown(seller.get("/api/v1/records/client?fields=best_margin"), "best_margin")
    refused_as_unknown(seller.get("/api/v1/records/client?where=best_margin > 100"), "best_margin")
    refused_as_unknown(seller.get("/api/v1/records/client?order_by=-best_margin"), "best_margin")
    refused_as_unknown(
        seller.get("/api/v1/records/client/aggregate?metrics=max(best_margin)"), "best_margin"
    )
    refused_as_unknown(
        seller.get("/api/v1/records/client/aggregate?group_by=best_margin&metrics=count"),
        "best_margin",
    )
    refused_as_unknown(
        seller.get("/api/v1/records/deal?fields=buyer.best_margin"), "buyer.best_margin"
    )


def test_an_admin_reads_the_rollup_over_the_hidden_field(confidential, deals):
    record = confidential.admin.get(f"/api/v1/records/client/{deals.client}").get_json()
    assert str(record["best_margin"]) in {"250", "250.00"}


def test_a_formula_over_a_hidden_field_is_hidden(confidential, deals):
    seller = confidential.seller
    record = seller.get(f"/api/v1/records/deal/{deals.mine[0]}").get_json()
    assert "margin" not in record and "margin_pct" not in record
    assert record["amount_k"] is not None  # computed from readable fields only: shown
    refused_as_unknown(seller.get("/api/v1/records/deal?where=margin_pct > 1"), "margin_pct")
    refused_as_unknown(seller.get("/api/v1/records/deal?order_by=margin_pct"), "margin_pct")
    refused_as_unknown(seller.get("/api/v1/records/deal?fields=margin_pct"), "margin_pct")


def test_a_formula_reading_a_hidden_field_through_a_lookup_is_hidden(confidential, deals):
    seller = confidential.seller
    record = seller.get(f"/api/v1/records/deal/{deals.mine[0]}").get_json()
    assert "client_tier" not in record
    assert "PLATINUM" not in seller.get("/api/v1/records/deal").get_data(True)
    refused_as_unknown(
        seller.get("/api/v1/records/deal?where=client_tier == 'Platinum'"), "client_tier"
    )
    refused_as_unknown(
        seller.get("/api/v1/records/deal/aggregate?group_by=client_tier&metrics=count"),
        "client_tier",
    )
    # and the formula on the client itself, over its own hidden tier
    client = seller.get(f"/api/v1/records/client/{deals.client}").get_json()
    assert "tier" not in client and "tier_label" not in client
    admin_view = confidential.admin.get(f"/api/v1/records/deal/{deals.mine[0]}").get_json()
    assert admin_view["client_tier"] == "Platinum"


def test_a_read_derived_grant_opens_the_derived_field_but_not_its_source(confidential, deals):
    seller = confidential.seller
    mine = seller.get("/api/v1/records/deal?fields=name,margin_band&order_by=name").get_json()
    assert [(r["name"], r["margin_band"]) for r in mine["records"]] == [
        ("Medium", "low"),
        ("Small", "low"),
    ]
    filtered = seller.get("/api/v1/records/deal?where=margin_band == 'low'&count=true")
    assert filtered.get_json()["total"] == 2
    refused_as_unknown(seller.get("/api/v1/records/deal?where=margin > 1"), "margin")


def test_granting_read_derived_in_setup_answers_a_warning(confidential):
    response = confidential.admin.put(
        "/api/v1/metadata/permission_sets/deal_rep",
        json={
            "api_name": "deal_rep",
            "objects": {"deal": {"read": True}},
            "fields": {
                "deal.margin": {"read": False},
                "deal.margin_pct": {"read": True, "read_derived": True},
            },
        },
    )
    assert response.status_code == 200, response.get_json()
    (warning,) = response.headers.get_all("Warning")
    assert "deal.margin_pct" in warning and "deal.margin" in warning and "deal.amount" in warning
    plain = confidential.admin.put(
        "/api/v1/metadata/permission_sets/deal_rep",
        json={
            "api_name": "deal_rep",
            "objects": {"deal": {"read": True}},
            "fields": {"deal.margin": {"read": False}},
        },
    )
    assert plain.headers.get_all("Warning") == []
    pct = confidential.seller.get("/api/v1/records/deal?fields=margin_pct")
    assert pct.status_code == 400  # the grant was taken back


def test_a_rollup_counts_every_child_by_default_even_ones_the_reader_cannot_see(
    confidential, deals
):
    for reader in (confidential.seller, confidential.other_seller, confidential.admin):
        record = reader.get(f"/api/v1/records/client/{deals.client}").get_json()
        assert record["deal_count"] == 3


def test_a_viewer_rollup_counts_only_the_children_the_reader_may_see(confidential, deals):
    expected = {
        "seller": (2, "300"),
        "other_seller": (1, "1000"),
        "manager": (3, "1300"),
        "admin": (3, "1300"),
    }
    for who, (count, amount) in expected.items():
        reader = getattr(confidential, who)
        record = reader.get(f"/api/v1/records/client/{deals.client}").get_json()
        assert (record["seen_deals"], str(record["seen_amount"])) in {
            (count, amount),
            (count, amount + ".00"),
        }, who


def test_a_viewer_rollup_filters_sorts_and_follows_lookups_per_reader(confidential, deals):
    seller = confidential.seller
    found = seller.get("/api/v1/records/client?where=seen_deals == 2&count=true").get_json()
    assert found["total"] == 1
    assert (
        seller.get("/api/v1/records/client?where=seen_deals == 3&count=true").get_json()["total"]
        == 0
    )
    assert seller.get("/api/v1/records/client?order_by=-seen_amount").status_code == 200
    through = seller.get(f"/api/v1/records/deal/{deals.mine[0]}?fields=buyer.seen_deals")
    assert through.get_json()["buyer.seen_deals"] == 2
    other = confidential.other_seller.get(
        f"/api/v1/records/deal/{deals.theirs}?fields=buyer.seen_deals"
    )
    assert other.get_json()["buyer.seen_deals"] == 1


def test_a_viewer_rollup_over_its_own_object_is_refused_in_setup(confidential):
    response = confidential.admin.post(
        "/api/v1/metadata/objects/client/fields",
        json={
            "api_name": "children_seen",
            "type": "rollup_summary",
            "relation": "deal.buyer",
            "function": "count",
            "visibility": "everyone",
        },
    )
    assert response.status_code == 400
    assert "visibility" in response.get_data(True)


def test_a_formula_over_a_granted_formula_over_a_hidden_field_stays_hidden(confidential, deals):
    """A read_derived grant opens one field: a formula reading it still depends on the
    hidden field underneath (grant that formula too to open it)."""
    added = confidential.admin.post(
        "/api/v1/metadata/objects/deal/fields",
        json={
            "api_name": "band_label",
            "type": "formula",
            "return_type": "text",
            "expression": "UPPER(margin_band)",
        },
    )
    assert added.status_code == 201, added.get_json()

    seller = confidential.seller
    assert "band_label" not in seller.get(f"/api/v1/records/deal/{deals.mine[0]}").get_json()
    refused_as_unknown(seller.get("/api/v1/records/deal?where=band_label == 'LOW'"), "band_label")
    admin_view = confidential.admin.get(f"/api/v1/records/deal/{deals.theirs}").get_json()
    assert admin_view["band_label"] == "HIGH"
