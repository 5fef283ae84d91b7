"""Renames reach every path that walks through what was renamed: paths through a
polymorphic lookup narrowed to one target (``related_to[account].industry``) and paths
into a user's columns through a lookup to ``user`` (``account_manager.email``) — in
formulas, defaults, roll-up filters, validation rules, sharing criteria, triggers,
approval processes and email templates."""

from __future__ import annotations

import pytest

OBJECTS = "/api/v1/metadata/objects"
RECORDS = "/api/v1/records"
META = "/api/v1/metadata"


@pytest.fixture
def crm(api, load_metadata):
    """Accounts with a manager, contacts, and tasks related to either (or to a user)."""
    load_metadata("path_renames")
    return api


def rename(api, url, new):
    response = api.patch(url, json={"api_name": new})
    assert response.status_code == 200, response.get_json()


def fields(api, object_name):
    response = api.get(f"{OBJECTS}/{object_name}")
    assert response.status_code == 200, response.get_json()
    return {f["api_name"]: f for f in response.get_json()["fields"]}


def component(api, plural, name):
    response = api.get(f"{META}/{plural}/{name}")
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def every_narrowed_place(api, task="task", contact="contact"):
    """Each expression of the fixture that reads through ``related_to[...]``."""
    task_fields, contact_fields = fields(api, task), fields(api, contact)
    trigger = component(api, "triggers", f"{task}.flag")
    process = component(api, "approval_processes", f"{task}.finance_review")
    return {
        "formula": task_fields["account_industry"]["expression"],
        "default": task_fields["priority"]["default_expression"],
        "user path": task_fields["manager_email"]["expression"],
        "roll-up filter": contact_fields["finance_tasks"]["filter"],
        "validation": component(api, "validation_rules", f"{task}.finance_tasks_need_a_date")[
            "condition"
        ],
        "sharing": component(api, "sharing_rules", f"{task}.finance_tasks")["criteria"],
        "trigger when": trigger["when"],
        "trigger value": trigger["actions"][0]["values"]["status"],
        "approval entry": process["entry"],
        "approval step": process["steps"][0]["when"],
        "approval action": process["on_approve"][0]["values"]["status"],
    }


def expected(lookup="related_to", target="account", industry="industry", manager="account_manager"):
    path = f"{lookup}[{target}]"
    return {
        "formula": f"{path}.{industry}",
        "default": f"IF({path}.{industry} == 'Finance', 'High', 'Normal')",
        "user path": f"{path}.{manager}.email",
        "roll-up filter": f"{path}.{industry} == 'Finance'",
        "validation": f"{path}.{industry} == 'Finance' and ISBLANK(due_date)",
        "sharing": f"{path}.{industry} == 'Finance'",
        "trigger when": f"{path}.{industry} == 'Finance'",
        "trigger value": f"'Finance: ' + {path}.{industry}",
        "approval entry": f"{path}.{industry} == 'Finance'",
        "approval step": f"{path}.{manager}.email != ''",
        "approval action": f"'Approved for ' + {path}.{industry}",
    }


def finance_task(api, account_object="account", lookup="related_to", **extra):
    """A finance account and a task on it; the task as read back."""
    account = api.post(f"{RECORDS}/{account_object}", json={"name": "Bank", **extra})
    assert account.status_code == 201, account.get_json()
    task = api.post(
        f"{RECORDS}/task",
        json={
            "name": "Audit",
            "due_date": "2030-01-31",
            lookup: {"object": account_object, "id": account.get_json()["id"]},
        },
    )
    assert task.status_code == 201, task.get_json()
    return task.get_json()


def test_renaming_the_field_a_narrowed_path_reaches_rewrites_every_place(crm):
    assert every_narrowed_place(crm) == expected()  # the fixture, as written

    rename(crm, f"{OBJECTS}/account/fields/industry", "sector")

    assert every_narrowed_place(crm) == expected(industry="sector")
    task = finance_task(crm, sector="Finance")
    assert (task["account_industry"], task["priority"]) == ("Finance", "High")
    assert task["status"] == "Finance: Finance"  # the trigger ran with the new name


def test_renaming_the_narrowed_object_rewrites_the_narrowing(crm):
    rename(crm, f"{OBJECTS}/account", "customer")

    assert every_narrowed_place(crm) == expected(target="customer")
    assert fields(crm, "task")["related_to"]["targets"] == ["customer", "contact", "user"]
    task = finance_task(crm, account_object="customer", industry="Finance")
    assert (task["account_industry"], task["priority"]) == ("Finance", "High")


def test_renaming_the_polymorphic_lookup_rewrites_its_narrowed_steps(crm):
    rename(crm, f"{OBJECTS}/task/fields/related_to", "regarding")

    assert every_narrowed_place(crm) == expected(lookup="regarding")
    task = finance_task(crm, lookup="regarding", industry="Finance")
    assert (task["account_industry"], task["priority"]) == ("Finance", "High")


