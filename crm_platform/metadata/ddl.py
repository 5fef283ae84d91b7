"""Runtime DDL for object tables, through Alembic's ``Operations`` (DESIGN §0, §3 "Storage").

Never batch mode: a type change that needs a new physical type adds a new
column, copies, and points the field at it; the old column is kept as
"retired" until the field is purged. There are no database-level foreign keys:
delete behaviour is the record service's job, and lookup columns are indexed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy import Connection

from crm_platform.core import ID_LENGTH, UTCDateTime
from crm_platform.fieldtypes import SIMPLE, field_type, storage_of, storage_type, sub_columns

from . import conversions
from .conversions import ConversionOptions
from .names import choose_physical_name

if TYPE_CHECKING:
    from alembic.operations import Operations

    from .candidate import CandidateModel

LIVE_ROWS = '"deleted_at" IS NULL'


def quoted(name: str) -> sa.sql.quoted_name:
    """An identifier SQLAlchemy and Alembic always quote (DESIGN §0 "Names and identity").

    API names may be any SQL word (`case`, `order`, `returning`...), and SQLAlchemy's own
    lists of reserved words do not cover every keyword of every SQLite and PostgreSQL
    version, so object tables and their columns are quoted in every statement we emit.
    """
    return sa.sql.quoted_name(name, quote=True)


def quoted_table(table: str, *columns: str) -> sa.TableClause:
    """A lightweight table construct for ad-hoc statements on an object table."""
    return sa.table(quoted(table), *[sa.column(quoted(c)) for c in columns])


def operations(conn: Connection) -> Operations:
    """Alembic operations bound to the connection (and so to its transaction)."""
    # Alembic is imported when DDL runs: a worker that only serves records never
    # loads it (about 10 MB of memory per process).
    from alembic.operations import Operations
    from alembic.runtime.migration import MigrationContext

    return Operations(MigrationContext.configure(conn))


def system_columns() -> list[sa.Column[Any]]:
    """The columns every object table has (DESIGN §3)."""
    return [
        sa.Column(quoted("id"), sa.String(ID_LENGTH), primary_key=True),
        sa.Column(quoted("owner_id"), sa.String(ID_LENGTH), nullable=False),
        sa.Column(quoted("created_at"), UTCDateTime(), nullable=False),
        sa.Column(quoted("created_by"), sa.String(ID_LENGTH), nullable=False),
        sa.Column(quoted("updated_at"), UTCDateTime(), nullable=False),
        sa.Column(quoted("updated_by"), sa.String(ID_LENGTH), nullable=False),
        sa.Column(quoted("version"), sa.Integer, nullable=False),
        sa.Column(quoted("deleted_at"), UTCDateTime(), nullable=True),
        sa.Column(quoted("deleted_batch"), sa.String(ID_LENGTH), nullable=True),
    ]


SYSTEM_COLUMN_NAMES = frozenset(c.name for c in system_columns())


def field_columns(definition: Mapping[str, Any], physical: Mapping[str, Any]) -> list[sa.Column]:
    """The SQLAlchemy columns of a field, named as its physical names say."""
    columns = physical.get("columns", {})
    storage = physical.get("storage")
    return [
        sa.Column(quoted(columns[sub]), storage_of(definition, sub, storage), nullable=True)
        for sub in sub_columns(definition)
    ]


def assign_columns(
    definition: Mapping[str, Any], taken: set[str], table: str, storage: Mapping | None = None
) -> dict[str, Any]:
    """Choose physical column and index names for a new field."""
    columns = {}
    for sub in sub_columns(definition):
        base = definition["api_name"] if sub == SIMPLE else f"{definition['api_name']}_{sub}"
        name = choose_physical_name(base, taken | SYSTEM_COLUMN_NAMES)
        taken.add(name)
        columns[sub] = name
    physical: dict[str, Any] = {"columns": columns}
    if storage is not None:
        physical["storage"] = dict(storage)
    physical["indexes"] = _wanted_indexes(definition, physical, table)
    return physical


def _wanted_indexes(definition: Mapping[str, Any], physical: Mapping[str, Any], table: str):
    if SIMPLE not in physical.get("columns", {}):
        return []
    column = physical["columns"][SIMPLE]
    ftype = field_type(definition["type"])
    unique = ftype.always_unique or bool(definition.get("unique"))
    if not (unique or ftype.indexed):
        return []
    prefix = "ux" if unique else "ix"
    name = choose_physical_name(f"{table}_{column}", set(), prefix=f"{prefix}_")
    index = {"name": name, "column": column, "unique": unique}
    if unique and ftype.unique_ignores_case:
        index["ignore_case"] = True  # on lower(column): emails differing in case collide
    return [index]


def _index_key(index: Mapping[str, Any], column: Any = None) -> sa.ColumnElement[Any]:
    """What the index holds: the column, or lower(column) for a case-insensitive unique."""
    column = sa.column(quoted(index["column"])) if column is None else column
    return sa.func.lower(column) if index.get("ignore_case") else column


def _index_shape(indexes: list[Mapping[str, Any]]) -> list[tuple[bool, bool]]:
    return [(i["unique"], bool(i.get("ignore_case"))) for i in indexes]


def create_index(op: Operations, table: str, index: Mapping[str, Any]) -> None:
    where = sa.text(LIVE_ROWS) if index["unique"] else None
    op.create_index(
        quoted(index["name"]),
        quoted(table),
        [_index_key(index)],
        unique=index["unique"],
        sqlite_where=where,
        postgresql_where=where,
    )
    create_key_statistics(op.get_bind(), table, index)


def drop_index(op: Operations, table: str, index: Mapping[str, Any]) -> None:
    """Drop a field's index (and the statistics kept with it)."""
    op.drop_index(quoted(index["name"]), table_name=quoted(table))
    bind = op.get_bind()
    if _keeps_expression_statistics(bind, index):
        name = bind.dialect.identifier_preparer.quote_identifier(_statistics_name(index))
        op.execute(f"DROP STATISTICS IF EXISTS {name}")


