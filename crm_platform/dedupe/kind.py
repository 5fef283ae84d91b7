"""The ``duplicate_rule`` kind: its JSON Schema, save-time checks, renames and compiled
part (``duplicate_rules/<object>.<api_name>``, ``/api/v1/metadata/duplicate_rules``).

```yaml
api_name: same_company
object: account
label: {en: Same company, zh: 同一公司}
action: block              # block | warn (allow with a warning; the default)
events: [create, update]   # when it is enforced (default: both)
criteria:                  # every criterion must match (write another rule for "or")
  - {field: name, method: fuzzy, threshold: 88}
  - {field: phone, method: phone, region: CN}
```

Methods: ``exact``, ``normalized`` (case- and space-insensitive), ``email``, ``phone``
(``phonenumbers``, in ``region`` for numbers written without a country code) and
``fuzzy`` (``rapidfuzz``, with ``threshold`` 50..100). Criteria compare simple text
fields (text, email, phone, url, picklist); an encrypted field cannot be compared in SQL
and is refused.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from crm_platform.metadata import CandidateModel, Kind, KindRegistry, Problem, Snapshot
from crm_platform.metadata.renames import RenameContext
from crm_platform.runtime.model import ModelCompiler, OrgModel

from .matchers import DEFAULT_REGION, DEFAULT_THRESHOLD, METHODS, Criterion

KIND = "duplicate_rule"
PLURAL = "duplicate_rules"
EXTENSION = "dedupe"
ACTIONS = ("block", "warn")
EVENTS = ("create", "update")
COMPARABLE_TYPES = frozenset({"text", "email", "phone", "url", "picklist"})
MAX_CRITERIA = 5

SCHEMA: Mapping[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "crm:duplicate_rule",
    "title": KIND,
    "description": "A duplicate rule: when a record of the object matches another on every "
    "criterion, a create or update is blocked or allowed with a warning.",
    "type": "object",
    "required": ["api_name", "object", "criteria"],
    "additionalProperties": False,
    "properties": {
        "api_name": {"type": "string"},
        "object": {"type": "string"},
        "label": {"$ref": "crm:label"},
        "description": {"type": "string", "maxLength": 1000},
        "active": {"type": "boolean"},
        "action": {"enum": list(ACTIONS)},
        "events": {
            "type": "array",
            "items": {"enum": list(EVENTS)},
            "minItems": 1,
            "uniqueItems": True,
        },
        "criteria": {
            "type": "array",
            "minItems": 1,
            "maxItems": MAX_CRITERIA,
            "items": {
                "type": "object",
                "required": ["field", "method"],
                "additionalProperties": False,
                "properties": {
                    "field": {"type": "string"},
                    "method": {"enum": list(METHODS)},
                    "threshold": {"type": "integer", "minimum": 50, "maximum": 100},
                    "region": {"type": "string", "pattern": "^[A-Z]{2}$"},
                },
            },
        },
    },
}


@dataclass(frozen=True)
class DuplicateRule:
    """A compiled rule of one object."""

    name: str
    object: str
    label: Any
    action: str
    events: frozenset[str]
    criteria: tuple[Criterion, ...]
    active: bool = True

    @property
    def fields(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(c.field for c in self.criteria))

    @property
    def blocks(self) -> bool:
        return self.action == "block"


def read_rule(definition: Mapping[str, Any]) -> DuplicateRule:
    """A stored definition as a :class:`DuplicateRule` (defaults filled in)."""
    criteria = tuple(
        Criterion(
            c["field"],
            c["method"],
            int(c.get("threshold", DEFAULT_THRESHOLD)),
            c.get("region", DEFAULT_REGION),
        )
        for c in definition["criteria"]
    )
    return DuplicateRule(
        name=definition["api_name"],
        object=definition["object"],
        label=definition.get("label", definition["api_name"]),
        action=definition.get("action", "warn"),
        events=frozenset(definition.get("events", EVENTS)),
        criteria=criteria,
        active=definition.get("active", True),
    )


def rule_problems(model: CandidateModel, definition: Mapping[str, Any]) -> Iterator[Problem]:
    """The object exists and every criterion names a comparable field of it."""
    object_name = definition["object"]
    if model.object(object_name) is None:
        yield ("object", f"no object '{object_name}'")
        return
    fields = {c.definition["api_name"]: c.definition for c in model.fields_of(object_name)}
    for index, criterion in enumerate(definition["criteria"]):
        where = f"criteria[{index}]"
        found = fields.get(criterion["field"])
        if found is None:
            yield (f"{where}.field", f"no field '{criterion['field']}' on {object_name}")
            continue
        if found["type"] not in COMPARABLE_TYPES:
            kinds = ", ".join(sorted(COMPARABLE_TYPES))
            yield (f"{where}.field", f"a {found['type']} field cannot be compared: use {kinds}")
        if "threshold" in criterion and criterion["method"] != "fuzzy":
            yield (f"{where}.threshold", "only a fuzzy criterion has a threshold")
        if "region" in criterion and criterion["method"] != "phone":
            yield (f"{where}.region", "only a phone criterion has a region")


def rule_paths(definition: Mapping[str, Any]) -> Iterator[tuple[str, tuple[str, ...]]]:
    """The fields a rule reads: a change to its object re-validates it."""
    for criterion in definition.get("criteria", ()):
        yield (definition["object"], (criterion["field"],))


def rename_rule(
    ctx: RenameContext, comp: Any, definition: Mapping[str, Any]
) -> tuple[Mapping[str, Any], list[str]]:
    """A rename of the rule's object or of a field its criteria compare."""
    del comp
    out, places = dict(definition), []
    start = definition["object"]
    if ctx.object_name(start) != start:
        out["object"] = ctx.object_name(start)
        places.append("object")
    criteria = []
    for index, criterion in enumerate(definition["criteria"]):
        renamed = ctx.rename_path(start, (criterion["field"],))[0]
        if renamed != criterion["field"]:
            criterion = {**criterion, "field": renamed}
            places.append(f"criteria[{index}].field")
        criteria.append(criterion)
    out["criteria"] = criteria
    return out, places


