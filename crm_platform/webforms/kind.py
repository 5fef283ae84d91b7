"""The ``web_form`` kind: a public form that creates records of one object.

```yaml
# web_forms/web_to_lead.yaml
api_name: web_to_lead
object: lead
label: {en: Talk to sales, zh: 联系销售}
fields:                                   # the inputs, in order (simple fields only)
  - {field: last_name, label: {en: Your name, zh: 您的姓名}, required: true}
  - {field: company}
  - {field: email, required: true}
hidden: {lead_source: Web}                # set on every record, never shown
success: {message: {en: Thank you!, zh: 谢谢！}}   # or {redirect: "https://example.com/thanks"}
assignment_rule: round_robin              # a rule of the object, run on each new record
guest_permission_set: web_to_lead_guest   # create-only on lead, edit on the fields above
rate_limit: {posts: 5, minutes: 10}       # per sending address, across every worker
max_bytes: 16384                          # a bigger post is refused before it is read
```

A submission is made by the form's guest user (one per form, who cannot sign in) holding
``guest_permission_set``; that set must grant create on the object and nothing else — no
read on any object, no system permission — and edit on every field the form sets, so the
guest can create the record and read nothing (checked when the form or the set changes).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import timedelta
from types import MappingProxyType
from typing import Any

from crm_platform.fieldtypes import field_type
from crm_platform.metadata import ACTIVE, CandidateModel, Kind, KindRegistry, Problem, Snapshot
from crm_platform.runtime.model import ModelCompiler, OrgModel
from crm_platform.runtime.users import GUEST_DOMAIN

KIND = "web_form"
PLURAL = "web_forms"
EXTENSION = "web_forms"
# the field types a public form takes: typed in one input, with nothing to look up
FORM_TYPES = frozenset(
    {
        "text",
        "long_text",
        "email",
        "phone",
        "url",
        "integer",
        "decimal",
        "currency",
        "percent",
        "boolean",
        "date",
        "picklist",
        "multi_picklist",
    }
)
DEFAULT_RATE = {"posts": 5, "minutes": 10}
DEFAULT_MAX_BYTES = 16_384
OBJECT_OPERATIONS = ("read", "create", "edit", "delete", "view_all", "modify_all")

SCHEMA: Mapping[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "crm:web_form",
    "title": KIND,
    "description": "A public form (/f/<api_name>, or a snippet on another site) whose posts "
    "create records of one object as the form's guest user.",
    "type": "object",
    "required": ["api_name", "object", "fields", "guest_permission_set"],
    "additionalProperties": False,
    "properties": {
        "api_name": {"type": "string"},
        "object": {"type": "string"},
        "label": {"$ref": "crm:label"},
        "description": {"$ref": "crm:label"},
        "active": {"type": "boolean"},
        "fields": {
            "type": "array",
            "minItems": 1,
            "maxItems": 50,
            "items": {
                "type": "object",
                "required": ["field"],
                "additionalProperties": False,
                "properties": {
                    "field": {"type": "string"},
                    "label": {"$ref": "crm:label"},
                    "help": {"$ref": "crm:label"},
                    "required": {"type": "boolean"},
                },
            },
        },
        "hidden": {
            "type": "object",
            "description": "Values set on every record the form makes (never shown).",
            "additionalProperties": {"type": ["string", "number", "boolean"]},
        },
        "success": {
            "type": "object",
            "additionalProperties": False,
            "minProperties": 1,
            "maxProperties": 1,
            "properties": {
                "message": {"$ref": "crm:label"},
                "redirect": {"type": "string", "pattern": "^https?://", "maxLength": 2000},
            },
        },
        "assignment_rule": {"type": "string"},
        "guest_permission_set": {"type": "string"},
        "rate_limit": {
            "type": "object",
            "required": ["posts", "minutes"],
            "additionalProperties": False,
            "properties": {
                "posts": {"type": "integer", "minimum": 1, "maximum": 10000},
                "minutes": {"type": "integer", "minimum": 1, "maximum": 1440},
            },
        },
        "max_bytes": {"type": "integer", "minimum": 1024, "maximum": 1_048_576},
    },
}


@dataclass(frozen=True)
class FormField:
    """One input of a form: the object's field, the label and help the form gives it."""

    name: str
    label: Any
    help: Any
    required: bool


@dataclass(frozen=True)
class WebForm:
    """A web form compiled for a metadata version."""

    name: str
    object: str
    label: Any
    description: Any
    fields: tuple[FormField, ...]
    hidden: Mapping[str, Any]
    success_message: Any
    success_redirect: str | None
    assignment_rule: str | None
    guest_permission_set: str
    posts: int
    window: timedelta
    max_bytes: int

    @property
    def guest_email(self) -> str:
        return guest_email(self.name)


def guest_email(form_name: str) -> str:
    """The login of a form's guest user (who has no password and cannot sign in)."""
    return f"web-form.{form_name.replace('_', '-')}@{GUEST_DOMAIN}"


def default_of(definition: Mapping[str, Any]) -> Any:
    """A field's literal default, or the picklist value marked default (None: none)."""
    if definition.get("default") is not None:
        return definition["default"]
    return field_type(definition["type"]).implied_default(definition)


def needs_input(definition: Mapping[str, Any]) -> bool:
    """Whether a field must be typed on a form: required, with no default to fill it."""
    return (
        bool(definition.get("required"))
        and default_of(definition) is None
        and not definition.get("default_expression")
    )


