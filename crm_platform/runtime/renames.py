"""What a rename means beyond the metadata package: expressions and platform data.

The expression renamers rewrite formulas, default expressions, roll-up filters,
validation-rule conditions and sharing-rule criteria through the parser's syntax
tree (:func:`crm_platform.expressions.rename.rename_paths`). The apply hook moves
the platform rows keyed by API name — search entries, field history, share rows,
links kept for restore, auto-number counters, polymorphic lookup values — with
one set-based statement each, in the change set's transaction.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection

from crm_platform.core.tables import (
    counters,
    delete_links,
    field_history,
    search_backfills,
    shares,
)
from crm_platform.expressions import ExpressionError
from crm_platform.expressions.rename import rename_paths
from crm_platform.metadata import CandidateModel, KindRegistry
from crm_platform.metadata.renames import RenameContext
from crm_platform.metadata.store import ComponentChange

from .records.counters import counter_name
from .records.search import group_table, search_table


def rewrite_expression(ctx: RenameContext, source: str | None, start: str) -> str | None:
    """``source`` (an expression read from object ``start``) with the rename applied to
    every field path in it (:meth:`RenameContext.rename_path`: a renamed field, or an
    object a polymorphic step narrows to); the renamer of each kind that holds
    expressions calls this."""
    if not source:
        return source
    try:
        return rename_paths(source, lambda path: ctx.rename_path(start, path))
    except ExpressionError:
        return source  # an invalid expression names nothing; its own check reports it


def field_expressions(ctx: RenameContext, comp, definition: Mapping[str, Any]):
    """Formulas, default expressions and roll-up filters of a field."""
    out = dict(definition)
    places = []
    for key in ("expression", "default_expression"):
        new = rewrite_expression(ctx, definition.get(key), comp.parent)
        if new != definition.get(key):
            out[key] = new
            places.append(key)
    if definition["type"] == "rollup_summary" and definition.get("filter"):
        child = definition["relation"].split(".", 1)[0]
        new = rewrite_expression(ctx, definition["filter"], child)
        if new != definition["filter"]:
            out["filter"] = new
            places.append("filter")
    return out, places


def _rule_expression(key: str):
    def renamer(ctx: RenameContext, comp, definition: Mapping[str, Any]):
        start = comp.parent or definition["object"]
        new = rewrite_expression(ctx, definition.get(key), start)
        if new == definition.get(key):
            return definition, []
        return {**definition, key: new}, [key]

    return renamer


def register_expression_renamers(registry: KindRegistry) -> None:
    """Teach renames and the where-used list the expressions of each kind."""
    registry.add_renamer("field", field_expressions)
    registry.add_renamer("validation_rule", _rule_expression("condition"))
    registry.add_renamer("sharing_rule", _rule_expression("criteria"))
    registry.add_apply_hook(move_platform_rows)


def move_platform_rows(
    conn: Connection, changes: Sequence[ComponentChange], model: CandidateModel
) -> None:
    """Apply hook: platform rows that name a renamed object or field follow the rename."""
    for change in changes:
        before, after = change.before, change.after
        if before is None or before.name == after.name:
            continue
        if after.kind == "object":
            _rename_object_rows(conn, model, before.name, after.name)
        elif after.kind == "field" and before.parent == after.parent:
            old, new = before.definition["api_name"], after.definition["api_name"]
            _rename_field_rows(conn, after.parent or "", old, new)


def _rename_object_rows(conn: Connection, model: CandidateModel, old: str, new: str) -> None:
    # a backfill left behind under the old name would find no object and end undone;
    # rows a purged object of the new name left would clash with the moved ones
    for table in (search_backfills, group_table):
        conn.execute(table.delete().where(table.c.object == new))
    for table in (search_table, group_table, search_backfills, field_history, shares, delete_links):
        conn.execute(table.update().where(table.c.object == old).values(object=new))
    prefix = counter_name(old, "")
    conn.execute(
        counters.update()
        .where(counters.c.name.startswith(prefix, autoescape=True))
        .values(name=sa.func.replace(counters.c.name, prefix, counter_name(new, "")))
    )
    # polymorphic lookups keep the target object's name beside the id
    for obj in model.objects().values():
        table_name = model.components[("object", obj["api_name"])].physical["table"]
        for field in obj["fields"]:
            if new in field.get("targets", ()):
                comp = model.get("field", f"{obj['api_name']}.{field['api_name']}")
                column = comp.physical["columns"]["object"]
                t = sa.table(table_name, sa.column(column))
                conn.execute(t.update().where(t.c[column] == old).values({column: new}))


def _rename_field_rows(conn: Connection, object_name: str, old: str, new: str) -> None:
    # (search entries are named by their fields' columns, which a rename keeps)
    for table in (field_history, delete_links):
        conn.execute(
            table.update()
            .where(table.c.object == object_name, table.c.field == old)
            .values(field=new)
        )
    conn.execute(
        counters.update()
        .where(counters.c.name == counter_name(object_name, old))
        .values(name=counter_name(object_name, new))
    )
