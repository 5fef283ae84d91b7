"""Helpers of the shipped packs' tests: installing a shipped pack, running its reports
as a user, reading records as the system user, and people with a pack's roles."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from crm_platform.core.tables import SYSTEM_USER_ID
from crm_platform.packs import install
from crm_platform.reports.run import run_report
from crm_platform.runtime import create_user, find_user, get_user
from crm_platform.runtime.records import ListRequest
from tests.conftest import ADMIN_EMAIL


def install_shipped(org, name: str, *, with_sample: bool = True):
    """Install a shipped pack (with the dependencies it lacks)."""
    return install(org, name, with_sample=with_sample)


def all_records(org, object_name: str) -> list[dict]:
    """Every record of an object as the system user reads it (all pages)."""
    with org.db.read() as conn:
        user = get_user(conn, SYSTEM_USER_ID)
    found: list[dict] = []
    cursor = None
    with org.records.session(user, write=False) as session:
        while True:
            page = session.list(object_name, ListRequest(limit=200, cursor=cursor))
            found.extend(page.records)
            if page.next_cursor is None:
                return found
            cursor = page.next_cursor


def report(org, name: str, email: str = ADMIN_EMAIL, **options: Any):
    """A shipped report run as a user."""
    with org.db.read() as conn:
        user = find_user(conn, email)
    with org.records.session(user, write=False) as session:
        return run_report(session, name, **options)


def groups(result) -> dict[Any, dict[str, Any]]:
    """A summary report's top-level groups: key value → aggregate values."""
    return {g.key.value: dict(g.values) for g in result.groups}


def person(org, email: str, permission_set: str, role: str | None = None):
    """A user holding a pack's permission set (and role)."""
    with org.db.write() as conn:
        return create_user(conn, email=email, profile=permission_set, role=role)


def number(value: Any) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.0001"))
