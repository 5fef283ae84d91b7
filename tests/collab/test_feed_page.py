"""The record page's feed through the Flask test client: the rep posts with a mention (a
link to the person), comments, sees the post in the activity timeline beside the tasks
logged against the deal, newest first; Follow/Unfollow; an empty post is refused with
the field named; a record the user cannot see has no feed for them either."""

from __future__ import annotations

import re
from html import unescape

import pytest

from tests.collab.helpers import messages
from tests.web.sales_org import MANAGER_EMAIL, OTHER_EMAIL
from tests.web.test_pages import sign_in, text


@pytest.fixture(scope="module")
def rep(sales):
    return sign_in(sales.app)


def _post(client, url: str, **data):
    return client.post(url, data={"csrf_token": client.token, **data})


def test_a_rep_posts_with_a_mention_and_comments_on_the_record_page(sales, rep):
    deal = sales.deals[20]
    page = f"/r/opportunity/{deal['id']}"
    task = sales.admin_api.post(
        "/api/v1/records/task", json={"subject": "Send the quote", "opportunity": deal["id"]}
    )
    assert task.status_code == 201, task.json
    sent = _post(rep, f"{page}/feed", body="@manager@example.com can you <i>approve</i>?")
    assert sent.status_code == 302 and sent.headers["Location"] == f"{page}#feed"
    html = text(rep.get(page))
    post = re.search(r'<li class="feed-post.*?</li>\s*</ol>', html, re.S).group(0)
    assert '<a class="mention"' in post and ">@Mona Manager</a>" in post
    assert "&lt;i&gt;approve&lt;/i&gt;" in post  # shown as typed, never as HTML
    assert any("mentioned you" in m and "Deal 21" in m for m in messages(sales.manager_api))

    post_id = re.search(r'data-post="([^"]+)"', html).group(1)
    _post(rep, f"{page}/feed/{post_id}/comments", body="(it is urgent)")
    html = text(rep.get(page))
    assert "(it is urgent)" in html
    timeline = re.search(
        r'<ol class="list-group list-group-flush timeline-entries">.*?</ol>', html, re.S
    )
    kinds = re.findall(r'data-object="([^"]+)"', timeline.group(0))
    assert kinds[:2] == ["feed_post", "task"]  # the newest first, posts and tasks merged


def test_an_empty_post_is_refused_naming_the_field(sales, rep):
    page = f"/r/opportunity/{sales.deals[21]['id']}"
    refused = _post(rep, f"{page}/feed", body="   ")
    html = text(rep.get(refused.headers["Location"]))
    assert "body: write some text" in unescape(html)
    assert 'class="feed-empty"' in html or "No posts yet." in html


def test_follow_and_unfollow_from_the_record_page(sales):
    manager = sign_in(sales.app, MANAGER_EMAIL)
    page = f"/r/opportunity/{sales.deals[22]['id']}"
    assert ">Follow</button>" in text(manager.get(page))
    _post(manager, f"{page}/follow", follow="1")
    assert ">Unfollow</button>" in text(manager.get(page))
    sales.admin_api.patch(
        f"/api/v1/records/opportunity/{sales.deals[22]['id']}", json={"amount": "4321"}
    )
    assert any("Deal 23" in m and "4321" in m for m in messages(sales.manager_api))
    _post(manager, f"{page}/follow", follow="0")
    assert ">Follow</button>" in text(manager.get(page))


def test_no_feed_for_a_record_the_user_cannot_see(sales):
    other = sign_in(sales.app, OTHER_EMAIL)
    page = f"/r/opportunity/{sales.deals[23]['id']}"
    assert other.get(page).status_code == 404
    assert _post(other, f"{page}/feed", body="hello").status_code == 404
    assert _post(other, f"{page}/follow", follow="1").status_code == 404
    assert (
        sales.rep_api.get(f"/api/v1/records/opportunity/{sales.deals[23]['id']}/feed").json["posts"]
        == []
    )


def test_the_timeline_picks_up_any_object_named_as_an_activity(sales):
    from tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD

    email = {
        "api_name": "email_message",
        "label": "Email",
        "fields": [
            {"api_name": "subject", "type": "text"},
            {"api_name": "opportunity", "type": "lookup", "target": "opportunity"},
        ],
        "name_field": "subject",
    }
    assert sales.admin_api.post("/api/v1/metadata/objects", json=email).status_code == 201
    deal = sales.deals[24]
    made = sales.admin_api.post(
        "/api/v1/records/email_message", json={"subject": "Re: renewal", "opportunity": deal["id"]}
    )
    assert made.status_code == 201, made.json
    admin = sign_in(sales.app, ADMIN_EMAIL, ADMIN_PASSWORD)
    sales.admin_api.post(f"/api/v1/records/opportunity/{deal['id']}/feed", json={"body": "sent"})
    html = text(admin.get(f"/r/opportunity/{deal['id']}"))
    timeline = re.search(
        r'<ol class="list-group list-group-flush timeline-entries">.*?</ol>', html, re.S
    )
    assert re.findall(r'data-object="([^"]+)"', timeline.group(0)) == ["feed_post", "email_message"]
    assert "Re: renewal" in timeline.group(0)
