"""The Email-to-case user: who writes what arrives at the inbound addresses.

A user of its own, not the system user: the system user may not own records, and the
messages and attachments it keeps need an owner; and its rights are an ordinary
permission set (the service pack's ``email_to_case``), so the record service checks
them as for anyone, and an admin sees and may narrow them. It has no password and no
``api_enabled``: nobody signs in as it. It is created at the first message.
"""

from __future__ import annotations

from sqlalchemy import Connection

from crm_platform.core import Conflict
from crm_platform.runtime import User, create_user, find_user

EMAIL = "email-to-case@mail-in.invalid"
NAME = "Email-to-case"
PROFILE = "email_to_case"


def mailin_user(conn: Connection) -> User:
    """The Email-to-case user, created on first use (in ``conn``'s write transaction)."""
    found = find_user(conn, EMAIL)
    if found is not None:
        return found
    try:
        with conn.begin_nested():
            return create_user(conn, email=EMAIL, name=NAME, profile=PROFILE)
    except Conflict:  # another delivery created it meanwhile
        found = find_user(conn, EMAIL)
        assert found is not None
        return found