def create_key_statistics(conn: Connection, table: str, index: Mapping[str, Any]) -> bool:
    """Statistics of a case-insensitive unique index's key, on PostgreSQL 14+ (whose
    planner ignores the statistics of a partial index's expression: without these, a
    batch's unique check on lower(email) guessed most of the table matches and read it
    whole). Returns whether it made them (not when the index needs none or has them)."""
    if not _keeps_expression_statistics(conn, index):
        return False
    name = _statistics_name(index)
    present = sa.text(
        "SELECT 1 FROM pg_statistic_ext "
        "WHERE stxname = :name AND stxnamespace = current_schema()::regnamespace"
    )
    if conn.execute(present, {"name": name}).first() is not None:
        return False
    quote = conn.dialect.identifier_preparer.quote_identifier
    expression = _index_key(index).compile(dialect=conn.dialect)
    conn.exec_driver_sql(f"CREATE STATISTICS {quote(name)} ON ({expression}) FROM {quote(table)}")
    return True


def keep_key_statistics(conn: Connection, model: CandidateModel) -> int:
    """:func:`create_key_statistics` for every case-insensitive unique field of the org
    (``crm upgrade``: fields made unique before these statistics existed); returns how
    many it made."""
    count = 0
    for header in model.of_kind("object"):
        table = header.physical.get("table")
        for comp in model.fields_of(header.name) if table else ():
            for index in comp.physical.get("indexes", []):
                count += create_key_statistics(conn, table, index)
    return count


def _keeps_expression_statistics(conn: Connection, index: Mapping[str, Any]) -> bool:
    return (
        bool(index.get("ignore_case"))
        and conn.dialect.name == "postgresql"
        and (conn.dialect.server_version_info or (0,)) >= (14,)
    )


def _statistics_name(index: Mapping[str, Any]) -> str:
    return ("st_" + index["name"])[:63]


def create_object_table(
    op: Operations, table: str, fields: list[tuple[Mapping[str, Any], Mapping[str, Any]]]
) -> None:
    """Create an object's table with the system columns and the given fields' columns."""
    columns = system_columns()
    for definition, physical in fields:
        columns.extend(field_columns(definition, physical))
    op.create_table(quoted(table), *columns)
    op.create_index(quoted(f"ix_{table}_owner_id"[:63]), quoted(table), [quoted("owner_id")])
    for _definition, physical in fields:
        for index in physical.get("indexes", []):
            create_index(op, table, index)


def add_field(op: Operations, table: str, definition: Mapping, physical: Mapping) -> None:
    """Add a new field's columns and indexes to an existing table."""
    for column in field_columns(definition, physical):
        op.add_column(quoted(table), column)
    for index in physical.get("indexes", []):
        create_index(op, table, index)


def drop_field(op: Operations, table: str, physical: Mapping[str, Any]) -> None:
    """Drop a purged field's indexes and columns (current and retired)."""
    for index in physical.get("indexes", []):
        drop_index(op, table, index)
    for column in [*physical.get("columns", {}).values(), *physical.get("retired_columns", [])]:
        op.drop_column(quoted(table), quoted(column))


def drop_object_table(op: Operations, table: str) -> None:
    op.drop_table(quoted(table))


# --- changing a field -------------------------------------------------------------

Step = Callable[["Operations"], None]


@dataclass
class Alteration:
    """What changing a field needs: refusals, or the new physical names and the DDL steps."""

    physical: dict[str, Any]
    steps: list[Step] = field(default_factory=list)
    problems: list[tuple[str, str]] = field(default_factory=list)
    report: conversions.Report | None = None  # set when values are converted


