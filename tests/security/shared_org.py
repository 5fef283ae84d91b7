"""One org per test module, built from the YAML fixtures in tests/fixtures/security.

Attack tests only read, or are refused before they write, so a module can share one org:
building it once keeps the input-gate, overflow and fuzz suites fast on both databases.
The security conftest makes ``shared`` available to every module of the suite.
"""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace

import pytest

from tests.conftest import (
    ADMIN_EMAIL,
    ADMIN_PASSWORD,
    FIXTURES,
    ApiClient,
    fresh_database_url,
    make_token,
)


@pytest.fixture(scope="module")
def shared_url(tmp_path_factory) -> Iterator[str]:
    """An empty database for the module: a SQLite file, or a PostgreSQL schema."""
    with fresh_database_url(tmp_path_factory.mktemp("shared")) as url:
        yield url


@pytest.fixture(scope="module")
def shared(shared_url, tmp_path_factory) -> Iterator[SimpleNamespace]:
    """The security org: its app, the admin and a sales rep (who may not read
    ``account.annual_revenue``) as API clients."""
    from crm_platform.app import create_app
    from crm_platform.assembly import open_org
    from crm_platform.core import load_settings
    from crm_platform.core.tables import SYSTEM_USER_ID
    from crm_platform.runtime import create_user, initialise_org
    from crm_platform.yamlio import read_definitions

    settings = load_settings(shared_url, instance_path=tmp_path_factory.mktemp("instance"))
    org = open_org(settings)
    initialise_org(org, admin_email=ADMIN_EMAIL, admin_password=ADMIN_PASSWORD)
    definitions = [(kind, d) for kind, d, _ in read_definitions(FIXTURES / "security")]
    org.metadata.apply_definitions(definitions, author_id=SYSTEM_USER_ID)
    with org.db.write() as conn:
        rep = create_user(conn, email="rep@example.com", profile="sales_rep", role="sales_rep")
    app = create_app(settings, org=org)
    admin_client = ApiClient(app.test_client(), make_token(org, ADMIN_EMAIL))
    rep_client = ApiClient(app.test_client(), make_token(org, "rep@example.com"))
    rep_client.user_id = rep.id
    yield SimpleNamespace(org=org, app=app, admin=admin_client, rep=rep_client)
    org.dispose()
