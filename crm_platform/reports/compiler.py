"""A report definition compiled to SQL as one user (ADR 0029).

Every path, filter, grouping, aggregate and sort goes through the runtime's
:class:`SelectBuilder` with the reader's access: a field they may not read is refused
exactly as an unknown one, a lookup to a record they cannot see joins as empty, and
the records they may not read are left out by the same visibility clause as a list.

Two statements answer a run:

* the *grouped* query: every group, subtotal and the grand total in one statement
  over the filtered rows — ``GROUP BY GROUPING SETS`` with ``GROUPING()`` telling the
  sets apart on PostgreSQL; on SQLite a ``UNION ALL`` of one ``GROUP BY`` per set over
  one CTE of the rows, each branch tagged with the same bit mask ``GROUPING()`` gives;
* the *detail* query: the rows, ordered by their groups.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from crm_platform.core import ValidationFailed
from crm_platform.core.tables import users
from crm_platform.expressions import ValueType
from crm_platform.fieldtypes import USER, field_type, is_polymorphic, value_entry
from crm_platform.fieldtypes.relations import OBJECT
from crm_platform.metadata import Chooser, resolve_label
from crm_platform.runtime.records.context import RecordContext
from crm_platform.runtime.records.query import SelectBuilder

from .definition import OWNER_GROUPINGS, Aggregate, Grouping, ReportDefinition
from .report_kind import UNGROUPABLE, argument_problem
from .results import ReportColumn

T = ValueType
SYSTEM_TYPES = {"created_at": "datetime", "updated_at": "datetime", "version": "number"}


@dataclass(frozen=True)
class Display:
    """A path as selected: its value and, for a lookup, the target's name (the value is
    the id of the target *as the reader sees it*: null when they cannot see it)."""

    column: ReportColumn
    value: ColumnElement[Any]
    name: ColumnElement[Any] | None = None
    picklist: Mapping[str, str] | None = None  # stored value -> label, in the field's order
    # the value is a user's id (an owner, a lookup to users): named after grouping, from
    # the directory (users have no sharing), or from ``queues`` (an owning queue's label)
    user_key: bool = False
    queues: Mapping[str, str] | None = None


@dataclass(frozen=True)
class CompiledGrouping:
    spec: Grouping
    display: Display
    bucket: str | None = None
    fiscal_start_month: int = 1  # of a fiscal bucket's label

    @property
    def column(self) -> ReportColumn:
        return self.display.column


@dataclass(frozen=True)
class CompiledAggregate:
    spec: Aggregate
    column: ReportColumn
    argument: ColumnElement[Any] | None  # the per-row value (null where ``where`` fails)
    scale: int | None


@dataclass(frozen=True)
class RowSort:
    expr: ColumnElement[Any]
    descending: bool


class ReportPlan:
    """A definition compiled for one reader (raises ValidationFailed naming the part a
    field of which they may not read, exactly as for an unknown field)."""

    def __init__(
        self,
        ctx: RecordContext,
        definition: ReportDefinition,
        choose: Chooser,
        runtime_filter: str | None = None,
    ) -> None:
        self.ctx = ctx
        self.definition = definition
        self.choose = choose
        self.obj = ctx.object(definition.object)
        ctx.require(self.obj, "read")
        self.builder: SelectBuilder = ctx.builder(self.obj)
        self.conditions: list[Any] = []
        if definition.filter:
            self.conditions.append(self._expression(definition.filter, T.BOOLEAN, "filter")[1])
        if runtime_filter:
            self.conditions.append(self._expression(runtime_filter, T.BOOLEAN, "filter")[1])
        self.groupings = tuple(self._grouping(g, "group_by") for g in definition.group_by)
        self.column_groupings = tuple(
            self._grouping(g, "group_columns_by") for g in definition.group_columns_by
        )
        self.aggregates = tuple(self._aggregate(a) for a in definition.aggregates)
        self.columns = tuple(self._column(c) for c in definition.columns)
        self.group_sorts: dict[str, bool] = {}  # grouping or aggregate key -> descending
        self.row_sorts: list[RowSort] = []
        self._sorts()

    # --- compiling the parts ----------------------------------------------------------
    def _expression(self, source: str, expected: ValueType | None, what: str):
        return self.builder.expression(source, expected, what)

    def label(self, label: Any, fallback: str) -> str:
        return resolve_label(label, self.choose) if label else fallback

    def built_in(self, english: str) -> str:
        """A label the report makes up, in the reader's language."""
        return resolve_label(BUILT_IN_LABELS[english], self.choose)

    def system_label(self, step: str) -> str:
        """A system column's label (``owner``, ``created_at``), translated where known."""
        english = step.replace("_", " ").capitalize()
        return self.built_in(english) if english in BUILT_IN_LABELS else english

    def describe(self, text: str, path: tuple[str, ...]) -> tuple[str, str, int | None]:
        """A path's label (its steps' labels), field type and scale."""
        scope = self.builder.scope
        walked = scope.walk(path)
        info = scope.resolve(path)
        labels = [
            self.label(fld.definition.get("label"), step)
            if fld is not None
            else self.system_label(step)
            for step, fld in self.ctx.model.labelled_steps(self.obj, path)
        ]
        type_name = "text"
        if walked is not None and walked.user_column is None:
            fld = walked.field
            if fld is None:
                type_name = SYSTEM_TYPES.get(path[-1], "text")
            elif walked.sub is not None:
                type_name = info.value_type.value if info else "text"
            elif fld.type == "formula":
                type_name = str(fld.definition.get("return_type", "text"))
            else:
                type_name = fld.type
        scale = info.scale if info is not None and info.value_type is T.NUMBER else None
        return " › ".join(labels) or text, type_name, scale

    def _display(self, text: str, what: str) -> Display:
        """A column or grouping's SQL (refused, as unknown, when the reader may not read it)."""
        path = tuple(text.strip().split("."))
        if len(path) == 1 and path[0] in OWNER_GROUPINGS:
            alias = self.builder.table_for(("owner",))
            column = ReportColumn(text, self.built_in("Owner"), "lookup")
            owner = self.obj.table.c.owner_id
            return Display(column, owner, alias.c.name, user_key=True, queues=self._queues())
        checked, expr = self._expression(text.strip(), None, what)
        if checked.value_type in {T.MULTI, T.ANY}:
            raise ValidationFailed({what: [f"cannot use '{text}' here"]})
        label, type_name, scale = self.describe(text, path)
        column = ReportColumn(text.strip(), label, type_name, scale)
        walked = self.builder.scope.walk(path)
        fld = walked.field if walked is not None and walked.user_column is None else None
        if fld is not None and walked.sub is None:
            if field_type(fld.type).relation and is_polymorphic(fld.definition):
                return self._polymorphic(column, path, fld)
            if field_type(fld.type).relation:
                return self._lookup(column, path, fld.targets[0])
            if fld.type == "picklist":
                labels = {}
                for item in fld.definition.get("values") or ():
                    entry = value_entry(item)
                    labels[entry["value"]] = self.label(entry.get("label"), entry["value"])
                return Display(column, expr, picklist=labels)
        return Display(column, expr)

    def _lookup(self, column: ReportColumn, path: tuple[str, ...], target: str) -> Display:
        alias = self.builder.table_for(path)
        if target == USER:
            raw = self.builder.column(path)
            return Display(column, raw, alias.c.name, user_key=True)
        if not self.ctx.access.can(target, "read"):
            return Display(column, sa.null(), sa.null())
        return Display(column, alias.c.id, self._record_name(path, target))

    def _record_name(self, path: tuple[str, ...], target: str) -> ColumnElement[Any]:
        """The name of the record a lookup path reaches, as ``_names`` shows it: null
        where the reader may not read the target's name field (or see the record)."""
        access = self.ctx.access
        target_obj = self.ctx.model.objects[target]
        name_field = target_obj.fields.get(target_obj.name_field)
        readable = (
            name_field is not None
            and not field_type(name_field.type).encrypted
            and access.field_readable(target, name_field.api_name)
        )
        if not readable or name_field is None:
            return sa.null()
        return self.builder.column((*path, name_field.api_name))

    def _polymorphic(self, column: ReportColumn, path: tuple[str, ...], fld: Any) -> Display:
        """A lookup to several objects: the id of the record as the reader sees it (null
        when they cannot) and a label naming its object and the record, ``Account: Acme``
        (the object alone when the name is hidden from them)."""
        parent = self.builder.table_for(path[:-1])
        kind = parent.c[fld.columns[OBJECT].name]
        ids: list[tuple[ColumnElement[Any], ColumnElement[Any]]] = []
        labels: list[tuple[ColumnElement[Any], ColumnElement[Any]]] = []
        for target in fld.targets:
            step = (*path[:-1], f"{path[-1]}[{target}]")
            if target == USER:
                alias = self.builder.table_for(step)
                object_label, name = self.built_in("User"), alias.c.name
            elif self.ctx.access.can(target, "read"):
                alias = self.builder.table_for(step)
                target_obj = self.ctx.model.objects[target]
                object_label = self.label(target_obj.definition.get("label"), target)
                name = self._record_name(step, target)
            else:
                continue  # an object the reader may not read: blank, as a hidden record
            seen = sa.and_(kind == target, alias.c.id.is_not(None))
            ids.append((seen, alias.c.id))
            titled = sa.literal(f"{object_label}: ", sa.String()) + name
            labels.append((seen, sa.func.coalesce(titled, sa.literal(object_label, sa.String()))))
        if not ids:
            return Display(column, sa.null(), sa.null())
        return Display(column, sa.case(*ids), sa.case(*labels))

    def _queues(self) -> Mapping[str, str]:
        """Queues by id, named as ``_names`` names an owning queue."""
        queues = self.ctx.model.security.queues.values()
        return {q.id: self.label(q.label, q.name) for q in queues}

    def _grouping(self, spec: Grouping, what: str) -> CompiledGrouping:
        if spec.bucket is not None:
            return self._bucket(spec, what)
        path = spec.path
        if not (len(path) == 1 and path[0] in OWNER_GROUPINGS):
            walked = self.builder.scope.walk(path)
            fld = walked.field if walked is not None else None
            ungroupable = fld is not None and walked.sub is None and fld.type in UNGROUPABLE
            if ungroupable and self.builder.readable(path):
                raise ValidationFailed({what: [f"cannot group by '{spec.text}'"]})
        return CompiledGrouping(spec, self._display(spec.text, what))

    def _bucket(self, spec: Grouping, what: str) -> CompiledGrouping:
        """A date grouping: the first day of its bucket, computed in SQL (datetimes in
        the org's time zone; fiscal buckets from the org's fiscal year start)."""
        from .buckets import BUCKETS, bucket_sql

        text = ".".join(spec.path)
        checked, expr = self._expression(text, None, what)
        if spec.bucket not in BUCKETS or checked.value_type not in {T.DATE, T.DATETIME}:
            raise ValidationFailed({what: [f"cannot group '{text}' by {spec.bucket}"]})
        value = bucket_sql(
            expr,
            checked.value_type,
            spec.bucket,
            self.ctx.dialect,
            self.ctx.model.time_zone,
            self.fiscal_start_month,
        )
        label = self.describe(text, spec.path)[0]
        column = ReportColumn(spec.text, f"{label} ({spec.bucket.replace('_', ' ')})", "date")
        return CompiledGrouping(spec, Display(column, value), spec.bucket, self.fiscal_start_month)

    @property
    def fiscal_start_month(self) -> int:
        """The org's first month of the fiscal year (1 where the org has no setting)."""
        return int(getattr(self.ctx.model, "fiscal_year_start_month", 1) or 1)

    def _column(self, text: str) -> Display:
        return self._display(text, "columns")

    def _aggregate(self, spec: Aggregate) -> CompiledAggregate:
        what = "aggregates"
        condition = None
        if spec.where:
            condition = self._expression(spec.where, T.BOOLEAN, what)[1]
        label = self.label(spec.label, self._default_label(spec))
        if spec.argument is None:
            argument = sa.case((condition, sa.literal(1))) if condition is not None else None
            return CompiledAggregate(spec, ReportColumn(spec.key, label, "number", 0), argument, 0)
        checked, expr = self._expression(spec.argument, None, what)
        problem = argument_problem(spec.function, checked.value_type, spec.argument)
        if problem:
            raise ValidationFailed({what: [problem]})
        cap = summed_scale(checked)
        if spec.function in {"sum", "avg"} and cap is not None:
            checked, expr = self._expression(f"ROUND({spec.argument}, {cap})", None, what)
        argument = sa.case((condition, expr)) if condition is not None else expr
        if spec.function in {"count", "count_distinct"}:
            return CompiledAggregate(spec, ReportColumn(spec.key, label, "number", 0), argument, 0)
        scale = checked.scale
        path = tuple(spec.argument.split("."))
        type_name = checked.value_type.value
        if spec.function == "avg":
            scale = (scale or 0) + 4
            type_name = "number"
        elif checked.field_paths == {path}:
            type_name = self.describe(spec.argument, path)[1]
        return CompiledAggregate(
            spec, ReportColumn(spec.key, label, type_name, scale), argument, scale
        )

    def _default_label(self, spec: Aggregate) -> str:
        """``Record count``, ``Sum of Amount``; a named aggregate's name."""
        if spec.key == spec.name and spec.key != "count":
            return spec.name
        if spec.argument is None:
            return self.built_in("Record count")
        path = tuple(spec.argument.split("."))
        of = spec.argument
        if self.builder.scope.walk(path) is not None:
            of = self.describe(spec.argument, path)[0]
        return resolve_label(FUNCTION_LABELS[spec.function], self.choose).format(of)

    def _sorts(self) -> None:
        groupings = {g.spec.text for g in (*self.groupings, *self.column_groupings)}
        aggregates = {a.spec.key: a.spec.key for a in self.aggregates}
        aggregates.update({a.spec.name: a.spec.key for a in self.aggregates})
        aggregates.update({f.name: f.name for f in self.definition.formulas})
        for item in self.definition.sort:
            descending = item.strip().startswith("-")
            key = item.strip().lstrip("+-").strip()
            if key in groupings:
                self.group_sorts[key] = descending
            elif key in aggregates:
                self.group_sorts.setdefault(aggregates[key], descending)
            else:
                checked, expr = self._expression(key, None, "sort")
                if checked.value_type in {T.MULTI, T.ANY}:
                    raise ValidationFailed({"sort": [f"cannot sort by '{key}'"]})
                self.row_sorts.append(RowSort(expr, descending))

    # --- the statements ---------------------------------------------------------------
    @property
    def all_groupings(self) -> tuple[CompiledGrouping, ...]:
        return self.groupings + self.column_groupings

    def where(self) -> list[Any]:
        table = self.obj.table
        return [table.c.deleted_at.is_(None), *self.ctx.visible(self.obj), *self.conditions]

    def grouping_sets(self) -> list[tuple[int, ...]]:
        """The sets of grouping indexes the grouped query computes, finest first."""
        rows = len(self.groupings)
        columns = tuple(range(rows, rows + len(self.column_groupings)))
        sets: list[tuple[int, ...]] = []
        for depth in range(rows, -1, -1):
            prefix = tuple(range(depth))
            # every column grouping, then each shorter prefix of them (a matrix grouping
            # columns by quarter then stage has a subtotal per quarter), then none
            for width in range(len(columns), 0, -1):
                sets.append(prefix + columns[:width])
            sets.append(prefix)
        return sets

    def grouped_query(self) -> sa.Select[Any] | sa.CompoundSelect:
        """Every group, subtotal and the grand total as one statement (see the module)."""
        groupings = self.all_groupings
        base_columns: list[Any] = []
        for index, grouping in enumerate(groupings):
            base_columns.append(grouping.display.value.label(f"g{index}"))
            if grouping.display.name is not None and not grouping.display.user_key:
                base_columns.append(grouping.display.name.label(f"l{index}"))
        for index, aggregate in enumerate(self.aggregates):
            if aggregate.argument is not None:
                base_columns.append(aggregate.argument.label(f"a{index}"))
        if not base_columns:
            base_columns.append(sa.literal(1).label("one"))
        base = sa.select(*base_columns).select_from(self.builder.from_clause).where(*self.where())
        count = len(groupings)
        if self.ctx.dialect == "postgresql" and count:
            rows = base.subquery("report_rows")
            keys = [rows.c[f"g{i}"] for i in range(count)]
            columns = [*keys, *self._labels(rows, None, keys), *self._aggregated(rows)]
            columns.append(sa.func.grouping(*keys).label("gset"))
            sets = [sa.tuple_(*(keys[i] for i in s)) for s in self.grouping_sets()]
            return sa.select(*columns).group_by(sa.func.grouping_sets(*sets))
        rows = base.cte("report_rows")
        branches = []
        for kept in self.grouping_sets():
            keys = [
                rows.c[f"g{i}"] if i in kept else sa.null().label(f"g{i}") for i in range(count)
            ]
            mask = sum(1 << (count - 1 - i) for i in range(count) if i not in kept)
            grouped = [rows.c[f"g{i}"] for i in range(count)]
            columns = [*keys, *self._labels(rows, kept, grouped), *self._aggregated(rows)]
            columns.append(sa.literal(mask).label("gset"))
            # FROM named: a grand total of count(*) alone names no column of the rows, and
            # would count the one row of a FROM-less SELECT
            branch = sa.select(*columns).select_from(rows)
            if kept:
                branch = branch.group_by(*(rows.c[f"g{i}"] for i in kept))
            branches.append(branch)
        return branches[0] if len(branches) == 1 else sa.union_all(*branches)

    def _labels(self, rows, kept: tuple[int, ...] | None, keys: list[Any]) -> list[Any]:
        """Each lookup grouping's name: a record's read with the rows (its parent as the
        reader sees it), a user's looked up once per group rather than joined per row."""
        out = []
        for index, grouping in enumerate(self.all_groupings):
            if grouping.display.name is None:
                continue
            if grouping.display.user_key and (kept is None or index in kept):
                named = sa.select(users.c.name).where(users.c.id == keys[index])
                out.append(named.scalar_subquery().label(f"l{index}"))
            elif kept is None or index in kept:
                out.append(sa.func.max(rows.c[f"l{index}"]).label(f"l{index}"))
            else:
                out.append(sa.null().label(f"l{index}"))
        return out

    def _aggregated(self, rows) -> list[Any]:
        out: list[Any] = []
        for index, aggregate in enumerate(self.aggregates):
            label = f"m{index}"
            function = aggregate.spec.function
            if aggregate.argument is None:
                out.append(sa.func.count().label(label))
                continue
            value = rows.c[f"a{index}"]
            if function == "count":
                out.append(sa.func.count(value).label(label))
            elif function == "count_distinct":
                out.append(sa.func.count(sa.distinct(value)).label(label))
            elif function == "avg":
                out.append(sa.func.sum(value).label(label))
                out.append(sa.func.count(value).label(f"c{index}"))
            else:
                out.append(getattr(sa.func, function)(value).label(label))
        return out

    def order_of(self, grouping: CompiledGrouping) -> ColumnElement[Any]:
        """How a grouping's values sort in SQL: a picklist in its values' order."""
        value = grouping.display.value
        picklist = grouping.display.picklist
        if picklist:
            positions = {v: i for i, v in enumerate(picklist)}
            return sa.case(positions, value=value, else_=len(positions))
        return value

    def detail_query(self, limit: int | None) -> sa.Select[Any]:
        """The detail rows: row groupings' keys and names, the columns, the id."""
        columns: list[Any] = []
        for index, grouping in enumerate(self.groupings):
            columns.append(grouping.display.value.label(f"g{index}"))
            if grouping.display.name is not None:
                columns.append(grouping.display.name.label(f"l{index}"))
        for index, column in enumerate(self.columns):
            columns.append(column.value.label(f"v{index}"))
            if column.name is not None:
                columns.append(column.name.label(f"n{index}"))
        table = self.obj.table
        columns.append(table.c.id.label("record_id"))
        order = []
        for grouping in self.groupings:
            expr = self.order_of(grouping)
            descending = self.group_sorts.get(grouping.spec.text, False)
            order.append((expr.desc() if descending else expr.asc()).nulls_last())
        for sort in self.row_sorts:
            order.append((sort.expr.desc() if sort.descending else sort.expr.asc()).nulls_last())
        order.append(table.c.id.asc())
        query = (
            sa.select(*columns)
            .select_from(self.builder.from_clause)
            .where(*self.where())
            .order_by(*order)
        )
        return query.limit(limit) if limit is not None else query


