"""A consultant upgrades a pack in an org an admin has customised: the admin's work
survives, the pack's changes arrive, conflicts are settled only by an explicit choice,
and a field the new version drops keeps its data."""

from __future__ import annotations

import pytest

from crm_platform.core import Conflict
from crm_platform.core.tables import SYSTEM_USER_ID
from crm_platform.packs import PackInvalid, install, read_installed
from crm_platform.packs.components import checksum
from crm_platform.packs.merge import merge_values
from crm_platform.packs.state import read_components
from crm_platform.packs.upgrade import plan_upgrade, upgrade
from crm_platform.runtime import get_user

from .helpers import PACKS, components, records

NEW = PACKS / "acme_projects_1_1"


@pytest.fixture
def customised(org):
    """acme_projects 1.0.0 installed with its samples, then customised by an admin."""
    install(org, PACKS / "acme_projects", with_sample=True)
    meta = org.metadata
    meta.add_field(
        "project", {"api_name": "internal_notes", "type": "long_text"}, author_id=SYSTEM_USER_ID
    )
    stage = meta.get_field("project", "stage")
    meta.patch_field(
        "project", "stage", {"values": [*stage["values"], "Cancelled"]}, author_id=SYSTEM_USER_ID
    )
    with org.db.read() as conn:
        system = get_user(conn, SYSTEM_USER_ID)
    with org.records.session(system) as session:
        task = session.create("task", {"subject": "Call the client", "owner_id": _admin_id(org)})
        website = next(p for p in records(org, "project") if p["name"] == "Website")
        session.update("project", website["id"], {"follow_up": task["id"], "internal_notes": "VIP"})
    return org, task["id"]


def _admin_id(org):
    from crm_platform.runtime import find_user

    with org.db.read() as conn:
        return find_user(conn, "admin@example.com").id


def _field(org, object_name, name):
    return components(org).get(("field", f"{object_name}.{name}"), (None, None))[1]


def test_local_work_survives_and_the_pack_changes_arrive(customised):
    org, task_id = customised
    planned = plan_upgrade(org, "acme_projects", from_path=NEW)
    actions = {(i.kind, i.name): i.action for i in planned.items}
    assert actions[("field", "project.risk")] == "create"
    assert actions[("field", "project.stage")] == "change"
    assert actions[("validation_rule", "project.budget_positive")] == "change"
    assert actions[("field", "project.follow_up")] == "deprecate"
    assert actions[("object", "client")] == "change"
    assert planned.conflicts == ()

    result = upgrade(org, "acme_projects", from_path=NEW)
    assert (result.from_version, result.to_version) == ("1.0.0", "1.1.0")
    assert result.deprecated == ("field:project.follow_up",)

    # the admin's field and picklist value survive; the pack's value and field arrive
    assert _field(org, "project", "internal_notes")["type"] == "long_text"
    assert _field(org, "project", "stage")["values"] == [
        "Planned",
        "Active",
        "On Hold",
        "Done",
        "Cancelled",
    ]
    assert _field(org, "project", "risk")["values"] == ["Low", "Medium", "High"]
    assert components(org)[("validation_rule", "project.budget_positive")][1]["condition"] == (
        "budget < 0 or budget > 1000000"
    )
    assert components(org)[("object", "client")][1]["label"] == "Customer"
    # the dropped field is kept, marked deprecated, with its data
    follow_up = _field(org, "project", "follow_up")
    assert follow_up["description"].startswith("Deprecated: removed from acme_projects 1.1.0")
    website = next(p for p in records(org, "project") if p["name"] == "Website")
    assert website["follow_up"] == task_id and website["internal_notes"] == "VIP"

    with org.db.read() as conn:
        assert read_installed(conn)["acme_projects"].version == "1.1.0"
        recorded = read_components(conn, "acme_projects")
    assert ("field", "project.follow_up") not in recorded
    assert recorded[("field", "project.risk")].version == "1.1.0"
    # the record of what was installed is the pack's own definition: the admin's value
    # is a local change, known as such
    stage = recorded[("field", "project.stage")]
    assert stage.definition["values"] == ["Planned", "Active", "On Hold", "Done"]
    assert stage.checksum != checksum(_field(org, "project", "stage"))


