"""A pack's definitions as metadata components: the one edit that puts them into a
candidate model (used alike by validate, plan, install and upgrade, so what a plan shows
is what an install does), and the checksums of what was installed.

Each pack definition becomes the store's own components: an object header, one per
field (fields are components of their own, DESIGN §0), one per rule, set, role...;
keys are the store's ``(kind, name)``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from crm_platform.core import Conflict, CrmError, ValidationFailed
from crm_platform.metadata import CandidateModel, KindRegistry, canonical_field
from crm_platform.metadata import operations as ops

from .loader import MANIFEST, Pack, PackDefinition
from .problems import PackInvalid, PackProblem, Source, node_line

ComponentKey = tuple[str, str]


def checksum(definition: Mapping[str, Any]) -> str:
    """The SHA-256 of a definition's canonical JSON (keys sorted, Decimals as text)."""
    text = json.dumps(definition, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class PackComponent:
    """A component a pack installs, as the store would hold it."""

    kind: str
    name: str
    definition: Mapping[str, Any]

    @property
    def key(self) -> ComponentKey:
        return (self.kind, self.name)

    @property
    def checksum(self) -> str:
        return checksum(self.definition)


def component_name(registry: KindRegistry, definition: PackDefinition) -> str:
    return registry.kind(definition.kind).component_name(definition.definition)


def put_pack(
    model: CandidateModel, registry: KindRegistry, packs: Sequence[Pack]
) -> dict[str, list[PackComponent]]:
    """Put the definitions of ``packs`` into ``model`` (objects of every pack first, so
    lookups between them resolve, then the other kinds, each pack's components owned by
    it); the components each pack installs, by pack name, read back canonical.

    A definition the edit refuses raises :class:`PackInvalid` naming its file and line.
    """
    for pack in packs:
        for item in pack.definitions:
            if item.kind == "object":
                _edit(pack, item, lambda i=item, p=pack: _put_object(model, registry, i, p))
    for pack in packs:
        for item in pack.definitions:
            if item.kind != "object":
                _edit(
                    pack,
                    item,
                    lambda i=item, p=pack: ops.put_component(
                        model, registry, i.kind, i.definition, owner=p.name
                    ),
                )
    return {pack.name: pack_components(model, registry, pack) for pack in packs}


def extends(model: CandidateModel, pack: Pack, object_name: str) -> bool:
    """Whether ``pack``'s definition of ``object_name`` extends an object of a pack it
    depends on (it adds fields; the header stays its owner's)."""
    comp = model.get("object", object_name)
    return comp is not None and comp.owner != pack.name and comp.owner in pack.manifest.depends


def _put_object(model: CandidateModel, registry: KindRegistry, item: PackDefinition, pack: Pack):
    name = item.definition.get("api_name", "")
    if model.get("object", name) is None:
        ops.create_object(model, registry, item.definition, owner=pack.name)
    elif extends(model, pack, name):
        _extend_object(model, registry, item.definition, pack)
    else:
        ops.update_object(model, registry, item.definition, owner=pack.name)


def _extend_object(
    model: CandidateModel, registry: KindRegistry, raw: Mapping[str, Any], pack: Pack
) -> None:
    obj = model.get("object", raw["api_name"])
    assert obj is not None
    extra = sorted(set(raw) - {"api_name", "fields"})
    if extra:
        raise ValidationFailed(
            {
                extra[0]: f"{raw['api_name']} belongs to {obj.owner}: a pack that extends it "
                "gives only api_name and fields"
            }
        )
    for index, field in enumerate(raw.get("fields", [])):
        ops.require_shape(registry, "field", field, f"fields[{index}]")
        existing = model.get("field", f"{obj.name}.{field['api_name']}")
        if existing is not None and existing.owner != pack.name:
            raise Conflict(f"{obj.name}.{field['api_name']} belongs to {existing.owner}")
        ops.put_field(model, obj, canonical_field(field), owner=pack.name)


def _edit(pack: Pack, item: PackDefinition, edit: Any) -> None:
    try:
        edit()
    except CrmError as error:
        raise PackInvalid(pack.name, located(item, error)) from error


def located(item: PackDefinition, error: CrmError) -> list[PackProblem]:
    """The problems of an error raised for one definition, at their lines in its file."""
    errors = getattr(error, "errors", None) or {"": [error.detail]}
    out = []
    for path, messages in errors.items():
        line = node_line(item.node, path) or item.source.line
        for message in messages:
            where = f"{path}: " if path and path != "(root)" else ""
            out.append(PackProblem(Source(item.source.file, line), where + message))
    return out


def pack_components(
    model: CandidateModel, registry: KindRegistry, pack: Pack
) -> list[PackComponent]:
    """The components ``pack``'s definitions are in ``model`` (fields one by one)."""
    out = []
    for item in pack.definitions:
        name = component_name(registry, item)
        comp = model.get(item.kind, name)
        if comp is None:
            continue
        if item.kind != "object" or not extends(model, pack, name):
            out.append(PackComponent(item.kind, name, dict(comp.definition)))
        if item.kind == "object":
            given = {f.get("api_name") for f in item.definition.get("fields", [])}
            given.add(comp.definition.get("name_field"))
            for field in model.fields_of(name):
                if field.definition["api_name"] in given and field.owner == pack.name:
                    out.append(PackComponent("field", field.name, dict(field.definition)))
    return out


def locate_paths(
    errors: Mapping[str, Iterable[str]], packs: Sequence[Pack], registry: KindRegistry
) -> list[PackProblem]:
    """Problems of a whole-model validation (paths ``<component>.<path>``) at the file and
    line of the definition each names (the longest component name that prefixes it)."""
    by_name: dict[str, PackDefinition] = {}
    for pack in packs:
        for item in pack.definitions:
            by_name[component_name(registry, item)] = item
    out = []
    for path, messages in errors.items():
        owner = max(
            (n for n in by_name if path == n or path.startswith(n + ".")), key=len, default=None
        )
        if owner is None:
            out.extend(PackProblem(Source(MANIFEST), f"{path}: {m}") for m in messages)
            continue
        item = by_name[owner]
        rest = path[len(owner) + 1 :]
        line = node_line(item.node, rest) or item.source.line
        out.extend(PackProblem(Source(item.source.file, line), f"{path}: {m}") for m in messages)
    return out
