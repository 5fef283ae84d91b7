"""Reading records in SQL: fields by path, formulas computed in the database, filters,
sorting with NULLs last on both databases, keyset pages and exact counts.

Dotted paths (``account.industry``) become outer joins to the lookup's target,
one alias per path prefix. Formulas are compiled by the expression language to
SQL, so they filter, sort and aggregate in the database like stored fields.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

import simplejson
import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from crm_platform.core import ValidationFailed
from crm_platform.core.inputs import InputRefused, load_json
from crm_platform.core.tables import users
from crm_platform.expressions import (
    TIME_FUNCTIONS,
    CheckedExpression,
    EvalContext,
    ExpressionError,
    ValueType,
    check,
    compile_sql,
    parse,
)
from crm_platform.fieldtypes import OWNER, USER, field_type, path_target, split_step
from crm_platform.fieldtypes.relations import OBJECT
from crm_platform.metadata import SIMPLE

from ..model import ObjectModel, OrgModel, Rollup
from ..security import UserAccess, access_clause
from .codec import SYSTEM_FIELDS
from .scope import ObjectScope

MAX_LIMIT = 200
DEFAULT_LIMIT = 50
COUNT_CAP = 1_000_000
MAX_FORMULA_DEPTH = 10


@dataclass(frozen=True)
class ListRequest:
    """What a list asks for (the API's query parameters, parsed)."""

    where: str | None = None
    order_by: tuple[str, ...] = ()
    fields: tuple[str, ...] | None = None
    limit: int = DEFAULT_LIMIT
    cursor: str | None = None
    count: bool = False
    include_deleted: bool = False


@dataclass
class Page:
    records: list[dict[str, Any]]
    next_cursor: str | None
    total: int | None = None
    total_capped: bool = False


@dataclass
class ExpressionCache:
    """Checked expressions per metadata version (parse and type-check once, not per request),
    and the SQL built from the model alone (compiled expressions, record SELECTs)."""

    version: int = -1
    entries: dict[tuple[Any, ...], CheckedExpression] = field(default_factory=dict)
    compiled_sql: dict[tuple[Any, ...], ColumnElement[Any]] = field(default_factory=dict)
    selects: dict[tuple[Any, ...], sa.Select[Any]] = field(default_factory=dict)
    shapes: dict[tuple[Any, ...], Any] = field(default_factory=dict)  # see shapes.py

    def _at_version(self, model: OrgModel) -> None:
        if model.version != self.version:
            self.entries = {}
            self.compiled_sql = {}
            self.selects = {}
            self.shapes = {}
            self.version = model.version

    def shapes_for(self, model: OrgModel) -> dict[tuple[Any, ...], Any]:
        """The record shapes kept for this version (``shapes.py`` fills it)."""
        self._at_version(model)
        return self.shapes

    def stored_select(self, model: OrgModel, obj: ObjectModel, names: tuple[str, ...]):
        """``SELECT`` of the system columns and the columns of the stored fields ``names``,
        built once per metadata version: on a wide object, coercing 500 columns into a
        new SELECT on every read costs more than the read. Callers add to a copy
        (``where``, ``add_columns`` are generative), never change it."""
        self._at_version(model)
        key = (obj.api_name, names)
        found = self.selects.get(key)
        if found is None:
            table = obj.table
            columns: list[ColumnElement[Any]] = [table.c[name] for name in SYSTEM_FIELDS]
            columns.append(table.c.deleted_at)
            for name in names:
                columns.extend(obj.fields[name].columns.values())
            found = sa.select(*columns)
            if len(self.selects) > 1_000:
                self.selects.clear()
            self.selects[key] = found
        return found

    def checked(self, model: OrgModel, obj: ObjectModel, source: str, expected, scale, dialect):
        self._at_version(model)
        key = (obj.api_name, source, expected, scale)
        found = self.entries.get(key)
        if found is None:
            scope = ObjectScope(model, obj, dialect)
            found = check(parse(source), scope, expected, scale=scale)
            if len(self.entries) > 10_000:
                self.entries.clear()
            self.entries[key] = found
        return found

    def compiled(self, builder: SelectBuilder, checked: CheckedExpression, columns, key: tuple):
        """``compile_sql`` of an expression on the builder's own table, kept per metadata
        version when the SQL depends on the model alone: stored fields of that table only
        (no joins, no formulas) and no TODAY(), NOW() or date range (TIME_FUNCTIONS).
        ``key`` names the expression (``checked()`` has already reset the cache for the
        model's version)."""
        if not model_only(builder.obj, checked):
            return compile_sql(
                checked, columns, builder.context, builder.dialect, builder.hierarchy_rows
            )
        key = ("sql", builder.obj.api_name, builder.dialect, *key)
        found = self.compiled_sql.get(key)
        if found is None:
            found = compile_sql(checked, columns, builder.context, builder.dialect)
            if len(self.compiled_sql) > 10_000:
                self.compiled_sql.clear()
            self.compiled_sql[key] = found
        return found


# IS_UNDER's SQL reads the hierarchy as the user may see it: never shared between users.
USER_DEPENDENT_FUNCTIONS = frozenset({"IS_UNDER"})


def model_only(obj: ObjectModel, checked: CheckedExpression) -> bool:
    """Whether an expression's SQL depends on nothing but the object's compiled table."""
    if checked.functions & (TIME_FUNCTIONS | USER_DEPENDENT_FUNCTIONS):
        return False
    for path in checked.field_paths:
        if len(path) != 1:
            return False
        fld = obj.fields.get(path[0])
        if fld is not None and fld.type == "formula":
            return False
    return True


class SelectBuilder:
    """Builds one SELECT over an object's table with the joins its paths need."""

    def __init__(
        self,
        model: OrgModel,
        obj: ObjectModel,
        context: EvalContext,
        dialect: str,
        expressions: ExpressionCache,
        access: UserAccess | None = None,
    ) -> None:
        self.access = access  # None: the system's own queries, no sharing applies
        self.model = model
        self.obj = obj
        self.context = context
        self.dialect = dialect
        self.expressions = expressions
        self.scope = ObjectScope(model, obj, dialect)
        self.base = obj.table
        self.from_clause: sa.FromClause = obj.table
        self._aliases: dict[tuple[str, ...], Any] = {(): obj.table}
        self._formula_stack: list[str] = []

    # --- paths -------------------------------------------------------------------
    def table_for(self, prefix: tuple[str, ...]):
        """The (joined) table reached by following the lookups in ``prefix`` (the user
        directory's table for a lookup to ``user``)."""
        if prefix in self._aliases:
            return self._aliases[prefix]
        parent = self.table_for(prefix[:-1])
        owner = self._object_at(prefix[:-1])
        name, narrowed = split_step(prefix[-1])
        if name == OWNER and name not in owner.fields:
            # the owning user (a record owned by a queue reads as empty)
            return self._join_user(prefix, parent.c.owner_id)
        link = owner.fields[name]
        target_name = path_target(link.definition, narrowed)
        assert target_name is not None, prefix
        condition = parent.c[link.columns[SIMPLE].name]
        if target_name == USER:
            # Users have no sharing; the path reaches only their public columns (scope).
            alias: Any = users.alias(f"j{len(self._aliases)}")
            condition = alias.c.id == condition
        else:
            target = self.model.objects[target_name]
            alias = target.table.alias(f"j{len(self._aliases)}")
            condition = alias.c.id == condition
            if self.access is not None:
                # a lookup to a record the user cannot see reads as empty
                visible = access_clause(self.access, target, alias)
                if visible is not None:
                    condition = sa.and_(condition, visible)
        if narrowed is not None:  # related_to[account]: only when it points at an account
            condition = sa.and_(condition, parent.c[link.columns[OBJECT].name] == target_name)
        self.from_clause = self.from_clause.outerjoin(alias, condition)
        self._aliases[prefix] = alias
        return alias

    def _join_user(self, prefix: tuple[str, ...], reference: ColumnElement[Any]):
        alias: Any = users.alias(f"j{len(self._aliases)}")
        self.from_clause = self.from_clause.outerjoin(alias, alias.c.id == reference)
        self._aliases[prefix] = alias
        return alias

    def _object_at(self, prefix: tuple[str, ...]) -> ObjectModel:
        obj = self.obj
        for step in prefix:
            name, narrowed = split_step(step)
            target = path_target(obj.fields[name].definition, narrowed)
            obj = self.model.objects[target]
        return obj

    def column(self, path: tuple[str, ...]) -> ColumnElement[Any]:
        """The SQL for a field path, as stored (formulas compiled); for the expression compiler."""
        walked = self.scope.walk(path)
        if walked is None:
            raise ValidationFailed({".".join(path): "unknown field"})
        if walked.user_column is not None:
            return self.table_for(path[:-1]).c[walked.user_column]
        obj, fld, sub = walked.obj, walked.field, walked.sub
        prefix = path[:-2] if sub is not None else path[:-1]
        table = self.table_for(prefix)
        if fld is None:
            return table.c[path[-1]]
        if fld.type == "formula":
            return self.formula(obj, fld.api_name, prefix)
        return self.stored(obj, fld, table, sub)

    def stored(self, obj: ObjectModel, fld, table, sub: str | None = None) -> ColumnElement:
        """A stored field's column on ``table``; a ``visibility: viewer`` roll-up is
        computed here instead, from the children the reader may see."""
        column = table.c[fld.columns[sub if sub is not None else SIMPLE].name]
        viewer = self.viewer_rollup(obj, fld, table)
        return column if viewer is None else viewer

    def viewer_rollup(self, obj: ObjectModel, fld, table=None) -> ColumnElement | None:
        """A ``visibility: viewer`` roll-up computed for this reader, or None when the
        stored value is what they see (another type, ``visibility: all``, or a reader who
        sees every child)."""
        if fld.type != "rollup_summary" or self.access is None:
            return None
        rollup = rollup_of(self.model, obj.api_name, fld.api_name)
        if rollup is None or rollup.visibility != "viewer" or self.access.sees_all(rollup.child):
            return None
        table = obj.table if table is None else table
        column = table.c[fld.columns[SIMPLE].name]
        return self._viewer_rollup(rollup, table, column)

    def _viewer_rollup(self, rollup: Rollup, parent_table, column) -> ColumnElement:
        """The roll-up as a correlated subquery over the children this user may read (the
        stored value counts every child; DESIGN §6, docs/adr: roll-up visibility)."""
        child = self.model.objects[rollup.child]
        ct = child.table
        link = ct.c[child.fields[rollup.link].columns[SIMPLE].name]
        conditions = [link == parent_table.c.id, ct.c.deleted_at.is_(None)]
        assert self.access is not None
        visible = access_clause(self.access, child, ct)
        if visible is not None:
            conditions.append(visible)
        source: sa.FromClause = ct
        if rollup.filter:
            system = SelectBuilder(
                self.model, child, self.context, self.dialect, self.expressions, None
            )
            _checked, condition = system.expression(
                rollup.filter, ValueType.BOOLEAN, f"{rollup.field}.filter"
            )
            conditions.append(condition)
            source = system.from_clause
        if rollup.function == "count":
            value: ColumnElement[Any] = sa.func.count()
        else:
            summarised = ct.c[child.fields[rollup.summarised].columns[SIMPLE].name]
            value = getattr(sa.func, rollup.function)(summarised)
        if rollup.function in {"count", "sum"}:
            value = sa.func.coalesce(value, 0)
        query = sa.select(value).select_from(source).where(*conditions).correlate(parent_table)
        return sa.type_coerce(query.scalar_subquery(), column.type)

    def hierarchy_rows(self, path: tuple[str, ...]) -> sa.Subquery:
        """The links of the self-lookup at the end of ``path`` (``parent_account``), as rows
        of ``id`` and ``parent``, for IS_UNDER's recursive query. Records the user cannot
        see are left out, so the hierarchy breaks where a lookup would read as empty."""
        walked = self.scope.walk(path)
        assert walked is not None and walked.field is not None, path
        obj = walked.obj
        alias = obj.table.alias()
        query = sa.select(
            alias.c.id.label("id"), alias.c[walked.field.columns[SIMPLE].name].label("parent")
        )
        if self.access is not None:
            visible = access_clause(self.access, obj, alias)
            if visible is not None:
                query = query.where(visible)
        return query.subquery()

    def formula(self, obj: ObjectModel, name: str, prefix: tuple[str, ...]) -> ColumnElement:
        key = f"{obj.api_name}.{name}"
        if key in self._formula_stack or len(self._formula_stack) >= MAX_FORMULA_DEPTH:
            raise ValidationFailed({name: "formula refers to itself"})
        self._formula_stack.append(key)
        try:
            definition = obj.fields[name].definition
            checked = self.expressions.checked(
                self.model,
                obj,
                definition["expression"],
                None,
                formula_scale(definition),
                self.dialect,
            )

            def columns(path: tuple[str, ...]) -> ColumnElement[Any]:
                return self.column(prefix + path)

            def hierarchy(path: tuple[str, ...]) -> sa.Subquery:
                return self.hierarchy_rows(prefix + path)

            if prefix or obj is not self.obj:
                return compile_sql(checked, columns, self.context, self.dialect, hierarchy)
            return self.expressions.compiled(self, checked, columns, ("formula", name))
        finally:
            self._formula_stack.pop()

    def expression(self, source: str, expected: ValueType | None, what: str) -> tuple:
        """Compile an API expression (``where``, a sort key) against the object.

        Field-level security comes before every other check: an expression naming a
        field the user may not read is refused exactly as if the field did not exist
        (same message, same position), never with a type error that would confirm it.
        """
        try:
            try:
                checked = self.expressions.checked(
                    self.model, self.obj, source, expected, None, self.dialect
                )
            except ExpressionError:
                self._refuse_hidden(source, expected)
                raise
            if not all(self.readable(p) for p in checked.field_paths):
                self._refuse_hidden(source, expected)
            key = ("expression", source, expected)
            return checked, self.expressions.compiled(self, checked, self.column, key)
        except ExpressionError as exc:
            raise ValidationFailed({what: [exc.detail]}) from exc

    def _refuse_hidden(self, source: str, expected: ValueType | None) -> None:
        """Raise the error the expression gets when the fields this user may not read do
        not exist; return when it names none."""
        if self.access is None:
            return
        parsed = parse(source)
        hidden = sorted(".".join(p) for p in parsed.field_paths if not self.readable(p))
        if not hidden:
            return
        check(parsed, ReadableScope(self.scope, self.readable), expected)
        raise ExpressionError(f"unknown field '{hidden[0]}'")  # the check always raises

    def readable(self, path: tuple[str, ...]) -> bool:
        """Whether the user may read the field path (asks ``UserAccess.field_readable``
        for every step); always for the system's own queries."""
        return self.access is None or self.access.path_readable(self.obj.api_name, path)


class ReadableScope:
    """An object's scope as one user sees it: the fields they may not read do not exist."""

    def __init__(self, scope: ObjectScope, readable) -> None:
        self.scope = scope
        self.readable = readable

    def resolve(self, path: tuple[str, ...]):
        return self.scope.resolve(path) if self.readable(path) else None


def rollup_of(model: OrgModel, object_name: str, field_name: str) -> Rollup | None:
    """The compiled roll-up of a roll-up field."""
    fld = model.objects[object_name].fields[field_name]
    child = fld.definition["relation"].partition(".")[0]
    return next(
        (
            r
            for r in model.rollups_over.get(child, ())
            if r.parent == object_name and r.field == field_name
        ),
        None,
    )


def formula_scale(definition) -> int | None:
    """The decimal places of a formula's result (None unless it returns a number)."""
    return field_type("formula").expression_info(definition, sqlite=False).scale


# --- choosing what to select ---------------------------------------------------------


def parse_paths(raw: Sequence[str], obj: ObjectModel, builder: SelectBuilder) -> list[tuple]:
    """The paths ``fields=`` names; one the user may not read is an unknown field. An
    encrypted field may be named on its own (expressions never see it; the record shows
    it masked or, with view_encrypted, in plaintext)."""
    paths = []
    for item in raw:
        path = tuple(p for p in item.strip().split(".") if p)
        if not path:
            continue
        own = obj.fields.get(path[0]) if len(path) == 1 else None
        encrypted = own is not None and field_type(own.type).encrypted
        if not builder.readable(path) or (not encrypted and builder.scope.walk(path) is None):
            raise ValidationFailed({"fields": f"unknown field '{item.strip()}' of {obj.api_name}"})
        paths.append(path)
    return paths


# --- keyset pagination ---------------------------------------------------------------


@dataclass(frozen=True)
class SortKey:
    expr: ColumnElement[Any]
    descending: bool
    vtype: ValueType


def sort_keys(builder: SelectBuilder, order_by: Sequence[str]) -> list[SortKey]:
    keys = []
    for item in order_by:
        item = item.strip()
        if not item:
            continue
        descending = item.startswith("-")
        source = item.lstrip("-+").strip()
        checked, expr = builder.expression(source, None, "order_by")
        if checked.value_type in {ValueType.MULTI, ValueType.ANY}:
            raise ValidationFailed({"order_by": f"cannot sort by '{source}'"})
        keys.append(SortKey(expr, descending, checked.value_type))
    keys.append(SortKey(builder.base.c.id, False, ValueType.TEXT))
    return keys


def order_clauses(keys: list[SortKey]) -> list[Any]:
    return [(k.expr.desc() if k.descending else k.expr.asc()).nulls_last() for k in keys]


def after_cursor(keys: list[SortKey], values: list[Any]) -> ColumnElement[bool]:
    """Rows strictly after ``values`` in (keys..., NULLs last) order."""
    condition: ColumnElement[bool] | None = None
    for key, value in reversed(list(zip(keys, values, strict=True))):
        if value is None:
            here = sa.and_(key.expr.is_(None), condition) if condition is not None else sa.false()
        else:
            bound = sa.literal(value, type_=key.expr.type)
            beyond = key.expr < bound if key.descending else key.expr > bound
            tie = key.expr == bound
            here = (
                sa.or_(beyond, key.expr.is_(None), sa.and_(tie, condition))
                if condition is not None
                else sa.or_(beyond, key.expr.is_(None))
            )
        condition = here
    assert condition is not None
    return condition


def encode_cursor(values: list[Any]) -> str:
    text = simplejson.dumps([_plain(v) for v in values], use_decimal=True)
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, keys: list[SortKey]) -> list[Any]:
    """The sort values a cursor holds; 400 for anything this list could not have sent.

    A cursor is read with the input gate's JSON rules (bounded numbers, valid text) and
    each value must have its key's type and fit its column: a number the column could
    never hold, text where a number sorts or a datetime without its offset is refused
    here rather than failing in the database.
    """
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        raw = load_json(base64.urlsafe_b64decode(padded).decode(), where="cursor")
        if not isinstance(raw, list) or len(raw) != len(keys):
            raise ValueError("wrong length")
        return [_typed(v, k) for v, k in zip(raw, keys, strict=True)]
    except (ValueError, TypeError, InputRefused) as exc:
        raise ValidationFailed(
            {"cursor": "not a cursor of this list (did the sort change?)"}
        ) from exc


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return value


def _typed(value: Any, key: SortKey) -> Any:
    if value is None:
        return None
    vtype = key.vtype
    if vtype is ValueType.NUMBER:
        if isinstance(value, bool) or not isinstance(value, int | Decimal):
            raise ValueError("number expected")
        number = Decimal(value)
        # the bound of a 64-bit integer at the column's scale (ExactDecimal on SQLite)
        scale = getattr(key.expr.type, "scale", None) or 0
        if not number.is_finite() or abs(number.scaleb(scale)) >= 2**63:
            raise ValueError("number out of the column's range")
        return number
    if vtype in (ValueType.DATE, ValueType.DATETIME, ValueType.TIME) and not isinstance(value, str):
        raise ValueError("text expected")
    if vtype is ValueType.DATE:
        return date.fromisoformat(value)
    if vtype is ValueType.DATETIME:
        moment = datetime.fromisoformat(value)
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise ValueError("a datetime with its offset expected")
        return moment
    if vtype is ValueType.TIME:
        return time.fromisoformat(value)
    if vtype is ValueType.BOOLEAN:
        if not isinstance(value, bool | int) or value not in (0, 1):
            raise ValueError("true or false expected")
        return bool(value)
    if not isinstance(value, str):
        raise ValueError("text expected")
    return value
