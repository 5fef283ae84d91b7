"""What a portal user reaches, as SQL: the scope that replaces sharing for them (ADR 0046).

A portal user is a contact. With the org's ``portal_sharing`` at ``contact`` they reach
their own contact and account, the cases whose contact they are, those cases' comments
that are not internal, and published knowledge articles; at ``account`` also every
contact and case of their account. Nothing else: any other object answers ``false``.
They never edit records and never have full access (sharing onward, giving away).

The conditions are built per metadata version from the service pack's objects (a portal
without them reaches only the contact and account), and applied by ``access_clause`` on
every read path: lists, records, related lists, search, lookups, reports and files.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from crm_platform.metadata import SIMPLE, Snapshot
from crm_platform.runtime.model import ObjectModel, OrgModel

if TYPE_CHECKING:
    from crm_platform.runtime.security import Principal, UserAccess

ACCOUNT_SHARING = "account"
SHARINGS = ("contact", ACCOUNT_SHARING)
PUBLISHED = "Published"


def _column(obj: ObjectModel | None, table: Any, field_name: str) -> Any | None:
    """The column of a simple field on ``table`` (an object table or an alias of it)."""
    if obj is None or field_name not in obj.fields:
        return None
    return table.c[obj.fields[field_name].columns[SIMPLE].name]


@dataclass(frozen=True)
class PortalRules:
    """The portal's view of one metadata version; called with a principal, its scope."""

    model: OrgModel

    def __call__(self, principal: Principal) -> PortalScope:
        return PortalScope(self.model, principal.contact_id, principal.portal_sharing)


def compile_rules(snapshot: Snapshot, model: OrgModel) -> PortalRules:
    """The compiled part kept per metadata version (``model.extensions``)."""
    return PortalRules(model)


@dataclass(frozen=True)
class PortalScope:
    """The records one portal user reaches (a ``RecordScope``)."""

    model: OrgModel
    contact_id: str | None
    sharing: str

    def clause(
        self, access: UserAccess, obj: ObjectModel, table: Any, mode: str
    ) -> ColumnElement[bool]:
        """Read: the condition of the object's rule; edit and full access: never."""
        rule = RULES.get(obj.api_name)
        if mode != "read" or self.contact_id is None or rule is None:
            return sa.false()
        condition = rule(self, obj, table)
        return sa.false() if condition is None else condition.self_group()

    # --- the customer -------------------------------------------------------------------
    @property
    def by_account(self) -> bool:
        return self.sharing == ACCOUNT_SHARING

    def my_account(self) -> Any | None:
        """The account of the user's contact, as a scalar subquery (None without one)."""
        contact = self.model.object("contact")
        if contact is None or "account" not in contact.fields:
            return None
        inner = contact.table.alias("portal_me")
        return (
            sa.select(_column(contact, inner, "account"))
            .where(inner.c.id == self.contact_id, inner.c.deleted_at.is_(None))
            .scalar_subquery()
        )

    def tied(self, obj: ObjectModel, table: Any) -> ColumnElement[bool] | None:
        """Rows whose ``contact`` is me or (by account) whose ``account`` is my account."""
        contact = _column(obj, table, "contact")
        account = _column(obj, table, "account")
        conditions = [] if contact is None else [contact == self.contact_id]
        mine = self.my_account()
        if self.by_account and account is not None and mine is not None:
            conditions.append(account == mine)
        return sa.or_(*conditions) if conditions else None


def _contact_rule(scope: PortalScope, obj: ObjectModel, table: Any):
    me = table.c.id == scope.contact_id
    account = _column(obj, table, "account")
    mine = scope.my_account()
    if scope.by_account and account is not None and mine is not None:
        return sa.or_(me, account == mine)
    return me


def _account_rule(scope: PortalScope, obj: ObjectModel, table: Any):
    mine = scope.my_account()
    return None if mine is None else table.c.id == mine


def _case_rule(scope: PortalScope, obj: ObjectModel, table: Any):
    return scope.tied(obj, table)


def _comment_rule(scope: PortalScope, obj: ObjectModel, table: Any):
    """A comment that is not internal, on a case the user reaches."""
    case = scope.model.object("case")
    link = _column(obj, table, "case")
    internal = _column(obj, table, "internal")
    if case is None or link is None or internal is None:
        return None
    inner = case.table.alias("portal_case")
    case_tied = scope.tied(case, inner)
    if case_tied is None:
        return None
    cases = sa.select(inner.c.id).where(inner.c.deleted_at.is_(None), case_tied).correlate(None)
    return sa.and_(internal.is_(False), link.in_(cases))


def _article_rule(scope: PortalScope, obj: ObjectModel, table: Any):
    status = _column(obj, table, "status")
    return None if status is None else status == PUBLISHED


RULES: dict[str, Callable[[PortalScope, ObjectModel, Any], Any]] = {
    "contact": _contact_rule,
    "account": _account_rule,
    "case": _case_rule,
    "case_comment": _comment_rule,
    "knowledge_article": _article_rule,
}
