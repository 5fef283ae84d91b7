"""Record events and the after-commit queue: what automation, search and roll-ups attach to."""

from __future__ import annotations

from decimal import Decimal

import pytest

from crm_platform.runtime.records import RecordEvent

REC = "/api/v1/records"
E = RecordEvent


def _create(api, obj, **values):
    response = api.post(f"{REC}/{obj}", json=values)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


@pytest.fixture
def seen(org):
    """Every event delivered, as (event, object, record id, cascaded, changed fields)."""
    log: list[tuple] = []

    def record(ctx):
        for change in ctx.changes:
            log.append(
                (ctx.event, ctx.object.api_name, change.record_id, change.cascaded, change.changed)
            )

    registration = org.records.events.on(list(RecordEvent), record, name="test-log")
    yield log
    org.records.events.remove(registration)


def test_a_before_save_handler_updates_fields_that_validation_then_checks(org, projects):
    def default_stage(ctx):
        for change in ctx.changes:
            if ctx.values(change).get("budget") and ctx.values(change)["budget"] > 1000:
                ctx.set_field(change.record_id, "stage", "Active")

    org.records.events.on((E.BEFORE_CREATE, E.BEFORE_UPDATE), default_stage, objects=["project"])
    big = _create(projects, "project", name="Big", budget=5000)
    small = _create(projects, "project", name="Small", budget=10)
    assert big["stage"] == "Active" and small["stage"] == "Planned"
    changed = projects.patch(f"{REC}/project/{small['id']}", json={"budget": 2000}).get_json()
    assert changed["stage"] == "Active"

    def inactive_stage(ctx):
        ctx.set_field(ctx.changes[0].record_id, "stage", "Cancelled")

    org.records.events.on(E.BEFORE_CREATE, inactive_stage, objects=["project"])
    refused = projects.post(f"{REC}/project", json={"name": "Refused"})
    assert refused.status_code == 400
    assert "stage" in refused.get_json()["errors"]


def test_after_save_handlers_see_the_values_before_and_after(org, projects, seen):
    values = []
    org.records.events.on(
        E.AFTER_UPDATE,
        lambda ctx: values.extend((c.before["budget"], c.after["budget"]) for c in ctx.changes),
        objects=["project"],
    )
    project = _create(projects, "project", name="Apollo", budget=100)
    projects.patch(f"{REC}/project/{project['id']}", json={"budget": 250, "name": "Apollo"})
    assert values == [(Decimal("100.00"), Decimal("250.00"))]
    updates = [s for s in seen if s[0] is E.AFTER_UPDATE]
    assert updates == [(E.AFTER_UPDATE, "project", project["id"], False, ("budget",))]
    assert seen[0][:2] == (E.BEFORE_CREATE, "project") and seen[1][:2] == (
        E.AFTER_CREATE,
        "project",
    )


def test_a_cascade_fires_events_for_every_child_it_moves(org, projects, seen):
    account = _create(projects, "account", name="Acme")
    project = _create(projects, "project", name="Apollo", account=account["id"])
    task = _create(projects, "task", name="Plan", project=project["id"])
    seen.clear()

    # deleting the project takes its task (master-detail) with it
    assert projects.delete(f"{REC}/project/{project['id']}").status_code == 204
    deletes = {(s[0], s[1], s[3]) for s in seen}
    assert deletes == {
        (E.BEFORE_DELETE, "project", False),
        (E.AFTER_DELETE, "project", False),
        (E.BEFORE_DELETE, "task", True),
        (E.AFTER_DELETE, "task", True),
    }
    seen.clear()
    assert projects.post(f"{REC}/project/{project['id']}/restore").status_code == 200
    assert {(s[0], s[2], s[3]) for s in seen} == {
        (E.BEFORE_RESTORE, project["id"], False),
        (E.AFTER_RESTORE, project["id"], False),
        (E.BEFORE_RESTORE, task["id"], True),
        (E.AFTER_RESTORE, task["id"], True),
    }

    # deleting the account clears the project's set-null lookup: a cascaded update
    seen.clear()
    assert projects.delete(f"{REC}/account/{account['id']}").status_code == 204
    assert (E.AFTER_UPDATE, "project", project["id"], True, ("account",)) in seen
    seen.clear()
    projects.post(f"{REC}/account/{account['id']}/restore")
    assert (E.AFTER_UPDATE, "project", project["id"], True, ("account",)) in seen
    assert projects.get(f"{REC}/project/{project['id']}").get_json()["account"] == account["id"]

    # purging from the recycle bin fires purge events for the whole batch
    projects.delete(f"{REC}/project/{project['id']}")
    seen.clear()
    assert projects.delete(f"{REC}/project/{project['id']}?purge=true").status_code == 204
    assert {(s[0], s[1]) for s in seen} == {
        (E.BEFORE_PURGE, "project"),
        (E.AFTER_PURGE, "project"),
        (E.BEFORE_PURGE, "task"),
        (E.AFTER_PURGE, "task"),
    }


