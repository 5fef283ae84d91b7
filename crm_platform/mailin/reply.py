"""The auto-reply to a message that opened a case: the inbound address's template,
rendered for the new case, sent through automation's outbound mail (a ``sys_mail_message``
and an ``email`` run, delivered once the case's transaction commits) and kept on the
case as an outbound ``email_message``.

Its subject carries the case's thread token, so the customer's answer threads onto the
case; its headers say it is an auto-reply (``Auto-Submitted: auto-replied``) and answer
the customer's message (``In-Reply-To``, ``References``), with ``Reply-To`` the inbound
address. It is not sent to a machine (see :mod:`.loops`), nor to one of our addresses,
nor to a sender who already got ``auto_reply_limit`` of them in the last day.

The merge fields are read by the system user: the template is the admin's choice for
this address, sent to the person who wrote the case.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta
from typing import Any

from crm_platform.core import new_id
from crm_platform.runtime import Org
from crm_platform.runtime.records import ListRequest, RecordSession
from crm_platform.workflow import automation_of
from crm_platform.workflow.mail import JOB, mail_model, render
from crm_platform.workflow.mail.store import NewMessage, add
from crm_platform.workflow.mail.templates import OWNER, MergeError

from .kind import CASE, MESSAGE, InboundAddress, mailin_model
from .loops import AUTO_REPLY_HEADERS, automatic_reason
from .parse import MAX_SUBJECT, Incoming

CAP_WINDOW = timedelta(days=1)
STEP = "auto_reply"


def auto_reply(
    org: Org,
    session: RecordSession,
    address: InboundAddress,
    incoming: Incoming,
    delivered: Any,
    now: datetime,
) -> Any:
    """Send the address's auto-reply for a new case when nothing forbids it; the
    delivery, saying what was sent or why nothing was."""
    why = refusal(session, address, incoming, now)
    if why is not None:
        return dataclasses.replace(delivered, no_reply_because=why)
    template = mail_model(session.model).templates.get(address.auto_reply or "")
    if template is None or template.object != CASE:
        return dataclasses.replace(delivered, no_reply_because="the template is missing")
    paths = [p for p in template.paths if p[0] != OWNER]
    record = session.get(CASE, delivered.case_id, [".".join(p) for p in paths] or ["id"])
    try:
        rendered = render(template, {p: record.get(".".join(p)) for p in paths})
    except MergeError as exc:
        return dataclasses.replace(delivered, no_reply_because=exc.message)
    token = f"[ref:{delivered.case_id}]"
    subject = rendered.subject if token in rendered.subject else f"{rendered.subject} {token}"
    mail_id = new_id()
    domain = org.settings.mail_from.rpartition("@")[2].strip(" >") or "localhost"
    message = NewMessage(
        id=mail_id,
        template=template.name,
        source=f"mailin:{address.name}",
        object=CASE,
        record_id=delivered.case_id,
        to=[incoming.sender],
        cc=[],
        subject=subject,
        body_text=rendered.text,
        body_html=rendered.html,
        message_id=f"<{mail_id}@{domain}>",
        error=None,
    )
    references = [*incoming.references, *([incoming.message_id] if incoming.message_id else [])]
    headers = {**AUTO_REPLY_HEADERS, "Reply-To": address.address}
    if incoming.message_id:
        headers["In-Reply-To"] = incoming.message_id
    if references:
        headers["References"] = " ".join(references[-20:])
    payload = {"mail_id": mail_id, "template": template.name, "step": STEP, "headers": headers}
    run_id = automation_of(org).enqueue(
        session.conn,
        job=JOB,
        source=message.source,
        payload=payload,
        user_id=session.user.id,
        object_name=CASE,
        record_id=delivered.case_id,
    )
    add(session.conn, message, run_id, now)
    _keep_reply(session, delivered.case_id, message, incoming, now)
    return dataclasses.replace(delivered, auto_reply=mail_id)


def refusal(
    session: RecordSession, address: InboundAddress, incoming: Incoming, now: datetime
) -> str | None:
    """Why this message gets no auto-reply (None when it gets one)."""
    if not address.auto_reply:
        return "the address sends no auto-reply"
    if reason := automatic_reason(incoming):
        return f"sent automatically ({reason})"
    ours = set(mailin_model(session.model).addresses)
    mail_from = session.service.org.settings.mail_from.rpartition("<")[2].strip(" >").lower()
    if incoming.sender in ours or incoming.sender == mail_from:
        return "sent by one of our own addresses"
    if replies_to(session, incoming.sender, address.auto_reply_limit, now) >= (
        address.auto_reply_limit
    ):
        return f"{address.auto_reply_limit} auto-replies sent to this sender in the last day"
    return None


def replies_to(session: RecordSession, sender: str, limit: int, now: datetime) -> int:
    """Auto-replies sent to ``sender`` in the last day (counted up to ``limit``)."""
    if limit <= 0:
        return 0
    request = ListRequest(
        where=f"direction == 'Outbound' and automatic and to_addresses == {sender!r}",
        order_by=("-received_at",),
        fields=("received_at",),
        limit=limit,
    )
    since = now - CAP_WINDOW
    return sum(1 for r in session.list(MESSAGE, request).records if _at(r["received_at"]) > since)


def _at(value: Any) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))


def _keep_reply(
    session: RecordSession, case_id: str, message: NewMessage, incoming: Incoming, now: datetime
) -> None:
    """The auto-reply on the case, beside the message it answers."""
    session.create(
        MESSAGE,
        {
            "subject": message.subject[:MAX_SUBJECT],
            "case": case_id,
            "direction": "Outbound",
            "from_address": session.service.org.settings.mail_from[:255],
            "to_addresses": incoming.sender,
            "text_body": message.body_text,
            "message_id": message.message_id,
            "in_reply_to": incoming.message_id,
            "automatic": True,
            "received_at": now.isoformat(),
        },
    )
