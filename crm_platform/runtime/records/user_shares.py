"""Criteria sharing rules that read a user's columns, kept current when the user changes.

A rule such as ``account_manager.role == 'key_accounts'`` or ``owner.active`` reads the
directory, not only the record: its share rows are computed when the record is written
or the rule changes (``security.shares``), so a change of the user would leave them stale.
When a user's public columns change, every criteria rule whose expression (or a formula it
uses) reaches one of those columns through a lookup to ``user`` or ``owner`` is re-evaluated
in SQL, for the records that point at that user: one DELETE and one INSERT ... SELECT per
rule, in the transaction that changed the user.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import sqlalchemy as sa
from sqlalchemy import Connection

from crm_platform.core.tables import USER_PUBLIC_COLUMNS, org, shares
from crm_platform.expressions import EvalContext, ValueType, parse
from crm_platform.fieldtypes import OWNER, split_step

from ..model import ObjectModel, OrgModel
from ..security.model import SharingRule
from .query import MAX_FORMULA_DEPTH, ExpressionCache, SelectBuilder
from .scope import ObjectScope

Path = tuple[str, ...]


def reshare_after_user_change(
    conn: Connection, model: OrgModel, user_id: str, changed: Iterable[str]
) -> None:
    """Re-evaluate the criteria rules that read one of the user's ``changed`` columns, for
    the records whose lookups (or owner) point at the user."""
    columns = set(changed) & set(USER_PUBLIC_COLUMNS)
    if not columns:
        return
    context: EvalContext | None = None
    for object_name, rules in model.security.sharing_rules.items():
        obj = model.object(object_name)
        if obj is None:
            continue
        for rule in rules:
            if not rule.criteria:
                continue
            links = sorted(set(user_links(model, obj, rule.criteria, columns)))
            if not links:
                continue
            if context is None:
                zone = conn.execute(sa.select(org.c.time_zone).where(org.c.id == 1)).scalar_one()
                context = EvalContext.current(
                    zone, fiscal_year_start_month=model.fiscal_year_start_month
                )
            _reshare(conn, model, obj, rule, links, user_id, context)


def user_links(model: OrgModel, obj: ObjectModel, source: str, columns: set[str]) -> Iterator[Path]:
    """The paths (from ``obj``) of the user references through which ``source`` reads one
    of ``columns``: ``("account_manager",)``, ``("account", "owner_id")``; formulas the
    expression uses are followed."""
    scope = ObjectScope(model, obj, "postgresql")
    yield from _links(model, scope, (), source, columns, 0)


def _links(
    model: OrgModel, scope: ObjectScope, prefix: Path, source: str, columns: set[str], depth: int
) -> Iterator[Path]:
    if depth > MAX_FORMULA_DEPTH:
        return
    for path in parse(source).field_paths:
        full = prefix + tuple(path)
        walked = scope.walk(full)
        if walked is None:
            continue
        if walked.user_column is not None:
            if walked.user_column in columns:
                yield _reference(full[:-1])
        elif walked.field is not None and walked.field.type == "formula" and walked.sub is None:
            expression = walked.field.definition["expression"]
            yield from _links(model, scope, full[:-1], expression, columns, depth + 1)


def _reference(prefix: Path) -> Path:
    """The stored reference a user step reads: ``owner`` reads ``owner_id``, a narrowed
    ``related_to[user]`` its id column (ids are unique across users and records)."""
    name, _narrowed = split_step(prefix[-1])
    if name == OWNER:
        return (*prefix[:-1], "owner_id")
    return (*prefix[:-1], name)


def _reshare(
    conn: Connection,
    model: OrgModel,
    obj: ObjectModel,
    rule: SharingRule,
    links: list[Path],
    user_id: str,
    context: EvalContext,
) -> None:
    builder = SelectBuilder(model, obj, context, conn.dialect.name, ExpressionCache())
    _checked, condition = builder.expression(rule.criteria or "", ValueType.BOOLEAN, "criteria")
    pointing = sa.or_(*(builder.column(link) == user_id for link in links))
    table = obj.table
    records = (
        sa.select(table.c.id)
        .select_from(builder.from_clause)
        .where(table.c.deleted_at.is_(None), pointing)
    )
    conn.execute(
        shares.delete().where(
            shares.c.object == obj.api_name,
            shares.c.reason == rule.reason,
            shares.c.record_id.in_(records.scalar_subquery()),
        )
    )
    matching = records.where(condition).with_only_columns(
        sa.literal(obj.api_name),
        table.c.id,
        sa.literal(rule.share_with),
        sa.literal(rule.access),
        sa.literal(rule.reason),
    )
    conn.execute(
        shares.insert().from_select(
            ["object", "record_id", "principal", "access", "reason"], matching
        )
    )
