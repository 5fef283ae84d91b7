"""Metadata kinds and the validators registered for them.

Higher layers (expressions, security, layouts) add their checks at start-up via
:meth:`KindRegistry.add_validator`, so this package never imports them. A
registry is built per application by :func:`build_registry`; there is no global one.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from typing import TYPE_CHECKING, Any

from .fieldtypes import field_schema

if TYPE_CHECKING:
    from .candidate import CandidateModel

Problem = tuple[str, str]  # (field path, message)
Validator = Callable[["CandidateModel", Mapping[str, Any]], Iterable[Problem]]
ApplyHook = Callable[[Any, tuple[Any, ...], "CandidateModel"], None]
ComponentKey = tuple[str, str]  # (kind, name)
References = Callable[[Mapping[str, Any]], Iterable[ComponentKey]]
FieldPath = tuple[str, ...]
Paths = Callable[[Mapping[str, Any]], Iterable[tuple[str, FieldPath]]]
# (rename context, component, its definition so far) -> (new definition, places it changed)
Renamer = Callable[[Any, Any, Mapping[str, Any]], tuple[Mapping[str, Any], list[str]]]

SHARED_SCHEMAS = ("label", "field")


@dataclass(frozen=True)
class Kind:
    """A kind of metadata: its name, the URL segment of its collection, its JSON Schema.

    A kind ``per_object`` belongs to one object (its definition names it in
    ``object``); its components are named ``<object>.<api_name>``.
    """

    name: str
    plural: str
    schema: Mapping[str, Any]
    per_object: bool = False

    def component_name(self, definition: Mapping[str, Any]) -> str:
        if self.per_object:
            return f"{definition['object']}.{definition['api_name']}"
        return str(definition["api_name"])


def load_schema(name: str) -> dict[str, Any]:
    """A JSON Schema shipped in ``metadata/schemas``."""
    text = resources.files("crm_platform.metadata").joinpath(f"schemas/{name}.json").read_text()
    schema = json.loads(text)
    return field_schema(schema) if name == "field" else schema


@dataclass
class KindRegistry:
    """The kinds an application knows and the cross-reference validators of each."""

    kinds: dict[str, Kind] = field(default_factory=dict)
    validators: dict[str, list[Validator]] = field(default_factory=dict)
    apply_hooks: list[ApplyHook] = field(default_factory=list)
    references: dict[str, list[References]] = field(default_factory=dict)
    paths: dict[str, list[Paths]] = field(default_factory=dict)
    renamers: dict[str, list[Renamer]] = field(default_factory=dict)
    _schema_resources: dict[str, dict[str, Any]] = field(default_factory=dict)
    _compiled: dict[str, Any] = field(default_factory=dict)  # kind -> its JSON Schema validator

    def register_kind(self, kind: Kind) -> None:
        """Make a kind known (its schema is compiled on first use)."""
        self.kinds[kind.name] = kind
        self._compiled.pop(kind.name, None)

    def add_schema_resource(self, schema: Mapping[str, Any]) -> None:
        """Make a shared schema (referenced by ``$ref`` to its ``$id``) resolvable."""
        self._schema_resources[schema["$id"]] = dict(schema)
        self._compiled.clear()

    def add_validator(self, kind: str, validator: Validator) -> None:
        """Run ``validator`` on every definition of ``kind`` in a change set's candidate model."""
        self.validators.setdefault(kind, []).append(validator)

    def add_references(self, kind: str, references: References) -> None:
        """Declare the components a definition of ``kind`` refers to, as (kind, name) keys.

        A change set re-validates a component when one it refers to changes; the
        validators of a kind that declares no references run on every change set.
        """
        self.references.setdefault(kind, []).append(references)

    def add_paths(self, kind: str, paths: Paths) -> None:
        """Declare the field paths a definition of ``kind`` reads, as (object, path) pairs.

        For expressions: a change to any object a path walks through (following
        lookups) re-validates the definition. Objects give their full definition.
        """
        self.paths.setdefault(kind, []).append(paths)

    def add_renamer(self, kind: str, renamer: Renamer) -> None:
        """Declare how a definition of ``kind`` names objects and fields, so a rename can
        rewrite it (and the where-used list can find it): ``renamer(context, component,
        definition)`` gives the definition with the rename applied and the places it changed.
        See :mod:`crm_platform.metadata.renames`.
        """
        self.renamers.setdefault(kind, []).append(renamer)

    def add_apply_hook(self, hook: ApplyHook) -> None:
        """Run ``hook(conn, changes, model)`` in every change set's transaction, after its DDL.

        For derived data that must move with the metadata (e.g. share rows of a
        criteria-based sharing rule).
        """
        self.apply_hooks.append(hook)

    def kind(self, name: str) -> Kind:
        return self.kinds[name]

    def kind_for_plural(self, plural: str) -> Kind | None:
        return next((k for k in self.kinds.values() if k.plural == plural), None)

    def schema_problems(self, kind: str, instance: Any, prefix: str = "") -> list[Problem]:
        """JSON Schema problems of one definition, as (path, message) pairs."""
        validator = self._compiled.get(kind)
        if validator is None:
            validator = self._compiled[kind] = self._validator(kind)
        errors = sorted(validator.iter_errors(instance), key=lambda e: [str(p) for p in e.path])
        problems = []
        for error in errors:
            if error.validator in {"unevaluatedProperties", "additionalProperties"}:
                problems.extend(_unknown_options(error, errors, prefix))
            else:
                problems.append((_join(prefix, error.absolute_path), _schema_message(error)))
        return problems

    def _validator(self, kind: str) -> Any:
        # jsonschema and referencing (several MB with their specifications) load with the
        # first definition validated, not in every API worker that never validates one
        from jsonschema import Draft202012Validator
        from referencing import Registry, Resource

        registry = Registry().with_resources(
            (uri, Resource.from_contents(schema)) for uri, schema in self._schema_resources.items()
        )
        return Draft202012Validator(self.kinds[kind].schema, registry=registry)


