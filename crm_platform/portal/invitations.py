"""Inviting contacts to the portal, accepting an invitation, and the portal's one setting.

An admin invites a contact (by id or email): the contact becomes a portal user (a user of
type ``portal`` holding the ``portal_customer`` permission set, tied to the contact) and
gets a one-time link valid for a week. Opening it sets their password; only then can they
sign in at ``/portal/login``. Inviting the same contact again replaces the link. The token
is stored as SHA-256, like API tokens: the link is shown once (ADR 0046).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection

from crm_platform.core import Conflict, NotFound, ValidationFailed, new_id, utc_now
from crm_platform.core.tables import PORTAL_USER, org, users
from crm_platform.runtime import Org, User, create_user, end_sessions
from crm_platform.runtime.passwords import hash_password, password_problem
from crm_platform.runtime.records import ListRequest

from .scope import SHARINGS
from .tables import invitations

PORTAL_PERMISSION_SET = "portal_customer"  # shipped by the service pack
INVITATION_DAYS = 7
_EMAIL = re.compile(r"^[^\s'\"\\@]+@[^\s'\"\\@]+$")


@dataclass(frozen=True)
class Invitation:
    """An invitation just made: the token is known only now (the link shows it once)."""

    user_id: str
    email: str
    contact_id: str
    token: str
    expires_at: datetime
    new_user: bool

    @property
    def path(self) -> str:
        """Where the invited customer sets their password."""
        return f"/portal/invitation/{self.token}"

    def as_json(self) -> dict[str, Any]:
        return {
            "user_id": self.user_id,
            "email": self.email,
            "contact_id": self.contact_id,
            "token": self.token,
            "path": self.path,
            "expires_at": self.expires_at.isoformat(),
            "new_user": self.new_user,
        }


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _find_contact(session: Any, reference: str) -> dict[str, Any]:
    """The contact a reference names (id or email), read as the inviting admin."""
    reference = reference.strip()
    if not reference or len(reference) > 254:
        raise ValidationFailed({"contact": "give a contact id or email"})
    if "@" in reference:
        if not _EMAIL.match(reference):
            raise ValidationFailed({"contact": "not an email address"})
        where = f"email == '{reference.lower()}'"
        found = session.list("contact", ListRequest(where=where, limit=2)).records
        if len(found) != 1:
            detail = "no contact has" if not found else "more than one contact has"
            raise NotFound(f"{detail} the email {reference}")
        return found[0]
    return session.get("contact", reference)


def invite_contact(org_: Org, admin: User, reference: str) -> Invitation:
    """Make the contact a portal user (or re-invite them) and return the one-time link.

    Refused: an unknown contact (404), one without an email (400), an email that is a
    colleague's login (409), a portal without the service pack's permission set (400)."""
    now = org_.clock()
    with org_.records.session(admin) as session:
        session.require(session.object("contact"), "read")
        if PORTAL_PERMISSION_SET not in session.model.security.permission_sets:
            raise ValidationFailed(
                {"portal": f"install the service pack first (it ships {PORTAL_PERMISSION_SET})"}
            )
        contact = _find_contact(session, reference)
        email = (contact.get("email") or "").strip().lower()
        if not email:
            raise ValidationFailed({"contact": "the contact has no email to sign in with"})
        conn = session.conn
        user_id, new_user = _portal_user(conn, contact, email)
        token = secrets.token_urlsafe(32)
        expires = now + timedelta(days=INVITATION_DAYS)
        conn.execute(  # an older link stops working
            invitations.delete().where(
                invitations.c.user_id == user_id, invitations.c.used_at.is_(None)
            )
        )
        conn.execute(
            invitations.insert().values(
                id=new_id(),
                user_id=user_id,
                token_hash=_digest(token),
                created_by=admin.id,
                created_at=now,
                expires_at=expires,
            )
        )
    return Invitation(user_id, email, contact["id"], token, expires, new_user)


def _portal_user(conn: Connection, contact: dict[str, Any], email: str) -> tuple[str, bool]:
    row = conn.execute(
        sa.select(users.c.id, users.c.user_type, users.c.contact_id).where(users.c.email == email)
    ).first()
    if row is None:
        name = contact.get("name") or email
        user = create_user(
            conn,
            email=email,
            name=name,
            profile=PORTAL_PERMISSION_SET,
            user_type=PORTAL_USER,
            contact_id=contact["id"],
        )
        return user.id, True
    if row.user_type != PORTAL_USER:
        raise Conflict(f"{email} is the login of a colleague, not a customer")
    if row.contact_id != contact["id"]:
        raise Conflict(f"{email} is the portal login of another contact")
    conn.execute(
        users.update().where(users.c.id == row.id).values(active=True, updated_at=utc_now())
    )
    return row.id, False


def invitation_user(conn: Connection, token: str, now: datetime) -> dict[str, Any] | None:
    """The portal user an open invitation is for (id, email, name), or None."""
    row = conn.execute(
        sa.select(users.c.id, users.c.email, users.c.name)
        .select_from(invitations.join(users, users.c.id == invitations.c.user_id))
        .where(
            invitations.c.token_hash == _digest(token),
            invitations.c.used_at.is_(None),
            invitations.c.expires_at > now,
            users.c.user_type == PORTAL_USER,
            users.c.active.is_(True),
        )
    ).first()
    return None if row is None else dict(row._mapping)


def accept_invitation(conn: Connection, token: str, password: str, now: datetime) -> str:
    """Set the invited user's password (the link then stops working); their id.
    404 for an unknown, used or expired link; 400 for a weak password."""
    found = invitation_user(conn, token, now)
    if found is None:
        raise NotFound("this invitation link is unknown, used or expired")
    if problem := password_problem(password):
        raise ValidationFailed({"password": problem})
    conn.execute(
        users.update()
        .where(users.c.id == found["id"])
        .values(password_hash=hash_password(password), updated_at=now)
    )
    conn.execute(
        invitations.update().where(invitations.c.token_hash == _digest(token)).values(used_at=now)
    )
    end_sessions(conn, found["id"])  # a session opened before the new password ends
    return found["id"]


# --- the org's setting -------------------------------------------------------------------
def portal_sharing(conn: Connection) -> str:
    """What portal users see: ``contact`` (their own cases) or ``account`` (their account's)."""
    return conn.execute(sa.select(org.c.portal_sharing).limit(1)).scalar() or SHARINGS[0]


def set_portal_sharing(conn: Connection, value: Any) -> str:
    """Change the setting (400 for anything but ``contact`` or ``account``)."""
    if value not in SHARINGS:
        raise ValidationFailed({"sharing": f"must be one of {', '.join(SHARINGS)}"})
    conn.execute(org.update().values(portal_sharing=value))
    return value
