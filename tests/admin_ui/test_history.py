"""History and audit through the test client: an object's revisions compared side by
side and rolled back (a deleted field comes back, as a new revision); the setup audit
trail filtered by kind; the login history filtered by email."""

from __future__ import annotations

import re

from tests.admin_ui.conftest import post, text
from tests.conftest import ADMIN_EMAIL
from tests.web.sales_org import REP_EMAIL


def field_names(sales, name: str) -> list[str]:
    return [f["api_name"] for f in sales.org.metadata.get_object(name)["fields"]]


def test_rollback_from_the_history_page_restores_a_deleted_field(sales, admin):
    assert post(admin, "/setup/fields/note/body/delete").status_code == 302
    assert "body" not in field_names(sales, "note")
    page = text(admin.get("/setup/history/note"))
    revisions = [int(r) for r in re.findall(r'<tr data-revision="(\d+)"', page)]
    assert revisions == sorted(revisions, reverse=True) and len(revisions) >= 2
    # the page compares the last two revisions side by side: body was there, then not
    assert 'id="diff"' in page and "body" in page.split('id="diff"', 1)[1]
    before = sales.org.metadata.version()
    response = post(admin, "/setup/history/note/rollback", {"revision": str(revisions[1])})
    assert response.status_code == 302
    assert sales.org.metadata.version() == before + 1
    assert "body" in field_names(sales, "note")
    assert "Rolled back to revision" in text(admin.get(response.headers["Location"]))


def test_two_chosen_revisions_are_compared(sales, admin):
    post(admin, "/setup/objects/note/labels", {"label_en": "Memo", "label_zh": "备忘"})
    page = text(admin.get("/setup/history/note"))
    revisions = [int(r) for r in re.findall(r'<tr data-revision="(\d+)"', page)]
    compared = text(admin.get(f"/setup/history/note?from={revisions[-1]}&to={revisions[0]}"))
    diff = compared.split('id="diff"', 1)[1]
    assert "Memo" in diff
    assert 'class="diff_add"' in diff or 'class="diff_chg"' in diff


def test_a_bad_revision_is_refused_and_nothing_changes(sales, admin):
    before = sales.org.metadata.version()
    assert post(admin, "/setup/history/note/rollback", {"revision": "x"}).status_code == 400
    assert admin.get("/setup/history/note?from=abc").status_code == 400
    assert admin.get("/setup/history/nothing").status_code == 404
    assert sales.org.metadata.version() == before


def test_the_audit_trail_is_filtered_by_kind(sales, admin):
    post(admin, "/setup/apps/new", {"api_name": "service"})
    every = text(admin.get("/setup/audit/"))
    assert "<code>service</code>" in every and "<code>opportunity</code>" in every
    apps = text(admin.get("/setup/audit/?kind=app"))
    assert "<code>service</code>" in apps and "<code>opportunity</code>" not in apps
    assert ADMIN_EMAIL in apps


def test_the_login_history_is_filtered_by_email(sales, admin, rep):
    sales.app.test_client().post("/login", data={"email": REP_EMAIL, "password": "wrong"})
    every = text(admin.get("/setup/logins/"))
    assert ADMIN_EMAIL in every and REP_EMAIL in every
    reps = text(admin.get(f"/setup/logins/?email={REP_EMAIL.upper()}"))
    assert ADMIN_EMAIL not in reps
    assert 'class="login-ok"' in reps


def test_a_rep_may_not_read_history_audit_or_logins(rep):
    for path in ("/setup/history/", "/setup/history/note", "/setup/audit/", "/setup/logins/"):
        assert rep.get(path).status_code == 403, path
