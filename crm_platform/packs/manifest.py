"""The manifest of a pack (``pack.yaml``): its name, semantic version, labels, the platform
versions it runs on and the packs it depends on, with version ranges.

Versions and ranges are read with ``packaging``; a version must also be written as
semantic versioning writes it (``1.2.0``, ``2.0.0-beta.1``), so ``1.2`` is refused.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cache
from importlib import resources
from typing import Any

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

SEMVER = re.compile(
    r"(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?"
)


@dataclass(frozen=True)
class Manifest:
    """A pack's manifest, checked: ``depends`` maps a pack name to its version range."""

    name: str
    version: Version
    version_text: str
    label: Any = None
    description: str = ""
    platform: SpecifierSet | None = None
    depends: Mapping[str, SpecifierSet] = field(default_factory=dict)
    sample_as_of: date | None = None

    def as_dict(self) -> dict[str, Any]:
        """The manifest as ``pack.yaml`` writes it."""
        out: dict[str, Any] = {"name": self.name, "version": self.version_text}
        if self.label is not None:
            out["label"] = self.label
        if self.description:
            out["description"] = self.description
        if self.platform is not None:
            out["platform"] = str(self.platform)
        if self.depends:
            out["depends"] = {name: str(spec) for name, spec in self.depends.items()}
        if self.sample_as_of is not None:
            out["sample_as_of"] = self.sample_as_of.isoformat()
        return out

    def sample_shift(self, today: date) -> timedelta:
        """How far the sample's dates move when installed ``today``: whole weeks from
        ``sample_as_of`` (weekdays, and so business hours and SLAs, stay as written)."""
        if self.sample_as_of is None or today <= self.sample_as_of:
            return timedelta(0)
        return timedelta(weeks=(today - self.sample_as_of).days // 7)


@cache
def manifest_schema() -> dict[str, Any]:
    """The JSON Schema of ``pack.yaml`` (shipped as ``packs/schemas/pack.json``)."""
    text = resources.files("crm_platform.packs").joinpath("schemas/pack.json").read_text()
    return json.loads(text)


def parse_version(text: Any) -> Version | None:
    """A semantic version, or None when ``text`` is not one."""
    if not isinstance(text, str) or not SEMVER.fullmatch(text):
        return None
    try:
        return Version(text)
    except InvalidVersion:
        return None


def parse_range(text: Any) -> SpecifierSet | None:
    """A version range (``>=1.0,<2``), or None when ``text`` is not one."""
    if not isinstance(text, str) or not text.strip():
        return None
    try:
        return SpecifierSet(text)
    except InvalidSpecifier:
        return None


def manifest_problems(raw: Any) -> list[tuple[str, str]]:
    """Every problem of a manifest as (key, message); empty when it is good."""
    if not isinstance(raw, Mapping):
        return [("(root)", "pack.yaml must be a mapping (name, version, ...)")]
    from jsonschema import Draft202012Validator  # here: API workers never read a manifest

    validator = Draft202012Validator(manifest_schema())
    problems = []
    for error in sorted(validator.iter_errors(raw), key=lambda e: [str(p) for p in e.path]):
        path = ".".join(str(p) for p in error.absolute_path) or "(root)"
        problems.append((path, error.message))
    version = raw.get("version")
    if isinstance(version, str) and parse_version(version) is None:
        problems.append(("version", f"'{version}' is not a semantic version (such as 1.2.0)"))
    platform = raw.get("platform")
    if isinstance(platform, str) and parse_range(platform) is None:
        problems.append(("platform", f"'{platform}' is not a version range (such as >=0.1)"))
    depends = raw.get("depends")
    if isinstance(depends, Mapping):
        for name, spec in depends.items():
            if isinstance(spec, str) and parse_range(spec) is None:
                problems.append(
                    (f"depends.{name}", f"'{spec}' is not a version range (such as >=1.0,<2)")
                )
        if raw.get("name") in depends:
            problems.append(("depends", "a pack cannot depend on itself"))
    if raw.get("sample_as_of") is not None and _day(raw["sample_as_of"]) is None:
        problems.append(("sample_as_of", "not a day (such as 2026-12-02)"))
    return problems


def parse_manifest(raw: Mapping[str, Any]) -> Manifest:
    """The manifest of a raw mapping that :func:`manifest_problems` found no problem in."""
    version = parse_version(raw["version"])
    assert version is not None
    return Manifest(
        name=raw["name"],
        version=version,
        version_text=raw["version"],
        label=raw.get("label"),
        description=raw.get("description", ""),
        platform=parse_range(raw["platform"]) if raw.get("platform") else None,
        depends={name: SpecifierSet(spec) for name, spec in (raw.get("depends") or {}).items()},
        sample_as_of=_day(raw.get("sample_as_of")),
    )


def _day(value: Any) -> date | None:
    """A day as YAML reads it (a date) or as text (``2026-12-02``); None when not one."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def satisfies(version: Version, spec: SpecifierSet) -> bool:
    """Whether ``version`` is in the range (pre-releases count: a pack may ship one)."""
    return spec.contains(version, prereleases=True)
