"""The packs page through the test client: shipped and installed packs, an install's
plan as a diff (nothing changes), the install, the upgrade page, uninstall and export."""

from __future__ import annotations

import io
import zipfile

from tests.admin_ui.conftest import post, text

PACK = "core_activities"


def installed(sales) -> dict:
    from crm_platform.packs import read_installed

    with sales.org.db.read() as conn:
        return {p.name: p.version for p in read_installed(conn).values()}


def without_local_notes(sales) -> None:
    """The sales org's own ``note`` object goes (the pack ships one: a collision)."""
    from crm_platform.core.tables import SYSTEM_USER_ID

    meta = sales.org.metadata
    app = meta.get_component("app", "sales")
    app["tabs"] = [t for t in app["tabs"] if t != "note"]
    meta.put_component("app", app, author_id=SYSTEM_USER_ID)
    rep = meta.get_component("permission_set", "rep")
    rep["objects"] = {k: v for k, v in rep.get("objects", {}).items() if k != "note"}
    rep["fields"] = {k: v for k, v in rep.get("fields", {}).items() if not k.startswith("note.")}
    meta.put_component("permission_set", rep, author_id=SYSTEM_USER_ID)
    meta.delete_object("note", author_id=SYSTEM_USER_ID)
    meta.purge_object("note", confirm="note", author_id=SYSTEM_USER_ID)


def test_a_collision_is_shown_and_no_install_is_offered(sales, admin):
    plan = text(admin.get(f"/setup/packs/{PACK}/plan"))
    assert "exists already (a local one)" in plan
    assert 'id="install"' not in plan


def test_the_plan_shows_what_an_install_would_do_and_changes_nothing(sales, admin):
    without_local_notes(sales)
    page = text(admin.get("/setup/packs/"))
    assert f'data-pack="{PACK}"' in page
    before = sales.org.metadata.version()
    plan = text(admin.get(f"/setup/packs/{PACK}/plan"))
    assert 'id="plan-items"' in plan and "create" in plan
    assert 'id="install"' in plan
    assert sales.org.metadata.version() == before
    assert PACK not in installed(sales)


def test_install_then_uninstall(sales, admin):
    without_local_notes(sales)
    response = post(admin, f"/setup/packs/{PACK}/install")
    assert response.status_code == 302
    assert PACK in installed(sales)
    assert "Installed" in text(admin.get("/setup/packs/"))
    upgrade = admin.get(f"/setup/packs/{PACK}/upgrade")
    assert upgrade.status_code in (200, 409)  # nothing newer is shipped
    refused = post(admin, f"/setup/packs/{PACK}/uninstall")
    if refused.status_code == 409:  # its objects hold records: the page says so
        assert "hold records" in text(refused)
        assert PACK in installed(sales)
        refused = post(admin, f"/setup/packs/{PACK}/uninstall", {"delete_data": "on"})
    assert refused.status_code == 302
    assert PACK not in installed(sales)


def test_an_unknown_pack_is_404_and_changes_nothing(sales, admin):
    before = sales.org.metadata.version()
    assert admin.get("/setup/packs/nothing/plan").status_code == 404
    assert post(admin, "/setup/packs/nothing/install").status_code == 404
    assert sales.org.metadata.version() == before


def test_export_gives_a_zip_of_a_pack(sales, admin):
    response = post(
        admin, "/setup/packs/export", {"name": "sales_config", "include": "object:opportunity"}
    )
    assert response.status_code == 200
    assert response.mimetype == "application/zip"
    names = zipfile.ZipFile(io.BytesIO(response.data)).namelist()
    assert "sales_config/pack.yaml" in names
    assert any("opportunity" in n for n in names)


def test_a_rep_may_not_manage_packs(sales, rep):
    assert rep.get("/setup/packs/").status_code == 403
    assert post(rep, f"/setup/packs/{PACK}/install").status_code == 403
    assert PACK not in installed(sales)
