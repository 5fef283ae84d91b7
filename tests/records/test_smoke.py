from decimal import Decimal


def test_crud(api, load_fixture):
    load_fixture("sales")
    acc = api.post("/api/v1/records/account", json={"name": "Acme", "industry": "Retail"})
    assert acc.status_code == 201, acc.get_json()
    acc_id = acc.get_json()["id"]
    opp = api.post(
        "/api/v1/records/opportunity",
        json={"name": "Big", "amount": 1000, "probability": Decimal("25"), "account": acc_id},
    )
    assert opp.status_code == 201, opp.get_json()
    body = opp.get_json()
    print(body)
    assert body["expected_revenue"] == Decimal("250.00")
    assert body["number"] == "OPP-00001"
    got = api.get(f"/api/v1/records/account/{acc_id}").get_json()
    print(got)
    assert got["open_pipeline"] == Decimal("1000.00")
    lst = api.get(
        "/api/v1/records/opportunity?where=amount > 10&fields=name,account.industry,expected_revenue&order_by=-amount&count=true"
    ).get_json()
    print(lst)