def test_a_conflict_is_listed_and_refused_without_a_choice(customised):
    org, _ = customised
    org.metadata.patch_object("client", {"label": "Account"}, author_id=SYSTEM_USER_ID)
    version = org.metadata.version()
    (conflict,) = plan_upgrade(org, "acme_projects", from_path=NEW).conflicts
    assert (conflict.component, conflict.attribute) == ("object:client", "label")
    assert (conflict.base, conflict.pack, conflict.local) == ("Client", "Customer", "Account")
    with pytest.raises(Conflict) as caught:
        upgrade(org, "acme_projects", from_path=NEW)
    assert caught.value.extra["conflicts"] == [conflict.as_dict()]
    assert org.metadata.version() == version  # nothing changed
    assert _field(org, "project", "risk") is None


@pytest.mark.parametrize(("prefer", "label"), [("local", "Account"), ("pack", "Customer")])
def test_a_conflict_settled_by_an_explicit_choice(customised, prefer, label):
    org, _ = customised
    org.metadata.patch_object("client", {"label": "Account"}, author_id=SYSTEM_USER_ID)
    result = upgrade(org, "acme_projects", from_path=NEW, prefer=prefer)
    assert [c.component for c in result.resolved] == ["object:client"]
    assert components(org)[("object", "client")][1]["label"] == label
    assert _field(org, "project", "risk") is not None  # the rest merged as usual


def test_a_choice_per_component(customised):
    org, _ = customised
    org.metadata.patch_object("client", {"label": "Account"}, author_id=SYSTEM_USER_ID)
    upgrade(org, "acme_projects", from_path=NEW, choices={"object:client": "pack"})
    assert components(org)[("object", "client")][1]["label"] == "Customer"


def test_upgrading_to_the_installed_version_changes_nothing(org):
    install(org, PACKS / "acme_projects")
    version = org.metadata.version()
    result = upgrade(org, "acme_projects", from_path=PACKS / "acme_projects")
    assert result.components == 0 and org.metadata.version() == version


def test_picklist_values_merge_as_sets():
    base = ["A", "B", "C"]
    pack = ["A", "A2", "C", {"value": "D", "color": "#f00"}]  # adds A2 and D, drops B
    local = ["A", "B", "C", "Z"]  # the admin added Z
    assert merge_values(base, pack, local) == ["A", "A2", "C", {"value": "D", "color": "#f00"}, "Z"]
    # a value the admin removed is not brought back
    assert merge_values(base, [*base, "E"], ["A", "C"]) == ["A", "C", "E"]


def test_the_plan_shows_a_readable_diff_of_a_changed_rule(customised):
    org, _ = customised
    planned = plan_upgrade(org, "acme_projects", from_path=NEW)
    (rule,) = [i for i in planned.items if i.name == "project.budget_positive"]
    assert "-condition: budget < 0\n" in rule.diff
    assert "+condition: budget < 0 or budget > 1000000\n" in rule.diff


def test_an_upgrade_that_fails_half_way_changes_nothing_and_names_the_component(customised):
    org, _ = customised
    version = org.metadata.version()
    with pytest.raises(PackInvalid) as caught:
        upgrade(org, "acme_projects", from_path=PACKS / "acme_projects_bad")
    ((where, messages),) = caught.value.errors.items()
    assert where == "validation_rules/project.risk_needs_budget.yaml:3"
    assert "project.risk_needs_budget.condition" in messages[0]
    assert "budget_total" in messages[0]
    assert org.metadata.version() == version
    assert _field(org, "project", "risk") is None
    with org.db.read() as conn:
        assert read_installed(conn)["acme_projects"].version == "1.0.0"


def test_an_extension_upgrades_its_own_fields_only(org, tmp_path):
    import shutil

    install(org, PACKS / "activity_links")
    newer = tmp_path / "activity_links"
    shutil.copytree(PACKS / "activity_links", newer)
    (newer / "pack.yaml").write_text(
        (newer / "pack.yaml").read_text().replace("1.0.0", "1.1.0"), encoding="utf-8"
    )
    task = newer / "objects" / "task.yaml"
    task.write_text(
        task.read_text() + "  - {api_name: hours, type: decimal, precision: 6, scale: 1}\n",
        encoding="utf-8",
    )
    planned = plan_upgrade(org, "activity_links", from_path=newer)
    assert planned.conflicts == ()
    assert {(i.kind, i.name): i.action for i in planned.items} == {
        ("field", "task.project"): "leave",
        ("field", "task.hours"): "create",
    }
    upgrade(org, "activity_links", from_path=newer)
    assert components(org)[("field", "task.hours")][0] == "activity_links"
    assert components(org)[("object", "task")][0] == "core_activities"
