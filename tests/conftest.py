"""Shared fixtures: every test gets its own empty database on the engine under test.

``pytest`` alone runs on SQLite (a fresh file per test). With
``CRM_TEST_DATABASE_URL`` set to a PostgreSQL URL the same tests run there, each
in a schema of its own that is dropped afterwards.
"""

from __future__ import annotations

import os
import uuid
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

import pytest
import sqlalchemy as sa

from crm_platform.core import normalise_url
from crm_platform.core.database import Database
from tests.readme import live_server  # noqa: F401 (a fixture: the README tests' server)

TEST_DATABASE_URL = os.environ.get("CRM_TEST_DATABASE_URL", "").strip()
ON_POSTGRES = TEST_DATABASE_URL.startswith("postgres")


def _with_search_path(url: str, schema: str) -> str:
    option = quote(f"-csearch_path={schema},public")
    return f"{url}{'&' if '?' in url else '?'}options={option}"


@contextmanager
def fresh_database_url(folder: Path) -> Iterator[str]:
    """A URL to an empty database: a SQLite file in ``folder``, or a fresh PostgreSQL
    schema that is dropped afterwards."""
    if not ON_POSTGRES:
        yield f"sqlite:///{folder / 'crm.db'}"
        return
    base = normalise_url(TEST_DATABASE_URL)
    schema = f"t_{uuid.uuid4().hex[:16]}"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    try:
        yield _with_search_path(base, schema)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        admin.dispose()


# PostgreSQL serves 100 connections to every xdist worker together. An org a test opens
# through a CLI command or an app of its own keeps its pool's idle connections until
# the worker exits; over a suite of thousands of tests they add up to "too many clients".
# After each test the idle connections of every PostgreSQL engine opened so far are
# closed (an engine reconnects on its next use, so orgs shared by a module keep working).
_ENGINES: weakref.WeakSet = weakref.WeakSet()
_create_engine = Database._create_engine


def _tracked_engine(self):
    engine = _create_engine(self)
    _ENGINES.add(engine)
    return engine


Database._create_engine = _tracked_engine


@pytest.fixture(autouse=True)
def _close_idle_postgres_connections():
    yield
    for engine in list(_ENGINES):
        if engine.dialect.name == "postgresql":
            engine.dispose()


@pytest.fixture
def database_url(tmp_path: Path) -> Iterator[str]:
    """A URL to an empty database: a SQLite file, or a fresh PostgreSQL schema."""
    with fresh_database_url(tmp_path) as url:
        yield url


@pytest.fixture
def dialect_name() -> str:
    return "postgresql" if ON_POSTGRES else "sqlite"


# --- orgs, apps and API clients -------------------------------------------------------

ADMIN_EMAIL = "admin@example.com"
ADMIN_PASSWORD = "S3cure-pass!"
FIXTURES = Path(__file__).parent / "fixtures"


class ApiClient:
    """A Flask test client that sends a bearer token and JSON bodies."""

    def __init__(self, client, token: str | None) -> None:
        self.client = client
        self.token = token

    def _headers(self, extra=None):
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        headers.update(extra or {})
        return headers

    def get(self, path: str, **kw):
        return self.client.get(path, headers=self._headers(kw.pop("headers", None)), **kw)

    def delete(self, path: str, **kw):
        return self.client.delete(path, headers=self._headers(kw.pop("headers", None)), **kw)

    def post(self, path: str, json=None, **kw):
        return self.client.post(
            path, json=json, headers=self._headers(kw.pop("headers", None)), **kw
        )

    def patch(self, path: str, json=None, **kw):
        return self.client.patch(
            path, json=json, headers=self._headers(kw.pop("headers", None)), **kw
        )

    def put(self, path: str, json=None, **kw):
        return self.client.put(
            path, json=json, headers=self._headers(kw.pop("headers", None)), **kw
        )


@pytest.fixture
def settings(database_url: str, tmp_path: Path):
    from crm_platform.core import load_settings

    return load_settings(database_url, instance_path=tmp_path / "instance")


@pytest.fixture
def org(settings):
    """An initialised org with its first admin."""
    from crm_platform.assembly import open_org
    from crm_platform.runtime import initialise_org

    org = open_org(settings)
    initialise_org(org, admin_email=ADMIN_EMAIL, admin_password=ADMIN_PASSWORD)
    yield org
    org.dispose()


@pytest.fixture
def app(settings, org):
    from crm_platform.app import create_app

    return create_app(settings, org=org)


def make_token(org, email: str) -> str:
    from crm_platform.runtime import create_token, find_user

    with org.db.write() as conn:
        user = find_user(conn, email)
        assert user is not None
        return create_token(conn, user.id, "test")


