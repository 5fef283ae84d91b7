"""Record access compiled into SQL: index-friendly conditions, never a filter in Python.

For a private object a user sees a record when it is owned by them or one of
their queues, by a user in a role below theirs, by someone an owner-based sharing
rule opens to them, or when a share row (manual or from a criteria rule) names
one of their principals. ``controlled_by_parent`` follows the master record.

Both databases get the row form of that condition: a check of each candidate row
(its owner against the small set of visible owners, its id against the set of ids
shared with me, each set one uncorrelated subquery the planner hashes once), so a
sorted page of 50 costs about what the same page costs a user who sees everything.
The set form ``id IN (owned UNION shared)``, which PostgreSQL used until 2026-12,
hashed every visible id per statement and ran 1.5-3x slower for anyone who sees much
(ADR 0006, amendment of 2026-12-02, with the measurements). A ``controlled_by_parent``
object still compiles per dialect (:class:`PerDialect`): the master's visible ids as a
set on PostgreSQL, a correlated EXISTS on SQLite.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.visitors import InternalTraversal

from crm_platform.core.tables import group_members, shares, users
from crm_platform.metadata import SIMPLE

from .access import UserAccess

if TYPE_CHECKING:
    from ..model import ObjectModel

MAX_PARENT_DEPTH = 5
MAX_CACHED_CLAUSES = 2_000  # visibility clauses kept per metadata version


def access_clause(
    access: UserAccess, obj: ObjectModel, table: Any, mode: str = "read", depth: int = 0
) -> ColumnElement[bool] | None:
    """A condition on ``table`` (an object table or alias) for records the user may
    read (``mode="read"``), edit (``mode="edit"``) or fully control (``mode="full"``:
    share onward and give away); None when no condition is needed.

    Full access comes only from ownership (the user or one of their queues), the role
    hierarchy (an owner in a role below theirs) and ``modify_all``: never from a share,
    a sharing rule or an object's public sharing.

    A portal user's scope (ADR 0046) replaces all of that: its condition, always.
    """
    if access.scope is not None:
        return access.scope.clause(access, obj, table, mode)
    if mode == "read" and access.sees_all(obj.api_name):
        return None
    if mode in {"edit", "full"} and access.edits_all(obj.api_name):
        return None
    if (
        table is not obj.table
        or obj.sharing == "controlled_by_parent"  # depends on the grants on its master
        or access.security is not access.model.security
    ):
        return _access_clause(access, obj, table, mode, depth)
    # On the object's own table the clause depends on the version (sharing settings and
    # rules, the table) and on the reader's principals, owners and subordinate roles:
    # built once per such reader and version, and the same object each time, so the
    # statements around it keep their SQLAlchemy cache keys.
    key = (obj.api_name, mode, access.principals, access.owner_ids, access.subordinate_roles)
    cache = access.model.runtime_cache.setdefault("visibility", {})
    found = cache.get(key)
    if found is None:
        if len(cache) > MAX_CACHED_CLAUSES:
            cache.clear()
        found = cache[key] = (_access_clause(access, obj, table, mode, depth),)
    return found[0]


def _access_clause(
    access: UserAccess, obj: ObjectModel, table: Any, mode: str, depth: int
) -> ColumnElement[bool] | None:
    sharing = obj.sharing
    if sharing == "controlled_by_parent":
        return _through_master(access, obj, table, mode, depth)
    if mode == "full":
        return _owner_condition(access, obj, mode, table).self_group()
    if sharing == "public_read_write" or (sharing == "public_read" and mode == "read"):
        return None
    principals = sorted(access.principals)
    share = [shares.c.object == obj.api_name, shares.c.principal.in_(principals)]
    if mode == "edit":
        share.append(shares.c.access == "edit")
    # The row form, on both databases: the owner of the row at hand against the owners
    # visible to me (me, my queues, users in roles below mine, owners opened by
    # owner-based rules), or its id among those a share row names for one of my
    # principals. Grouped: it is an OR inside an AND. The shared ids are one uncorrelated
    # set, hashed once (a correlated EXISTS probe per row measured slower, and an
    # ``= ANY(ARRAY(...))`` of them degrades to a linear search per row on PostgreSQL:
    # ADR 0006, 2026-12-02).
    shared = sa.select(shares.c.record_id).where(*share).correlate(None)
    return sa.or_(
        _owner_condition(access, obj, mode, table),
        table.c.id.in_(shared),
    ).self_group()


class PerDialect(ColumnElement[bool]):
    """A condition written two equivalent ways: SQLite compiles ``row_form``, other
    databases ``set_form`` (used for ``controlled_by_parent``, see the module docstring)."""

    inherit_cache = True
    type = sa.Boolean()
    _is_implicitly_boolean = True  # a predicate already: never rendered as "... = 1"
    _traverse_internals = [
        ("set_form", InternalTraversal.dp_clauseelement),
        ("row_form", InternalTraversal.dp_clauseelement),
    ]

    def __init__(self, set_form: ColumnElement[bool], row_form: ColumnElement[bool]) -> None:
        self.set_form = set_form
        self.row_form = row_form

    @property
    def _from_objects(self) -> list[Any]:
        return self.set_form._from_objects


@compiles(PerDialect)
def _compile_set_form(element: PerDialect, compiler: Any, **kw: Any) -> str:
    return compiler.process(element.set_form, **kw)


@compiles(PerDialect, "sqlite")
def _compile_row_form(element: PerDialect, compiler: Any, **kw: Any) -> str:
    return compiler.process(element.row_form, **kw)


def _owner_condition(access: UserAccess, obj: ObjectModel, mode: str, t: Any):
    conditions = [t.c.owner_id.in_(sorted(access.owner_ids))]
    owner_sets: list[Any] = []
    owners_below = sorted(access.subordinate_roles)
    if owners_below:
        owner_sets.append(sa.select(users.c.id).where(users.c.role.in_(owners_below)))
    for rule in access.security.sharing_rules.get(obj.api_name, ()):
        if mode == "full":
            break  # a rule shares read or edit, never full access
        if rule.owned_by is None or rule.share_with not in access.principals:
            continue
        if mode == "edit" and rule.access != "edit":
            continue
        owner_sets.append(_owners(access, *rule.owned_by))
    if owner_sets:
        union = sa.union(*owner_sets) if len(owner_sets) > 1 else owner_sets[0]
        conditions.append(t.c.owner_id.in_(union))
    return sa.or_(*conditions)


def _owners(access: UserAccess, kind: str, name: str):
    """The users a role, role and subordinates, or group stands for."""
    if kind == "group":
        return sa.select(group_members.c.user_id).where(group_members.c.group_name == name)
    roles = {name} if kind == "role" else {name} | access.security.subordinates(name)
    return sa.select(users.c.id).where(users.c.role.in_(sorted(roles)))


def _through_master(access: UserAccess, obj: ObjectModel, table: Any, mode: str, depth: int):
    master = next((f for f in obj.fields.values() if f.type == "master_detail"), None)
    if master is None or depth >= MAX_PARENT_DEPTH:
        return sa.false()
    parent = access.model.object(master.definition["target"])
    if parent is None:
        return sa.false()
    inner = parent.table.alias(f"m{depth}")
    parent_clause = access_clause(access, parent, inner, mode, depth + 1)
    link = table.c[master.columns[SIMPLE].name]
    alive = inner.c.deleted_at.is_(None)
    if parent_clause is None and not access.can(parent.api_name, "read"):
        return sa.false()
    parent_visible = [] if parent_clause is None else [parent_clause]
    set_form = link.in_(sa.select(inner.c.id).where(alive, *parent_visible).correlate(None))
    row_form = sa.exists().where(inner.c.id == link, alive, *parent_visible)
    return PerDialect(set_form, row_form)
