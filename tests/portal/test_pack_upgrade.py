"""The service pack 1.1.0 adds case comments and the portal's permission set; an org on
1.0.0 with cases and a customised layout upgrades to it and keeps its data."""

from __future__ import annotations

import shutil
from importlib.resources import files

import yaml

from crm_platform.core.tables import SYSTEM_USER_ID
from crm_platform.packs import install, read_installed
from crm_platform.packs.upgrade import upgrade
from crm_platform.runtime import find_user, get_user
from crm_platform.runtime.records import ListRequest
from tests.conftest import ADMIN_EMAIL


def _service_1_0(tmp_path):
    """The service pack as 1.0.0 shipped it: no case_comment, no portal_customer."""
    source = files("crm_platform").joinpath("packs/shipped/service")
    folder = tmp_path / "service"
    shutil.copytree(str(source), folder)
    (folder / "objects/case_comment.yaml").unlink()
    (folder / "layouts/case_comment.default.yaml").unlink()
    (folder / "permission_sets/portal_customer.yaml").unlink()
    manifest = yaml.safe_load((folder / "pack.yaml").read_text())
    manifest["version"] = "1.0.0"
    (folder / "pack.yaml").write_text(yaml.safe_dump(manifest, allow_unicode=True))
    layout = yaml.safe_load((folder / "layouts/case.default.yaml").read_text())
    layout["related"] = [r for r in layout["related"] if r["relation"] != "case_comment.case"]
    (folder / "layouts/case.default.yaml").write_text(yaml.safe_dump(layout, allow_unicode=True))
    for name in ("service_agent", "service_manager"):
        path = folder / f"permission_sets/{name}.yaml"
        pset = yaml.safe_load(path.read_text())
        pset["objects"].pop("case_comment")
        path.write_text(yaml.safe_dump(pset, allow_unicode=True))
    return folder


def _version(org) -> str:
    with org.db.read() as conn:
        return read_installed(conn)["service"].version


def test_an_org_on_service_1_0_upgrades_to_comments_and_the_portal(org, tmp_path):
    install(org, "sales", with_sample=False)  # service's dependencies, as shipped
    install(org, _service_1_0(tmp_path), with_sample=True)
    assert _version(org) == "1.0.0"
    with org.db.read() as conn:
        system = get_user(conn, SYSTEM_USER_ID)
    with org.records.session(system, write=False) as records:
        cases_before = {c["id"] for c in records.list("case", ListRequest(limit=200)).records}
    assert cases_before

    result = upgrade(org, "service")
    assert not getattr(result, "conflicts", None)
    assert _version(org) == "1.1.0"
    with org.db.read() as conn:
        admin = find_user(conn, ADMIN_EMAIL)
    with org.records.session(admin) as records:
        cases_after = {c["id"] for c in records.list("case", ListRequest(limit=200)).records}
        assert cases_after == cases_before
        case_id = sorted(cases_after)[0]
        comment = records.create("case_comment", {"case": case_id, "body": "Checked the logs"})
        assert comment["internal"] is True  # an agent's comment is internal unless said
        assert comment["author"] == admin.id
    with org.reading() as (_conn, model):
        assert "portal_customer" in model.security.permission_sets
