"""The ``assign`` and ``notify`` actions: run on a record in the change's transaction,
checked when the definition holding them is saved."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from crm_platform.core import Conflict
from crm_platform.core.tables import notifications
from crm_platform.metadata import CandidateModel
from crm_platform.runtime.model import ModelCompiler
from crm_platform.workflow.checks import WorkflowChecks, action_schemas
from crm_platform.workflow.running import run_actions

from .assignment_org import build, owners


@pytest.fixture
def env(org):
    return build(org)


def inbox(env, user) -> list[str]:
    with env.org.db.read() as conn:
        query = (
            sa.select(notifications.c.message)
            .where(notifications.c.user_id == user.id)
            .order_by(notifications.c.id)
        )
        return list(conn.execute(query).scalars())


def make_case(env, user, **values) -> str:
    with env.org.records.session(user) as session:
        return session.create("case", {"name": values["subject"], **values})["id"]


def act(env, user, record_id, actions):
    with env.org.records.session(user) as session:
        run_actions(env.org, session, "case", record_id, actions, source="trigger:case.t")


def test_assign_runs_a_named_rule_or_the_active_one(env, put_metadata):
    put_metadata(
        "assignment_rule",
        {
            "api_name": "to_lead",
            "object": "case",
            "active": False,
            "entries": [{"assign_to": {"user": "lead@example.com"}, "notify": False}],
        },
    )
    case_id = make_case(env, env.requester, subject="Hi", priority="High")
    assert owners(env.org, [case_id]) == [env.tier2]
    # the requester may not transfer records: the system user does it for the rule
    act(env, env.requester, case_id, [{"type": "assign", "rule": "to_lead"}])
    assert owners(env.org, [case_id]) == [env.lead.id]
    assert inbox(env, env.lead) == ["Case 'Hi' was assigned to your queue"]  # only the first
    act(env, env.requester, case_id, [{"type": "assign"}])
    assert owners(env.org, [case_id]) == [env.tier2]


def test_assign_of_a_rule_deleted_since_refuses_the_change(env, put_metadata):
    case_id = make_case(env, env.requester, subject="Hi")
    with pytest.raises(Conflict, match="'gone' assignment rule of case no longer exists"):
        act(env, env.admin, case_id, [{"type": "assign", "rule": "gone"}])


def test_notify_tells_the_owner_or_whoever_the_expression_names(env, put_metadata):
    ann = env.agents[0]
    case_id = make_case(env, env.requester, subject="Printer", priority="High", product="P1")
    act(
        env,
        env.admin,
        case_id,
        [
            {"type": "notify", "to": "owner", "message": "CONCAT('Look at ', subject)"},
            {"type": "notify", "to": f"'{ann.email}'", "message": "CONCAT('Product ', product)"},
            {"type": "notify", "to": "owner_id", "message": "'again'"},
        ],
    )
    # the owner is the tier 2 queue: its member is told of the assignment, then twice
    assert inbox(env, env.lead) == [
        "Case 'Printer' was assigned to your queue",
        "Look at Printer",
        "again",
    ]
    assert inbox(env, ann) == ["Product P1"]


def test_a_message_made_of_a_field_the_recipient_cannot_read_is_withheld(env, put_metadata):
    ann = env.agents[0]
    put_metadata(
        "permission_set",
        {
            "api_name": "agent",
            "objects": {"case": {"read": True, "create": True, "edit": True}},
            "fields": {"case.product": {"read": False}},
            "system": ["api_enabled"],
        },
    )
    case_id = make_case(env, env.admin, subject="Secret", product="Atlas", priority="High")
    act(
        env,
        env.admin,
        case_id,
        [
            {"type": "notify", "to": f"'{ann.email}'", "message": "CONCAT('Product ', product)"},
            {"type": "notify", "to": "'admin@example.com'", "message": "CONCAT('P ', product)"},
        ],
    )
    assert inbox(env, ann) == ["An update on a Case record"]
    assert inbox(env, env.admin) == ["P Atlas"]


def test_a_rolled_back_change_notifies_nobody(env):
    case_id = make_case(env, env.requester, subject="Hi", priority="High")
    with pytest.raises(RuntimeError), env.org.records.session(env.admin) as session:
        run_actions(
            env.org,
            session,
            "case",
            case_id,
            [{"type": "notify", "to": "owner", "message": "'x'"}],
            source="t",
        )
        raise RuntimeError("the request failed later")
    assert inbox(env, env.lead) == ["Case 'Hi' was assigned to your queue"]


def test_bad_assign_and_notify_actions_are_refused_naming_the_path(env, org):
    checks = WorkflowChecks(ModelCompiler(), org.settings)
    model = CandidateModel(org.metadata.snapshot())
    actions = [
        {"type": "assign", "rule": "nope"},
        {"type": "notify", "to": "ownr", "message": "'x'"},
        {"type": "notify", "to": "owner", "message": "subjekt"},
        {"type": "assign"},
        {"type": "notify", "to": "owner", "message": "CONCAT('x', subject)"},
    ]
    problems = list(checks.actions(model, "case", actions, "actions"))
    assert [p for p, _ in problems] == [
        "actions[0].rule",
        "actions[1].to",
        "actions[2].message",
    ]
    assert problems[0][1] == "no assignment rule 'nope' on case"
    on_account = list(checks.actions(model, "account", [{"type": "assign"}], "actions"))
    assert on_account == [("actions[0].rule", "account has no active assignment rule: name one")]
    before = list(
        checks.actions(
            model,
            "case",
            [{"type": "notify", "to": "owner", "message": "'x'"}],
            "a",
            before_save=True,
        )
    )
    assert before == [("a[0].type", "'notify' cannot run before save: use timing after_save")]
    types = {s["properties"]["type"]["const"] for s in action_schemas()}
    assert {"assign", "notify"} <= types
