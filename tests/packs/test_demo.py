"""`crm demo --no-serve` in an empty folder: a SQLite org with the shipped packs, their
sample data and the demo users, each of whom signs in and sees what their role allows."""

from __future__ import annotations

import re

import sqlalchemy as sa
from click.testing import CliRunner

from crm_platform.cli import main
from crm_platform.core.tables import users
from crm_platform.demo import DEMO_USERS, PASSWORD, open_demo_org
from crm_platform.packs import read_installed
from crm_platform.runtime import find_user
from crm_platform.runtime.records import ListRequest


def _visible(org, email: str, object_name: str) -> set[str]:
    with org.db.read() as conn:
        user = find_user(conn, email)
    with org.records.session(user, write=False) as session:
        page = session.list(object_name, ListRequest(limit=2000))
    return {r["owner_id"] for r in page.records}


def _tabs_without_records(folder, org) -> tuple[list[str], int]:
    """Each demo user signs in to the web app: the tabs of their first app whose list
    page shows no record (``user: object``), and how many tabs were opened."""
    from crm_platform.app import create_app
    from crm_platform.core import load_settings
    from crm_platform.demo import demo_url

    app = create_app(load_settings(demo_url(folder), folder / "instance"), org=org)
    app.config["WTF_CSRF_ENABLED"] = False
    empty, opened = [], 0
    for user in DEMO_USERS:
        client = app.test_client()
        signed = client.post("/login", data={"email": user.email, "password": PASSWORD})
        assert signed.status_code == 302, user.email
        home = client.get("/").get_data(as_text=True)
        for tab in re.findall(r'<a class="nav-link[^"]*" href="/o/(\w+)"', home):
            page = client.get(f"/o/{tab}").get_data(as_text=True)
            opened += 1
            if "record-link" not in page:
                empty.append(f"{user.email}: {tab}")
    return sorted(set(empty)), opened


def test_crm_demo_builds_a_served_org_in_an_empty_folder(tmp_path, monkeypatch):
    monkeypatch.delenv("CRM_DATABASE_URL", raising=False)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["demo", "--no-serve", "--port", "8099"])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "URL: http://127.0.0.1:8099/" in out and "Demo org ready in" in out
    assert f"password {PASSWORD}" in out
    for user in DEMO_USERS:
        assert user.email in out
    assert (tmp_path / "crm.db").exists()

    org = open_demo_org(tmp_path)
    try:
        with org.db.read() as conn:
            installed = read_installed(conn)
            li = find_user(conn, "li.wei@example.com")
            ids = {u.email: find_user(conn, u.email).id for u in DEMO_USERS}
            locale = conn.execute(sa.select(users.c.locale).where(users.c.id == li.id)).scalar()
        assert {"core_activities", "sales"} <= set(installed)
        assert locale == "zh"
        # a rep sees their own deals only; their manager sees the team's; the director all
        rep = _visible(org, "rep@example.com", "opportunity")
        team = _visible(org, "manager@example.com", "opportunity")
        everyone = _visible(org, "director@example.com", "opportunity")
        assert rep == {ids["rep@example.com"]}
        reps = {ids[e] for e in ("rep@example.com", "jordan@example.com", "li.wei@example.com")}
        assert reps | {ids["manager@example.com"]} == team
        assert team <= everyone
        # every demo user finds records behind each tab of their app
        empty, opened = _tabs_without_records(tmp_path, org)
        assert opened >= 6 * len(DEMO_USERS) and empty == []
    finally:
        org.dispose()

    again = CliRunner().invoke(main, ["demo", "--no-serve"])
    assert again.exit_code == 0 and "A demo org exists" in again.output