def plan_alteration(
    conn: Connection,
    table: str,
    before: Mapping[str, Any],
    after: Mapping[str, Any],
    physical: Mapping[str, Any],
    taken: set[str],
    options: ConversionOptions | None = None,
    object_name: str = "",
) -> Alteration:
    """Plan a field change; unsafe changes come back as problems naming why.

    A type change :mod:`conversions` knows converts the values (``options`` say what
    to do with those that do not convert); unconvertible values refused raise 409.
    """
    plan = Alteration(physical=_copy_physical(physical))
    old, new = before["type"], after["type"]
    if old != new or _storage_changed(before, after):
        options = options or ConversionOptions()
        conversion = conversions.find(conn, before, after, options)
        if conversion is not None:
            _plan_conversion(
                conn, table, before, after, plan, taken, conversion, options, object_name
            )
            _plan_index_changes(conn, table, after, plan)
            return plan
        _plan_type_change(conn, table, before, after, plan, taken)
    if plan.problems:
        return plan
    _plan_data_checks(conn, table, before, after, plan)
    _plan_index_changes(conn, table, after, plan)
    return plan


def _plan_conversion(
    conn: Connection,
    table: str,
    before: Mapping[str, Any],
    after: Mapping[str, Any],
    plan: Alteration,
    taken: set[str],
    conversion: conversions.Conversion,
    options: ConversionOptions,
    object_name: str,
) -> None:
    report = conversions.examine(conn, table, before, plan.physical, conversion, after)
    plan.report = report
    if report.bad_values and options.on_unconvertible == conversions.REFUSE:
        conversions.refuse_unconvertible(before["api_name"], report)
    old_column = plan.physical["columns"][SIMPLE]
    new_column = None
    moved_indexes = []
    if conversion.new_column:
        new_column = choose_physical_name(f"{after['api_name']}_v", taken | SYSTEM_COLUMN_NAMES)
        taken.add(new_column)
        plan.physical["columns"][SIMPLE] = new_column
        plan.physical.setdefault("retired_columns", []).append(old_column)
        for index in plan.physical["indexes"]:
            if index["column"] == old_column:
                index["column"] = new_column
                moved_indexes.append(dict(index))
    author = options.author_id

    def convert(op: Operations) -> None:
        bind = op.get_bind()
        if new_column is not None:
            op.add_column(table, sa.Column(new_column, storage_of(after, SIMPLE), nullable=True))
        if report.bad_values:
            conversions.clear_into_history(
                bind, table, object_name, before, {"columns": {SIMPLE: old_column}}, report, author
            )
        conversions.copy_converted(bind, table, before, after, old_column, new_column, report)
        for index in moved_indexes:
            drop_index(op, table, index)
            create_index(op, table, index)

    plan.steps.append(convert)


def _copy_physical(physical: Mapping[str, Any]) -> dict[str, Any]:
    copy = {k: v for k, v in physical.items()}
    copy["columns"] = dict(physical.get("columns", {}))
    copy["indexes"] = [dict(i) for i in physical.get("indexes", [])]
    if "retired_columns" in physical:
        copy["retired_columns"] = list(physical["retired_columns"])
    return copy


def _storage_changed(before: Mapping[str, Any], after: Mapping[str, Any]) -> bool:
    return field_type(before["type"]).storage_changed(before, after)


def _plan_type_change(conn, table, before, after, plan: Alteration, taken: set[str]) -> None:
    old, new = before["type"], after["type"]
    old_type, new_type = field_type(old), field_type(new)
    refusal = f"cannot change a {old} field to {new}"
    if old != new and old_type.text_kind and new_type.text_kind:
        if new_type.text_kind == "free" or (
            new_type.text_kind == "choice" and old_type.text_kind == "free"
        ):
            return  # same text storage; data checks below cover lengths and values
        plan.problems.append(("type", f"{refusal}: existing values were not checked as {new}"))
        return
    if old_type.storage == new_type.storage == "decimal":
        _plan_decimal_change(conn, table, before, after, plan, taken)
        return
    if old_type.storage == new_type.storage == "integer":
        return
    if old == "integer" and new_type.storage == "decimal":
        integer_digits = after["precision"] - after["scale"]
        if integer_digits < 18:
            _check_no_value_beyond(
                conn, table, plan, plan.physical["columns"][SIMPLE], 10**integer_digits
            )
        if not plan.problems:
            _plan_copy_to_new_column(conn, table, after, plan, taken, scale_from=0)
        return
    if old == new and old_type.fixed_options is not None:
        plan.problems.append(old_type.fixed_options)
        return
    plan.problems.append(("type", f"{refusal}: create a new field and copy the data"))


