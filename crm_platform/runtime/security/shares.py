"""Share rows: manual shares on a record, and those criteria-based sharing rules keep.

Criteria rules are materialised: when a record is written its rows are
recomputed (in Python, on the values just saved); when a rule changes, its rows
are rebuilt for the whole object in one INSERT ... SELECT with the criteria
compiled to SQL. Owner-based rules need no rows: they apply at query time.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy import Connection

from crm_platform.core import ValidationFailed
from crm_platform.core.tables import shares

from .model import SecurityModel, SharingRule

if TYPE_CHECKING:
    from ..model import ObjectModel

MANUAL = "manual"
PRINCIPAL_KINDS = ("user", "group", "role", "role_and_subordinates")


def refresh_rule_shares(
    conn: Connection,
    security: SecurityModel,
    obj: ObjectModel,
    record_ids: Sequence[str],
    matches: Callable[[str, SharingRule], bool],
    *,
    new: bool = False,
) -> None:
    """Recompute these records' rows for the object's criteria rules, set-based: their
    old rows go in one DELETE per 500 records (none for ``new`` records, which have none)
    and the rows of the rules each record now ``matches`` come in one INSERT."""
    rules = [r for r in security.sharing_rules.get(obj.api_name, ()) if r.criteria]
    if not rules or not record_ids:
        return
    if not new:
        reasons = [rule.reason for rule in rules]
        for start in range(0, len(record_ids), 500):
            conn.execute(
                shares.delete().where(
                    shares.c.object == obj.api_name,
                    shares.c.record_id.in_(list(record_ids[start : start + 500])),
                    shares.c.reason.in_(reasons),
                )
            )
    rows = [
        {
            "object": obj.api_name,
            "record_id": record_id,
            "principal": rule.share_with,
            "access": rule.access,
            "reason": rule.reason,
        }
        for record_id in record_ids
        for rule in rules
        if matches(record_id, rule)
    ]
    if rows:
        conn.execute(shares.insert(), rows)


def rebuild_rule(
    conn: Connection, object_name: str, rule_name: str, obj: ObjectModel | None, rule, matching
):
    """Replace every row of one rule: ``matching`` is a SELECT of the ids that meet it."""
    conn.execute(
        shares.delete().where(
            shares.c.object == object_name, shares.c.reason == f"rule:{rule_name}"
        )
    )
    if rule is None or obj is None or matching is None:
        return
    select = sa.select(
        sa.literal(obj.api_name),
        matching.c.id,
        sa.literal(rule.share_with),
        sa.literal(rule.access),
        sa.literal(rule.reason),
    )
    conn.execute(
        shares.insert().from_select(
            ["object", "record_id", "principal", "access", "reason"], select
        )
    )


def principal_key(security: SecurityModel, spec: Mapping[str, Any], user_exists) -> str:
    """The share-row key of ``{user: id}``, ``{group: name}``, ``{role: name}`` or
    ``{role_and_subordinates: name}``."""
    kinds = [k for k in PRINCIPAL_KINDS if k in spec]
    if len(kinds) != 1:
        raise ValidationFailed(
            {"principal": "name one of user, group, role, role_and_subordinates"}
        )
    kind = kinds[0]
    value = spec[kind]
    if not isinstance(value, str):
        raise ValidationFailed({kind: "must be text"})
    if kind == "user":
        if not user_exists(value):
            raise ValidationFailed({"user": "no active user with this id"})
        return value
    key = security.principal_key(kind, value)
    if key is None:
        raise ValidationFailed({kind: f"no {kind.split('_')[0]} '{value}'"})
    return key


def describe_principal(security: SecurityModel, key: str) -> dict[str, str]:
    """The API's view of a share-row key."""
    prefix, _, ident = key.partition(":")
    if not ident:
        return {"user": key}
    if prefix == "group":
        name = next((n for n, gid in security.groups.items() if gid == ident), ident)
        return {"group": name}
    name = next((r.name for r in security.roles.values() if r.id == ident), ident)
    return {"role" if prefix == "role" else "role_and_subordinates": name}
