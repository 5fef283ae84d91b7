"""Colleagues discuss a deal in its feed: a rep posts, their manager comments; a mention
tells someone who can see the deal and tells nothing to someone who cannot (only the
author learns it was not delivered); whoever cannot see the deal cannot see or write its
feed (404, as for the deal itself); bad input is a 400 naming the field."""

from __future__ import annotations

from tests.collab.helpers import messages

FEED = "/api/v1/records/opportunity/{}/feed"


def test_a_rep_posts_and_their_manager_comments(sales):
    deal = sales.deals[0]
    feed = FEED.format(deal["id"])
    posted = sales.rep_api.post(feed, json={"body": "Call the buyer <b>today</b>"})
    assert posted.status_code == 201, posted.json
    post = posted.json
    assert posted.headers["Location"] == f"{feed}/{post['id']}"
    assert post["author"]["name"] == "Rita Rep" and post["mine"] is True
    assert post["html"] == "Call the buyer &lt;b&gt;today&lt;/b&gt;"  # text, never HTML

    comment = sales.manager_api.post(f"{feed}/{post['id']}/comments", json={"body": "Done?"})
    assert comment.status_code == 201, comment.json
    assert comment.json["parent_id"] == post["id"]

    seen = sales.rep_api.get(feed).json
    assert [p["body"] for p in seen["posts"]] == ["Call the buyer <b>today</b>"]
    assert [c["body"] for c in seen["posts"][0]["comments"]] == ["Done?"]
    assert seen["posts"][0]["comments"][0]["mine"] is False
    assert seen["following"] is True  # the owner follows their record
    # the rep follows the deal (its owner, and its poster): told of the comment
    assert "Mona Manager commented on Opportunity “Deal 01”: Done?" in messages(sales.rep_api)


def test_a_mention_notifies_only_who_can_see_the_record(sales):
    deal = sales.deals[1]
    body = f"@[user:{sales.manager.id}] and @other@example.com: look at the price"
    posted = sales.rep_api.post(FEED.format(deal["id"]), json={"body": body})
    assert posted.status_code == 201, posted.json
    post = posted.json
    assert post["body"] == (
        f"@[user:{sales.manager.id}] and @[user:{sales.other.id}]: look at the price"
    )
    assert '<a class="mention"' in post["html"] and "@Mona Manager" in post["html"]
    by_name = {m["name"]: m for m in post["mentions"]}
    assert by_name["Mona Manager"]["delivered"] is True
    assert by_name["Oscar Other"]["delivered"] is False  # the author is told

    told = messages(sales.manager_api)
    assert (
        "Rita Rep mentioned you on Opportunity “Deal 02”: @Mona Manager and @Oscar Other: "
        "look at the price"
    ) in told
    # the other rep cannot see the deal: no notification, nothing names it
    assert not [m for m in messages(sales.other_api) if "Deal 02" in m or "Rita" in m]
    # readers who are not the author do not see whether a mention was delivered
    theirs = sales.manager_api.get(f"{FEED.format(deal['id'])}/{post['id']}").json
    assert all("delivered" not in m for m in theirs["mentions"])


def test_a_group_mention_tells_only_the_members_who_can_see(sales):
    deal = sales.deals[2]
    posted = sales.rep_api.post(FEED.format(deal["id"]), json={"body": "@[group:deal_desk] ok?"})
    assert posted.status_code == 201, posted.json
    [mention] = posted.json["mentions"]
    assert mention == {
        "kind": "group",
        "id": "deal_desk",
        "name": "deal_desk",
        "delivered": False,
        "not_delivered": 1,
    }
    assert any("Deal 03" in m for m in messages(sales.manager_api))
    assert not any("Deal 03" in m for m in messages(sales.other_api))


def test_who_cannot_see_the_record_cannot_see_or_write_its_feed(sales):
    deal = sales.deals[3]
    feed = FEED.format(deal["id"])
    post = sales.rep_api.post(feed, json={"body": "internal"}).json
    other = sales.other_api
    assert other.get(f"/api/v1/records/opportunity/{deal['id']}").status_code == 404
    for response in (
        other.get(feed),
        other.post(feed, json={"body": "hello"}),
        other.get(f"{feed}/{post['id']}"),
        other.post(f"{feed}/{post['id']}/comments", json={"body": "hi"}),
        other.patch(f"{feed}/{post['id']}", json={"body": "x"}),
        other.delete(f"{feed}/{post['id']}"),
        other.post(f"/api/v1/records/opportunity/{deal['id']}/follow"),
    ):
        assert response.status_code == 404, response.json
        assert "internal" not in response.get_data(as_text=True)
    assert [p["body"] for p in sales.rep_api.get(feed).json["posts"]] == ["internal"]
    # the secret deal of the other rep: the rep gets the same 404
    assert sales.rep_api.get(FEED.format(sales.secret["id"])).status_code == 404


def test_authors_edit_and_delete_their_own_posts_only(sales):
    feed = FEED.format(sales.deals[4]["id"])
    post = sales.rep_api.post(feed, json={"body": "first draft"}).json
    assert sales.manager_api.patch(f"{feed}/{post['id']}", json={"body": "x"}).status_code == 403
    assert sales.manager_api.delete(f"{feed}/{post['id']}").status_code == 403
    edited = sales.rep_api.patch(
        f"{feed}/{post['id']}", json={"body": f"final, @[user:{sales.manager.id}]"}
    )
    assert edited.status_code == 200 and edited.json["edited"] is True
    assert any("Deal 05" in m for m in messages(sales.manager_api))  # a new mention is told
    comment = sales.manager_api.post(f"{feed}/{post['id']}/comments", json={"body": "ok"}).json
    assert sales.rep_api.delete(f"{feed}/{post['id']}").status_code == 204
    assert sales.rep_api.get(feed).json["posts"] == []
    assert sales.manager_api.get(f"{feed}/{comment['id']}").status_code == 404  # went too


def test_bad_input_is_refused_naming_the_field(sales):
    feed = FEED.format(sales.deals[5]["id"])
    rep = sales.rep_api
    cases = [
        ({"body": "   "}, "body"),
        ({"body": "x" * 10_001}, "body"),
        ({"body": "hi @[user:nobody-here]"}, "body"),
        ({"body": "hi @[group:no_such_group]"}, "body"),
        ({"body": "hi", "pinned": True}, "pinned"),
        ({"text": "hi"}, "text"),
        ({"body": 5}, "body"),
        (["hi"], "body"),
    ]
    for data, field in cases:
        response = rep.post(feed, json=data)
        assert response.status_code == 400, (data, response.json)
        assert response.headers["Content-Type"] == "application/problem+json"
        assert field in response.json["errors"], response.json
    assert rep.get(feed).json["posts"] == []  # nothing was written
    post = rep.post(feed, json={"body": "a post"}).json
    comment = rep.post(f"{feed}/{post['id']}/comments", json={"body": "a comment"}).json
    assert rep.post(f"{feed}/{comment['id']}/comments", json={"body": "no"}).status_code == 404
    assert rep.get(f"{feed}?limit=0").status_code == 400
    assert rep.get(f"{feed}?cursor=../x").status_code == 400
    assert rep.get(f"{feed}?since=1").status_code == 400  # an unknown parameter
    assert rep.get(f"{feed}/no-such-post").status_code == 404
    assert rep.patch(f"{feed}/no-such-post", json={"body": "x"}).status_code == 404
    assert rep.post("/api/v1/records/nothing/x/feed", json={"body": "x"}).status_code == 404
