"""Global search, ``/search?q=``: a rep finds records across objects, grouped by object
in their language, with a few key columns and a link to each object's list — and only
what they may see."""

from __future__ import annotations

import re
from html import unescape

import pytest

from tests.web.sales_org import sales_app
from tests.web.test_pages import sign_in, text


@pytest.fixture(scope="module")
def sales(tmp_path_factory):
    with sales_app(tmp_path_factory) as found:
        yield found


@pytest.fixture(scope="module")
def rep(sales):
    return sign_in(sales.app)


def groups(html: str) -> dict[str, list[str]]:
    """Object -> the names of its hits, as the page lists them."""
    found = {}
    for obj, body in re.findall(r'data-object="(\w+)"(.*?)</section>', html, re.S):
        found[obj] = [unescape(n) for n in re.findall(r'class="search-hit"[^>]*>([^<]+)<', body)]
    return found


def test_the_frame_has_a_search_box_on_every_page(sales, rep):
    for url in ("/", "/o/opportunity", f"/r/account/{sales.acme['id']}"):
        html = text(rep.get(url))
        assert 'action="/search"' in html and 'for="global-q"' in html


def test_a_rep_finds_records_across_objects_grouped_by_object(sales, rep):
    html = text(rep.get("/search?q=Acme"))
    assert groups(html) == {"account": ["Acme"]}
    assert html.count("<h1") == 1 and "Search results for “Acme”" in unescape(html)

    deals = text(rep.get("/search?q=Deal 2"))
    found = groups(deals)
    assert list(found) == ["opportunity"]
    assert len(found["opportunity"]) == 5 and all(
        n.startswith("Deal 2") for n in found["opportunity"]
    )
    section = re.search(r'data-object="opportunity".*?</section>', deals, re.S).group(0)
    # a few key columns of the object's first list view, the lookup by its name
    assert ">Amount</th>" in section and ">Stage</th>" in section
    assert ">Acme</td>" in section or ">Globex</td>" in section
    # more than shown: a link to the list, narrowed by the same words
    assert 'href="/o/opportunity?q=Deal+2"' in section and "All 10 in Opportunities" in section


def test_search_shows_nothing_the_rep_may_not_see(sales, rep):
    html = text(rep.get("/search?q=Secret merger"))
    assert groups(html) == {} and 'id="no-results"' in html
    assert sales.secret["id"] not in html
    other = sign_in(sales.app, "other@example.com")
    assert groups(text(other.get("/search?q=Secret merger"))) == {"opportunity": ["Secret merger"]}


def test_search_speaks_the_users_language(sales, rep):
    html = text(rep.get("/search?q=Deal 1", headers={"Accept-Language": "zh-CN"}))
    assert ">商机 <span" in html  # the object's label in Chinese
    assert "搜索" in html and ">名称</th>" in html


def test_an_empty_or_too_long_search_asks_again(sales, rep):
    empty = rep.get("/search?q=")
    assert empty.status_code == 200 and 'id="search-q"' in text(empty)
    assert groups(text(empty)) == {}
    long = text(rep.get("/search?q=" + "x" * 201))
    assert 'id="search-error"' in long and "200" in long


def test_the_more_link_opens_the_list_narrowed_in_the_users_language(sales, rep):
    listed = text(rep.get("/o/opportunity?q=Deal+2", headers={"Accept-Language": "zh-CN"}))
    assert "10 条记录" in listed and "匹配“Deal 2”" in listed
    assert "10 records" in text(rep.get("/o/opportunity?q=Deal+2"))
