"""The portal's pages as a customer uses them: in their language, opening a case,
commenting (an empty comment is refused next to the field), signing out."""

from __future__ import annotations

from tests.portal.conftest import csrf_of, sign_in


def test_the_portal_speaks_chinese_to_a_chinese_browser(portal):
    client = portal.app.test_client()
    page = client.get("/portal/login", headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    assert "登录客户门户" in page.get_data(as_text=True)
    signed_in = sign_in(portal.app)
    home = signed_in.get("/portal/", headers={"Accept-Language": "zh"}).get_data(as_text=True)
    assert "我的服务请求" in home and "请求编号" in home  # the UI's words and the field label


def test_a_customer_opens_a_case_and_comments_on_it(portal):
    client = sign_in(portal.app)
    html = client.get("/portal/cases/new").get_data(as_text=True)
    empty = client.post("/portal/cases/new", data={"subject": "", "csrf_token": csrf_of(html)})
    assert empty.status_code == 400 and 'role="alert"' in empty.get_data(as_text=True)
    made = client.post(
        "/portal/cases/new",
        data={
            "subject": "Scanner offline",
            "description": "Since 9am",
            "csrf_token": csrf_of(html),
        },
    )
    assert made.status_code == 302
    case_path = made.headers["Location"]
    case = portal.admin.get(f"/api/v1/records/case/{case_path.rsplit('/', 1)[1]}").json
    assert (case["contact"], case["account"], case["channel"]) == (
        portal.ids["ann"],
        portal.ids["acme"],
        "Web",
    )
    page = client.get(case_path).get_data(as_text=True)
    refused = client.post(f"{case_path}/comments", data={"body": "", "csrf_token": csrf_of(page)})
    assert refused.status_code == 400
    added = client.post(
        f"{case_path}/comments",
        data={"body": "Still offline", "internal": "true", "csrf_token": csrf_of(page)},
    )
    assert added.status_code == 302
    comments = portal.admin.get(f"/api/v1/records/case_comment?where=case == '{case['id']}'").json
    [comment] = comments["records"]
    # a customer's comment is public whatever was sent, and names its author
    assert comment["internal"] is False and comment["body"] == "Still offline"
    assert comment["_names"]["author"] == "Ann Customer"
    assert "Still offline" in client.get(case_path).get_data(as_text=True)


def test_signing_out_ends_the_portal_session(portal):
    client = sign_in(portal.app)
    page = client.get("/portal/").get_data(as_text=True)
    assert client.post("/portal/logout", data={"csrf_token": csrf_of(page)}).status_code == 302
    assert client.get("/portal/").headers["Location"].endswith("/portal/login")


def test_a_deactivated_customer_is_signed_out(portal):
    client = sign_in(portal.app)
    with portal.org.db.write() as conn:
        from crm_platform.core.tables import users

        conn.execute(
            users.update().where(users.c.email == "ann@customer.example").values(active=False)
        )
    try:
        assert client.get("/portal/").status_code == 302
    finally:
        with portal.org.db.write() as conn:
            conn.execute(
                users.update().where(users.c.email == "ann@customer.example").values(active=True)
            )
