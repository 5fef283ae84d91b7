"""Assignment rules run on create: the first matching entry picks the owner (a queue, a
group's members in turn, the least-loaded member), the new owner is notified, and it all
lands or rolls back with the create."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from crm_platform.core.tables import counters, group_members, notifications, users

from .assignment_org import build, owners


@pytest.fixture
def routing(org):
    return build(org)


def create_cases(env, user, rows):
    with env.org.records.session(user) as session:
        return [session.create("case", {"name": r["subject"], **r})["id"] for r in rows]


def notes(env, user) -> list[tuple[str, str]]:
    with env.org.db.read() as conn:
        query = sa.select(notifications.c.record_id, notifications.c.message).where(
            notifications.c.user_id == user.id
        )
        return sorted(conn.execute(query).all())


def test_high_priority_cases_go_to_the_tier2_queue_whose_members_are_told(routing):
    env = routing
    (case_id,) = create_cases(env, env.requester, [{"subject": "Down", "priority": "High"}])
    assert owners(env.org, [case_id]) == [env.tier2]
    assert notes(env, env.lead) == [(case_id, "Case 'Down' was assigned to your queue")]
    assert notes(env, env.requester) == []


def test_product_x_cases_go_round_the_support_group_in_turn(routing):
    env = routing
    ids = create_cases(env, env.requester, [{"subject": f"X{i}", "product": "X"} for i in range(6)])
    agents = [a.id for a in sorted(env.agents, key=lambda a: a.id)]
    assert owners(env.org, ids) == agents * 2
    for agent in env.agents:
        expected = [(ids[i], f"Case 'X{i}' was assigned to you") for i in range(6)]
        mine = [e for e, owner in zip(expected, agents * 2, strict=True) if owner == agent.id]
        assert notes(env, agent) == sorted(mine)


def test_other_cases_go_to_the_member_with_the_fewest_open_cases(routing):
    env = routing
    ann, bob, cid = env.agents
    # ann owns two open cases, bob one open and three closed ones (not counted), cid none
    held = [(ann, "New"), (ann, "Working"), (bob, "New")] + [(bob, "Closed")] * 3
    rows = [{"subject": "old", "priority": "High", "status": status} for _, status in held]
    ids = create_cases(env, env.admin, rows)
    with env.org.db.write() as conn:
        table = env.org.models.model_for(conn).objects["case"].table
        for record_id, (owner, _status) in zip(ids, held, strict=True):
            conn.execute(table.update().where(table.c.id == record_id).values(owner_id=owner.id))
    new = create_cases(env, env.requester, [{"subject": f"n{i}"} for i in range(3)])
    got = owners(env.org, new)
    assert got[0] == cid.id  # 0 open
    # then bob and cid both hold one: the lower id wins the tie, the other gets the next
    assert sorted(got[1:]) == sorted([bob.id, cid.id])
    assert got[1] == min(bob.id, cid.id)
    assert ann.id not in got


def test_a_rolled_back_create_assigns_nothing_and_takes_no_turn(routing):
    env = routing
    with pytest.raises(RuntimeError), env.org.records.session(env.requester) as session:
        session.create("case", {"name": "gone", "subject": "gone", "product": "X"})
        raise RuntimeError("the request failed after the create")
    with env.org.db.read() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(notifications)).scalar() == 0
        assert conn.execute(sa.select(counters.c.value)).scalars().all() == []
    (case_id,) = create_cases(env, env.requester, [{"subject": "kept", "product": "X"}])
    assert owners(env.org, [case_id]) == [min(a.id for a in env.agents)]


def test_an_inactive_rule_does_not_run_on_create(routing, put_metadata):
    env = routing
    rule = env.org.metadata.snapshot().get("assignment_rule", "case.routing").definition
    put_metadata("assignment_rule", {**rule, "active": False})
    (case_id,) = create_cases(env, env.requester, [{"subject": "Down", "priority": "High"}])
    assert owners(env.org, [case_id]) == [env.requester.id]


def test_an_entry_with_nobody_to_take_the_record_gives_way_to_the_next(routing, put_metadata):
    env = routing
    put_metadata(
        "assignment_rule",
        {
            "api_name": "routing",
            "object": "case",
            "active": True,
            "entries": [
                {"assign_to": {"user": "lead@example.com"}},
                {"assign_to": {"round_robin": "support"}},
                {"assign_to": {"queue": "tier2"}},
            ],
        },
    )
    with env.org.db.write() as conn:
        conn.execute(users.update().where(users.c.id == env.lead.id).values(active=False))
        conn.execute(group_members.delete())
    (case_id,) = create_cases(env, env.requester, [{"subject": "left"}])
    # the lead left and the support group is empty: the queue takes it
    assert owners(env.org, [case_id]) == [env.tier2]


def test_a_skill_routes_to_the_least_loaded_member_having_it(routing, put_metadata):
    env = routing
    ann, bob, cid = env.agents
    # skills are groups: bob and cid know billing; nobody knows "hardware"
    put_metadata("group", {"api_name": "skill_billing", "label": "Billing"})
    with env.org.db.write() as conn:
        for agent in (bob, cid):
            conn.execute(
                group_members.insert().values(group_name="skill_billing", user_id=agent.id)
            )
    rule = env.org.metadata.snapshot().get("assignment_rule", "case.routing").definition
    skilled = {
        "when": "NOT(ISBLANK(product))",
        "assign_to": {
            "least_loaded": "support",
            "open": "status != 'Closed'",
            "skill": "'skill_' + LOWER(product)",
        },
    }
    put_metadata("assignment_rule", {**rule, "entries": [skilled, rule["entries"][2]]})
    ids = create_cases(
        env,
        env.requester,
        [{"subject": f"b{i}", "product": "Billing"} for i in range(4)]
        + [{"subject": "h", "product": "Hardware"}],
    )
    got = owners(env.org, ids)
    assert ann.id not in got[:4]  # ann has no billing skill though she holds no case
    assert sorted(got[:4]) == sorted([bob.id, cid.id] * 2)  # least loaded: they alternate
    # nobody has the hardware skill: the next entry (least loaded of all) takes it: ann
    assert got[4] == ann.id