def _plan_decimal_change(conn, table, before, after, plan: Alteration, taken: set[str]) -> None:
    old_p, old_s = before["precision"], before["scale"]
    new_p, new_s = after["precision"], after["scale"]
    if new_s < old_s or new_p - new_s < old_p - old_s:
        plan.problems.append(
            ("precision", f"narrowing ({old_p},{old_s}) to ({new_p},{new_s}) could lose data")
        )
        return
    if new_s == old_s:
        if new_p != old_p and conn.dialect.name != "sqlite":
            column = plan.physical["columns"][SIMPLE]
            plan.steps.append(
                lambda op: op.alter_column(
                    quoted(table), quoted(column), type_=sa.Numeric(new_p, new_s)
                )
            )
        return
    _plan_copy_to_new_column(conn, table, after, plan, taken, scale_from=old_s)


def _plan_copy_to_new_column(
    conn, table, after, plan: Alteration, taken: set[str], *, scale_from: int
) -> None:
    old_column = plan.physical["columns"][SIMPLE]
    new_column = choose_physical_name(f"{after['api_name']}_v", taken | SYSTEM_COLUMN_NAMES)
    taken.add(new_column)
    column_type = storage_type({"storage": "decimal", **after})
    factor = 10 ** (after["scale"] - scale_from)
    sqlite = conn.dialect.name == "sqlite"
    plan.physical["columns"][SIMPLE] = new_column
    plan.physical.setdefault("retired_columns", []).append(old_column)
    for index in plan.physical["indexes"]:
        index["column"] = new_column

    def copy(op: Operations) -> None:
        op.add_column(quoted(table), sa.Column(quoted(new_column), column_type, nullable=True))
        t = quoted_table(table, old_column, new_column)
        source = t.c[old_column] * factor if sqlite else t.c[old_column]
        op.get_bind().execute(t.update().values({new_column: source}))

    plan.steps.append(copy)


def _check_no_value_beyond(conn, table, plan: Alteration, column: str, limit: int) -> None:
    t = quoted_table(table, column, "deleted_at")
    count = conn.execute(
        sa.select(sa.func.count()).where(sa.func.abs(t.c[column]) >= limit)
    ).scalar_one()
    if count:
        plan.problems.append(("precision", f"{count} records hold values too large for it"))


def _plan_data_checks(conn, table, before, after, plan: Alteration) -> None:
    columns = plan.physical.get("columns", {})
    if SIMPLE not in columns:
        return
    t = quoted_table(table, columns[SIMPLE])
    column = t.c[columns[SIMPLE]]
    new_max = after.get("max_length")
    if new_max is not None and new_max < before.get("max_length", new_max + 1):
        too_long = conn.execute(
            sa.select(sa.func.count()).where(sa.func.length(column) > new_max)
        ).scalar_one()
        if too_long:
            plan.problems.append(
                ("max_length", f"{too_long} records hold longer values than {new_max} characters")
            )
    if after["type"] == "picklist":
        values = {v if isinstance(v, str) else v["value"] for v in after["values"]}
        stray = conn.execute(
            sa.select(column, sa.func.count())
            .where(column.is_not(None), column.not_in(values))
            .group_by(column)
            .limit(5)
        ).all()
        if stray:
            listed = ", ".join(f"{value!r} ({n})" for value, n in stray)
            plan.problems.append(
                ("values", f"values still in use cannot be removed (deactivate them): {listed}")
            )
    if after["type"] == "multi_picklist" and before["type"] == "multi_picklist":
        old_values = {v if isinstance(v, str) else v["value"] for v in before["values"]}
        new_values = {v if isinstance(v, str) else v["value"] for v in after["values"]}
        if old_values - new_values:
            plan.problems.append(("values", "values cannot be removed: deactivate them instead"))


def _plan_index_changes(conn, table: str, after: Mapping[str, Any], plan: Alteration) -> None:
    wanted = _wanted_indexes(after, plan.physical, table)
    current = plan.physical["indexes"]
    if _index_shape(wanted) == _index_shape(current):
        return
    for index in current:
        plan.steps.append(lambda op, i=index: drop_index(op, table, i))
    for index in wanted:
        if index["unique"]:
            duplicates = _count_duplicates(conn, table, index)
            if duplicates:
                plan.problems.append(("unique", f"{duplicates} values occur more than once"))
                return
        plan.steps.append(lambda op, i=index: create_index(op, table, i))
    plan.physical["indexes"] = wanted


def _count_duplicates(conn: Connection, table: str, index: Mapping[str, Any]) -> int:
    column = index["column"]
    t = quoted_table(table, column, "deleted_at")
    key = _index_key(index, t.c[column])
    dupes = (
        sa.select(key)
        .where(t.c.deleted_at.is_(None), t.c[column].is_not(None))
        .group_by(key)
        .having(sa.func.count() > 1)
        .subquery()
    )
    return conn.execute(sa.select(sa.func.count()).select_from(dupes)).scalar_one()
