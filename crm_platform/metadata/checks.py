"""Semantic checks of object definitions against the whole candidate model.

JSON Schema has already checked shapes; these checks know about names, types
and references between objects. Each returns (path, message) problems.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from crm_platform.fieldtypes import USER, active_values, field_type, marked_defaults

from .kinds import Problem
from .names import api_name_problem, field_name_problem, object_name_problem

if TYPE_CHECKING:
    from .candidate import CandidateModel

MAX_FIELDS_PER_OBJECT = 500
# Columns of fields per table: compound fields take several (an address 5). PostgreSQL
# allows 1,600 per table and counts dropped columns too, so leave room for purges.
MAX_COLUMNS_PER_OBJECT = 1000
MAX_MASTER_DETAIL_PER_OBJECT = 2


def object_problems(model: CandidateModel, obj: Mapping[str, Any]) -> Iterator[Problem]:
    """Every problem of one active object in the candidate model."""
    name = obj["api_name"]
    if problem := object_name_problem(name):
        yield ("api_name", problem)
    fields = {f["api_name"]: f for f in obj["fields"]}
    total = model.field_count(name)
    if total > MAX_FIELDS_PER_OBJECT:
        yield (
            "fields",
            f"an object has at most {MAX_FIELDS_PER_OBJECT} fields (deleted ones count); "
            f"this one would have {total}",
        )
    elif (columns := model.column_count(name)) > MAX_COLUMNS_PER_OBJECT:
        yield (
            "fields",
            f"an object's fields use at most {MAX_COLUMNS_PER_OBJECT} columns (an address "
            f"takes 5, a person_name 4, a geolocation or a polymorphic lookup 2); these "
            f"would use {columns}",
        )
    yield from _name_field_problems(obj, fields)
    masters = [f for f in obj["fields"] if f["type"] == "master_detail"]
    if len(masters) > MAX_MASTER_DETAIL_PER_OBJECT:
        yield (
            "fields",
            f"an object has at most {MAX_MASTER_DETAIL_PER_OBJECT} master-detail fields",
        )
    if obj["sharing"] == "controlled_by_parent" and not masters:
        yield ("sharing", "controlled_by_parent needs a master_detail field")
    if masters and obj["sharing"] != "controlled_by_parent":
        yield ("sharing", "an object with a master_detail field is controlled_by_parent")
    for field_def in obj["fields"]:
        path = f"fields.{field_def['api_name']}"
        for sub, message in field_problems(model, obj, field_def, fields):
            yield (f"{path}.{sub}" if sub else path, message)


def _name_field_problems(obj: Mapping[str, Any], fields: Mapping[str, Any]) -> Iterator[Problem]:
    name_field = fields.get(obj["name_field"])
    if name_field is None:
        yield ("name_field", f"no active field '{obj['name_field']}' on this object")
    elif not field_type(name_field["type"]).can_be_name:
        yield ("name_field", f"a name field cannot be of type {name_field['type']}")
    elif name_field["type"] == "formula" and name_field["return_type"] != "text":
        yield ("name_field", "a formula name field must return text")


def field_problems(
    model: CandidateModel,
    obj: Mapping[str, Any],
    field_def: Mapping[str, Any],
    siblings: Mapping[str, Mapping[str, Any]],
) -> Iterator[Problem]:
    """Problems of one field; paths are relative to the field."""
    kind = field_def["type"]
    ftype = field_type(kind)
    if problem := field_name_problem(field_def["api_name"]):
        yield ("api_name", problem)
    if field_def.get("unique") and not ftype.can_be_unique:
        yield ("unique", f"a {kind} field cannot be unique")
    if field_def.get("required") and not ftype.can_be_required:
        yield ("required", f"a {kind} field cannot be required")
    has_default = "default" in field_def or "default_expression" in field_def
    if has_default and not ftype.can_have_default:
        yield ("default", f"a {kind} field cannot have a default")
    if "default" in field_def and "default_expression" in field_def:
        yield ("default", "give either default or default_expression, not both")
    if "precision" in field_def and field_def["scale"] > field_def["precision"]:
        yield ("scale", "scale cannot exceed precision")
    if "min" in field_def and "max" in field_def and field_def["min"] > field_def["max"]:
        yield ("min", "min is greater than max")
    if "values" in field_def:
        yield from _picklist_problems(field_def, siblings)
    if ftype.relation:
        yield from _relation_problems(model, obj, field_def)
    if kind == "rollup_summary":
        yield from _rollup_problems(model, obj, field_def)
    if "relationship_name" in field_def and (p := api_name_problem(field_def["relationship_name"])):
        yield ("relationship_name", p)
    if (
        "default" in field_def
        and ftype.can_have_default
        and (problem := literal_problem(field_def, field_def["default"]))
    ):
        yield ("default", problem)


def _picklist_problems(
    field_def: Mapping[str, Any], siblings: Mapping[str, Mapping[str, Any]]
) -> Iterator[Problem]:
    values = [v if isinstance(v, str) else v["value"] for v in field_def["values"]]
    seen: set[str] = set()
    for value in values:
        if value in seen:
            yield ("values", f"duplicate value {value!r}")
        seen.add(value)
    defaults = marked_defaults(field_def)
    if len(defaults) > 1:
        yield ("values", "at most one value can be the default")
    for value in defaults:
        if value not in active_values(field_def):
            yield ("values", f"the default value {value!r} is not active")
    controlling = field_def.get("controlling_field")
    if controlling is None:
        return
    parent = siblings.get(controlling)
    if controlling == field_def["api_name"] or parent is None:
        yield ("controlling_field", f"no other field '{controlling}' on this object")
        return
    if parent["type"] not in {"picklist", "boolean"}:
        yield ("controlling_field", "the controlling field must be a picklist or a boolean")
        return
    allowed = (
        {True, False}
        if parent["type"] == "boolean"
        else {v if isinstance(v, str) else v["value"] for v in parent["values"]}
    )
    for value in field_def["values"]:
        for item in value.get("valid_for", []) if isinstance(value, dict) else []:
            if item not in allowed:
                yield ("values", f"valid_for names {item!r}, not a value of '{controlling}'")


def _relation_problems(
    model: CandidateModel, obj: Mapping[str, Any], field_def: Mapping[str, Any]
) -> Iterator[Problem]:
    targets = field_def.get("targets") or [field_def["target"]]
    key = "targets" if "targets" in field_def else "target"
    for target in targets:
        if target == USER and field_def["type"] == "lookup":
            continue  # the platform's users
        if target == USER:
            yield (key, "only a lookup may point at user (users are not records)")
        elif not model.has_object(target):
            yield (key, f"no object '{target}' to point at")
    if targets == [USER] and "on_delete" in field_def:
        yield (
            "on_delete",
            "users are never deleted, only deactivated: a lookup to user always keeps "
            "its reference, so it takes no on_delete",
        )
    if field_def.get("active_only") and USER not in targets:
        yield ("active_only", "only a lookup to user may be restricted to active users")
    if field_def.get("hierarchy") and targets != [obj["api_name"]]:
        yield ("hierarchy", "a hierarchy lookup must point at its own object")
    if field_def["type"] == "master_detail":
        if field_def["target"] == obj["api_name"]:
            yield ("target", "an object cannot be its own master")
        elif model.master_path(field_def["target"], obj["api_name"]):
            yield (
                "target",
                f"master-detail cycle: '{field_def['target']}' is already "
                f"below '{obj['api_name']}'",
            )


def _rollup_problems(
    model: CandidateModel, obj: Mapping[str, Any], field_def: Mapping[str, Any]
) -> Iterator[Problem]:
    child_name, link_name = field_def["relation"].split(".", 1)
    child = model.object(child_name)
    if child is None:
        yield ("relation", f"no object '{child_name}'")
        return
    link = next((f for f in child["fields"] if f["api_name"] == link_name), None)
    if link is None or not field_type(link["type"]).relation:
        yield ("relation", f"'{child_name}' has no lookup or master_detail field '{link_name}'")
        return
    if obj["api_name"] not in (link.get("targets") or [link["target"]]):
        yield ("relation", f"'{child_name}.{link_name}' does not point at '{obj['api_name']}'")
    if field_def.get("visibility") == "viewer" and (
        child_name == obj["api_name"] or link.get("targets")
    ):
        # computed at read time as a subquery correlated to the parent's row: a roll-up
        # over the object itself, or over a polymorphic lookup, cannot be told apart there
        yield ("visibility", "viewer roll-ups need a lookup from another object, not polymorphic")
    function = field_def["function"]
    summarised = field_def.get("field")
    if function == "count":
        if summarised is not None:
            yield ("field", "count takes no field")
        return
    if summarised is None:
        yield ("field", f"{function} needs the child field to summarise")
        return
    target = next((f for f in child["fields"] if f["api_name"] == summarised), None)
    if target is None:
        yield ("field", f"no field '{summarised}' on '{child_name}'")
    elif function not in field_type(target["type"]).rollup_functions:
        yield ("field", f"cannot {function} a {target['type']} field")


def literal_problem(field_def: Mapping[str, Any], value: Any) -> str | None:
    """Why ``value`` is not a valid literal for the field, or None (used for defaults)."""
    return field_type(field_def["type"]).literal_problem(field_def, value)


AUTO_NUMBER_PLACEHOLDER = re.compile(r"\{(0+)\}")
