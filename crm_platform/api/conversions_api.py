"""``POST /records/<object>/<id>/convert``: run a conversion (the ``conversion`` kind) on a
record — a lead into an account, a contact and an opportunity — in one transaction, as
the user who asks: their permissions, field access, validation rules and triggers apply
to every record made, and any refusal leaves nothing behind.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from apispec import APISpec
from flask import Blueprint, Response, jsonify, request

from crm_platform.core import ValidationFailed
from crm_platform.metadata import KindRegistry
from crm_platform.runtime import OrgModel
from crm_platform.workflow.conversions import Conversion, conversions_of, convert

from . import aliases
from .auth import current_access, current_org, current_user
from .jsonio import read_json
from .openapi import JSON, error_responses
from .openapi.objects import text_label

bp = Blueprint("conversions_api", __name__, url_prefix="/records")
OPTIONS = ("conversion", "existing", "skip", "values")


def _options() -> Mapping[str, Any]:
    """The body: none, or ``{conversion, existing, skip, values}``."""
    if not request.get_data():
        return {}
    data = read_json(request)
    if not isinstance(data, dict):
        raise ValidationFailed({"(body)": 'a JSON object, such as {"skip": ["opportunity"]}'})
    errors = {
        n: f"unknown option (it takes {', '.join(OPTIONS)})" for n in set(data) - set(OPTIONS)
    }
    if "conversion" in data and not (isinstance(data["conversion"], str) and data["conversion"]):
        errors["conversion"] = "the name of a conversion of the object"
    if not isinstance(data.get("existing", {}), dict):
        errors["existing"] = "a map of target name to the id of an existing record"
    skip = data.get("skip", [])
    if not isinstance(skip, list) or not all(isinstance(s, str) for s in skip):
        errors["skip"] = "a list of target names"
    if not isinstance(data.get("values", {}), dict):
        errors["values"] = "a map of target name to field values"
    if errors:
        raise ValidationFailed(errors)
    return data


def _conversion(model: OrgModel, object_name: str, name: str | None) -> Conversion:
    found = conversions_of(model).of(object_name)
    if name is not None:
        if name not in found:
            raise ValidationFailed({"conversion": f"no conversion '{name}' of {object_name}"})
        return found[name]
    if len(found) != 1:
        why = "has no conversion" if not found else "has several conversions: name one"
        raise ValidationFailed({"conversion": f"{object_name} {why}"})
    return next(iter(found.values()))


@bp.post("/<object_name>/<record_id>/convert")
def convert_record(object_name: str, record_id: str) -> Response:
    """Convert the record by its object's conversion (or the one named)."""
    options = _options()
    org = current_org()
    with org.records.session(current_user(), access=current_access()) as session:
        obj = session.object(aliases.object_name(session.model, object_name))
        conversion = _conversion(session.model, obj.api_name, options.get("conversion"))
        result = convert(
            session,
            obj,
            record_id,
            conversion,
            existing=options.get("existing"),
            skip=frozenset(options.get("skip", ())),
            values=options.get("values"),
        )
    return jsonify(result.as_json())


# --- its documentation --------------------------------------------------------------

RESULT = {
    "type": "object",
    "required": ["conversion", "records", "record"],
    "properties": {
        "conversion": {"type": "string", "description": "The conversion that ran."},
        "records": {
            "type": "object",
            "description": "Per target: the record made, or the existing one used.",
            "additionalProperties": {
                "type": "object",
                "properties": {
                    "object": {"type": "string"},
                    "id": {"type": "string"},
                    "created": {"type": "boolean"},
                },
            },
        },
        "record": {"type": "object", "description": "The converted record as it is now."},
    },
}


def _body(conversions: Mapping[str, Conversion]) -> dict[str, Any]:
    targets = sorted({t.name for c in conversions.values() for t in c.targets})
    target_names: dict[str, Any] = {"type": "string", "minLength": 1}
    conversion: dict[str, Any] = {"type": "string", "minLength": 1}
    if conversions:  # an empty enum would allow nothing
        target_names["enum"] = targets
        conversion["enum"] = sorted(conversions)
    return {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "conversion": conversion,
            "existing": {
                "type": "object",
                "description": "Use this existing record for a target instead of making one.",
                "propertyNames": target_names,
                "additionalProperties": {"type": "string"},
            },
            "skip": {
                "type": "array",
                "description": "Optional targets not to make.",
                "items": target_names,
            },
            "values": {
                "type": "object",
                "description": "Values of your own for a target's record, over the mapped ones.",
                "propertyNames": target_names,
                "additionalProperties": {"type": "object"},
            },
        },
    }


def describe(spec: APISpec, model: OrgModel, registry: KindRegistry) -> None:
    """``/records/<object>/{id}/convert`` for every object (an object without a
    conversion answers 400 until one is defined)."""
    del registry
    for name, obj in model.objects.items():
        conversions = conversions_of(model).of(name)
        label = text_label(obj.definition.get("label"), name)
        made = (
            "; ".join(
                f"`{c.name}`: " + ", ".join(f"{t.name} ({t.object})" for t in c.targets)
                for c in conversions.values()
            )
            or "none is defined yet: define one as a `conversion`"
        )
        spec.path(
            f"/records/{name}/{{id}}/convert",
            parameters=["record_id"],
            operations={
                "post": {
                    "operationId": f"convert_{name}",
                    "summary": f"Convert a {label} record",
                    "description": (
                        "Needs edit access to the record and create access to what it "
                        f"makes ({made}). Runs the conversion defined as metadata (the "
                        "`conversion` kind) in one transaction: each target's record is "
                        "made through the record service with the mapped values, linked "
                        "to the earlier ones, then the record itself is updated."
                    ),
                    "tags": [name],
                    "requestBody": {
                        "required": False,
                        "content": {JSON: {"schema": _body(conversions)}},
                    },
                    "responses": {
                        "200": {
                            "description": "What the conversion made",
                            "content": {JSON: {"schema": RESULT}},
                        },
                        **error_responses(
                            "BadRequest", "Unauthorized", "Forbidden", "NotFound", "Conflict"
                        ),
                    },
                }
            },
        )
