"""The definition side of the field-type registry: the JSON Schema of a field definition.

``schemas/field.json`` holds what every field has (name, label, required…); the
list of types and the options each accepts come from the registry's entries
(``crm_platform.fieldtypes``), so a new type is described where it is defined.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from crm_platform.fieldtypes import FIELD_TYPES, options_schema


def field_schema(common: Mapping[str, Any]) -> dict[str, Any]:
    """The full JSON Schema of a field: ``common`` plus each registered type's options."""
    schema = copy.deepcopy(dict(common))
    schema["properties"]["type"] = {"enum": list(FIELD_TYPES)}
    schema["allOf"] = options_schema()
    return schema
