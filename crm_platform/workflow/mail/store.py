"""The mail table (``sys_mail_message``): every message automation sends, as rendered.

A message is stored ``queued`` in the transaction of the change that sent it; its
``email`` run then marks it ``sent`` (delivered to the SMTP server), ``kept`` (no SMTP
configured: it stays here for an admin to read) or ``failed`` (with the reason).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection

from crm_platform.core.tables import mail_messages

QUEUED = "queued"
SENT = "sent"
KEPT = "kept"
FAILED = "failed"
STATUSES = (QUEUED, SENT, KEPT, FAILED)
DEFAULT_LIMIT = 50
MAX_LIMIT = 500

M = mail_messages.c


@dataclass(frozen=True)
class MailMessage:
    """One message, as an admin lists it."""

    id: str
    run_id: str | None
    status: str
    template: str
    source: str
    object: str | None
    record_id: str | None
    sender: str | None
    to: list[str]
    cc: list[str]
    subject: str
    body_text: str
    body_html: str | None
    message_id: str
    error: str | None
    created_at: datetime
    finished_at: datetime | None

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> MailMessage:
        values = {name: row[name] for name in cls.__dataclass_fields__ if name in row}
        values["to"] = list(row["to_addresses"])
        values["cc"] = list(row["cc_addresses"])
        return cls(**values)

    def as_json(self) -> dict[str, Any]:
        """The message as the API shows it (times in ISO 8601 with their offset)."""
        out: dict[str, Any] = {}
        for name in self.__dataclass_fields__:
            value = getattr(self, name)
            out[name] = value.isoformat() if isinstance(value, datetime) else value
        return out


@dataclass(frozen=True)
class NewMessage:
    """A rendered message, before it is stored."""

    id: str
    template: str
    source: str
    object: str
    record_id: str
    to: Sequence[str]
    cc: Sequence[str]
    subject: str
    body_text: str
    body_html: str | None
    message_id: str
    error: str | None  # why it cannot be sent (its run then fails at once)


def add(conn: Connection, message: NewMessage, run_id: str | None, now: datetime) -> None:
    """Store a message ``queued`` for its run, in the caller's transaction."""
    conn.execute(
        mail_messages.insert().values(
            id=message.id,
            run_id=run_id,
            status=QUEUED,
            template=message.template,
            source=message.source,
            object=message.object,
            record_id=message.record_id,
            to_addresses=list(message.to),
            cc_addresses=list(message.cc),
            subject=message.subject,
            body_text=message.body_text,
            body_html=message.body_html,
            message_id=message.message_id,
            error=message.error,
            created_at=now,
        )
    )


def get(conn: Connection, message_id: str) -> MailMessage | None:
    row = conn.execute(sa.select(mail_messages).where(M.id == message_id)).mappings().first()
    return MailMessage.from_row(row) if row else None


def finish(
    conn: Connection,
    message_id: str,
    status: str,
    now: datetime,
    *,
    sender: str | None = None,
    error: str | None = None,
) -> None:
    """Record how delivery ended (``error`` also notes recipients a server refused)."""
    conn.execute(
        mail_messages.update()
        .where(M.id == message_id)
        .values(status=status, finished_at=now, sender=sender, error=error)
    )


def note_error(conn: Connection, message_id: str, error: str) -> None:
    """Why the last attempt failed, while the message waits for the next one."""
    conn.execute(mail_messages.update().where(M.id == message_id).values(error=error))


def list_messages(
    conn: Connection,
    *,
    statuses: Sequence[str] = (),
    record_id: str | None = None,
    limit: int = DEFAULT_LIMIT,
    before: str | None = None,
) -> list[MailMessage]:
    """Messages, newest first (``before``: the id of the last one of the previous page)."""
    query = sa.select(mail_messages).order_by(M.id.desc()).limit(limit)
    if statuses:
        query = query.where(M.status.in_(statuses))
    if record_id is not None:
        query = query.where(M.record_id == record_id)
    if before is not None:
        query = query.where(M.id < before)
    return [MailMessage.from_row(row) for row in conn.execute(query).mappings()]
