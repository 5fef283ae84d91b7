"""What expressions may name on an object: its fields, system fields, and paths through lookups."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from crm_platform.expressions import FieldInfo, ValueType
from crm_platform.fieldtypes import field_type, is_polymorphic

from ..model import FieldModel, ObjectModel, OrgModel

T = ValueType
MAX_PATH_DEPTH = 5

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
    return field_type(field.type).expression_info(
        field.definition, sqlite=sqlite, storage=physical_storage
    )


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
            return field_type(field.type).sub_expression_info(
                field.definition, sub, sqlite=self.sqlite
            )
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
            if field is None:
                return None
            ftype = field_type(field.type)
            if ftype.encrypted:  # never readable by an expression
                return None
            if last:
                return obj, field, None
            if ftype.compound and index == len(path) - 2:
                sub = path[-1]
                return (obj, field, sub) if sub in field.columns else None
            if not ftype.relation or is_polymorphic(field.definition):
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
