"""The ``conversion`` kind: how a record of one object becomes records of others.

```yaml
# conversions/lead.convert.yaml
api_name: convert
object: lead
label: {en: Convert lead, zh: 转化线索}
when: "converted == False"            # which records may be converted
targets:                              # created in order; a later one links to earlier ones
  - name: account
    object: account
    values: {name: company, industry: industry}      # target field: expression on the source
  - name: contact
    object: contact
    values: {first_name: first_name, last_name: last_name, email: email}
    links: {account: account}                       # target lookup: an earlier target
  - name: opportunity
    object: opportunity
    optional: true                                   # the caller may skip it
    values: {name: "CONCAT(company, ' - ', 'New business')", amount: estimated_amount}
    links: {account: account, primary_contact: contact}
source:                                              # then the source record is updated
  values: {status: "'Converted'", converted: "True", converted_at: "NOW()"}
  links: {converted_account: account, converted_contact: contact}
```

Values are expressions of the language on the source record (a field name copies the
field); the caller may use an existing record for a target instead of creating one
(``existing``), skip an optional one, and give values of their own (``values``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from crm_platform.expressions import ExpressionError, parse
from crm_platform.fieldtypes import field_type
from crm_platform.metadata import ACTIVE, CandidateModel, Kind, KindRegistry, Problem, Snapshot
from crm_platform.runtime.model import ModelCompiler, OrgModel

if TYPE_CHECKING:
    from crm_platform.runtime import Org

    from ..checks import WorkflowChecks
    from ..service import Automation

KIND = "conversion"
PLURAL = "conversions"
EXTENSION = "conversions"
NAME = {"type": "string", "pattern": "^[a-z][a-z0-9_]*$", "maxLength": 40}
VALUES = {
    "type": "object",
    "description": "target field: an expression on the source record",
    "additionalProperties": {"type": "string", "minLength": 1, "maxLength": 4000},
}
LINKS = {
    "type": "object",
    "description": "lookup field: the name of a target whose record it points at",
    "additionalProperties": NAME,
}
SCHEMA: Mapping[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "crm:conversion",
    "title": KIND,
    "description": "How a record becomes records of other objects, in one transaction: "
    "each target's fields mapped from the source by expressions, lookups between the new "
    "records, and the source record updated to point at them.",
    "type": "object",
    "required": ["api_name", "object", "targets"],
    "additionalProperties": False,
    "properties": {
        "api_name": {"type": "string"},
        "object": {"type": "string"},
        "label": {"$ref": "crm:label"},
        "description": {"type": "string", "maxLength": 1000},
        "active": {"type": "boolean"},
        "when": {"type": "string", "minLength": 1, "maxLength": 4000},
        "targets": {
            "type": "array",
            "minItems": 1,
            "maxItems": 10,
            "items": {
                "type": "object",
                "required": ["name", "object"],
                "additionalProperties": False,
                "properties": {
                    "name": NAME,
                    "object": {"type": "string"},
                    "label": {"$ref": "crm:label"},
                    "optional": {"type": "boolean"},
                    "values": VALUES,
                    "links": LINKS,
                },
            },
        },
        "source": {
            "type": "object",
            "additionalProperties": False,
            "properties": {"values": VALUES, "links": LINKS},
        },
    },
}


@dataclass(frozen=True)
class Target:
    """One record a conversion makes: its name, object and mapping."""

    name: str
    object: str
    optional: bool
    values: Mapping[str, str]
    links: Mapping[str, str]
    label: Any = None


@dataclass(frozen=True)
class Conversion:
    """A conversion compiled for a metadata version."""

    name: str
    object: str
    when: str | None
    targets: tuple[Target, ...]
    source_values: Mapping[str, str]
    source_links: Mapping[str, str]
    label: Any = None

    def target(self, name: str) -> Target | None:
        return next((t for t in self.targets if t.name == name), None)


@dataclass(frozen=True)
class Conversions:
    """The active conversions, by object then api_name."""

    by_object: Mapping[str, Mapping[str, Conversion]]

    def of(self, object_name: str) -> Mapping[str, Conversion]:
        return self.by_object.get(object_name, MappingProxyType({}))


def _conversion(definition: Mapping[str, Any]) -> Conversion:
    source = definition.get("source") or {}
    return Conversion(
        name=definition["api_name"],
        object=definition["object"],
        when=definition.get("when"),
        targets=tuple(
            Target(
                t["name"],
                t["object"],
                bool(t.get("optional", False)),
                MappingProxyType(dict(t.get("values") or {})),
                MappingProxyType(dict(t.get("links") or {})),
                t.get("label"),
            )
            for t in definition["targets"]
        ),
        source_values=MappingProxyType(dict(source.get("values") or {})),
        source_links=MappingProxyType(dict(source.get("links") or {})),
        label=definition.get("label"),
    )


def compile_conversions(snapshot: Snapshot, _model: Any) -> Conversions:
    """The compiled part: every active conversion (inactive ones left out)."""
    found: dict[str, dict[str, Conversion]] = {}
    for comp in sorted(snapshot.of_kind(KIND), key=lambda c: c.name):
        if comp.status == ACTIVE and comp.definition.get("active", True):
            conversion = _conversion(comp.definition)
            found.setdefault(conversion.object, {})[conversion.name] = conversion
    return Conversions(MappingProxyType({k: MappingProxyType(v) for k, v in found.items()}))


def conversions_of(model: OrgModel) -> Conversions:
    """The conversions of a compiled model."""
    return model.extension(EXTENSION)


class ConversionKind:
    """Registers the kind (``conversions/``); conversions run on request only."""

    def register(
        self, registry: KindRegistry, compiler: ModelCompiler, checks: WorkflowChecks
    ) -> None:
        registry.register_kind(Kind(KIND, PLURAL, SCHEMA, per_object=True))
        registry.add_validator(KIND, lambda model, d: conversion_problems(model, d, checks))
        registry.add_references(KIND, references)
        registry.add_paths(KIND, paths)
        compiler.add_extension(EXTENSION, compile_conversions)

    def attach(self, org: Org, automation: Automation) -> None:
        del org, automation  # nothing runs on record events


# --- save-time checks ----------------------------------------------------------------


def conversion_problems(
    model: CandidateModel, definition: Mapping[str, Any], checks: WorkflowChecks
) -> Iterator[Problem]:
    """Unknown objects or fields, fields no one may set, expressions that do not
    type-check for the field they fill, links to no earlier target or of the wrong object,
    target names used twice."""
    source = definition["object"]
    if model.object(source) is None:
        yield ("object", f"no object '{source}'")
        return
    if when := definition.get("when"):
        yield from checks.condition(model, source, when, "when")
    earlier: dict[str, str] = {}
    for index, target in enumerate(definition["targets"]):
        path = f"targets[{index}]"
        if target["name"] in earlier:
            yield (f"{path}.name", f"two targets are named '{target['name']}'")
        if model.object(target["object"]) is None:
            yield (f"{path}.object", f"no object '{target['object']}'")
            continue
        yield from _mapping_problems(model, source, target["object"], target, path, earlier, checks)
        earlier[target["name"]] = target["object"]
    if mapping := definition.get("source"):
        yield from _mapping_problems(model, source, source, mapping, "source", earlier, checks)


def _mapping_problems(
    model: CandidateModel,
    source: str,
    target: str,
    mapping: Mapping[str, Any],
    path: str,
    earlier: Mapping[str, str],
    checks: WorkflowChecks,
) -> Iterator[Problem]:
    for name, expression in (mapping.get("values") or {}).items():
        where = f"{path}.values.{name}"
        if not checks.writable_field(model, target, name):
            yield (where, f"{target} has no field '{name}' a conversion may set")
            continue
        yield from checks.expression(model, source, expression, (target, name), where)
    for name, other in (mapping.get("links") or {}).items():
        where = f"{path}.links.{name}"
        field = checks.field(model, target, name)
        if field is None or not field_type(field["type"]).relation:
            yield (where, f"{target} has no lookup '{name}'")
        elif other not in earlier:
            yield (where, f"no earlier target named '{other}'")
        elif earlier[other] not in (field.get("targets") or [field.get("target")]):
            yield (where, f"{target}.{name} does not point at {earlier[other]}")


def references(definition: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    """The source and target objects: deleting one in use is refused."""
    yield ("object", definition["object"])
    for target in definition.get("targets", ()):
        yield ("object", target["object"])


def _read(source: str | None) -> frozenset[tuple[str, ...]]:
    if not source:
        return frozenset()
    try:
        return parse(source).field_paths
    except ExpressionError:
        return frozenset()  # its own check reports it


def paths(definition: Mapping[str, Any]) -> Iterator[tuple[str, tuple[str, ...]]]:
    """(object, field path) of every field the conversion reads or writes."""
    start = definition["object"]
    yield from ((start, p) for p in _read(definition.get("when")))
    mappings = [(t["object"], t) for t in definition.get("targets", ())]
    mappings.append((start, definition.get("source") or {}))
    for target, mapping in mappings:
        for name, expression in (mapping.get("values") or {}).items():
            yield (target, (name,))
            yield from ((start, p) for p in _read(expression))
        for name in mapping.get("links") or {}:
            yield (target, (name,))