def _join(prefix: str, path: Iterable[Any]) -> str:
    parts = [prefix] if prefix else []
    for item in path:
        if isinstance(item, int):
            parts[-1:] = [f"{parts[-1] if parts else ''}[{item}]"]
        else:
            parts.append(str(item))
    return ".".join(parts) or "(root)"


def _unknown_options(error: Any, errors: list[Any], prefix: str) -> list[Problem]:
    """One problem per option a type does not take (unless that option failed on its own)."""
    path = list(error.absolute_path)
    failed = [tuple(e.absolute_path) for e in errors if e is not error]
    kind = error.instance.get("type") if isinstance(error.instance, dict) else None
    out = []
    for name in re.findall(r"'([^']+)'", error.message):
        # An option that failed on its own (or inside: one of its list items) is reported
        # as such, not as unknown (a failed branch leaves it "unevaluated").
        option = (*path, name)
        if any(f[: len(option)] == option for f in failed):
            continue
        what = f"a {kind} field" if isinstance(kind, str) else "this definition"
        out.append((_join(prefix, [*path, name]), f"'{name}' is not an option of {what}"))
    return out


def _schema_message(error: Any) -> str:
    if error.validator == "enum":
        allowed = ", ".join(map(str, error.validator_value))
        return f"{error.instance!r} is not one of: {allowed}"
    if error.validator == "oneOf" and isinstance(error.instance, dict) and "type" in error.instance:
        return "give either 'target' or 'targets'"
    return error.message


def build_registry() -> KindRegistry:
    """A registry with the kinds this package defines (``object``, with its fields)."""
    registry = KindRegistry()
    for name in SHARED_SCHEMAS:
        registry.add_schema_resource(load_schema(name))
    registry.register_kind(Kind("object", "objects", load_schema("object")))
    registry.register_kind(Kind("field", "fields", load_schema("field")))
    for kind, validator in _other_kinds():
        registry.register_kind(kind)
        registry.add_validator(kind.name, validator)
    from .impact import KIND_REFERENCES

    for kind_name, references in KIND_REFERENCES.items():
        registry.add_references(kind_name, references)
    from .renames import KIND_RENAMERS

    for kind_name, renamer in KIND_RENAMERS:
        registry.add_renamer(kind_name, renamer)
    return registry


def _other_kinds() -> list[tuple[Kind, Validator]]:
    from . import kind_checks as checks

    return [
        (
            Kind("validation_rule", "validation_rules", load_schema("validation_rule"), True),
            checks.validation_rule_targets,
        ),
        (
            Kind("permission_set", "permission_sets", load_schema("permission_set")),
            checks.permission_set_references,
        ),
        (Kind("role", "roles", load_schema("role")), checks.role_parent),
        (Kind("group", "groups", load_schema("group")), lambda _m, _d: ()),
        (Kind("queue", "queues", load_schema("queue")), checks.queue_objects),
        (
            Kind("sharing_rule", "sharing_rules", load_schema("sharing_rule"), True),
            checks.sharing_rule_references,
        ),
    ]
