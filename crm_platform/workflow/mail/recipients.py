"""Who a ``send_email`` action writes to, and what each recipient may read of the record.

``to`` and ``cc`` are expressions of the record's object (one, or a list): each gives
an email address (``'ops@example.com'``, a text field) or a user's id (a lookup to
``user``, ``owner_id``); ``owner`` and ``owner.email`` name the record's owner. An address
that belongs to an active user is that user.

The message is rendered once for all its recipients, with the merge fields every one
of them may read — :meth:`UserAccess.field_readable` decides, through each step of a
dotted path, and sharing decides which records (the message's record, a lookup's
parent) they see, because the values are read through the record service as each of
them. An address of no user is rendered as the person whose change sent it could
read it (for the system's own changes: the record's owner); with no one to read as,
every merge field is left empty.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from email.utils import parseaddr
from typing import TYPE_CHECKING, Any, Protocol

import sqlalchemy as sa

from crm_platform.core import CrmError
from crm_platform.core.tables import USER_PUBLIC_COLUMNS, users
from crm_platform.runtime import User, find_user, get_user

from .templates import OWNER, CompiledTemplate, Path

if TYPE_CHECKING:
    from crm_platform.runtime.security import UserAccess

    from ..actions import ActionContext

OWNER_RECIPIENT = re.compile(r"\s*owner(?:\.(email|id))?\s*")
ADDRESS = re.compile(r"[^@\s,;<>\"']+@[^@\s,;<>\"']+")


@dataclass(frozen=True)
class Recipient:
    address: str
    user: User | None  # the active user the address belongs to


def as_list(value: str | Sequence[str] | None) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def is_owner_source(source: str) -> bool:
    """``owner``, ``owner.email`` or ``owner.id``: the record's owner."""
    return OWNER_RECIPIENT.fullmatch(source) is not None


def resolve(ctx: ActionContext, sources: Iterable[str]) -> list[Recipient]:
    """The recipients the expressions give, each address once (empty values skipped)."""
    found: list[Recipient] = []
    for source in sources:
        value = ctx.values.get("owner_id") if is_owner_source(source) else ctx.evaluate(source)
        recipient = _recipient(ctx, value)
        if recipient is not None and all(r.address != recipient.address for r in found):
            found.append(recipient)
    return found


def _recipient(ctx: ActionContext, value: Any) -> Recipient | None:
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    if "@" in text:
        address = parseaddr(text)[1].strip().lower()
        if not ADDRESS.fullmatch(address):
            return None
        user = find_user(ctx.conn, address)
        return Recipient(address, user if user and user.active and not user.is_system else None)
    user = get_user(ctx.conn, text)
    if user is None or not user.active or user.is_system or not user.email:
        return None
    return Recipient(user.email.lower(), user)


class ReadingSession(Protocol):
    """A record session of one user on the action's transaction (the record service)."""

    access: UserAccess

    def get(self, object_name: str, record_id: str, fields: Any = None) -> dict[str, Any]: ...


def readers(ctx: ActionContext, recipients: Sequence[Recipient]) -> list[User]:
    """Whose reading rights the message is rendered with (see the module's docstring)."""
    found = {r.user.id: r.user for r in recipients if r.user is not None}
    if any(r.user is None for r in recipients):
        sender = _sender(ctx)
        if sender is None:
            return []  # an outside address and no one to read as: nothing is merged
        found.setdefault(sender.id, sender)
    return list(found.values())


def _sender(ctx: ActionContext) -> User | None:
    """Whose change sent the message; for the system's own changes, the record's owner
    (None when that is a queue or an inactive user)."""
    if not ctx.user.is_system:
        return ctx.user
    owner = get_user(ctx.conn, str(ctx.values.get("owner_id") or ""))
    return owner if owner is not None and owner.active else None


def merge_values(
    ctx: ActionContext, template: CompiledTemplate, users: Sequence[User]
) -> dict[Path, Any]:
    """The merge fields every one of ``users`` may read, with their values (a field one
    of them may not read, or sees empty because a record is hidden, is left out)."""
    if not users or not template.paths:
        return {}
    merged: dict[Path, Any] | None = None
    for user in users:
        seen = _read_as(ctx, template, user)
        if merged is None:
            merged = seen
        else:
            merged = {p: v for p, v in merged.items() if p in seen and seen[p] == v}
    return merged or {}


def _read_as(ctx: ActionContext, template: CompiledTemplate, user: User) -> dict[Path, Any]:
    session: ReadingSession = ctx.system.as_user(user)  # type: ignore[attr-defined]
    obj = ctx.object.api_name
    access = session.access
    fields = [p for p in template.paths if p[0] != OWNER and access.path_readable(obj, p)]
    owner_paths = [p for p in template.paths if p[0] == OWNER and access.can(obj, "read")]
    try:
        record = session.get(obj, ctx.record_id, [".".join(p) for p in fields] or ["id"])
    except CrmError:  # a record this user cannot see: nothing of it is merged
        return {}
    values: dict[Path, Any] = {p: record.get(".".join(p)) for p in fields}
    if owner_paths:
        owner = _owner_columns(ctx, record.get("owner_id"))
        values.update({p: owner.get(p[1]) for p in owner_paths})
    return values


def _owner_columns(ctx: ActionContext, owner_id: Any) -> Mapping[str, Any]:
    """The owner's public columns (empty when the owner is a queue)."""
    if not isinstance(owner_id, str):
        return {}
    row = (
        ctx.conn.execute(
            sa.select(*(users.c[c] for c in USER_PUBLIC_COLUMNS)).where(users.c.id == owner_id)
        )
        .mappings()
        .first()
    )
    return dict(row) if row is not None else {}
