"""The setup UI's "done means", played in a real browser (Debian's Chromium, Playwright)
as a new admin would, without the API and without metadata written by the test: the
admin builds a custom object with a picklist, a lookup, a currency, a formula and a
validation rule, puts them on a layout, grants them to the rep's permission set, and
the rep uses them — a negative budget is refused beside its field, a valid project saves
and its page shows the formula's value.

Screenshots (desktop and a 390px phone) go to ``build/screenshots/setup/journey-*``."""

from __future__ import annotations

import pytest

from tests.browser import test_webapp as webapp
from tests.browser.test_setup import Clicks, context, rep_page, shoot  # noqa: F401
from tests.browser.test_webapp import live  # noqa: F401  (the served sales org)
from tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD

pytestmark = pytest.mark.slow
FIELDS = ["phase", "account", "budget", "budget_per_phase"]


@pytest.fixture
def admin_page(context, live):  # noqa: F811
    page = context.new_page()
    webapp.sign_in(page, live, ADMIN_EMAIL, ADMIN_PASSWORD)
    return page


class Journey(Clicks):
    """Counts every click of the journey: those that load a page (``go``) and those that
    tick a box or pick an option (``tick``, ``choose``). Typing is not a click.
    ``step(name)`` notes how many clicks the step that ends took."""

    def __init__(self, page) -> None:
        super().__init__(page)
        self.steps: dict[str, int] = {}
        self._before = 0

    def step(self, name: str) -> None:
        self.steps[name], self._before = self.count - self._before, self.count

    def tick(self, selector: str) -> None:
        self.count += 1
        self.page.check(selector)

    def choose(self, selector: str, value: str | None = None, label: str | None = None) -> None:
        self.count += 1
        self.page.select_option(selector, value=value, label=label)

    def area(self, name: str) -> None:
        """Setup's home (the navbar's brand), then the area's card."""
        self.go("a.navbar-brand")
        self.go(f"h2.card-title a:text-is('{name}')")


def new_field(journey: Journey, kind: str, label_en: str, label_zh: str, settings) -> None:
    """The new-field wizard from the object's page, every step as it comes."""
    page = journey.page
    journey.go("#new-field")
    journey.choose("#f-type", kind)
    page.fill("#f-label_en", label_en)
    page.fill("#f-label_zh", label_zh)
    journey.go("#wizard-next")
    settings()
    shoot(page, f"journey-{kind}-settings")
    journey.go("#wizard-next")
    shoot(page, f"journey-{kind}-access")
    # the wizard offers only the sets that already open the object: none for a new one,
    # so the field grid grants the fields after the matrix (step 5)
    for box in page.locator("#field-wizard input[type=checkbox][name$=':rep']").all():
        if not box.is_checked():
            journey.tick(f"#field-wizard input[name='{box.get_attribute('name')}']")
    journey.go("#wizard-next")
    shoot(page, f"journey-{kind}-layouts")
    journey.go("#wizard-save")
    assert "Field saved" in page.inner_text(".alert-success")


