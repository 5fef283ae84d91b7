"""What expressions may name on an object: its fields, system fields, and paths through
lookups (to records, narrowed polymorphic targets, and the public columns of users)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import sqlalchemy as sa

from crm_platform.core.tables import USER_PUBLIC_COLUMNS, users
from crm_platform.expressions import FieldInfo, ValueType
from crm_platform.fieldtypes import OWNER, USER, field_type, path_target, split_step

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


def _user_column_info(column: sa.Column[Any]) -> FieldInfo:
    return FieldInfo(T.BOOLEAN if isinstance(column.type, sa.Boolean) else T.TEXT)


# What a path through a lookup to user may read: the directory's public columns only.
USER_COLUMN_INFO: Mapping[str, FieldInfo] = MappingProxyType(
    {name: _user_column_info(users.c[name]) for name in USER_PUBLIC_COLUMNS}
)


@dataclass(frozen=True)
class Walked:
    """Where a field path ends: a field of ``obj`` (None for a system field), a part of a
    compound (``sub``), or a public column of a user (``user_column``; ``obj`` is then the
    object whose lookup reached the user)."""

    obj: ObjectModel
    field: FieldModel | None
    sub: str | None = None
    user_column: str | None = None


class ObjectScope:
    """Resolves field paths of one object (``amount``, ``account.industry``, ``billing.city``,
    ``account_manager.email``, ``related_to[account].industry``, ``owner.name``)."""

    def __init__(self, model: OrgModel, obj: ObjectModel, dialect: str) -> None:
        self.model = model
        self.obj = obj
        self.sqlite = dialect == "sqlite"

    def resolve(self, path: tuple[str, ...]) -> FieldInfo | None:
        walked = self.walk(path)
        if walked is None:
            return None
        if walked.user_column is not None:
            return USER_COLUMN_INFO[walked.user_column]
        field = walked.field
        if field is None:
            return SYSTEM_FIELD_INFO.get(path[-1])
        if walked.sub is not None:
            return field_type(field.type).sub_expression_info(
                field.definition, walked.sub, sqlite=self.sqlite
            )
        storage = rollup_storage_of(field)
        info = field_info(field, self.sqlite, storage)
        if info is not None and field.targets == (walked.obj.api_name,):
            info = dataclasses.replace(info, hierarchy=True)
        return info

    def walk(self, path: tuple[str, ...]) -> Walked | None:
        """Where ``path`` ends, or None when it names nothing an expression may read."""
        if not path or len(path) > MAX_PATH_DEPTH:
            return None
        obj = self.obj
        for index, step in enumerate(path):
            last = index == len(path) - 1
            if step in SYSTEM_FIELD_INFO and last:
                return Walked(obj, None)
            name, narrowed = split_step(step)
            field = obj.fields.get(name)
            if field is None and step == OWNER:  # owner.<column>: the owning user's
                column = path[index + 1] if index == len(path) - 2 else None
                return Walked(obj, None, user_column=column) if column in USER_COLUMN_INFO else None
            if field is None:
                return None
            ftype = field_type(field.type)
            if ftype.encrypted:  # never readable by an expression
                return None
            if last:
                return Walked(obj, field) if narrowed is None else None
            if ftype.compound and index == len(path) - 2 and narrowed is None:
                sub = path[-1]
                return Walked(obj, field, sub) if sub in field.columns else None
            target_name = path_target(field.definition, narrowed) if ftype.relation else None
            if target_name == USER:  # a user's public column ends the path
                column = path[index + 1]
                if index == len(path) - 2 and column in USER_COLUMN_INFO:
                    return Walked(obj, field, user_column=column)
                return None
            target = self.model.object(target_name) if target_name else None
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
