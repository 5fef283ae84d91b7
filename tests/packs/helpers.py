"""Helpers of the pack tests: the test packs, and what an org holds."""

from __future__ import annotations

import sqlalchemy as sa

from crm_platform.core.tables import SYSTEM_USER_ID
from crm_platform.metadata import read_snapshot
from crm_platform.runtime import get_user
from crm_platform.runtime.records import ListRequest
from tests.conftest import FIXTURES

PACKS = FIXTURES / "packs"


def records(org, object_name: str, order_by: str = "name") -> list[dict]:
    """Every record of an object, as the system user reads them."""
    with org.db.read() as conn:
        user = get_user(conn, SYSTEM_USER_ID)
    with org.records.session(user, write=False) as session:
        page = session.list(object_name, ListRequest(order_by=(order_by,), limit=200))
    return page.records


def components(org) -> dict[tuple[str, str], tuple[str, dict]]:
    """Every live component: (kind, name) -> (owner, definition)."""
    with org.db.read() as conn:
        snap = read_snapshot(conn)
    return {key: (c.owner, dict(c.definition)) for key, c in snap.components.items()}


def table_names(org) -> set[str]:
    return set(sa.inspect(org.db.engine).get_table_names())
