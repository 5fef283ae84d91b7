"""Actions run on a record in the transaction of the change that fired them, as the
system user: field updates (of the record and of its lookup parent) and new records."""

from __future__ import annotations

from datetime import date

import pytest

from crm_platform.core import Conflict
from crm_platform.runtime import find_user
from crm_platform.runtime.records.events import RecordEvent
from crm_platform.workflow.running import run_actions

from ..conftest import ADMIN_EMAIL

WON = [
    {"type": "update_record", "values": {"closed_on": "DATE(2026, 12, 2)"}},
    {"type": "update_record", "record": "account", "values": {"last_won_on": "DATE(2026, 12, 2)"}},
    {
        "type": "create_record",
        "object": "task",
        "values": {
            "name": "CONCAT('Kick-off: ', name)",
            "what": "id",
            "due_date": "DATE(2026, 12, 5)",
        },
    },
]


@pytest.fixture
def automation_org(org, load_fixture):
    load_fixture("automation")
    return org


def on_won(org, actions):
    def handler(ctx):
        for change in ctx.changes:
            if "stage" in change.changed and (change.after or {}).get("stage") == "Closed Won":
                run_actions(
                    org, ctx.services, "opportunity", change.record_id, actions, source="test"
                )

    return org.records.events.on(RecordEvent.AFTER_UPDATE, handler, objects=["opportunity"])


def admin(org):
    with org.db.read() as conn:
        return find_user(conn, ADMIN_EMAIL)


def test_actions_update_the_record_its_parent_and_create_a_record(automation_org):
    org = automation_org
    on_won(org, WON)
    with org.records.session(admin(org)) as session:
        account = session.create("account", {"name": "Acme"})
        opp = session.create("opportunity", {"name": "Big deal", "account": account["id"]})
        session.update("opportunity", opp["id"], {"stage": "Closed Won"})
    with org.records.session(admin(org), write=False) as session:
        assert session.get("opportunity", opp["id"])["closed_on"] == date(2026, 12, 2)
        assert session.get("account", account["id"])["last_won_on"] == date(2026, 12, 2)
        from crm_platform.runtime.records.query import ListRequest

        tasks = session.list("task", ListRequest()).records
    assert [(t["name"], t["what"]) for t in tasks] == [
        ("Kick-off: Big deal", {"object": "opportunity", "id": opp["id"]})
    ]


def test_a_chain_of_actions_deeper_than_the_bound_rolls_everything_back(automation_org):
    org = automation_org
    # each update of the name fires another update of it: it can only recurse
    org.records.events.on(
        RecordEvent.AFTER_UPDATE,
        lambda ctx: [
            run_actions(
                org,
                ctx.services,
                "opportunity",
                c.record_id,
                [{"type": "update_record", "values": {"name": "CONCAT(name, '!')"}}],
                source="test",
            )
            for c in ctx.changes
        ],
        objects=["opportunity"],
    )
    with org.records.session(admin(org)) as session:
        opp = session.create("opportunity", {"name": "Loop"})
    with (
        pytest.raises(Conflict, match="recursed too deeply"),
        org.records.session(admin(org)) as session,
    ):
        session.update("opportunity", opp["id"], {"stage": "Qualification"})
    with org.records.session(admin(org), write=False) as session:
        again = session.get("opportunity", opp["id"])
    assert (again["name"], again["stage"]) == ("Loop", "Prospecting")
