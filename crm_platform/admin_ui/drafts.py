"""A new field as the wizard collects it: the form's inputs, step by step, turned into a
field definition, the permission-set grants and the layouts that get it.

The wizard keeps no state on the server: every step posts everything entered so far
(earlier steps ride along as hidden inputs), so it works with JavaScript off and a
reload or a back button never loses or duplicates anything.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from crm_platform.fieldtypes import FIELD_TYPES, field_type

from .base import label_map

STEPS = ("type", "settings", "access", "layouts")
# Types the wizard offers, most used first (every registered type is offered).
COMMON = ("text", "long_text", "picklist", "lookup", "formula", "rollup_summary", "auto_number")
ON_DELETE = ("set_null", "restrict", "cascade")
ROLLUP_FUNCTIONS = ("count", "sum", "min", "max")
SIZED = {"text": "max_length"}
NUMERIC = frozenset({"decimal", "currency", "percent"})


def type_choices() -> list[str]:
    """Every registered field type, the common ones first."""
    return [*COMMON, *(name for name in FIELD_TYPES if name not in COMMON)]


def formula_returns() -> list[str]:
    return list(field_type("formula").returns)


def api_name_from(label: str) -> str:
    """A field's API name made from its English label (``Next call`` -> ``next_call``)."""
    name = re.sub(r"[^a-z0-9]+", "_", label.strip().lower()).strip("_")
    if name and not name[0].isalpha():
        name = f"f_{name}"
    return name[:40]


@dataclass(frozen=True)
class Draft:
    """What the wizard's form says so far."""

    form: Mapping[str, str]

    def get(self, key: str, default: str = "") -> str:
        return str(self.form.get(key, default)).strip()

    @property
    def type(self) -> str:
        chosen = self.get("type", "text")
        return chosen if chosen in FIELD_TYPES else "text"

    @property
    def api_name(self) -> str:
        return self.get("api_name") or api_name_from(self.get("label_en"))

    def definition(self) -> dict[str, Any]:
        """The field's definition from the inputs of the first two steps."""
        out: dict[str, Any] = {"api_name": self.api_name, "type": self.type}
        label = label_map(self.get("label_en"), self.get("label_zh"))
        if label:
            out["label"] = label
        help_text = label_map(self.get("help_en"), self.get("help_zh"))
        if help_text:
            out["help_text"] = help_text
        if self.get("required") == "on":
            out["required"] = True
        out.update(self._settings())
        return out

    def _settings(self) -> dict[str, Any]:
        kind = self.type
        if kind in SIZED and self.get("max_length"):
            return {SIZED[kind]: _number(self.get("max_length"))}
        if kind in NUMERIC:
            return {k: _number(self.get(k)) for k in ("precision", "scale") if self.get(k).strip()}
        if kind in {"picklist", "multi_picklist"}:
            values = [v.strip() for v in self.get("values").splitlines() if v.strip()]
            return {"values": values}
        if kind in {"lookup", "master_detail"}:
            found: dict[str, Any] = {"target": self.get("target")}
            if kind == "lookup" and self.get("on_delete"):
                found["on_delete"] = self.get("on_delete")
            return found
        if kind == "formula":
            return {
                "return_type": self.get("return_type", "text"),
                "expression": self.get("expression"),
            }
        if kind == "rollup_summary":
            found = {"relation": self.get("relation"), "function": self.get("function", "count")}
            if self.get("rollup_field") and found["function"] != "count":
                found["field"] = self.get("rollup_field")
            if self.get("filter"):
                found["filter"] = self.get("filter")
            return found
        if kind == "auto_number":
            return {"pattern": self.get("pattern")}
        return {}

    def grants(self, sets: list[str]) -> dict[str, dict[str, bool]]:
        """Per permission set: may its holders read and edit the field (step 3)."""
        return {
            name: {
                "read": self.form.get(f"read:{name}") == "on",
                "edit": self.form.get(f"read:{name}") == "on"
                and self.form.get(f"edit:{name}") == "on",
            }
            for name in sets
        }

    def layouts(self) -> list[str]:
        """The layouts the field goes on (step 4)."""
        return [
            key.split(":", 1)[1]
            for key, value in self.form.items()
            if key.startswith("layout:") and value == "on"
        ]


def _number(text: str) -> Any:
    try:
        return int(text)
    except ValueError:
        return text  # the schema names the field and says what it must be


def default_grant(permission_set: Mapping[str, Any], object_name: str) -> dict[str, bool]:
    """What a set grants on a field of the object when it names the field nowhere: read,
    and edit when it may edit or create the object (``runtime.security``'s rule)."""
    grant = permission_set.get("objects", {}).get(object_name, {})
    edit = bool(grant.get("edit") or grant.get("create") or grant.get("modify_all"))
    return {"read": True, "edit": edit}


def with_grant(
    permission_set: Mapping[str, Any], key: str, grant: Mapping[str, bool]
) -> dict[str, Any] | None:
    """The permission set with the grant on ``object.field``, or None when the grant is
    what the set gives anyway (no entry: the field stays free to delete or rename)."""
    object_name = key.split(".", 1)[0]
    fields = dict(permission_set.get("fields", {}))
    if dict(grant) == default_grant(permission_set, object_name):
        if key not in fields:
            return None
        fields.pop(key)
    else:
        fields[key] = dict(grant)
    return {**permission_set, "fields": fields}


def with_field_on_layout(layout: Mapping[str, Any], field_name: str) -> dict[str, Any]:
    """The layout with the field at the end of its last section (a first section when it
    has none)."""
    sections = [dict(s) for s in layout.get("sections", [])]
    if not sections:
        sections = [{"fields": []}]
    sections[-1] = {**sections[-1], "fields": [*sections[-1].get("fields", []), field_name]}
    return {**layout, "sections": sections}