def test_an_admin_builds_a_project_object_in_the_browser_and_a_rep_uses_it(
    admin_page,
    browser,
    live,  # noqa: F811
):
    page = admin_page
    page.goto(f"{live.url}/setup/")
    journey = Journey(page)

    # 1. the object
    journey.area("Object manager")
    page.fill("#f-api_name", "project")
    page.fill("#f-label_en", "Project")
    page.fill("#f-label_zh", "项目")
    page.fill("#f-plural_en", "Projects")
    page.fill("#f-plural_zh", "项目")
    shoot(page, "journey-object-new")
    journey.go("button:text('Create object')")
    assert "Object created" in page.inner_text(".alert-success")
    shoot(page, "journey-object")

    journey.step("object")

    # 2. the fields, each through the wizard
    new_field(
        journey,
        "picklist",
        "Phase",
        "阶段",
        lambda: page.fill("#f-values", "Plan\nBuild\nDone"),
    )
    new_field(journey, "lookup", "Account", "客户", lambda: journey.choose("#f-target", "account"))
    new_field(journey, "currency", "Budget", "预算", lambda: None)

    def formula() -> None:
        journey.choose("#f-return_type", "currency")
        page.fill("#f-expression", "budget / 3")
        page.wait_for_function(
            "document.querySelector('#expression-check').classList.contains('text-success')"
        )

    new_field(journey, "formula", "Budget per phase", "每阶段预算", formula)
    for name in FIELDS:
        assert page.locator(f'a[href="/setup/fields/project/{name}"]').count() == 1
    shoot(page, "journey-object-fields")

    journey.step("fields")

    # 3. the validation rule, through the rules builder's form
    journey.area("Rules, automation and reports")
    journey.go("#kind-validation_rule a:text('New')")
    page.fill("#f-api_name", "budget_not_negative")
    journey.choose("#f-object", "project")
    page.fill("#f-condition", "budget < 0")
    page.wait_for_function(
        "document.querySelector('#condition-check').classList.contains('text-success')"
    )
    page.fill("#f-message", "Budget cannot be negative")
    page.fill("#f-message_zh", "预算不能为负")
    page.fill("#f-field", "budget")
    if not page.is_checked("#f-active"):
        journey.tick("#f-active")
    shoot(page, "journey-rule")
    journey.go("#save-builder")
    assert "saved" in page.inner_text(".alert-success").lower()

    journey.step("rule")

    # 4. the layout: the fields on the project's layout
    journey.area("Layouts")
    shoot(page, "journey-layouts")
    if page.locator("#layouts a", has_text="project").count() == 0:
        journey.choose("#new-layout #f-object", "project")
        page.fill("#new-layout #f-api_name", "default")
        journey.go("#new-layout button[type=submit]")
    else:
        journey.go("#layouts a:has-text('project')")
    for name in FIELDS:
        if page.locator(f'li.layout-field[data-field="{name}"]').count() == 0:
            journey.choose("#f-add_field", name)
            journey.go("#save-layout")
    placed = page.eval_on_selector_all("li.layout-field", "els => els.map(e => e.dataset.field)")
    assert placed == ["name", *FIELDS]
    shoot(page, "journey-layout")

    journey.step("layout")

    # 5. the permission matrix: the rep's set reads, creates and edits projects
    journey.area("Permission sets")
    for grant in ("read", "create", "edit"):
        journey.tick(f'input[name="obj:rep:project:{grant}"]')
    shoot(page, "journey-matrix")
    journey.go("#save-matrix")
    assert "Permissions saved" in page.inner_text(".alert-success")
    journey.go("#set-rep ~ .table-responsive a[href$='/fields/project']")
    for name in FIELDS:
        for grant in ("read", "edit"):
            # a computed field's Edit cell has no box (a hidden input keeps its grant)
            box = f'input[type="checkbox"][name="fld:rep:{name}:{grant}"]'
            if page.locator(box).count() and not page.is_checked(box):
                journey.tick(box)
    shoot(page, "journey-field-grid")
    journey.go("#save-fields")
    assert "Permissions saved" in page.inner_text(".alert-success")

    journey.step("permissions")

    # the rep's app gets a Projects tab
    journey.area("Apps")
    journey.go('a[href="/setup/apps/sales"]')
    assert page.inner_text('label[for="t-project"]') == "Projects project"
    journey.tick('input[name="tab:project"]')
    shoot(page, "journey-app")
    journey.go("#save-app")
    journey.step("app tab")

    # 6. the rep creates a project
    opened, rep = rep_page(browser, live)
    try:
        rep.goto(f"{live.url}/")
        rep_clicks = Journey(rep)
        rep_clicks.go("nav.tabs:visible >> text=Projects")
        assert rep.url.startswith(f"{live.url}/o/project")
        shoot(rep, "journey-rep-list")
        rep_clicks.go("main a:has-text('New')")
        rep.fill("#in-name", "Warehouse move")
        if rep.evaluate("document.querySelector('#in-account').tagName") == "SELECT":
            rep_clicks.choose("#in-account", label="Globex")
        else:
            rep_clicks.count += 1
            webapp.pick_by_type_ahead(rep, "#in-account", "Glo", "Globex")
        rep_clicks.choose("#in-phase", "Build")
        rep.fill("#in-budget", "-300")
        rep_clicks.go("main form button.btn-primary[type=submit]")
        error = rep.locator("[data-field=budget] .field-error")
        assert error.text_content().strip() == "Budget cannot be negative"
        assert rep.input_value("#in-name") == "Warehouse move"
        shoot(rep, "journey-rep-refused")
        rep.fill("#in-budget", "900")
        rep_clicks.go("main form button.btn-primary[type=submit]")
        assert rep.text_content("h1").strip() == "Warehouse move"
        assert "300.00" in rep.text_content("[data-field=budget_per_phase]")
        assert "Build" in rep.text_content("[data-field=phase]")
        assert rep.text_content("[data-field=account] a").strip() == "Globex"
        shoot(rep, "journey-rep-record")
    finally:
        opened.close()
    print(f"clicks: admin {journey.count} {journey.steps}, rep {rep_clicks.count}")
