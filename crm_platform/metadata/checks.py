"""Semantic checks of object definitions against the whole candidate model.

JSON Schema has already checked shapes; these checks know about names, types
and references between objects. Each returns (path, message) problems.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from .fieldtypes import DECIMAL_TYPES, FIELD_TYPES, PICKLIST_TYPES, TEXT_TYPES
from .kinds import Problem
from .names import api_name_problem, field_name_problem

if TYPE_CHECKING:
    from .candidate import CandidateModel

MAX_FIELDS_PER_OBJECT = 500
MAX_MASTER_DETAIL_PER_OBJECT = 2
NAME_FIELD_TYPES = frozenset(
    {"text", "email", "phone", "auto_number", "external_id", "person_name", "formula"}
)
ROLLUP_FIELD_TYPES = frozenset(
    {"integer", "decimal", "currency", "percent", "duration", "date", "datetime", "rollup_summary"}
)


def object_problems(model: CandidateModel, obj: Mapping[str, Any]) -> Iterator[Problem]:
    """Every problem of one active object in the candidate model."""
    name = obj["api_name"]
    if problem := api_name_problem(name):
        yield ("api_name", problem)
    fields = {f["api_name"]: f for f in obj["fields"]}
    total = model.field_count(name)
    if total > MAX_FIELDS_PER_OBJECT:
        yield (
            "fields",
            f"an object has at most {MAX_FIELDS_PER_OBJECT} fields (deleted ones count)",
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
    elif name_field["type"] not in NAME_FIELD_TYPES:
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
    ftype = FIELD_TYPES[kind]
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
    if kind in DECIMAL_TYPES and field_def["scale"] > field_def["precision"]:
        yield ("scale", "scale cannot exceed precision")
    if "min" in field_def and "max" in field_def and field_def["min"] > field_def["max"]:
        yield ("min", "min is greater than max")
    if kind in PICKLIST_TYPES:
        yield from _picklist_problems(field_def, siblings)
    if kind in {"lookup", "master_detail"}:
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
    defaults = [v for v in field_def["values"] if isinstance(v, dict) and v.get("default")]
    if len(defaults) > 1 and field_def["type"] == "picklist":
        yield ("values", "at most one value can be the default")
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
        if not model.has_object(target):
            yield (key, f"no object '{target}' to point at")
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
    if link is None or link["type"] not in {"lookup", "master_detail"}:
        yield ("relation", f"'{child_name}' has no lookup or master_detail field '{link_name}'")
        return
    if obj["api_name"] not in (link.get("targets") or [link["target"]]):
        yield ("relation", f"'{child_name}.{link_name}' does not point at '{obj['api_name']}'")
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
    elif target["type"] not in ROLLUP_FIELD_TYPES or (
        function == "sum" and target["type"] in {"date", "datetime"}
    ):
        yield ("field", f"cannot {function} a {target['type']} field")


def literal_problem(field_def: Mapping[str, Any], value: Any) -> str | None:
    """Why ``value`` is not a valid literal for the field, or None (used for defaults)."""
    kind = field_def["type"]
    if value is None:
        return None
    if kind in TEXT_TYPES | {"external_id", "picklist"}:
        if not isinstance(value, str):
            return "must be text"
        if len(value) > field_def.get("max_length", 255):
            return f"longer than {field_def.get('max_length', 255)} characters"
        if kind == "picklist" and value not in _picklist_values(field_def):
            return f"{value!r} is not one of the picklist values"
        return None
    if kind in {"integer", "duration"}:
        return (
            None if isinstance(value, int) and not isinstance(value, bool) else "must be an integer"
        )
    if kind in DECIMAL_TYPES:
        return _decimal_problem(value)
    if kind == "boolean":
        return None if isinstance(value, bool) else "must be true or false"
    if kind == "multi_picklist":
        allowed = _picklist_values(field_def)
        if not isinstance(value, list) or not all(v in allowed for v in value):
            return "must be a list of picklist values"
        return None
    parsers = {"date": date.fromisoformat, "datetime": _aware_datetime, "time": time.fromisoformat}
    if kind in parsers:
        try:
            parsers[kind](value)
        except (TypeError, ValueError):
            return f"must be an ISO 8601 {kind}" + (
                " with a UTC offset" if kind == "datetime" else ""
            )
    return None


def _picklist_values(field_def: Mapping[str, Any]) -> set[str]:
    return {v if isinstance(v, str) else v["value"] for v in field_def["values"]}


def _decimal_problem(value: Any) -> str | None:
    if isinstance(value, bool):
        return "must be a number"
    try:
        Decimal(str(value))
    except InvalidOperation:
        return "must be a number"
    return None


def _aware_datetime(value: Any) -> datetime:
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise ValueError("naive")
    return parsed


AUTO_NUMBER_PLACEHOLDER = re.compile(r"\{(0+)\}")