@pytest.fixture
def admin_token(org) -> str:
    return make_token(org, ADMIN_EMAIL)


@pytest.fixture
def api(app, admin_token) -> ApiClient:
    """The API as the admin sees it."""
    return ApiClient(app.test_client(), admin_token)


@pytest.fixture
def anonymous(app) -> ApiClient:
    return ApiClient(app.test_client(), None)


@pytest.fixture
def load_fixture(org):
    """Apply a YAML fixture folder or file from tests/fixtures (as the system user)."""
    from crm_platform.core.tables import SYSTEM_USER_ID
    from crm_platform.yamlio import read_definitions

    def load(name: str):
        definitions = [d for _, d, _ in read_definitions(FIXTURES / name)]
        return org.metadata.apply_objects(definitions, author_id=SYSTEM_USER_ID)

    return load


def table_columns(org, table: str) -> dict[str, str]:
    """The real columns of a table, as the database reports them (name -> type)."""
    inspector = sa.inspect(org.db.engine)
    return {c["name"]: str(c["type"]) for c in inspector.get_columns(table)}


def table_exists(org, table: str) -> bool:
    return sa.inspect(org.db.engine).has_table(table)


def table_indexes(org, table: str) -> dict[str, dict]:
    return {i["name"]: i for i in sa.inspect(org.db.engine).get_indexes(table)}


def physical(org, object_name: str, field_name: str | None = None):
    """The physical names the metadata stores for an object or a field."""
    from crm_platform.metadata import read_snapshot

    with org.db.read() as conn:
        snap = read_snapshot(conn)
    if field_name is None:
        return snap.get("object", object_name).physical["table"]
    return dict(snap.get("field", f"{object_name}.{field_name}").physical)


def insert_rows(org, object_name: str, rows: list[dict]) -> list[str]:
    """Put rows straight into an object's table (for DDL tests that need existing data)."""
    from crm_platform.core import new_id, utc_now
    from crm_platform.core.tables import SYSTEM_USER_ID

    ids = []
    with org.db.write() as conn:
        model = org.models.model_for(conn)
        obj = model.objects[object_name]
        for values in rows:
            record_id = new_id()
            ids.append(record_id)
            now = utc_now()
            row = {
                "id": record_id,
                "owner_id": SYSTEM_USER_ID,
                "created_by": SYSTEM_USER_ID,
                "updated_by": SYSTEM_USER_ID,
                "created_at": now,
                "updated_at": now,
                "version": 1,
            }
            for name, value in values.items():
                row[obj.fields[name].columns[""].name] = value
            conn.execute(obj.table.insert().values(row))
    return ids


def read_column(org, object_name: str, field_name: str) -> list:
    """A field's values as the compiled model reads them, in insertion order."""
    with org.reading() as (conn, model):
        obj = model.objects[object_name]
        column = obj.fields[field_name].columns[""]
        return [r[0] for r in conn.execute(sa.select(column).order_by(obj.table.c.id))]


@pytest.fixture
def load_metadata(org):
    """Apply a YAML fixture folder of any kinds (objects, validation rules, ...)."""
    from crm_platform.core.tables import SYSTEM_USER_ID
    from crm_platform.yamlio import read_definitions

    def load(name: str):
        definitions = [(kind, d) for kind, d, _ in read_definitions(FIXTURES / name)]
        return org.metadata.apply_definitions(definitions, author_id=SYSTEM_USER_ID)

    return load


@pytest.fixture
def projects(api, load_metadata):
    """An org with accounts, projects (formulas, roll-ups, rules) and tasks."""
    load_metadata("projects")
    return api


@pytest.fixture
def make_user(org, app):
    """Create a user with a profile (and role, extra sets) and return their API client."""
    from crm_platform.runtime import create_user

    def make(email: str, *, profile: str | None = None, role: str | None = None, sets=()):
        from crm_platform.core.tables import user_permission_sets

        with org.db.write() as conn:
            # API-only users (no password): tests need no argon2 hashing
            user = create_user(conn, email=email, profile=profile, role=role)
            for name in sets:
                conn.execute(
                    user_permission_sets.insert().values(user_id=user.id, permission_set=name)
                )
        client = ApiClient(app.test_client(), make_token(org, email))
        client.user_id = user.id
        return client

    return make


@pytest.fixture
def put_metadata(org):
    """Create or replace components of any kind, as the system user."""
    from crm_platform.core.tables import SYSTEM_USER_ID

    def put(kind: str, definition: dict):
        return org.metadata.put_component(kind, definition, author_id=SYSTEM_USER_ID)

    return put
