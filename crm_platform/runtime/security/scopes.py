"""Record scopes: the records a user of another type than ``standard`` may reach at all.

A colleague's access is the org's sharing (owners, roles, shares, rules). A customer who
signs in to the portal (ADR 0046) is not part of that: what they reach is decided by a
*scope*, a condition in SQL on each object's table ("cases whose contact is me"), that
replaces sharing for them on every read path (lists, records, search, lookups, reports,
files, related lists): the one function ``access_clause`` asks it.

The runtime does not know what a portal shows: the layer that does (``crm_platform.portal``)
compiles a scope builder with every metadata version under ``scope_extension(user_type)``.
A user type with no builder sees nothing (fail closed).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from crm_platform.core.tables import STANDARD_USER

if TYPE_CHECKING:
    from ..model import ObjectModel, OrgModel
    from .access import UserAccess
    from .principals import Principal

# what such a user may hold, whatever their permission sets say: no setup, no "see all"
SCOPED_SYSTEM_PERMISSIONS = frozenset({"api_enabled"})


class RecordScope(Protocol):
    """The records of one object a scoped user may read, edit or fully control."""

    def clause(
        self, access: UserAccess, obj: ObjectModel, table: Any, mode: str
    ) -> ColumnElement[bool]:
        """A condition on ``table`` (never None: a scope always restricts)."""
        ...


class DenyAll:
    """The scope of a user type nothing defines: no record at all."""

    def clause(
        self, access: UserAccess, obj: ObjectModel, table: Any, mode: str
    ) -> ColumnElement[bool]:
        return sa.false()


DENY_ALL = DenyAll()


def scope_extension(user_type: str) -> str:
    """The name under which a layer compiles the scope builder of a user type."""
    return f"user_scope:{user_type}"


def scope_for(principal: Principal, model: OrgModel) -> RecordScope | None:
    """The scope of the principal's user type; None for a standard user (sharing applies)."""
    user_type = principal.user.user_type
    if user_type == STANDARD_USER:
        return None
    build = model.extensions.get(scope_extension(user_type))
    return DENY_ALL if build is None else build(principal)
