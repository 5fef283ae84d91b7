"""Packs carry every kind the platform registers — layouts, list views, reports and apps
too — without the pack engine naming any of them."""

from __future__ import annotations

from crm_platform.packs import install, read_pack, uninstall, validate_folder
from crm_platform.packs.export import export_pack, parse_include
from crm_platform.packs.state import read_components

from .helpers import PACKS, components

KINDS = {
    ("layout", "project.default"),
    ("list_view", "project.active"),
    ("report", "projects_by_stage"),
    ("app", "projects"),
}


def test_a_pack_of_layouts_list_views_reports_and_apps(org, tmp_path):
    assert validate_folder(PACKS / "projects_ui", org.registry)[1] == []
    install(org, PACKS / "projects_ui")
    found = components(org)
    for key in KINDS:
        assert found[key][0] == "projects_ui", key
    with org.db.read() as conn:
        assert set(read_components(conn, "projects_ui")) == KINDS

    include = parse_include([",".join(f"{kind}:{name}" for kind, name in sorted(KINDS))])
    folder = export_pack(org, tmp_path, name="my_workspace", include=include)
    pack, problems = read_pack(folder, org.registry)
    assert problems == [] and {(d.kind) for d in pack.definitions} == {k for k, _ in KINDS}

    uninstall(org, "projects_ui")
    assert not KINDS & set(components(org))
