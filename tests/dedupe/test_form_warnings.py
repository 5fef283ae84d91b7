"""Duplicate rules in the pages: a block shows in the form beside the field, with
nothing saved; a warning lets the record in and shows on the record page it opens."""

from __future__ import annotations

from html import unescape

from tests.dedupe.conftest import REP_PASSWORD, create
from tests.web.test_pages import field_error, sign_in, text


def test_a_block_shows_beside_the_field_and_saves_nothing(dd):
    mine = create(dd.rep, "account", {"name": "Oscorp", "email": "norman@oscorp.com"}).get_json()
    rep = sign_in(dd.app, "rep@example.com", REP_PASSWORD)
    form = {"csrf_token": rep.token, "name": "Oscorp Labs", "email": "Norman@Oscorp.com"}
    answer = rep.post("/o/account/new", data=form)
    assert answer.status_code == 409
    [message] = field_error(text(answer), "email")
    assert "Same email" in unescape(message) and "Oscorp" in unescape(message)
    assert mine["id"] in unescape(message)
    listed = dd.rep.get("/api/v1/records/account?where=name == 'Oscorp Labs'").get_json()
    assert listed["records"] == []


def test_a_warning_lets_the_record_in_and_shows_on_the_next_page(dd):
    create(dd.rep, "account", {"name": "Massive Dynamic"})
    hidden = create(dd.api, "account", {"name": "Umbrella Corporation"}).get_json()
    rep = sign_in(dd.app, "rep@example.com", REP_PASSWORD)
    form = {"csrf_token": rep.token, "name": "MASSIVE  dynamic"}
    answer = rep.post("/o/account/new", data=form)
    assert answer.status_code == 302, text(answer)
    page = unescape(text(rep.get(answer.headers["Location"])))
    assert "Saved, but it may duplicate Massive Dynamic (duplicate rule: Similar name)." in page
    answer = rep.post(
        "/o/account/new", data={"csrf_token": rep.token, "name": "Umbrella corporation"}
    )
    assert answer.status_code == 302
    page = unescape(text(rep.get(answer.headers["Location"])))
    assert "a duplicate you cannot see may exist (duplicate rule: Similar name)" in page
    assert hidden["id"] not in page
    chinese = rep.post(
        "/o/account/new",
        data={"csrf_token": rep.token, "name": "massive Dynamic"},
        headers={"Accept-Language": "zh-CN"},
    )
    page = unescape(
        text(rep.get(chinese.headers["Location"], headers={"Accept-Language": "zh-CN"}))
    )
    assert "已保存，但可能与 Massive Dynamic" in page and "重复规则：名称相似" in page


def test_mass_edit_meets_the_rules_all_or_none(dd):
    first = create(dd.rep, "account", {"name": "Aperture", "email": "cave@aperture.com"})
    second = create(dd.rep, "account", {"name": "Black Mesa", "email": "gordon@mesa.com"})
    ids = [first.get_json()["id"], second.get_json()["id"]]
    rep = sign_in(dd.app, "rep@example.com", REP_PASSWORD)
    form = {"csrf_token": rep.token, "ids": ids, "field": "email", "apply": "1"}
    refused = rep.post("/o/account/mass/edit", data={**form, "email": "lab@aperture.com"})
    html = unescape(text(refused))
    assert refused.status_code == 400 and "Same email" in html and "Aperture" in html
    emails = {dd.rep.get(f"/api/v1/records/account/{i}").get_json()["email"] for i in ids}
    assert emails == {"cave@aperture.com", "gordon@mesa.com"}  # none changed
