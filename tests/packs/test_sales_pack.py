"""The shipped sales pack as a sales team meets it: it installs with its dependency and
sample data, every label is in English and Chinese, a lead converts into an account,
a contact and an opportunity keeping every mapped value, new leads go to the reps in
turn, a discount routes to the manager (and over 40 % to a director too), and every
report runs — its figures equal to a computation straight from the sample files."""

from __future__ import annotations

import csv
import re
from collections import Counter
from decimal import Decimal

import pytest
import sqlalchemy as sa
import yaml

from crm_platform.core.tables import users
from crm_platform.demo import PASSWORD, build_demo, initialise_demo
from crm_platform.packs import shipped_root, validate_folder
from crm_platform.runtime import find_user
from tests.conftest import ApiClient, fresh_database_url, make_token

SALES = shipped_root() / "sales"
SAMPLE = SALES / "sample"
LABELS = ("label", "plural_label", "help_text", "title")


@pytest.fixture(scope="module")
def sales_org(tmp_path_factory):
    """A demo org with only the sales pack (and core_activities) and its sample data."""
    from crm_platform.assembly import open_org
    from crm_platform.core import load_settings

    folder = tmp_path_factory.mktemp("sales")
    with fresh_database_url(folder) as url:
        org = open_org(load_settings(url, folder / "instance"))
        try:
            initialise_demo(org)
            build_demo(org, ["sales"])
            yield org
        finally:
            org.dispose()


@pytest.fixture(scope="module")
def app(sales_org):
    from crm_platform.app import create_app

    return create_app(org=sales_org)


def client(app, org, email: str) -> ApiClient:
    return ApiClient(app.test_client(), make_token(org, email))


