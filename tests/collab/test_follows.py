"""Following a record: its owner and creator follow it from the start, anyone who can see
it may follow or unfollow; followers are told of its changes (only the fields they may
read, as they read them) and of its posts; a follower who loses access is told nothing."""

from __future__ import annotations

from tests.collab.helpers import messages

RECORD = "/api/v1/records/opportunity/{}"


def test_followers_are_told_of_changes_they_may_read_only(sales):
    deal = sales.deals[10]
    url = RECORD.format(deal["id"])
    assert sales.manager_api.post(f"{url}/follow").json["following"] is True
    changed = sales.admin_api.patch(url, json={"stage": "Closed Won", "cost_price": "777"})
    assert changed.status_code == 200, changed.json
    # the rep (its owner: a follower from the start) may not read the cost price
    [told] = [m for m in messages(sales.rep_api) if "Deal 11" in m]
    assert told == "Administrator changed Opportunity “Deal 11”: Stage: Closed Won"
    assert any("Deal 11" in m and "Stage: Closed Won" in m for m in messages(sales.manager_api))

    # a change of nothing they may read tells them nothing
    before = len(messages(sales.rep_api))
    sales.admin_api.patch(url, json={"cost_price": "778"})
    assert len(messages(sales.rep_api)) == before

    # whoever unfollows is told no more; whoever made the change is not told of it
    assert sales.manager_api.delete(f"{url}/follow").status_code == 204
    sales.rep_api.patch(url, json={"stage": "Proposal"})
    assert not any("Proposal" in m for m in messages(sales.manager_api))
    assert not any("Proposal" in m for m in messages(sales.rep_api))


def test_followers_are_told_of_posts(sales):
    deal = sales.deals[11]
    url = RECORD.format(deal["id"])
    sales.manager_api.post(f"{url}/follow")
    assert sales.manager_api.get(f"{url}/feed").json["following"] is True
    sales.rep_api.post(f"{url}/feed", json={"body": "Signed today!"})
    assert "Rita Rep posted on Opportunity “Deal 12”: Signed today!" in messages(sales.manager_api)


def test_a_follower_who_loses_access_is_told_nothing(sales):
    deal = sales.deals[12]
    url = RECORD.format(deal["id"])
    shared = sales.rep_api.post(f"{url}/shares", json={"user": sales.other.id, "access": "read"})
    assert shared.status_code == 201, shared.json
    assert sales.other_api.post(f"{url}/follow").status_code == 200
    sales.admin_api.patch(url, json={"stage": "Qualification"})
    assert any("Deal 13" in m for m in messages(sales.other_api))

    key = sales.rep_api.get(f"{url}/shares").json["shares"][0]["key"]
    assert sales.rep_api.delete(f"{url}/shares/{key}").status_code == 204
    before = messages(sales.other_api)
    sales.admin_api.patch(url, json={"stage": "Closed Lost"})
    sales.rep_api.post(f"{url}/feed", json={"body": "lost it"})
    assert messages(sales.other_api) == before
    assert sales.other_api.get(f"{url}/feed").status_code == 404


def test_a_purged_record_takes_its_feed_and_follows_with_it(sales):
    import sqlalchemy as sa

    from crm_platform.collab import feed_posts, record_follows

    deal = sales.deals[13]
    url = RECORD.format(deal["id"])
    sales.rep_api.post(f"{url}/feed", json={"body": "soon gone"})
    assert sales.rep_api.delete(url).status_code == 204
    assert sales.rep_api.post(f"{url}/restore").status_code == 200  # the bin keeps them
    assert [p["body"] for p in sales.rep_api.get(f"{url}/feed").json["posts"]] == ["soon gone"]
    assert sales.rep_api.delete(url).status_code == 204
    assert sales.admin_api.delete(f"{url}?purge=true").status_code == 204
    with sales.org.db.read() as conn:
        for table in (feed_posts, record_follows):
            left = conn.execute(sa.select(table).where(table.c.record_id == deal["id"])).all()
            assert left == []


def test_a_new_owner_follows_the_record_from_then_on(sales):
    deal = sales.deals[14]
    url = RECORD.format(deal["id"])
    moved = sales.admin_api.patch(url, json={"owner_id": sales.manager.id})
    assert moved.status_code == 200, moved.json
    assert sales.manager_api.get(f"{url}/feed").json["following"] is True
    assert not any("Deal 15" in m for m in messages(sales.manager_api))  # not of their own move
    # the rep, its former owner, follows it still but no longer sees it (the manager is
    # above them, not below): told nothing
    assert not any("Deal 15" in m for m in messages(sales.rep_api))
    changed = sales.admin_api.patch(url, json={"stage": "Closed Won"})
    assert changed.status_code == 200, changed.json
    assert "Administrator changed Opportunity “Deal 15”: Stage: Closed Won" in messages(
        sales.manager_api
    )