def test_a_handler_writes_through_the_service_in_the_same_transaction(org, projects):
    def kick_off(ctx):
        for change in ctx.changes:
            ctx.records.create("task", {"name": "Kick-off", "project": change.record_id})

    org.records.events.on(E.AFTER_CREATE, kick_off, objects=["project"])
    project = _create(projects, "project", name="Apollo")
    tasks = projects.get(f"{REC}/project/{project['id']}/related/task").get_json()["records"]
    assert [t["name"] for t in tasks] == ["Kick-off"]

    # a failure after the handler's write undoes the handler's write too
    def refuse(ctx):
        raise ValueError("boom")

    org.records.events.on(E.AFTER_CREATE, refuse, objects=["task"])
    assert projects.post(f"{REC}/project", json={"name": "Gemini"}).status_code == 500
    listed = projects.get(f"{REC}/project?where=name%20%3D%3D%20'Gemini'").get_json()
    assert listed["records"] == []


def test_handlers_that_call_themselves_are_stopped(org, projects):
    def again(ctx):
        for change in ctx.changes:
            ctx.records.update("project", change.record_id, {"probability": 10})
            ctx.records.update("project", change.record_id, {"probability": 20})

    project = _create(projects, "project", name="Apollo")
    org.records.events.on(E.AFTER_UPDATE, again, objects=["project"])
    response = projects.patch(f"{REC}/project/{project['id']}", json={"budget": 5})
    assert response.status_code == 409
    assert "recursed" in response.get_json()["detail"]
    assert projects.get(f"{REC}/project/{project['id']}").get_json()["budget"] is None


def test_after_commit_work_runs_only_for_committed_changes(org, projects):
    sent: list[str] = []

    def notify(ctx):
        for change in ctx.changes:
            name = change.after["name"]
            ctx.after_commit(lambda name=name: sent.append(name))
            assert sent == [] or name not in sent  # never before the commit

    org.records.events.on(E.AFTER_CREATE, notify, objects=["project"])
    _create(projects, "project", name="Apollo")
    assert sent == ["Apollo"]

    # all-or-none: the second operation fails, so the first one's work is dropped
    batch = {
        "operations": [
            {"method": "POST", "url": "/records/project", "body": {"name": "Gemini"}},
            {"method": "POST", "url": "/records/project", "body": {"name": ""}},
        ]
    }
    assert projects.post("/api/v1/composite", json=batch).status_code == 400
    assert sent == ["Apollo"]

    # partial: each operation in its savepoint; only the failed one's work is dropped
    batch["all_or_none"] = False
    batch["operations"].append(
        {"method": "POST", "url": "/records/project", "body": {"name": "Mercury"}}
    )
    assert projects.post("/api/v1/composite", json=batch).status_code == 200
    assert sent == ["Apollo", "Gemini", "Mercury"]


def test_after_commit_queue_drops_work_of_a_rolled_back_savepoint(org):
    from crm_platform.core import after_commit

    ran: list[str] = []
    with org.db.write() as conn:
        after_commit(conn, lambda: ran.append("kept"))
        try:
            with conn.begin_nested():
                after_commit(conn, lambda: ran.append("dropped"))
                raise RuntimeError("undo the savepoint")
        except RuntimeError:
            pass
        with conn.begin_nested():
            after_commit(conn, lambda: ran.append("released"))
        assert ran == []
    assert ran == ["kept", "released"]

    with pytest.raises(RuntimeError), org.db.write() as conn:
        after_commit(conn, lambda: ran.append("rolled back"))
        raise RuntimeError("undo everything")
    assert ran == ["kept", "released"]

    with org.db.read() as conn, pytest.raises(RuntimeError):
        after_commit(conn, lambda: None)


def test_search_and_rollups_are_event_handlers(org):
    names = {r.name for r in org.records.events.registrations}
    assert {"field_history", "criteria_shares", "search_index", "rollups"} <= names


def test_a_before_save_handler_setting_a_formula_changes_nothing_stored(org, projects):
    """A formula is computed, never stored: a handler (a plugin's) that sets one leaves the
    save as it was, and the record shows the formula's own value."""

    def set_formula(ctx):
        for change in ctx.changes:
            ctx.set_field(change.record_id, "expected", 5)

    org.records.events.on((E.BEFORE_CREATE, E.BEFORE_UPDATE), set_formula, objects=["project"])
    created = projects.post(f"{REC}/project", json={"name": "Formula", "budget": 10})
    assert created.status_code == 201, created.get_json()
    changed = projects.patch(f"{REC}/project/{created.get_json()['id']}", json={"budget": 20})
    assert changed.status_code == 200
    assert changed.get_json()["expected"] != 5
