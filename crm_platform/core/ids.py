"""Record and principal ids: time-sortable UUIDv7 strings, one lowercase form."""

from __future__ import annotations

import uuid6

ID_LENGTH = 36


def new_id() -> str:
    """Return a new globally unique, time-sortable id (UUIDv7, lowercase, 36 chars)."""
    return str(uuid6.uuid7())
