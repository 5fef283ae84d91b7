"""API tokens: a random 256-bit secret with an id prefix, stored only as SHA-256."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection

from crm_platform.core import NotFound, utc_now
from crm_platform.core.tables import api_tokens

TOKEN_PREFIX = "crm"


@dataclass(frozen=True)
class TokenInfo:
    id: str
    user_id: str
    name: str
    created_at: datetime
    revoked_at: datetime | None


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_token(conn: Connection, user_id: str, name: str = "API token") -> str:
    """Create a token for the user and return it; only its hash is kept."""
    token_id = secrets.token_hex(8)
    secret = secrets.token_urlsafe(32)  # 256 bits
    conn.execute(
        api_tokens.insert().values(
            id=token_id,
            user_id=user_id,
            name=name,
            secret_hash=_digest(secret),
            created_at=utc_now(),
        )
    )
    return f"{TOKEN_PREFIX}_{token_id}_{secret}"


def parse_token(token: str) -> tuple[str, str] | None:
    """A presented token's id and secret, or None when it is not shaped like one."""
    parts = token.split("_", 2)
    if len(parts) != 3 or parts[0] != TOKEN_PREFIX:
        return None
    return parts[1], parts[2]


def token_accepts(row: Mapping[str, Any], secret: str) -> bool:
    """Whether a token row (secret_hash, revoked_at, expires_at) accepts the secret."""
    if row["revoked_at"] is not None:
        return False
    if row["expires_at"] is not None and row["expires_at"] <= utc_now():
        return False
    return hmac.compare_digest(row["secret_hash"], _digest(secret))


def resolve_token(conn: Connection, token: str) -> str | None:
    """The user id a presented token belongs to, or None if unknown, revoked or tampered."""
    parsed = parse_token(token)
    if parsed is None:
        return None
    token_id, secret = parsed
    row = conn.execute(sa.select(api_tokens).where(api_tokens.c.id == token_id)).mappings().first()
    if row is None or not token_accepts(row, secret):
        return None
    return row["user_id"]


def list_tokens(conn: Connection, user_id: str) -> list[TokenInfo]:
    rows = conn.execute(
        sa.select(api_tokens)
        .where(api_tokens.c.user_id == user_id)
        .order_by(api_tokens.c.created_at)
    ).mappings()
    return [
        TokenInfo(r["id"], r["user_id"], r["name"], r["created_at"], r["revoked_at"]) for r in rows
    ]


def revoke_token(conn: Connection, token_id: str, user_id: str | None = None) -> None:
    query = api_tokens.update().where(
        api_tokens.c.id == token_id, api_tokens.c.revoked_at.is_(None)
    )
    if user_id is not None:
        query = query.where(api_tokens.c.user_id == user_id)
    if conn.execute(query.values(revoked_at=utc_now())).rowcount == 0:
        raise NotFound(f"no active token '{token_id}'")


def revoke_user_tokens(conn: Connection, user_id: str) -> int:
    """Revoke every active token of a user (on deactivation: reactivating the user later
    does not bring these tokens back). The number revoked."""
    return conn.execute(
        api_tokens.update()
        .where(api_tokens.c.user_id == user_id, api_tokens.c.revoked_at.is_(None))
        .values(revoked_at=utc_now())
    ).rowcount