def _form(definition: Mapping[str, Any]) -> WebForm:
    rate = definition.get("rate_limit") or DEFAULT_RATE
    success = definition.get("success") or {}
    return WebForm(
        name=definition["api_name"],
        object=definition["object"],
        label=definition.get("label"),
        description=definition.get("description"),
        fields=tuple(
            FormField(f["field"], f.get("label"), f.get("help"), bool(f.get("required")))
            for f in definition["fields"]
        ),
        hidden=MappingProxyType(dict(definition.get("hidden") or {})),
        success_message=success.get("message"),
        success_redirect=success.get("redirect"),
        assignment_rule=definition.get("assignment_rule"),
        guest_permission_set=definition["guest_permission_set"],
        posts=rate["posts"],
        window=timedelta(minutes=rate["minutes"]),
        max_bytes=definition.get("max_bytes", DEFAULT_MAX_BYTES),
    )


@dataclass(frozen=True)
class WebForms:
    """The active web forms of a version, by name."""

    by_name: Mapping[str, WebForm]

    def get(self, name: str) -> WebForm | None:
        return self.by_name.get(name)


def compile_forms(snapshot: Snapshot, _model: Any) -> WebForms:
    """The compiled part: every active form (inactive ones answer 404)."""
    found = {
        comp.name: _form(comp.definition)
        for comp in sorted(snapshot.of_kind(KIND), key=lambda c: c.name)
        if comp.status == ACTIVE and comp.definition.get("active", True)
    }
    return WebForms(MappingProxyType(found))


def web_forms_of(model: OrgModel) -> WebForms:
    """The web forms of a compiled model."""
    return model.extension(EXTENSION)


def register_kind(registry: KindRegistry, compiler: ModelCompiler) -> None:
    """The kind (``web_forms/``), its checks, references and compiled part."""
    registry.register_kind(Kind(KIND, PLURAL, SCHEMA))
    registry.add_validator(KIND, form_problems)
    registry.add_references(KIND, references)
    registry.add_paths(KIND, paths)
    compiler.add_extension(EXTENSION, compile_forms)


# --- save-time checks ----------------------------------------------------------------


def _field(model: CandidateModel, object_name: str, name: str) -> Mapping[str, Any] | None:
    obj = model.object(object_name)
    return next((f for f in obj["fields"] if f["api_name"] == name), None) if obj else None


def form_problems(model: CandidateModel, definition: Mapping[str, Any]) -> Iterator[Problem]:
    """Unknown object, fields a public form cannot take (unknown, computed, lookups, files,
    compound), a field twice, an unknown assignment rule, a guest set that grants too much
    or too little."""
    object_name = definition["object"]
    if model.object(object_name) is None:
        yield ("object", f"no object '{object_name}'")
        return
    seen: set[str] = set()
    for index, item in enumerate(definition["fields"]):
        name, where = item["field"], f"fields[{index}].field"
        yield from _field_problems(model, object_name, name, where)
        if name in seen:
            yield (where, f"'{name}' is on the form twice")
        seen.add(name)
    for name in definition.get("hidden") or {}:
        yield from _field_problems(model, object_name, name, f"hidden.{name}")
        if name in seen:
            yield (f"hidden.{name}", f"'{name}' is an input of the form: it cannot be hidden too")
    rule = definition.get("assignment_rule")
    if rule and model.get("assignment_rule", f"{object_name}.{rule}") is None:
        yield ("assignment_rule", f"{object_name} has no assignment rule '{rule}'")
    written = [*seen, *(definition.get("hidden") or {})]
    yield from guest_set_problems(model, definition["guest_permission_set"], object_name, written)


def _field_problems(
    model: CandidateModel, object_name: str, name: str, where: str
) -> Iterator[Problem]:
    found = _field(model, object_name, name)
    if found is None:
        yield (where, f"{object_name} has no field '{name}'")
    elif found["type"] not in FORM_TYPES:
        yield (
            where,
            f"{object_name}.{name} is a {found['type']} field: a web form takes "
            + ", ".join(sorted(FORM_TYPES)),
        )


def guest_set_problems(
    model: CandidateModel, set_name: str, object_name: str, written: list[str]
) -> Iterator[Problem]:
    """The guest's permission set: create on the object only, no read anywhere, no system
    permission, and edit on every field the form writes."""
    where = "guest_permission_set"
    comp = model.get("permission_set", set_name)
    if comp is None or comp.status != ACTIVE:
        yield (where, f"no permission set '{set_name}'")
        return
    grants = comp.definition
    if grants.get("system"):
        yield (where, f"'{set_name}' grants system permissions: a guest may hold none")
    for name, ops in (grants.get("objects") or {}).items():
        extra = [op for op in OBJECT_OPERATIONS if ops.get(op) and op != "create"]
        if name != object_name and ops.get("create"):
            extra.append("create")
        if extra:
            yield (
                where,
                f"'{set_name}' grants {', '.join(extra)} on {name}: a guest may only "
                f"create {object_name} records",
            )
    if not (grants.get("objects") or {}).get(object_name, {}).get("create"):
        yield (where, f"'{set_name}' does not grant create on {object_name}")
    fields = grants.get("fields") or {}
    missing = [n for n in written if not fields.get(f"{object_name}.{n}", {}).get("edit")]
    if missing:
        named = ", ".join(f"{object_name}.{n}" for n in missing)
        yield (where, f"'{set_name}' does not grant edit on {named}")


def references(definition: Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    """The object, the guest's permission set and the assignment rule: a change to any of
    them checks the form again, and deleting one in use is refused."""
    yield ("object", definition["object"])
    yield ("permission_set", definition["guest_permission_set"])
    if rule := definition.get("assignment_rule"):
        yield ("assignment_rule", f"{definition['object']}.{rule}")


def paths(definition: Mapping[str, Any]) -> Iterator[tuple[str, tuple[str, ...]]]:
    """(object, field) of every field the form writes."""
    for item in definition.get("fields", ()):
        yield (definition["object"], (item["field"],))
    for name in definition.get("hidden") or {}:
        yield (definition["object"], (name,))
