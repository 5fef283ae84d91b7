"""The list pages' improvements in a real browser (Debian's Chromium, Playwright): a rep
drags a card across the Kanban board and the record changes; a move refused by a
validation rule snaps back with its message; the lookup type-ahead offers no record not
shared with the rep; list and board show nothing sideways on a phone (390 px).

Screenshots go to ``build/screenshots/webapp`` like the other pages'.
"""

from __future__ import annotations

import pytest
import requests

from tests.browser import test_webapp as webapp
from tests.browser.test_webapp import PHONE, pick_by_type_ahead, shoot, sign_in

# the web app's fixtures, for this module's own server (an org of its own)
live = webapp.live
page = webapp.page

pytestmark = pytest.mark.slow
GRIP = {"x": 4, "y": 4}  # a card's edge: its middle may be its Move form
STAGES = [
    {"value": "Prospecting", "default": True, "color": "#5a6268"},
    {"value": "Qualification", "color": "#1e6fb5"},
    {"value": "Proposal", "color": "#8a5a00"},
    {"value": "Closed Won", "color": "#1e7b34"},
    {"value": "Closed Lost", "color": "#a4161a"},
]


def api(live, method: str, path: str, **body):
    response = requests.request(
        method,
        f"{live.url}/api/v1{path}",
        json=body or None,
        headers={"Authorization": f"Bearer {live.token}"},
        timeout=30,
    )
    assert response.ok, response.text
    return response.json()


@pytest.fixture(scope="module")
def board(live):
    """Colours for the stages, a rule refusing a won deal without a close date, a deal of
    the rep's without one, and an account the rep may not see."""
    api(live, "PATCH", "/metadata/objects/opportunity/fields/stage", values=STAGES)
    api(
        live,
        "POST",
        "/metadata/validation_rules",
        api_name="won_needs_date",
        object="opportunity",
        condition="stage == 'Closed Won' and ISBLANK(close_date)",
        message="A won deal needs a close date",
    )
    undated = api(
        live,
        "POST",
        "/records/opportunity",
        name="Undated deal",
        stage="Proposal",
        owner_id=live.rep.id,
    )
    api(live, "POST", "/records/account", name="Acme Hidden", owner_id=live.other.id)
    return undated


def stage_of(live, record_id: str) -> str:
    return api(live, "GET", f"/records/opportunity/{record_id}")["stage"]


def column_names(page, value: str) -> list[str]:
    cards = page.locator(f"section.kanban-column[data-value='{value}'] .card-name")
    return [t.strip() for t in cards.all_text_contents()]


def test_a_rep_drags_a_card_and_a_refused_move_snaps_back(page, live, board):
    sign_in(page, live)
    page.goto(f"{live.url}/o/opportunity?view=open_pipeline")
    page.click("#board-link")
    page.wait_for_selector("#kanban")
    assert "Deal 03" in column_names(page, "Proposal")
    shoot(page, "kanban")

    deal = next(d for d in live.deals if d["name"] == "Deal 03")
    page.drag_and_drop(
        f"#card-{deal['id']}",
        "section[data-value='Qualification'] .kanban-cards",
        source_position=GRIP,
    )
    page.wait_for_function("document.getElementById('board-message').textContent.includes('Moved')")
    assert "Deal 03" in column_names(page, "Qualification")
    assert stage_of(live, deal["id"]) == "Qualification"
    count = page.text_content("section[data-value='Qualification'] .count").strip()
    assert count == "1 record"

    # the board's search narrows it to the deal (a card far down a long column drags the
    # same way, but the test's mouse would scroll the page between press and release)
    page.fill("#q", "Undated")
    with page.expect_navigation():
        page.press("#q", "Enter")
    page.drag_and_drop(
        f"#card-{board['id']}",
        "section[data-value='Closed Won'] .kanban-cards",
        source_position=GRIP,
    )
    message = page.locator("#board-message")
    message.wait_for(state="visible")
    assert "A won deal needs a close date" in message.text_content()
    assert "Undated deal" in column_names(page, "Proposal")  # back where it was
    assert "Undated deal" not in column_names(page, "Closed Won")
    assert stage_of(live, board["id"]) == "Proposal"
    shoot(page, "kanban-refused")


def test_the_board_and_list_fit_a_phone(page, live, board):
    sign_in(page, live)
    page.set_viewport_size(PHONE)
    page.goto(f"{live.url}/o/opportunity?view=open_pipeline&kanban=stage")
    width = page.evaluate("document.scrollingElement.scrollWidth")
    assert width <= PHONE["width"]
    page.goto(f"{live.url}/o/opportunity?view=all")
    assert page.evaluate("document.scrollingElement.scrollWidth") <= PHONE["width"]
    shoot(page, "list-bulk")


