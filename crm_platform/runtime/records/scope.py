"""What expressions may name on an object: its fields, system fields, and paths through lookups."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from crm_platform.expressions import FieldInfo, ValueType

from ..model import FieldModel, ObjectModel, OrgModel

T = ValueType
MAX_PATH_DEPTH = 5

TEXT_LIKE = frozenset(
    {
        "text",
        "long_text",
        "rich_text",
        "email",
        "phone",
        "url",
        "external_id",
        "auto_number",
        "file",
    }
)
STORAGE_TYPES = {
    "integer": T.NUMBER,
    "decimal": T.NUMBER,
    "boolean": T.BOOLEAN,
    "date": T.DATE,
    "datetime": T.DATETIME,
    "time": T.TIME,
    "text": T.TEXT,
}
RETURN_TYPES = {
    "text": T.TEXT,
    "integer": T.NUMBER,
    "decimal": T.NUMBER,
    "currency": T.NUMBER,
    "percent": T.NUMBER,
    "boolean": T.BOOLEAN,
    "date": T.DATE,
    "datetime": T.DATETIME,
    "time": T.TIME,
}
SYSTEM_FIELD_INFO = {
    "id": FieldInfo(T.TEXT),
    "owner_id": FieldInfo(T.TEXT),
    "created_by": FieldInfo(T.TEXT),
    "updated_by": FieldInfo(T.TEXT),
    "created_at": FieldInfo(T.DATETIME),
    "updated_at": FieldInfo(T.DATETIME),
    "version": FieldInfo(T.NUMBER, scale=0),
}


def field_info(field: FieldModel, sqlite: bool, physical_storage: Mapping[str, Any] | None = None):
    """The expression-language view of a field, or None when expressions cannot use it."""
    d = field.definition
    kind = field.type
    if kind in TEXT_LIKE or kind in {"lookup", "master_detail"}:
        return FieldInfo(T.TEXT)
    if kind == "picklist":
        values = tuple(v if isinstance(v, str) else v["value"] for v in d["values"])
        attributes = {
            v["value"]: v.get("attributes", {}) for v in d["values"] if not isinstance(v, str)
        }
        return FieldInfo(T.TEXT, picklist_values=values, picklist_attributes=attributes)
    if kind == "multi_picklist":
        values = tuple(v if isinstance(v, str) else v["value"] for v in d["values"])
        return FieldInfo(T.MULTI, picklist_values=values)
    if kind in {"integer", "duration"}:
        return FieldInfo(T.NUMBER, scale=0)
    if kind in {"decimal", "currency", "percent"}:
        return FieldInfo(T.NUMBER, scale=d["scale"], sql_scaled=sqlite)
    if kind in {"boolean", "date", "datetime", "time"}:
        return FieldInfo(STORAGE_TYPES[kind])
    if kind == "formula":
        vtype = RETURN_TYPES[d["return_type"]]
        if vtype is T.NUMBER:
            scale = 0 if d["return_type"] == "integer" else d.get("scale", 2)
            return FieldInfo(T.NUMBER, scale=scale, sql_scaled=sqlite)
        return FieldInfo(vtype)
    if kind == "rollup_summary" and physical_storage is not None:
        storage = physical_storage.get("storage", "integer")
        if storage == "decimal":
            return FieldInfo(T.NUMBER, scale=physical_storage["scale"], sql_scaled=sqlite)
        if storage == "integer":
            return FieldInfo(T.NUMBER, scale=0)
        return FieldInfo(STORAGE_TYPES[storage])
    return None


COMPOUND_SUBS = {
    "address": {sub: T.TEXT for sub in ("street", "city", "state", "postal_code", "country")},
    "person_name": {sub: T.TEXT for sub in ("salutation", "first", "middle", "last")},
    "geolocation": {"latitude": T.NUMBER, "longitude": T.NUMBER},
}


class ObjectScope:
    """Resolves field paths of one object (``amount``, ``account.industry``, ``billing.city``)."""

    def __init__(self, model: OrgModel, obj: ObjectModel, dialect: str) -> None:
        self.model = model
        self.obj = obj
        self.sqlite = dialect == "sqlite"

    def resolve(self, path: tuple[str, ...]) -> FieldInfo | None:
        target = self.walk(path)
        if target is None:
            return None
        _obj, field, sub = target
        if field is None:
            return SYSTEM_FIELD_INFO.get(path[-1])
        if sub is not None:
            vtype = COMPOUND_SUBS[field.type][sub]
            if vtype is T.NUMBER:
                scale = field.definition.get("scale", 7)
                return FieldInfo(T.NUMBER, scale=scale, sql_scaled=self.sqlite)
            return FieldInfo(vtype)
        storage = rollup_storage_of(field)
        return field_info(field, self.sqlite, storage)

    def walk(self, path: tuple[str, ...]):
        """(object, field, sub-column) at the end of ``path``; field None for system fields."""
        if not path or len(path) > MAX_PATH_DEPTH:
            return None
        obj = self.obj
        for index, name in enumerate(path):
            last = index == len(path) - 1
            if name in SYSTEM_FIELD_INFO and last:
                return obj, None, None
            field = obj.fields.get(name)
            if field is None or field.type == "encrypted_text":
                return None
            if last:
                return obj, field, None
            if field.type in COMPOUND_SUBS and index == len(path) - 2:
                sub = path[-1]
                return (obj, field, sub) if sub in COMPOUND_SUBS[field.type] else None
            if field.type not in {"lookup", "master_detail"} or "targets" in field.definition:
                return None
            target = self.model.object(field.definition["target"])
            if target is None:
                return None
            obj = target
        return None


def rollup_storage_of(field: FieldModel) -> Mapping[str, Any] | None:
    """The storage spec a roll-up's column was created with (from its column type)."""
    if field.type != "rollup_summary":
        return None
    column = field.columns[""]
    type_ = column.type
    scale = getattr(type_, "scale", None)
    if scale is not None and type_.__class__.__name__ == "ExactDecimal":
        return {"storage": "decimal", "scale": scale}
    name = type_.__class__.__name__.lower()
    if ("date" in name and "time" in name) or name == "utcdatetime":
        return {"storage": "datetime"}
    if "date" in name:
        return {"storage": "date"}
    return {"storage": "integer"}