def test_an_object_named_like_a_field_is_not_renamed_with_it(crm):
    # a task field named 'account': '[account]' narrows to the object, not to this field
    added = crm.post(
        f"{OBJECTS}/task/fields",
        json={"api_name": "account", "type": "lookup", "target": "account"},
    )
    assert added.status_code == 201, added.get_json()

    rename(crm, f"{OBJECTS}/task/fields/account", "customer_account")

    assert every_narrowed_place(crm) == expected()


def test_renaming_a_lookup_to_users_rewrites_the_user_columns_read_through_it(crm, make_user):
    rename(crm, f"{OBJECTS}/account/fields/account_manager", "manager")

    assert fields(crm, "account")["manager_email"]["expression"] == "manager.email"
    sharing = component(crm, "sharing_rules", "account.ada_accounts")
    assert sharing["criteria"] == "manager.email == 'ada@example.com'"
    template = component(crm, "email_templates", "account_notice")
    assert template["body"] == "Ask {{ manager.email }} or {{ owner.email }}."
    welcome = component(crm, "triggers", "account.welcome")["actions"]
    assert (welcome[0]["to"], welcome[0]["cc"]) == ("manager.email", ["owner.email", "manager"])
    assert welcome[1]["to"] == "manager"
    assert every_narrowed_place(crm) == expected(manager="manager")
    ada = make_user("ada@example.com")
    task = finance_task(crm, industry="Finance", manager=ada.user_id)
    assert task["manager_email"] == "ada@example.com"


def test_the_where_used_list_finds_narrowed_and_user_paths(crm):
    usages = crm.get(f"{OBJECTS}/account/fields/industry/usages").get_json()["usages"]
    places = {(u["kind"], u["name"], u["where"]) for u in usages}
    assert {
        ("field", "task.account_industry", "expression"),
        ("field", "task.priority", "default_expression"),
        ("field", "contact.finance_tasks", "filter"),
        ("validation_rule", "task.finance_tasks_need_a_date", "condition"),
        ("sharing_rule", "task.finance_tasks", "criteria"),
        ("trigger", "task.flag", "when"),
        ("approval_process", "task.finance_review", "entry"),
    } <= places
    usages = crm.get(f"{OBJECTS}/account/fields/account_manager/usages").get_json()["usages"]
    places = {(u["kind"], u["name"], u["where"]) for u in usages}
    assert {
        ("field", "account.manager_email", "expression"),
        ("field", "task.manager_email", "expression"),
        ("sharing_rule", "account.ada_accounts", "criteria"),
        ("email_template", "account_notice", "body"),
        ("approval_process", "task.finance_review", "steps[0].when"),
        ("trigger", "account.welcome", "actions[0].to"),
        ("trigger", "account.welcome", "actions[0].cc"),
        ("trigger", "account.welcome", "actions[1].to"),
    } <= places
    usages = crm.get(f"{OBJECTS}/account/fields/industry/usages").get_json()["usages"]
    assert {"kind": "trigger", "name": "account.welcome", "where": "actions[1].message"} in usages


def test_old_names_in_a_narrowed_path_keep_working_in_the_api_deprecated(crm):
    finance_task(crm, industry="Finance")
    rename(crm, f"{OBJECTS}/account/fields/industry", "sector")
    rename(crm, f"{OBJECTS}/account", "customer")
    rename(crm, f"{OBJECTS}/task/fields/related_to", "regarding")

    old = crm.get(
        f"{RECORDS}/task",
        query_string={
            "where": "related_to[account].industry == 'Finance'",
            "fields": "name,related_to[account].industry",
            "order_by": "-related_to[account].industry",
        },
    )

    assert old.status_code == 200, old.get_json()
    assert old.get_json()["records"][0]["regarding[customer].sector"] == "Finance"
    assert "Deprecation" in old.headers
    for successor in ("objects/customer", "objects/customer/fields/sector", "fields/regarding"):
        assert successor in old.headers["Link"]
    new = crm.get(
        f"{RECORDS}/task",
        query_string={"where": "regarding[customer].sector == 'Finance'", "fields": "name"},
    )
    assert len(new.get_json()["records"]) == 1 and "Deprecation" not in new.headers


def test_a_webhook_sends_the_renamed_fields(org, load_metadata):
    from crm_platform.metadata import CandidateModel, read_snapshot
    from crm_platform.metadata.renames import Rename, RenameContext
    from crm_platform.workflow.action_renames import rename_action

    load_metadata("path_renames")
    with org.db.read() as conn:
        model = CandidateModel(read_snapshot(conn))
    ctx = RenameContext(model, Rename("field", "account", "account_manager", "manager"))
    action = {
        "type": "webhook",
        "url": "https://erp.example.com/hooks",
        "secret_ref": "erp",
        "fields": ["name", "account_manager", "account_manager.email"],
    }

    renamed, places = rename_action(ctx, action, "account", "actions[0]")

    assert renamed["fields"] == ["name", "manager", "manager.email"]
    assert places == ["actions[0].fields"]
    assert action["fields"][1] == "account_manager"  # the definition read is left as it was
