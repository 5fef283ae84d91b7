"""Exporting an org's configuration as a new pack folder: the components named
(``object:project``, ``validation_rule:project.budget_positive``...; an object brings
its fields and its per-object components), or those changed since a pack was
installed. The folder validates and installs into a fresh org as an equal configuration.

An export of what changed since ``PACK`` was installed must install *alone*: it cannot
depend on ``PACK`` (its components would collide), so :func:`self_contained` adds every
component the changed ones refer to — copied when ``PACK`` or the org owns it, as a
dependency (``depends``) when one of ``PACK``'s own dependencies does — and leaves out
what packs built on ``PACK`` added (their fields on its objects, their rules).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from crm_platform.core import CrmError, ValidationFailed
from crm_platform.metadata import ACTIVE, LOCAL_OWNER, Snapshot
from crm_platform.runtime import Org
from crm_platform.yamlio import dump_yaml

from .components import checksum
from .loader import MANIFEST
from .manifest import manifest_problems
from .state import read_components, read_installed


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


@dataclass(frozen=True)
class Closure:
    """What an export that installs alone writes: the components, the packs it depends
    on (name -> range), and the objects of those packs it extends with its own fields."""

    include: list[tuple[str, str]]
    depends: dict[str, str]
    extends: frozenset[str]


def self_contained(org: Org, pack: str | None, items: Sequence[tuple[str, str]]) -> Closure:
    """``items`` and every component they refer to that a fresh org would lack, for an
    export that installs without ``pack``: the components to copy, and the packs to
    depend on (``pack``'s dependencies owning something referred to, by version range);
    an object of such a dependency among ``items`` is exported as an extension (the
    fields ``pack`` or the org added to it). With no ``pack`` (components named by
    ``--include``), what an installed pack owns is depended on, the rest copied."""
    snapshot = org.metadata.snapshot()
    with org.db.read() as conn:
        installed = read_installed(conn)
    if pack is None:
        allowed_deps = set(installed)
    elif pack not in installed:
        raise CrmError(f"{pack} is not installed")
    else:
        allowed_deps = set(installed[pack].depends)
    owners = _owners(pack) if pack is not None else None
    out: dict[tuple[str, str], None] = {}
    depends: dict[str, str] = {}
    extends: set[str] = set()
    asked = set(items)
    queue = list(reversed(items))
    while queue:
        key = queue.pop()
        comp = snapshot.get(*key)
        if key in out or comp is None or comp.status != ACTIVE:
            continue
        if comp.owner in allowed_deps and not (pack is None and key in asked):
            depends[comp.owner] = f">={installed[comp.owner].version}"
            if not (key in asked and key[0] == "object"):
                continue
            extends.add(key[1])
        out[key] = None
        for kind, definition in _exported(org, snapshot, key, owners, extends):
            for finder in org.registry.references.get(kind, ()):
                queue.extend(k for k in finder(definition) if k not in out)
    return Closure(list(out), depends, frozenset(extends))


def export_included(
    org: Org, out: Path, *, name: str, include: Sequence[tuple[str, str]], version: str = "1.0.0"
) -> Path:
    """Export the components ``include`` names as a pack that installs into a fresh org:
    what they refer to is copied, or depended on when an installed pack owns it."""
    closure = self_contained(org, None, include)
    return export_pack(
        org, out, name=name, include=closure.include, version=version, depends=closure.depends
    )


def _owners(pack: str) -> frozenset[str]:
    """Whose fields and components an export of what changed in ``pack`` carries."""
    return frozenset({pack, LOCAL_OWNER})


def export_changed(
    org: Org,
    out: Path,
    *,
    name: str,
    pack: str,
    include: Sequence[tuple[str, str]] = (),
    version: str = "1.0.0",
) -> Path:
    """Export what the org changed in ``pack`` since installing it (and ``include``) as a
    pack that installs alone into a fresh org."""
    items = list(include) + [i for i in changed_since_install(org, pack) if i not in include]
    closure = self_contained(org, pack, items)
    return export_pack(
        org,
        out,
        name=name,
        include=closure.include,
        version=version,
        depends=closure.depends,
        owners=_owners(pack),
        extends=closure.extends,
    )


def _exported(
    org: Org,
    snapshot: Snapshot,
    key: tuple[str, str],
    owners: frozenset[str] | None,
    extends: set[str] | frozenset[str],
):
    """(kind, definition) of each definition exporting ``key`` writes."""
    for path, definition in _definitions(org, snapshot, key[0], key[1], owners, extends):
        kind = org.registry.kind_for_plural(path.split("/", 1)[0])
        assert kind is not None
        yield kind.name, definition


def export_pack(
    org: Org,
    out: Path,
    *,
    name: str,
    include: Sequence[tuple[str, str]],
    version: str = "1.0.0",
    label: Any = None,
    description: str = "",
    depends: Mapping[str, str] | None = None,
    owners: frozenset[str] | None = None,
    extends: frozenset[str] = frozenset(),
) -> Path:
    """Write the components ``include`` names as the pack ``name`` in ``out/<name>``
    (depending on ``depends``; with ``owners``, an object's fields and components of
    other owners are left out; the objects ``extends`` names are written as extensions:
    their api_name and those fields)."""
    manifest: dict[str, Any] = {"name": name, "version": version}
    if label:
        manifest["label"] = label
    if description:
        manifest["description"] = description
    if depends:
        manifest["depends"] = dict(depends)
    if problems := manifest_problems(manifest):
        raise ValidationFailed({f"manifest.{k}": m for k, m in problems})
    snapshot = org.metadata.snapshot()
    files: dict[str, dict[str, Any]] = {}
    for kind, component in include:
        for path, definition in _definitions(org, snapshot, kind, component, owners, extends):
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


def _definitions(
    org: Org,
    snapshot: Snapshot,
    kind: str,
    name: str,
    owners: frozenset[str] | None = None,
    extends: set[str] | frozenset[str] = frozenset(),
):
    if kind not in org.registry.kinds or kind == "field":
        raise ValidationFailed({"include": f"unknown kind '{kind}' in {kind}:{name}"})
    comp = snapshot.get(kind, name)
    if comp is None or comp.status != ACTIVE:
        raise ValidationFailed({"include": f"no {kind} '{name}'"})
    plural = org.registry.kind(kind).plural
    if kind != "object":
        yield f"{plural}/{name}.yaml", dict(comp.definition)
        return
    definition = _plain(org.metadata.get_object(name))
    if owners is not None:
        definition["fields"] = [
            f
            for f in definition.get("fields", [])
            if (field := snapshot.get("field", f"{name}.{f['api_name']}")) is None
            or field.owner in owners
        ]
    if name in extends:
        definition = {"api_name": name, "fields": definition["fields"]}
    yield f"{plural}/{name}.yaml", definition
    for other in org.registry.kinds.values():
        if other.per_object:
            for child in snapshot.children(name, other.name):
                if owners is None or child.owner in owners:
                    yield f"{other.plural}/{child.name}.yaml", dict(child.definition)


def _plain(definition: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in definition.items() if k != "status"}
