"""A consultant checks pack folders before shipping them: every problem is named with
its file (and line where YAML gives one)."""

from __future__ import annotations

import pytest

from crm_platform.packs import read_pack, shipped_root, validate_pack
from crm_platform.packs.validate import validate_folder
from tests.conftest import FIXTURES

PACKS = FIXTURES / "packs"


@pytest.fixture(scope="module")
def registry():
    from crm_platform.assembly import default_extensions
    from crm_platform.core import load_settings
    from crm_platform.runtime import Org

    org = Org.open(
        load_settings("sqlite://"), extensions=default_extensions(load_settings("sqlite://"))
    )
    yield org.registry
    org.dispose()


def problems_of(registry, name):
    return [str(p) for p in validate_folder(PACKS / name, registry)[1]]


def test_a_good_pack_with_its_dependency_has_no_problem(registry):
    assert problems_of(registry, "acme_projects") == []
    pack, _ = read_pack(PACKS / "acme_projects", registry)
    assert pack.name == "acme_projects" and pack.version == "1.0.0"
    assert {d.kind for d in pack.definitions} == {"object", "validation_rule"}
    records = {(r.object, r.key, r.sample) for r in pack.records}
    assert ("client", "acme", False) in records and ("project", None, True) in records


def test_the_shipped_pack_is_valid(registry):
    pack, problems = read_pack(shipped_root() / "core_activities", registry)
    assert problems == []
    assert validate_pack(pack, registry) == []
    assert {d.definition["api_name"] for d in pack.definitions if d.kind == "object"} == {
        "task",
        "event",
        "note",
    }


def test_a_missing_manifest_is_named(registry):
    assert problems_of(registry, "bad_no_manifest") == [
        "pack.yaml: missing: a pack needs a pack.yaml"
    ]


def test_bad_yaml_names_file_and_line(registry):
    (problem,) = problems_of(registry, "bad_yaml")
    assert problem.startswith("objects/thing.yaml:4: bad YAML")


def test_an_unknown_kind_folder_lists_the_known_ones(registry):
    (problem,) = problems_of(registry, "bad_kind")
    assert problem.startswith("widgets/: unknown kind folder 'widgets'")
    assert "objects" in problem and "validation_rules" in problem and "data" in problem


def test_a_version_that_is_not_semver(registry):
    assert problems_of(registry, "bad_version") == [
        "pack.yaml:3: '1.2' is not a semantic version (such as 1.2.0)"
    ]


def test_a_definition_the_schema_refuses_names_its_line(registry):
    (problem,) = problems_of(registry, "bad_definition")
    assert problem.startswith("objects/thing.yaml:4: fields[1].type")
    assert "colourful" in problem


def test_a_reference_to_nothing(registry):
    assert problems_of(registry, "bad_reference") == [
        "data/project.yaml:2: client: refers to _key 'nobody', which no record of this pack has"
    ]


def test_a_lookup_to_an_object_of_a_missing_dependency(registry):
    pack, _ = read_pack(PACKS / "acme_projects", registry)
    found = [str(p) for p in validate_pack(pack, registry)]  # core_activities not given
    assert len(found) == 1
    assert found == [
        "objects/project.yaml:12: project.fields.follow_up.target: no object 'task' to point at"
    ]


def test_every_shipped_pack_file_is_package_data_so_it_ships_in_the_wheel():
    import fnmatch
    import tomllib
    from pathlib import Path

    root = Path(__file__).parents[2]
    config = tomllib.loads((root / "pyproject.toml").read_text())
    patterns = config["tool"]["setuptools"]["package-data"]["crm_platform"]
    package = root / "crm_platform"
    files = [p for p in (package / "packs").rglob("*") if p.is_file() and "shipped" in p.parts]
    files += [package / "packs/schemas/pack.json"]
    assert files
    for path in files:
        relative = path.relative_to(package).as_posix()
        assert any(fnmatch.fnmatchcase(relative, pattern) for pattern in patterns), relative


def test_a_dependency_found_nowhere_is_named_in_the_manifest(registry):
    assert problems_of(registry, "needs_missing") == [
        "pack.yaml: needs_missing depends on nowhere >=1.0, which is found neither beside it nor shipped"
    ]


def test_a_pack_extending_its_dependency_validates(registry):
    assert problems_of(registry, "activity_links") == []
