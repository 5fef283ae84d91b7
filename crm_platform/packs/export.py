"""Exporting an org's configuration as a new pack folder: the components named
(``object:project``, ``validation_rule:project.budget_positive``...; an object brings
its fields and its per-object components), or those changed since a pack was
installed. The folder validates and installs into a fresh org as an equal configuration.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from crm_platform.core import CrmError, ValidationFailed
from crm_platform.metadata import ACTIVE, Snapshot
from crm_platform.runtime import Org
from crm_platform.yamlio import dump_yaml

from .components import checksum
from .loader import MANIFEST
from .manifest import manifest_problems
from .state import read_components


def parse_include(items: Sequence[str]) -> list[tuple[str, str]]:
    """``kind:name`` items (comma-separated lists allowed) as (kind, name) pairs."""
    out = []
    for item in (p.strip() for chunk in items for p in chunk.split(",")):
        if not item:
            continue
        kind, sep, name = item.partition(":")
        if not sep or not name:
            raise ValidationFailed({"include": f"'{item}' is not kind:name (object:project)"})
        out.append((kind, name))
    return out


def changed_since_install(org: Org, pack: str) -> list[tuple[str, str]]:
    """The pack's components the org changed since it was installed, and the org's own
    components on the pack's objects: as (kind, name), objects for their fields."""
    snapshot = org.metadata.snapshot()
    with org.db.read() as conn:
        recorded = read_components(conn, pack)
    if not recorded:
        raise CrmError(f"{pack} is not installed")
    objects = {c.name for c in recorded.values() if c.kind == "object"}
    out: dict[tuple[str, str], None] = {}
    for key, comp in recorded.items():
        now = snapshot.get(*key)
        if now is not None and now.status == ACTIVE and checksum(now.definition) != comp.checksum:
            out[("object", key[1].split(".")[0]) if key[0] == "field" else key] = None
    for comp in snapshot.components.values():
        if comp.status == ACTIVE and comp.parent in objects and comp.key not in recorded:
            out[("object", comp.parent) if comp.kind == "field" else comp.key] = None
    return list(out)


def export_pack(
    org: Org,
    out: Path,
    *,
    name: str,
    include: Sequence[tuple[str, str]],
    version: str = "1.0.0",
    label: Any = None,
    description: str = "",
) -> Path:
    """Write the components ``include`` names as the pack ``name`` in ``out/<name>``."""
    manifest: dict[str, Any] = {"name": name, "version": version}
    if label:
        manifest["label"] = label
    if description:
        manifest["description"] = description
    if problems := manifest_problems(manifest):
        raise ValidationFailed({f"manifest.{k}": m for k, m in problems})
    snapshot = org.metadata.snapshot()
    files: dict[str, dict[str, Any]] = {}
    for kind, component in include:
        for path, definition in _definitions(org, snapshot, kind, component):
            files[path] = definition
    if not files:
        raise ValidationFailed({"include": "nothing to export"})
    folder = out / name
    if folder.exists() and any(folder.iterdir()):
        raise CrmError(f"{folder} exists and is not empty")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / MANIFEST).write_text(dump_yaml(manifest), encoding="utf-8")
    for path, definition in files.items():
        target = folder / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(dump_yaml(definition), encoding="utf-8")
    return folder


def _definitions(org: Org, snapshot: Snapshot, kind: str, name: str):
    if kind not in org.registry.kinds or kind == "field":
        raise ValidationFailed({"include": f"unknown kind '{kind}' in {kind}:{name}"})
    comp = snapshot.get(kind, name)
    if comp is None or comp.status != ACTIVE:
        raise ValidationFailed({"include": f"no {kind} '{name}'"})
    plural = org.registry.kind(kind).plural
    if kind != "object":
        yield f"{plural}/{name}.yaml", dict(comp.definition)
        return
    yield f"{plural}/{name}.yaml", _plain(org.metadata.get_object(name))
    for other in org.registry.kinds.values():
        if other.per_object:
            for child in snapshot.children(name, other.name):
                yield f"{other.plural}/{child.name}.yaml", dict(child.definition)


def _plain(definition: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in definition.items() if k != "status"}