def test_the_type_ahead_offers_no_record_not_shared(page, live, board):
    sign_in(page, live)
    page.goto(f"{live.url}/o/opportunity/new")
    page.click("#in-account")
    page.fill("#in-account", "Acme")
    answered = page.locator(".lookup-list[data-query='Acme']")
    answered.wait_for(state="visible")
    offered = [t.strip() for t in answered.locator("li[role=option]").all_text_contents()]
    assert offered == ["Acme"]  # not the other rep's "Acme Hidden"
    shoot(page, "form-type-ahead")
    page.fill("#in-account", "")
    pick_by_type_ahead(page, "#in-account", "Acm", "Acme")
    page.fill("#in-name", "Typed ahead")
    with page.expect_navigation():
        page.click("button:has-text('Save')")
    assert page.text_content("[data-field=account] a").strip() == "Acme"


def test_a_rep_mass_edits_the_checked_rows(page, live, board):
    sign_in(page, live)
    page.goto(f"{live.url}/o/opportunity?view=all&q=Deal 1")
    page.check("#select-all")
    assert page.locator("input.select-row:checked").count() == 10
    page.uncheck("input.select-row >> nth=0")
    assert page.text_content("#selected-count").strip() == "9 / 10"
    with page.expect_navigation():
        page.click("button:has-text('Edit selected')")
    with page.expect_navigation():
        page.select_option("#mass-field", "close_date")  # the script shows its input at once
    page.fill("#in-close_date", "2026-12-24")
    shoot(page, "mass-edit")
    with page.expect_navigation():
        page.click("button:has-text('Set it on 9 records')")
    assert "9 records changed" in page.text_content("main")


def test_with_javascript_off_a_card_moves_by_its_form(browser, live, board):
    context = browser.new_context(viewport=webapp.DESKTOP, java_script_enabled=False)
    try:
        page = context.new_page()
        sign_in(page, live)
        page.goto(f"{live.url}/o/opportunity?view=open_pipeline&kanban=stage&q=Deal 06")
        deal = next(d for d in live.deals if d["name"] == "Deal 06")
        card = page.locator(f"#card-{deal['id']}")
        card.locator("select[name=value]").select_option("Closed Lost")
        with page.expect_navigation():
            card.locator("button:has-text('Move')").click()
        assert "“Deal 06” moved to Closed Lost." in page.text_content("main")
        assert stage_of(live, deal["id"]) == "Closed Lost"
        # the lookup is a plain select without the script
        page.goto(f"{live.url}/o/opportunity/new")
        assert page.locator("select#in-account option", has_text="Globex").count() == 1
    finally:
        context.close()


def test_on_a_touch_screen_a_long_press_picks_a_card_up(browser, live, board):
    context = browser.new_context(viewport=webapp.DESKTOP, has_touch=True)
    try:
        page = context.new_page()
        sign_in(page, live)
        page.goto(f"{live.url}/o/opportunity?view=open_pipeline&kanban=stage&q=Deal 08")
        deal = next(d for d in live.deals if d["name"] == "Deal 08")
        was = stage_of(live, deal["id"])
        to = "Proposal" if was != "Proposal" else "Qualification"
        card = page.locator(f"#card-{deal['id']}").bounding_box()
        drop = page.locator(f"section[data-value='{to}'] .kanban-cards").bounding_box()
        cdp = context.new_cdp_session(page)

        def finger(kind: str, x: float, y: float) -> None:
            points = [] if kind == "touchEnd" else [{"x": x, "y": y}]
            cdp.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": points})

        start = (card["x"] + GRIP["x"], card["y"] + GRIP["y"])
        end = (drop["x"] + drop["width"] / 2, drop["y"] + 20)
        # a long press lifts the card; it follows the finger to the column it is lifted over
        finger("touchStart", *start)
        page.wait_for_selector(f"#card-{deal['id']}.dragging")
        for step in range(1, 11):
            finger(
                "touchMove",
                start[0] + (end[0] - start[0]) * step / 10,
                start[1] + (end[1] - start[1]) * step / 10,
            )
        finger("touchEnd", *end)
        page.wait_for_function(
            "document.getElementById('board-message').textContent.includes('Moved')"
        )
        assert "Deal 08" in column_names(page, to)
        assert stage_of(live, deal["id"]) == to
    finally:
        context.close()
