"""The sales org of the feed tests (tests/web/records_org.py) with a client per person:
the rep owns the deals; their manager sees them through the role hierarchy; the other
rep sees none of them; the admin sees everything. All may use the API. The group ``deal_desk`` holds the
manager and the other rep."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, ApiClient, fresh_database_url, make_token
from tests.web.records_org import build_records_org
from tests.web.sales_org import MANAGER_EMAIL, OTHER_EMAIL, REP_EMAIL


@pytest.fixture(scope="module")
def sales(tmp_path_factory):
    from crm_platform.app import create_app
    from crm_platform.assembly import open_org
    from crm_platform.core import load_settings
    from crm_platform.core.tables import SYSTEM_USER_ID, group_members, user_permission_sets
    from crm_platform.runtime import initialise_org

    with fresh_database_url(tmp_path_factory.mktemp("feeds")) as url:
        settings = load_settings(url, instance_path=tmp_path_factory.mktemp("instance"))
        org = open_org(settings)
        initialise_org(org, admin_email=ADMIN_EMAIL, admin_password=ADMIN_PASSWORD)
        data = build_records_org(org)
        org.metadata.put_component(
            "group", {"api_name": "deal_desk", "label": "Deal desk"}, author_id=SYSTEM_USER_ID
        )
        org.metadata.put_component(
            "permission_set",
            {"api_name": "api_user", "system": ["api_enabled"]},
            author_id=SYSTEM_USER_ID,
        )
        people = (data.rep, data.manager, data.other)
        with org.db.write() as conn:
            conn.execute(
                user_permission_sets.insert(),
                [{"user_id": p.id, "permission_set": "api_user"} for p in people],
            )
            conn.execute(
                group_members.insert(),
                [
                    {"group_name": "deal_desk", "user_id": data.manager.id},
                    {"group_name": "deal_desk", "user_id": data.other.id},
                ],
            )
        app = create_app(settings, org=org)

        def client(email: str) -> ApiClient:
            return ApiClient(app.test_client(), make_token(org, email))

        yield SimpleNamespace(
            org=org,
            app=app,
            admin_api=client(ADMIN_EMAIL),
            rep_api=client(REP_EMAIL),
            manager_api=client(MANAGER_EMAIL),
            other_api=client(OTHER_EMAIL),
            **vars(data),
        )
        org.dispose()
