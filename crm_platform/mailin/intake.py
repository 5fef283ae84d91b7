"""Email-to-case: one received message becomes a case, or is added to the case it
answers, in one transaction through the record service (ADR 0045).

The Email-to-case user writes (see :mod:`.actor`), with its permission set's rights: a
case lands in the inbound address's queue, and the case's assignment rule may route it
on. The message is kept as an ``email_message`` of the case, its attachments as
``email_attachment`` records holding files in the platform's file storage.

A message threads onto a case when its subject carries the case's token
(``[ref:<case id>]``, which the auto-reply's subject carries) or when its
``In-Reply-To`` or ``References`` names a message of the case. A message whose
``Message-ID`` is stored already (a mail server delivering twice) changes nothing.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from crm_platform.core import CrmError, NotFound, ValidationFailed, new_id
from crm_platform.runtime import Org
from crm_platform.runtime.records import ListRequest, RecordSession
from crm_platform.ui import files_of
from crm_platform.ui.file_storage import receive

from .actor import mailin_user
from .kind import ATTACHMENT, CASE, MESSAGE, InboundAddress, mailin_model
from .parse import Incoming, parse_message

TOKEN = re.compile(r"\[ref:([0-9A-Za-z-]{8,64})\]")
DEFAULT_CHANNEL = "Email"
CREATED, THREADED, DUPLICATE = "created", "threaded", "duplicate"
MAX_FILTER = 3_000  # characters of Message-IDs in one filter (expressions: at most 4,000)


class UnknownAddress(CrmError):
    """None of the message's recipients is a configured inbound address."""


@dataclass(frozen=True)
class Delivered:
    """What became of a message."""

    outcome: str  # created | threaded | duplicate
    case_id: str
    message_id: str  # the email_message record
    address: str  # the inbound address it came to
    auto_reply: str | None = None  # the id of the auto-reply sent (sys_mail_message)
    no_reply_because: str | None = None


def token_of(case_id: str) -> str:
    """The thread token a subject carries to name a case."""
    return f"[ref:{case_id}]"


def deliver(org: Org, raw: bytes, recipients: Sequence[str] = ()) -> Delivered:
    """Take one RFC 822 message for ``recipients`` (the envelope's; the message's own
    headers when none are given). Raises :class:`UnknownAddress` when none is configured,
    :class:`~.parse.Unreadable` for a message with no sender."""
    incoming = parse_message(raw)
    with org.db.write() as conn:
        user = mailin_user(conn)
    with org.records.session(user) as session:
        address = _address(session, incoming, recipients)
        return _take(org, session, address, incoming)


def _address(
    session: RecordSession, incoming: Incoming, recipients: Sequence[str]
) -> InboundAddress:
    configured = mailin_model(session.model).addresses
    wanted = [r.strip().lower() for r in recipients] or [
        *incoming.delivered_to,
        *incoming.to,
        *incoming.cc,
    ]
    for candidate in wanted:
        if candidate in configured:
            return configured[candidate]
    named = ", ".join(wanted) or "no recipient"
    raise UnknownAddress(f"no inbound address for {named}")


def _take(
    org: Org, session: RecordSession, address: InboundAddress, incoming: Incoming
) -> Delivered:
    if incoming.message_id and (found := _stored(session, [incoming.message_id])):
        return Delivered(DUPLICATE, found["case"], found["id"], address.address)
    case_id = thread_of(session, incoming)
    outcome = THREADED if case_id else CREATED
    if case_id is None:
        case_id = _open_case(session, address, incoming)
    now = org.clock()
    message = _keep_message(session, case_id, incoming, now)
    _keep_attachments(org, session, message, incoming)
    delivered = Delivered(outcome, case_id, message, address.address)
    if outcome == CREATED:
        from .reply import auto_reply

        return auto_reply(org, session, address, incoming, delivered, now)
    return delivered


def thread_of(session: RecordSession, incoming: Incoming) -> str | None:
    """The case a message answers: its subject's token, or a message it refers to."""
    for match in TOKEN.finditer(incoming.subject):
        try:
            return session.get(CASE, match.group(1), ["id"])["id"]
        except (NotFound, ValidationFailed):
            continue  # a token of a deleted case, or not an id: look further
    referred = [i for i in (incoming.in_reply_to, *reversed(incoming.references)) if i]
    found = _stored(session, referred)
    return found["case"] if found else None


