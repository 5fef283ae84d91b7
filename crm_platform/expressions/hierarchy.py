"""IS_UNDER: whether a record sits below another in a hierarchy (a parent account).

``IS_UNDER(parent_account, 'id')`` is true when the record with that id is the record's
parent, its parent's parent, and so on up the self-lookup ``parent_account``. The
record itself does not count (it is not under itself: write ``id == 'x' or
IS_UNDER(parent_account, 'x')`` to include it). A record without a parent is under
nothing: the result is never NULL. The walk stops after MAX_HIERARCHY_DEPTH levels,
so a cycle (which a hierarchy lookup refuses, a plain self-lookup may hold) ends.

The id is a literal, so SQL computes the records below it once, as a recursive common
table expression walking down from the id through the lookup's index; the record's
own id is then looked up in it. In Python the evaluation context's ``ancestors``
walks up from the record's parent.
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from .functions import (
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
    value = require_literal(ancestor, "IS_UNDER", "the id of the record above")
    if not isinstance(value, str):
        fail(ancestor.node, "IS_UNDER expects the id of the record above as text", "IS_UNDER")
    return NodeInfo(T.BOOLEAN), [T.TEXT, T.TEXT]


def _eval_is_under(ev: Evaluation, call: ast.Call) -> bool:
    link: Any = call.args[0]
    parent = ev.value(link)
    if parent is None:
        return False
    above = literal(call.args[1])
    if parent == above:
        return True
    if ev.context.ancestors is None:
        fail(call, "IS_UNDER needs the records' hierarchy, which is not available here")
    chain = [parent, *ev.context.ancestors(link.path, parent)]
    return above in chain[:MAX_HIERARCHY_DEPTH]


def _sql_is_under(c: SqlCompiler, call: ast.Call, a: list[Sql]) -> ColumnElement[Any]:
    path = call.args[0].path  # type: ignore[attr-defined]
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


register(
    Function(
        "IS_UNDER",
        (T.TEXT, T.TEXT),
        T.BOOLEAN,
        check=_check_is_under,
        evaluate=_eval_is_under,
        pg=_sql_is_under,
        sqlite=_sql_is_under,
        doc="IS_UNDER(parent_lookup, 'id'): the record with that id is above the record "
        "in the hierarchy of the self-lookup (its parent, grandparent, ...); the record "
        "itself is not under itself; false when it has no parent",
    )
)
