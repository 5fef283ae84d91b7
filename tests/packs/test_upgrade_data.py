"""Upgrading a pack brings the new version's reference records and the dependencies it
now declares: records the org holds already are found by external id (never twinned,
however often the upgrade runs) and local edits to them are kept."""

from __future__ import annotations

import shutil

import pytest

from crm_platform.core.tables import SYSTEM_USER_ID
from crm_platform.packs import PackInvalid, install, read_installed
from crm_platform.packs.upgrade import plan_upgrade, upgrade
from crm_platform.runtime import get_user

from .helpers import PACKS, components, records

NEW = PACKS / "acme_projects_1_3"


def _rename_client(org, code: str, name: str) -> None:
    with org.db.read() as conn:
        system = get_user(conn, SYSTEM_USER_ID)
    client = next(c for c in records(org, "client") if c["code"] == code)
    with org.records.session(system) as session:
        session.update("client", client["id"], {"name": name})


def test_upgrade_installs_new_dependencies_and_loads_new_reference_records(org):
    install(org, PACKS / "acme_projects")
    _rename_client(org, "GLOBEX", "Globex Inc")  # a local edit of a reference record

    planned = plan_upgrade(org, "acme_projects", from_path=NEW)
    assert planned.dependencies == (("regions", "1.0.0"),)
    assert ("object", "region") in {(i.kind, i.name) for i in planned.items}
    assert planned.as_dict()["install_dependencies"] == [{"name": "regions", "version": "1.0.0"}]

    result = upgrade(org, "acme_projects", from_path=NEW)
    assert result.dependencies == (("regions", "1.0.0"),)
    assert result.records == 4 + 1  # the four regions, and Initech (Acme, Globex exist)
    with org.db.read() as conn:
        installed = read_installed(conn)
    assert installed["regions"].version == "1.0.0"
    assert installed["acme_projects"].version == "1.3.0"
    assert components(org)[("object", "region")][0] == "regions"

    clients = {c["code"]: c for c in records(org, "client")}
    assert sorted(clients) == ["ACME", "GLOBEX", "INITECH"]
    assert clients["GLOBEX"]["name"] == "Globex Inc"  # the org's edit is kept
    regions = {r["id"]: r["code"] for r in records(org, "region")}
    assert regions[clients["INITECH"]["region"]] == "EU"  # a reference to the new dependency
    assert clients["ACME"]["region"] is None  # an existing record is not rewritten


def test_running_the_upgrade_again_adds_no_twins(org):
    install(org, PACKS / "acme_projects")
    upgrade(org, "acme_projects", from_path=NEW)
    again = upgrade(org, "acme_projects", from_path=NEW)
    assert again.records == 0 and again.dependencies == ()
    assert len(records(org, "client")) == 3
    assert len(records(org, "region")) == 4


def test_a_failing_upgrade_installs_no_dependency(org, tmp_path):
    install(org, PACKS / "acme_projects")
    broken = tmp_path / "acme_projects"
    shutil.copytree(NEW, broken)
    shutil.copytree(PACKS / "regions", tmp_path / "regions")
    (broken / "data" / "client.csv").write_text(
        "_key,name,code,region.code\nnowhere,Nowhere,NOWHERE,XX\n", encoding="utf-8"
    )
    with pytest.raises(PackInvalid) as caught:
        upgrade(org, "acme_projects", from_path=broken)
    assert "no region record with code 'XX'" in str(caught.value.problems)
    with org.db.read() as conn:
        installed = read_installed(conn)
    assert "regions" not in installed and installed["acme_projects"].version == "1.0.0"
    assert ("object", "region") not in components(org)