SUMMED_EXTRA_PLACES = 4


def summed_scale(checked) -> int | None:
    """The places a computed number is summed at, when fewer than it has: a division
    gives ten places, and ten places summed over a million rows would overflow the
    scaled 64-bit integers exact decimals are on SQLite. The fields' own places plus
    four (a product or a percentage of them stays exact); None to keep it as it is."""
    if checked.value_type is not T.NUMBER or checked.scale is None:
        return None
    places = [i.scale or 0 for i in checked.fields.values() if i.value_type is T.NUMBER]
    cap = max(places, default=0) + SUMMED_EXTRA_PLACES
    return cap if checked.scale > cap else None


# The labels a report makes up itself, in the languages the UI speaks (a metadata label,
# resolved for the reader like any other; ``{}`` is the summarised field's label).
FUNCTION_LABELS: dict[str, dict[str, str]] = {
    "count": {"en": "Count of {}", "zh": "{}计数"},
    "sum": {"en": "Sum of {}", "zh": "{}合计"},
    "avg": {"en": "Average of {}", "zh": "{}平均值"},
    "min": {"en": "Minimum of {}", "zh": "{}最小值"},
    "max": {"en": "Maximum of {}", "zh": "{}最大值"},
    "count_distinct": {"en": "Distinct count of {}", "zh": "{}去重计数"},
}
BUILT_IN_LABELS: dict[str, dict[str, str]] = {
    "Owner": {"en": "Owner", "zh": "负责人"},
    "User": {"en": "User", "zh": "用户"},
    "Record count": {"en": "Record count", "zh": "记录数"},
}