def _labels(node, where: str):
    """Every label-like mapping under ``node`` (label, plural_label, help_text, title)."""
    if isinstance(node, dict):
        mapping = where.endswith(".values") or where.endswith(".links")  # field: expression
        for key, value in node.items():
            # an approval step's label is plain text (the kind's schema)
            if key in LABELS and not mapping and ".steps[" not in where:
                yield f"{where}.{key}", value
            yield from _labels(value, f"{where}.{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _labels(value, f"{where}[{index}]")


def test_the_pack_validates_and_every_label_is_in_english_and_chinese():
    from crm_platform.assembly import default_extensions
    from crm_platform.core import load_settings
    from crm_platform.metadata import build_registry
    from crm_platform.runtime.model import ModelCompiler

    registry, compiler = build_registry(), ModelCompiler()
    for extension in default_extensions(load_settings("sqlite://")):
        extension.register(registry, compiler)
    pack, problems = validate_folder(SALES, registry)
    assert problems == []
    missing = []
    for path in sorted(SALES.rglob("*.yaml")):
        if path.parent.name in ("data", "sample") or path.name == "pack.yaml":
            continue
        for where, label in _labels(yaml.safe_load(path.read_text()), path.name):
            if not (isinstance(label, dict) and label.get("en") and label.get("zh")):
                missing.append(where)
    assert missing == []
    objects = {d.definition["api_name"] for d in pack.definitions if d.kind == "object"}
    assert {
        "account",
        "contact",
        "lead",
        "opportunity",
        "opportunity_contact_role",
        "product",
        "price_book",
        "price_book_entry",
        "quote",
        "quote_line",
        "order",
        "contract",
    } <= objects
    kinds = {d.kind for d in pack.definitions}
    assert kinds >= {
        "permission_set",
        "role",
        "sharing_rule",
        "trigger",
        "assignment_rule",
        "approval_process",
        "report",
        "dashboard",
        "layout",
        "list_view",
        "app",
        "conversion",
    }


def _rows(name: str) -> list[dict]:
    with (SAMPLE / f"{name}.csv").open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _run(api: ApiClient, report: str) -> dict:
    response = api.post(f"/api/v1/reports/{report}/run", {})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_every_shipped_report_runs_and_the_pipeline_matches_the_sample(app, sales_org):
    admin = client(app, sales_org, "admin@example.com")
    for path in sorted((SALES / "reports").glob("*.yaml")):
        _run(admin, path.stem)
    dashboard = admin.get("/api/v1/dashboards/sales_dashboard")
    assert dashboard.status_code == 200, dashboard.get_json()
    components = dashboard.get_json()["components"]
    assert len(components) == 7 and not [c for c in components if c.get("error")]
    rep = client(app, sales_org, "rep@example.com")  # a rep runs them too, on their records
    for name in ("pipeline_by_stage", "win_rate_by_owner", "activities_per_rep"):
        _run(rep, name)

    opportunities = _rows("opportunity")
    open_deals = [o for o in opportunities if not o["stage"].startswith("Closed")]
    result = _run(admin, "pipeline_by_stage")
    expected_count = Counter(o["stage"] for o in open_deals)
    expected_amount = Counter()
    for o in open_deals:
        expected_amount[o["stage"]] += Decimal(o["amount"])
    found = {
        g["key"][0]["value"] if isinstance(g["key"], list) else g["key"]["value"]: g
        for g in result["groups"]
    }
    assert set(found) == set(expected_count)
    for stage, group in found.items():
        values = group["values"]
        assert Decimal(str(values["count"])) == expected_count[stage], stage
        assert Decimal(str(values["sum(amount)"])) == expected_amount[stage], stage


def test_win_rate_by_owner_matches_the_sample(app, sales_org):
    admin = client(app, sales_org, "admin@example.com")
    closed = [o for o in _rows("opportunity") if o["stage"].startswith("Closed")]
    by_owner = {}
    for o in closed:
        count, won = by_owner.get(o["owner_id.email"], (0, 0))
        by_owner[o["owner_id.email"]] = (count + 1, won + (o["stage"] == "Closed Won"))
    with sales_org.db.read() as conn:
        ids = {find_user(conn, email).id: email for email in by_owner}
    result = _run(admin, "win_rate_by_owner")
    seen = {}
    for group in result["groups"]:
        key = group["key"][0] if isinstance(group["key"], list) else group["key"]
        seen[ids[key["value"]]] = group["values"]
    assert set(seen) == set(by_owner)
    for email, (count, won) in by_owner.items():
        values = seen[email]
        assert values["count"] == count and values["won"] == won, email
        assert round(float(values["win_rate"]), 1) == round(won / count * 100, 1), email


def test_sample_leads_went_to_the_reps_in_turn(sales_org):
    with sales_org.db.read() as conn:
        reps = {
            find_user(conn, e).id
            for e in ("rep@example.com", "jordan@example.com", "li.wei@example.com")
        }
        table = sales_org.models.model_for(conn).objects["lead"].table
        owners = Counter(conn.execute(sa.select(table.c.owner_id)).scalars())
    assert set(owners) == reps
    assert max(owners.values()) - min(owners.values()) <= 1  # 60 leads, 20 each


LEAD = {
    "first_name": "Mei",
    "last_name": "Zhang",
    "company": "Harbor Freight Systems",
    "title": "CIO",
    "email": "mei.zhang@harbor.example",
    "phone": "+86 21 5555 0101",
    "website": "https://harbor.example",
    "lead_source": "Trade Show",
    "industry": "Manufacturing",
    "rating": "Hot",
    "annual_revenue": "25000000.00",
    "employees": 800,
    "estimated_amount": "48000.00",
    "description": "Met at the Shanghai expo",
}


def _new_lead(app, org) -> tuple[ApiClient, dict]:
    """A lead made by a rep; converted by whoever the round-robin gave it to."""
    made = client(app, org, "rep@example.com").post("/api/v1/records/lead", LEAD)
    assert made.status_code == 201, made.get_json()
    lead = made.get_json()
    with org.db.read() as conn:
        owner_email = conn.execute(
            sa.select(users.c.email).where(users.c.id == lead["owner_id"])
        ).scalar()
    return client(app, org, owner_email), lead


def test_lead_conversion_keeps_every_mapped_value_and_the_links(app, sales_org):
    owner, lead = _new_lead(app, sales_org)
    converted = owner.post(f"/api/v1/records/lead/{lead['id']}/convert", {})
    assert converted.status_code == 200, converted.get_json()
    body = converted.get_json()
    made = {name: r["id"] for name, r in body["records"].items()}
    assert set(made) == {"account", "contact", "opportunity"}
    assert all(r["created"] for r in body["records"].values())

    account = owner.get(f"/api/v1/records/account/{made['account']}").get_json()
    contact = owner.get(f"/api/v1/records/contact/{made['contact']}").get_json()
    deal = owner.get(f"/api/v1/records/opportunity/{made['opportunity']}").get_json()
    mapping = yaml.safe_load((SALES / "conversions" / "lead.convert.yaml").read_text())
    targets = {t["name"]: t for t in mapping["targets"]}
    records = {"account": account, "contact": contact, "opportunity": deal}
    for name, target in targets.items():
        for field, source in target["values"].items():
            if source in lead:  # a field copied as it is
                assert str(records[name][field]) == str(lead[source]), (name, field)
    assert account["type"] == "Prospect"
    assert deal["name"] == "Harbor Freight Systems - New business"
    assert deal["stage"] == "Qualification" and Decimal(str(deal["probability"])) == 20
    assert contact["account"] == made["account"]
    assert deal["account"] == made["account"] and deal["primary_contact"] == made["contact"]
    after = body["record"]
    assert after["status"] == "Converted" and after["converted"] is True
    assert after["converted_account"] == made["account"]
    assert after["converted_contact"] == made["contact"]
    assert after["converted_opportunity"] == made["opportunity"]

    again = owner.post(f"/api/v1/records/lead/{lead['id']}/convert", {})
    assert again.status_code == 409


def test_conversion_to_an_existing_account_without_a_deal(app, sales_org):
    owner, lead = _new_lead(app, sales_org)
    account = owner.post("/api/v1/records/account", {"name": "Harbor Group"}).get_json()
    converted = owner.post(
        f"/api/v1/records/lead/{lead['id']}/convert",
        {"existing": {"account": account["id"]}, "skip": ["opportunity"]},
    )
    assert converted.status_code == 200, converted.get_json()
    records = converted.get_json()["records"]
    assert records["account"] == {"object": "account", "id": account["id"], "created": False}
    assert "opportunity" not in records
    contact = owner.get(f"/api/v1/records/contact/{records['contact']['id']}").get_json()
    assert contact["account"] == account["id"]


def _count(org, object_name: str) -> int:
    with org.db.read() as conn:
        table = org.models.model_for(conn).objects[object_name].table
        return conn.execute(sa.select(sa.func.count()).select_from(table)).scalar()


def test_a_refused_conversion_changes_nothing(app, sales_org):
    owner, lead = _new_lead(app, sales_org)
    before = _count(sales_org, "account"), _count(sales_org, "contact")
    refused = owner.post(
        f"/api/v1/records/lead/{lead['id']}/convert",
        {"values": {"opportunity": {"amount": -5}}},  # the amount_not_negative rule
    )
    assert refused.status_code == 400, refused.get_json()
    assert (_count(sales_org, "account"), _count(sales_org, "contact")) == before
    assert owner.get(f"/api/v1/records/lead/{lead['id']}").get_json()["converted"] is False
    bad = owner.post(f"/api/v1/records/lead/{lead['id']}/convert", {"skip": ["contact"]})
    assert bad.status_code == 400 and "skip.contact" in bad.get_json()["errors"]
    unknown = owner.post(f"/api/v1/records/account/{lead['id']}/convert", {})
    assert unknown.status_code == 400


def _quote_with_discount(rep: ApiClient, discount: int) -> str:
    account = rep.post("/api/v1/records/account", {"name": f"Discount {discount}"}).get_json()
    deal = rep.post(
        "/api/v1/records/opportunity",
        {
            "name": f"Deal {discount}",
            "account": account["id"],
            "close_date": "2027-02-01",
            "stage": "Proposal",
            "amount": "10000",
        },
    ).get_json()
    quote = rep.post(
        "/api/v1/records/quote", {"name": f"Quote {discount}", "opportunity": deal["id"]}
    ).get_json()
    products = rep.get("/api/v1/records/product", query_string={"limit": 2}).get_json()
    for product in products["records"]:
        line = rep.post(
            "/api/v1/records/quote_line",
            {
                "quote": quote["id"],
                "product": product["id"],
                "quantity": 2,
                "unit_price": "1000",
                "discount": discount,
            },
        )
        assert line.status_code == 201, line.get_json()
    shown = rep.get(f"/api/v1/records/quote/{quote['id']}").get_json()
    assert Decimal(str(shown["subtotal"])) == 4000
    assert Decimal(str(shown["total"])) == 4000 * (100 - discount) / 100
    assert round(Decimal(str(shown["discount"]))) == discount
    return quote["id"]


def _pending(app, org, email: str) -> list[str]:
    found = client(app, org, email).get("/api/v1/approvals/pending").get_json()["pending"]
    return [p["record_id"] for p in found]


def test_discount_approval_routes_to_the_manager_then_the_director(app, sales_org):
    rep = client(app, sales_org, "rep@example.com")
    small = _quote_with_discount(rep, 10)
    refused = rep.post(f"/api/v1/records/quote/{small}/approval/submit", {})
    assert refused.status_code in (400, 409)  # 10 % needs no approval

    medium = _quote_with_discount(rep, 30)
    assert rep.post(f"/api/v1/records/quote/{medium}/approval/submit", {}).status_code == 200
    assert rep.get(f"/api/v1/records/quote/{medium}").get_json()["status"] == "In Review"
    assert medium in _pending(app, sales_org, "manager@example.com")
    assert medium not in _pending(app, sales_org, "director@example.com")
    manager = client(app, sales_org, "manager@example.com")
    assert manager.post(f"/api/v1/records/quote/{medium}/approval/approve", {}).status_code == 200
    assert rep.get(f"/api/v1/records/quote/{medium}").get_json()["status"] == "Approved"

    large = _quote_with_discount(rep, 45)
    assert rep.post(f"/api/v1/records/quote/{large}/approval/submit", {}).status_code == 200
    assert large in _pending(app, sales_org, "manager@example.com")
    assert large not in _pending(app, sales_org, "director@example.com")
    assert manager.post(f"/api/v1/records/quote/{large}/approval/approve", {}).status_code == 200
    assert rep.get(f"/api/v1/records/quote/{large}").get_json()["status"] == "In Review"
    assert large in _pending(app, sales_org, "director@example.com")
    director = client(app, sales_org, "director@example.com")
    assert director.post(f"/api/v1/records/quote/{large}/approval/approve", {}).status_code == 200
    assert rep.get(f"/api/v1/records/quote/{large}").get_json()["status"] == "Approved"


def test_a_rep_converts_a_lead_from_its_page(app, sales_org):
    owner, lead = _new_lead(app, sales_org)
    with sales_org.db.read() as conn:
        email = conn.execute(
            sa.select(users.c.email).where(users.c.id == lead["owner_id"])
        ).scalar()
    browser = app.test_client()
    login = browser.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf-token" content="([^"]+)"', login).group(1)
    signed = browser.post(
        "/login", data={"email": email, "password": PASSWORD, "csrf_token": token}
    )
    assert signed.status_code == 302
    page = browser.get(f"/r/lead/{lead['id']}").get_data(as_text=True)
    action = f"/r/lead/{lead['id']}/convert/convert"
    assert action in page and "Convert lead" in page
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    done = browser.post(action, data={"csrf_token": token})
    assert done.status_code == 302 and done.headers["Location"].startswith("/r/account/")
    converted = owner.get(f"/api/v1/records/lead/{lead['id']}").get_json()
    assert converted["converted"] is True
    assert done.headers["Location"] == f"/r/account/{converted['converted_account']}"
    again = browser.get(f"/r/lead/{lead['id']}").get_data(as_text=True)
    assert action not in again  # a converted lead no longer meets the conversion's `when`