@dataclass(frozen=True)
class DedupeModel:
    """The active rules of one metadata version, by object (``model.extension('dedupe')``)."""

    rules: Mapping[str, tuple[DuplicateRule, ...]]

    def of(self, object_name: str) -> tuple[DuplicateRule, ...]:
        return self.rules.get(object_name, ())


def compile_rules(snapshot: Snapshot, model: OrgModel) -> DedupeModel:
    """Every active rule whose object and fields exist (others were checked when saved)."""
    found: dict[str, list[DuplicateRule]] = {}
    for comp in snapshot.of_kind(KIND):
        rule = read_rule(comp.definition)
        obj = model.object(rule.object)
        if not rule.active or obj is None or any(f not in obj.fields for f in rule.fields):
            continue
        found.setdefault(rule.object, []).append(rule)
    return DedupeModel(MappingProxyType({k: tuple(v) for k, v in found.items()}))


def dedupe_model(model: OrgModel) -> DedupeModel:
    """The compiled rules of a model (none when the extension is not attached)."""
    return model.extensions.get(EXTENSION) or DedupeModel(MappingProxyType({}))


def rule_of(model: OrgModel, object_name: str, name: str) -> DuplicateRule | None:
    return next((r for r in dedupe_model(model).of(object_name) if r.name == name), None)


def register_kind(registry: KindRegistry, compiler: ModelCompiler) -> None:
    """The kind, its checks, references, paths, renamer, key indexes and compiled part."""
    from .indexes import keep_key_indexes  # it reads this module

    registry.register_kind(Kind(KIND, PLURAL, SCHEMA, per_object=True))
    registry.add_validator(KIND, rule_problems)
    registry.add_references(KIND, lambda d: [("object", d["object"])])
    registry.add_paths(KIND, rule_paths)
    registry.add_renamer(KIND, rename_rule)
    registry.add_apply_hook(keep_key_indexes)
    compiler.add_extension(EXTENSION, compile_rules)
