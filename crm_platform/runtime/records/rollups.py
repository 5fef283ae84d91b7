"""Roll-up summaries kept current on every child write, set-based (one UPDATE per parent
object and link, setting every roll-up over that link)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection

from crm_platform.metadata import SIMPLE

from ..model import OrgModel, Rollup

MAX_CASCADE = 5
FilterCompiler = Callable[[Rollup, Any], Any]
# A per-metadata-version cache: (key, build) -> what build made for that key.
StatementCache = Callable[[tuple[Any, ...], Callable[[], Any]], Any]


def recompute(
    conn: Connection,
    model: OrgModel,
    child: str,
    parent_ids: dict[tuple[str, str], set[str]],
    compile_filter: FilterCompiler,
    cache: StatementCache,
    depth: int = 0,
) -> None:
    """Recompute the roll-ups over ``child`` for the given parents.

    ``parent_ids`` maps (parent object, link field on the child) to parent ids.
    Roll-ups of roll-ups (a grandparent summing a parent's roll-up) follow.
    """
    touched: dict[str, set[str]] = {}
    by_link: dict[tuple[str, str], list[Rollup]] = {}
    for rollup in model.rollups_over.get(child, ()):
        if parent_ids.get((rollup.parent, rollup.link)):
            by_link.setdefault((rollup.parent, rollup.link), []).append(rollup)
    for key, group in by_link.items():
        ids = parent_ids[key]
        statement = cache(
            ("rollup-update", child, *key),
            lambda group=group: _statement(model, group, compile_filter),
        )
        for chunk in _chunks(sorted(ids)):
            conn.execute(statement, {"ids": chunk})
        touched.setdefault(key[0], set()).update(ids)
    if depth >= MAX_CASCADE:
        return
    for parent, ids in touched.items():
        upward = parents_of(conn, model, parent, ids)
        if upward:
            recompute(conn, model, parent, upward, compile_filter, cache, depth + 1)


def _statement(model: OrgModel, group: list[Rollup], compile_filter):
    """One UPDATE of the parents ``:ids`` for every roll-up over the same link."""
    parent = model.objects[group[0].parent]
    values = {
        parent.fields[r.field].columns[SIMPLE].name: _summary(model, r, compile_filter)
        for r in group
    }
    ids = sa.bindparam("ids", expanding=True)
    return parent.table.update().where(parent.table.c.id.in_(ids)).values(values)


def _summary(model: OrgModel, rollup: Rollup, compile_filter):
    """The correlated subquery that computes one roll-up for the parent row."""
    parent = model.objects[rollup.parent]
    child = model.objects[rollup.child]
    ct = child.table
    link = ct.c[child.fields[rollup.link].columns[SIMPLE].name]
    conditions = [link == parent.table.c.id, ct.c.deleted_at.is_(None)]
    if rollup.filter:
        conditions.append(compile_filter(rollup, ct))
    if rollup.function == "count":
        value = sa.func.count()
    else:
        summarised = ct.c[child.fields[rollup.summarised].columns[SIMPLE].name]
        value = getattr(sa.func, rollup.function)(summarised)
    if rollup.function in {"count", "sum"}:
        value = sa.func.coalesce(value, 0)
    return sa.select(value).where(*conditions).scalar_subquery()


def parents_of(
    conn: Connection, model: OrgModel, child: str, child_ids: Iterable[str]
) -> dict[tuple[str, str], set[str]]:
    """The parents that roll up ``child`` records, by (parent object, link field)."""
    rollups = model.rollups_over.get(child, ())
    if not rollups:
        return {}
    obj = model.objects[child]
    links = {r.link for r in rollups}
    out: dict[tuple[str, str], set[str]] = {}
    ids = list(child_ids)
    for link in links:
        column = obj.table.c[obj.fields[link].columns[SIMPLE].name]
        found: set[str] = set()
        for chunk in _chunks(ids):
            found.update(
                r[0]
                for r in conn.execute(
                    sa.select(column).where(obj.table.c.id.in_(chunk), column.is_not(None))
                )
            )
        for rollup in rollups:
            if rollup.link == link and found:
                out.setdefault((rollup.parent, link), set()).update(found)
    return out


def _chunks(items: list[str], size: int = 500):
    for start in range(0, len(items), size):
        yield items[start : start + size]
