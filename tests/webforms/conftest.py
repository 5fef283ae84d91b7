"""Web form fixtures: an org with a lead object, a round-robin rule over two reps, the
guest's permission set and the ``contact_sales`` form (tests/fixtures/webforms)."""

from __future__ import annotations

import re

import pytest

FORM = "/f/contact_sales"
REPS = ("rep1@example.com", "rep2@example.com")


@pytest.fixture
def web_org(org, load_metadata):
    from crm_platform.runtime import create_user
    from crm_platform.runtime.directory import add_member

    load_metadata("webforms")
    with org.db.write() as conn:
        model = org.models.model_for(conn)
        for email in REPS:
            user = create_user(conn, email=email)
            add_member(conn, model, "groups", "web_reps", user.id)
    return org


def token_of(html: str) -> str:
    """The form token a page carries."""
    return re.search(r'name="wf_token" value="([^"]+)"', html).group(1)


def post(client, data: dict, *, address: str = "203.0.113.7", token: str | None = None, **kw):
    """A post of the form (with the token the page gives, unless one is given)."""
    if token is None:
        token = token_of(client.get(FORM).get_data(as_text=True))
    body = {"wf_token": token, **data}
    return client.post(FORM, data=body, environ_base={"REMOTE_ADDR": address}, **kw)
