"""The record codec's view of field types: every answer comes from the registry.

The marshmallow fields themselves live with their types in ``crm_platform.fieldtypes``;
``api/openapi.py`` still imports ``PHONE``, ``READ_ONLY_TYPES`` and ``picklist_values``
from here until it reads the registry's OpenAPI schemas directly.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from marshmallow import fields

from crm_platform.fieldtypes import PHONE, RecordId, field_type, picklist_values, type_names

READ_ONLY_TYPES = type_names(read_only=True)

__all__ = ["PHONE", "READ_ONLY_TYPES", "RecordId", "field_for", "picklist_values"]


def field_for(definition: Mapping[str, Any]) -> fields.Field:
    """The marshmallow field that reads one platform field from JSON."""
    return field_type(definition["type"]).input_field(definition)