def _stored(session: RecordSession, message_ids: Sequence[str]) -> dict[str, Any] | None:
    """The newest stored message with one of these Message-IDs (looked up in the order
    given, in batches that keep each filter within the expression language's bounds)."""
    for batch in _batches(list(dict.fromkeys(message_ids))):
        where = f"message_id in ({', '.join(repr(i) for i in batch)},)"
        request = ListRequest(where=where, order_by=("-created_at",), fields=("case",), limit=1)
        page = session.list(MESSAGE, request)
        if page.records:
            return page.records[0]
    return None


def _batches(ids: list[str]) -> Iterator[list[str]]:
    batch: list[str] = []
    size = 0
    for message_id in ids:
        if batch and size + len(message_id) > MAX_FILTER:
            yield batch
            batch, size = [], 0
        batch.append(message_id)
        size += len(message_id) + 4  # quotes, comma, space
    if batch:
        yield batch


def _open_case(session: RecordSession, address: InboundAddress, incoming: Incoming) -> str:
    obj = session.model.object(CASE)
    assert obj is not None  # the address compiles only when it exists
    values: dict[str, Any] = dict(address.values)
    if "channel" in obj.fields and "channel" not in values:
        values["channel"] = DEFAULT_CHANNEL
    queue = session.model.security.queues.get(address.owner)
    if queue is not None:
        values["owner_id"] = queue.id
    values["subject"] = TOKEN.sub("", incoming.subject).strip()[:255] or incoming.subject
    description = obj.fields.get("description")
    if description is not None:
        limit = description.definition.get("max_length", 32768)
        values["description"] = incoming.text[:limit]
    contact = contact_of(session, incoming.sender)
    if contact is not None:
        values["contact"] = contact["id"]
        if contact.get("account") and "account" in obj.fields:
            values["account"] = contact["account"]
    return session.create(CASE, values)["id"]


def contact_of(session: RecordSession, sender: str) -> dict[str, Any] | None:
    """The contact whose email is the sender's (the oldest, when several are)."""
    fields = session.model.object("contact")
    if fields is None or "email" not in fields.fields:
        return None
    wanted = ("id", "account") if "account" in fields.fields else ("id",)
    request = ListRequest(
        where=f"LOWER(email) == {sender.lower()!r}",
        order_by=("created_at",),
        fields=wanted,
        limit=1,
    )
    page = session.list("contact", request)
    return page.records[0] if page.records else None


def _keep_message(session: RecordSession, case_id: str, incoming: Incoming, now: datetime) -> str:
    from .loops import automatic_reason

    values = {
        "subject": incoming.subject,
        "case": case_id,
        "direction": "Inbound",
        "from_address": incoming.sender,
        "to_addresses": ", ".join(incoming.to)[:4000],
        "cc_addresses": ", ".join(incoming.cc)[:4000],
        "text_body": incoming.text,
        "message_id": incoming.message_id or f"<{new_id()}@mail-in.invalid>",
        "in_reply_to": (incoming.in_reply_to or "")[:255] or None,
        "automatic": automatic_reason(incoming) is not None,
        "received_at": now.isoformat(),
    }
    return session.create(MESSAGE, values)["id"]


def _keep_attachments(org: Org, session: RecordSession, message: str, incoming: Incoming) -> None:
    """Each attachment as a file held by an ``email_attachment`` of the message; one the
    file field refuses (too large) is noted on the message instead."""
    obj = session.model.object(ATTACHMENT)
    if obj is None or not incoming.attachments:
        return
    definition = obj.fields["file"].definition
    refused: list[str] = []
    for attachment in incoming.attachments:
        try:
            info = receive(
                files_of(org),
                definition,
                object_name=ATTACHMENT,
                field_name="file",
                file_name=attachment.name,
                stream=io.BytesIO(attachment.data),
                user_id=session.user.id,
            )
        except ValidationFailed as exc:
            reason = "; ".join(m for ms in exc.errors.values() for m in ms)
            refused.append(f"{attachment.name}: {reason}")
            continue
        values = {
            "name": info.name,
            "email_message": message,
            "file": info.value,
            "content_type": attachment.content_type[:255],
            "size": info.size,
        }
        session.create(ATTACHMENT, values)
    if refused:
        note = "\n\n[attachments not kept: " + "; ".join(refused) + "]"
        current = session.get(MESSAGE, message, ["text_body"])["text_body"] or ""
        session.update(MESSAGE, message, {"text_body": (current + note)[-100_000:]})
