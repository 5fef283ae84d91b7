"""IS_UNDER: whether a record sits below another in a hierarchy (a parent account).

``IS_UNDER(parent_account, 'id')`` is true when the record with that id is the record's
parent, its parent's parent, and so on up the self-lookup ``parent_account``. The
record itself does not count (it is not under itself: write ``id == 'x' or
IS_UNDER(parent_account, 'x')`` to include it). A record without a parent is under
nothing: the result is never NULL. The walk stops after MAX_HIERARCHY_DEPTH levels,
so a cycle (which a hierarchy lookup refuses, a plain self-lookup may hold) ends.

The id may be a literal or computed per record (``IS_UNDER(parent_account,
referred_by)``: is the account that referred this one above it?). A literal id is
walked once: SQL computes the records below it as a recursive common table expression
walking down from the id through the lookup's index, and looks the record's own id up
in it. A per-record id cannot be walked once for all, so SQL walks up from each
record's parent, a recursive CTE correlated to the record (one primary-key lookup per
level, bounded by the depth), and asks whether the id is met: about 20-25 µs per
record on SQLite (ADR 0011 amendment; a closure table maintained on write would answer
with one indexed lookup, at the cost of a table and of rewriting a branch on every
move). A NULL id is above nothing. In Python the evaluation context's ``ancestors``
walks up from the record's parent, for both.
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from .functions import (
    NOT_LITERAL,
    Arg,
    Evaluation,
    Function,
    SqlCompiler,
    literal,
    register,
    require_literal,
)
from .limits import MAX_HIERARCHY_DEPTH
from .nodes import FieldRef, NodeInfo, fail
from .types import ValueType

if TYPE_CHECKING:
    from .sql import Sql

T = ValueType


def _check_is_under(call: ast.Call, args: list[Arg]) -> tuple[NodeInfo, list[ValueType]]:
    subject, ancestor = args
    info = subject.info.field
    if not isinstance(subject.node, FieldRef) or info is None or not info.hierarchy:
        fail(
            subject.node,
            "IS_UNDER expects a lookup of a record to its own object, such as parent_account",
            "IS_UNDER",
        )
    if ancestor.literal is NOT_LITERAL:
        if ancestor.info.vtype not in (T.TEXT, T.ANY):
            fail(ancestor.node, "IS_UNDER expects the id of the record above as text", "IS_UNDER")
        return NodeInfo(T.BOOLEAN), [T.TEXT, T.TEXT]
    value = require_literal(ancestor, "IS_UNDER", "the id of the record above")
    if not isinstance(value, str):
        fail(ancestor.node, "IS_UNDER expects the id of the record above as text", "IS_UNDER")
    return NodeInfo(T.BOOLEAN), [T.TEXT, T.TEXT]


def _eval_is_under(ev: Evaluation, call: ast.Call) -> bool:
    link: Any = call.args[0]
    parent = ev.value(link)
    if parent is None:
        return False
    above = ev.value(call.args[1])
    if above is None:
        return False
    if parent == above:
        return True
    if ev.context.ancestors is None:
        fail(call, "IS_UNDER needs the records' hierarchy, which is not available here")
    chain = [parent, *ev.context.ancestors(link.path, parent)]
    return above in chain[:MAX_HIERARCHY_DEPTH]


def _sql_is_under(c: SqlCompiler, call: ast.Call, a: list[Sql]) -> ColumnElement[Any]:
    path = call.args[0].path  # type: ignore[attr-defined]
    if a[1].literal is NOT_LITERAL:
        return _sql_is_under_row(c, call, path, a[1].expr)
    above = c.bind(literal(call.args[1]), T.TEXT)
    # The records below `above`: its children (depth 1), then theirs, level by level.
    first = c.hierarchy(call, path)
    below = (
        sa.select(first.c.id.label("id"), sa.literal(1, sa.Integer()).label("depth"))
        .where(first.c.parent == above)
        .cte(recursive=True, nesting=True)
    )
    rows = c.hierarchy(call, path)
    below = below.union_all(
        sa.select(rows.c.id, below.c.depth + 1).where(
            rows.c.parent == below.c.id, below.c.depth < MAX_HIERARCHY_DEPTH
        )
    )
    record = c.column((*path[:-1], "id"))  # the record the lookup belongs to
    return sa.and_(record.is_not(None), record.in_(sa.select(below.c.id)))


def _sql_is_under_row(
    c: SqlCompiler, call: ast.Call, path: Any, above: ColumnElement[Any]
) -> ColumnElement[Any]:
    """``above`` computed per record: walk up from the record's parent (see the module)."""
    parent = c.column(path)  # the record's own link: the walk's first step
    start = sa.select(parent.label("id"), sa.literal(1, sa.Integer()).label("depth"))
    up = start.correlate(parent.table).cte(recursive=True, nesting=True)
    rows = c.hierarchy(call, path)
    up = up.union_all(
        sa.select(rows.c.parent, up.c.depth + 1).where(
            rows.c.id == up.c.id, rows.c.parent.is_not(None), up.c.depth < MAX_HIERARCHY_DEPTH
        )
    )
    met = sa.select(sa.literal(1)).select_from(up).where(up.c.id == above)
    return sa.and_(above.is_not(None), sa.exists(met))


register(
    Function(
        "IS_UNDER",
        (T.TEXT, T.TEXT),
        T.BOOLEAN,
        check=_check_is_under,
        evaluate=_eval_is_under,
        pg=_sql_is_under,
        sqlite=_sql_is_under,
        doc="IS_UNDER(parent_lookup, id): the record with that id (a literal, or computed "
        "per record such as another lookup) is above the record in the hierarchy of the "
        "self-lookup (its parent, grandparent, ...); the record itself is not under "
        "itself; false when it has no parent or the id is blank",
    )
)
