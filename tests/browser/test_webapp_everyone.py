"""Everyone's screen, in a real browser: axe-core (installed from the npm registry at
test time, never committed) finds no WCAG 2.1 A/AA violation on the home, list, record,
form and search pages; global search finds only what the rep may see; a user whose
preference is Chinese sees Chinese UI words and labels whatever their browser says; on a
phone nothing scrolls sideways; assets are served with cache headers.

Screenshots go to ``build/screenshots/webapp`` beside the other pages' (``shoot``)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import requests

from tests.browser.test_webapp import (  # noqa: F401  (fixtures)
    DESKTOP,
    go,
    live,
    page,
    shoot,
    sign_in,
)
from tests.web.sales_org import MANAGER_EMAIL

pytestmark = pytest.mark.slow
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


@pytest.fixture(scope="session")
def axe_script(tmp_path_factory) -> Path:
    """axe-core's script, installed by npm into a temporary folder."""
    npm = shutil.which("npm")
    if npm is None:
        if os.environ.get("CI"):
            pytest.fail("npm is needed for the accessibility check (apt-get install npm)")
        pytest.skip("no npm: the accessibility check needs axe-core from the npm registry")
    folder = tmp_path_factory.mktemp("axe")
    done = subprocess.run(
        [
            npm,
            "install",
            "--prefix",
            str(folder),
            "--no-audit",
            "--no-fund",
            "--silent",
            "axe-core@4",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    script = folder / "node_modules" / "axe-core" / "axe.min.js"
    if done.returncode != 0 or not script.exists():
        message = f"npm install axe-core failed: {done.stderr[-2000:]}"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return script


def violations(tab, axe_script: Path) -> list[str]:
    """axe-core's WCAG 2.1 A/AA violations on the page as it is now."""
    tab.add_script_tag(path=str(axe_script))
    found = tab.evaluate(
        "async tags => (await axe.run(document, {runOnly: {type: 'tag', values: tags}}))"
        ".violations.map(v => ({id: v.id, help: v.help,"
        " nodes: v.nodes.slice(0, 3).map(n => n.target.join(' ') + ': ' + n.failureSummary)}))",
        AXE_TAGS,
    )
    return [json.dumps(v, ensure_ascii=False) for v in found]


def test_every_page_passes_axe(page, live, axe_script):  # noqa: F811  (fixtures)
    page.goto(f"{live.url}/login")
    assert violations(page, axe_script) == [], "login"
    sign_in(page, live)
    pages = {
        "home": "/",
        "list": "/o/opportunity",
        "record": f"/r/opportunity/{live.deals[0]['id']}",
        "record-account": f"/r/account/{live.acme['id']}",
        "form": "/o/opportunity/new",
        "search": "/search?q=Deal 1",
    }
    for name, url in pages.items():
        page.goto(f"{live.url}{url}")
        assert violations(page, axe_script) == [], name
        assert page.locator("h1").count() == 1, name
        for width in (DESKTOP["width"], 390):
            page.set_viewport_size({"width": width, "height": 844})
            scroll = page.evaluate("document.scrollingElement.scrollWidth")
            assert scroll <= width, f"{name} scrolls sideways at {width}px: {scroll}px"
        page.set_viewport_size(DESKTOP)


def test_a_rep_searches_across_objects_from_the_frame(page, live):  # noqa: F811  (fixtures)
    sign_in(page, live)
    page.fill("#global-q", "Acme")
    with page.expect_navigation():
        page.press("#global-q", "Enter")
    assert page.locator("[data-object=account] a.search-hit").all_text_contents() == ["Acme"]
    shoot(page, "search")
    page.fill("#search-q", "Deal 2")
    go(page, "main button[type=submit]")
    group = page.locator("[data-object=opportunity]")
    assert group.locator("a.search-hit").count() == 5
    go(page, "[data-object=opportunity] a.more-link")
    assert "/o/opportunity?q=Deal+2" in page.url
    assert "10 records" in page.text_content("#row-count")
    page.goto(f"{live.url}/search?q=Secret merger")
    assert page.locator("a.search-hit").count() == 0
    assert page.locator("#no-results").count() == 1


def test_home_shows_the_dashboard_on_desktop_and_phone(page, live):  # noqa: F811  (fixtures)
    sign_in(page, live)
    chart = page.locator("#dashboard img[alt=Pipeline]")
    assert chart.count() == 1
    assert page.evaluate("document.querySelector('#dashboard img').naturalWidth") > 0
    shoot(page, "home-dashboard")


def test_a_user_who_prefers_chinese_sees_chinese_everywhere(browser, live, axe_script):  # noqa: F811  (fixtures)
    from tests.web.sales_org import REP_PASSWORD

    changed = requests.patch(
        f"{live.url}/api/v1/users/{live.manager.id}",
        json={"locale": "zh"},
        headers={"Authorization": f"Bearer {live.token}"},
        timeout=30,
    )
    assert changed.status_code == 200, changed.text
    context = browser.new_context(viewport=DESKTOP, locale="en-US")  # an English browser
    try:
        page = context.new_page()
        sign_in(page, live, MANAGER_EMAIL, REP_PASSWORD)
        assert page.get_attribute("html", "lang") == "zh"
        assert page.text_content("h1").strip() == "首页"
        assert "退出" in page.text_content("header") and "商机" in page.text_content("nav.tabs")
        assert "我的销售管道" in page.text_content("#dashboard")
        shoot(page, "home-zh")
        assert violations(page, axe_script) == [], "home in Chinese"
        page.goto(f"{live.url}/search?q=own deal")
        assert "搜索结果" in page.text_content("h1")
        assert "商机" in page.text_content("[data-object=opportunity] h2")
        shoot(page, "search-zh")
        page.goto(f"{live.url}/o/opportunity")
        shoot(page, "list-zh")
    finally:
        context.close()


def test_assets_are_served_with_cache_headers(live):  # noqa: F811  (fixtures)
    for path in ("/ui-vendor/bootstrap.min.css", "/ui-static/app.css", "/ui-static/app.js"):
        response = requests.get(f"{live.url}{path}", timeout=30)
        assert response.status_code == 200, path
        assert "max-age=" in response.headers.get("Cache-Control", ""), (path, response.headers)
