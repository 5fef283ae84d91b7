"""The case-routing org of the assignment tests: the automation objects, a tier 2 queue,
a support group of three agents and the active rule ``case.routing``."""

from __future__ import annotations

from types import SimpleNamespace

import sqlalchemy as sa

from crm_platform.core.tables import SYSTEM_USER_ID, group_members, queue_members
from crm_platform.runtime import create_user, find_user
from crm_platform.yamlio import read_definitions

from ..conftest import ADMIN_EMAIL, FIXTURES

AGENTS = ("ann@example.com", "bob@example.com", "cid@example.com")
PERMISSION_SET = {
    "api_name": "agent",
    "objects": {"case": {"read": True, "create": True, "edit": True}},
    "system": ["api_enabled"],
}


def build(org) -> SimpleNamespace:
    """Load the fixtures and people into an initialised org."""
    definitions = [
        (kind, d)
        for folder in ("automation", "assignment")
        for kind, d, _ in read_definitions(FIXTURES / folder)
    ]
    definitions.append(("permission_set", PERMISSION_SET))
    org.metadata.apply_definitions(definitions, author_id=SYSTEM_USER_ID)
    with org.db.write() as conn:
        agents = [create_user(conn, email=e, profile="agent") for e in AGENTS]
        lead = create_user(conn, email="lead@example.com", profile="agent")
        requester = create_user(conn, email="req@example.com", profile="agent")
        for agent in agents:
            conn.execute(group_members.insert().values(group_name="support", user_id=agent.id))
        conn.execute(queue_members.insert().values(queue_name="tier2", user_id=lead.id))
        admin = find_user(conn, ADMIN_EMAIL)
    with org.reading() as (_conn, model):
        tier2 = model.security.queues["tier2"].id
    return SimpleNamespace(
        org=org, agents=agents, lead=lead, requester=requester, admin=admin, tier2=tier2
    )


def owners(org, ids) -> list[str]:
    """The owners of case records, by id, as stored."""
    with org.reading() as (conn, model):
        table = model.objects["case"].table
        rows = dict(conn.execute(sa.select(table.c.id, table.c.owner_id)).all())
    return [rows[i] for i in ids]
