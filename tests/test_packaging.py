"""What the wheel ships: every file the package needs at run time (templates, scripts,
styles, schemas, catalogs, packs) is named by the package data of ``pyproject.toml`` —
``pip install .`` would otherwise serve pages that cannot find their templates."""

from __future__ import annotations

import tomllib
from pathlib import Path

import crm_platform

ROOT = Path(crm_platform.__file__).parent
PYPROJECT = ROOT.parent / "pyproject.toml"
NOT_SHIPPED = {".py", ".pyc", ".pyo"}  # Python modules are shipped as packages


def test_every_data_file_of_the_package_is_in_the_wheel():
    config = tomllib.loads(PYPROJECT.read_text())
    patterns = config["tool"]["setuptools"]["package-data"]["crm_platform"]
    shipped = {path for pattern in patterns for path in ROOT.glob(pattern)}
    data_files = {
        path
        for path in ROOT.rglob("*")
        if path.is_file() and path.suffix not in NOT_SHIPPED and "__pycache__" not in path.parts
    }
    missing = sorted(str(p.relative_to(ROOT)) for p in data_files - shipped)
    assert not missing, f"add to [tool.setuptools.package-data]: {missing}"
