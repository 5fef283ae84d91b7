"""The service, subscription, marketing and manufacturing packs validate on their own
and label everything they show in English and Chinese."""

from __future__ import annotations

import pytest
import yaml

from crm_platform.packs import shipped_root
from crm_platform.packs.validate import validate_folder

from .test_sales_pack import _labels


@pytest.mark.parametrize("name", ["service", "subscription", "marketing", "manufacturing"])
def test_the_pack_validates_and_every_label_is_in_english_and_chinese(name):
    from crm_platform.assembly import default_extensions
    from crm_platform.core import load_settings
    from crm_platform.metadata import build_registry
    from crm_platform.runtime.model import ModelCompiler

    registry, compiler = build_registry(), ModelCompiler()
    for extension in default_extensions(load_settings("sqlite://")):
        extension.register(registry, compiler)
    folder = shipped_root() / name
    _pack, problems = validate_folder(folder, registry)
    assert problems == []
    missing = []
    for path in sorted(folder.rglob("*.yaml")):
        if path.parent.name in ("data", "sample"):
            continue
        for where, label in _labels(yaml.safe_load(path.read_text()), path.name):
            if not (isinstance(label, dict) and label.get("en") and label.get("zh")):
                missing.append(where)
    assert missing == []
