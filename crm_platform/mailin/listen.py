"""``crm mail-in --listen HOST:PORT``: an SMTP server (aiosmtpd) in front of
:func:`~.intake.deliver`.

A recipient that is no inbound address is refused at ``RCPT`` (550), so the sending
server bounces it at once; a message that cannot be read is refused at ``DATA`` (554);
a failure of ours (the database away) answers 451, so the sender tries again later.
The intake runs in a worker thread, not on the server's event loop.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field

from aiosmtpd.controller import Controller

from crm_platform.runtime import Org

from .intake import Delivered, UnknownAddress, deliver
from .kind import mailin_model
from .parse import Unreadable

log = logging.getLogger(__name__)
MAX_MESSAGE = 30 * 1024 * 1024  # bytes of one message (attachments are base64 in it)


@dataclass
class MailInHandler:
    """aiosmtpd's handler: checks recipients, hands each message to the intake."""

    org: Org
    delivered: list[Delivered] = field(default_factory=list)

    def _known(self, address: str) -> bool:
        with self.org.reading() as (_conn, model):
            return address.lower() in mailin_model(model).addresses

    async def handle_RCPT(self, server, session, envelope, address: str, rcpt_options) -> str:
        loop = asyncio.get_running_loop()
        try:
            known = await loop.run_in_executor(None, self._known, address)
        except Exception:  # the database away: try again later
            log.exception("mail-in: checking %s failed", address)
            return "451 4.3.0 Temporary failure, try again later"
        if not known:
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope) -> str:
        loop = asyncio.get_running_loop()
        raw = envelope.original_content or envelope.content
        try:
            done = await loop.run_in_executor(
                None, deliver, self.org, bytes(raw), list(envelope.rcpt_tos)
            )
        except Unreadable as exc:
            return f"554 5.6.0 {exc}"
        except UnknownAddress:
            return "550 5.1.1 No such mailbox here"
        except Exception:
            log.exception("mail-in: a message from %s failed", envelope.mail_from)
            return "451 4.3.0 Temporary failure, try again later"
        self.delivered.append(done)
        return f"250 2.0.0 {done.outcome} case {done.case_id}"


def listener(org: Org, host: str, port: int) -> tuple[Controller, MailInHandler]:
    """A started SMTP server on ``host:port`` (stop it with ``controller.stop()``)."""
    handler = MailInHandler(org)
    controller = Controller(handler, hostname=host, port=port, data_size_limit=MAX_MESSAGE)
    controller.start()
    return controller, handler
