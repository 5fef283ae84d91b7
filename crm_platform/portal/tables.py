"""The portal's platform table: invitations (a hashed one-time token per invited contact).

Its DDL is the Alembic script ``0018_portal_users`` (with the user type on ``sys_user``).
"""

from __future__ import annotations

import sqlalchemy as sa

from crm_platform.core.ids import ID_LENGTH
from crm_platform.core.types import UTCDateTime

portal_metadata = sa.MetaData()

invitations = sa.Table(
    "sys_portal_invitation",
    portal_metadata,
    sa.Column("id", sa.String(ID_LENGTH), primary_key=True),
    sa.Column("user_id", sa.String(ID_LENGTH), nullable=False, index=True),
    # SHA-256 of the token: the link is shown once, never stored
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("created_by", sa.String(ID_LENGTH), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("expires_at", UTCDateTime, nullable=False),
    sa.Column("used_at", UTCDateTime),
)
