"""The ``email`` job: delivers one stored message by SMTP, or keeps it when no SMTP
server is configured.

The message was rendered when the change that sent it was saved (the record as it was
when the automation fired) and stored in ``sys_mail_message``; the run's payload names
it. The ``Message-ID`` header is fixed when it is stored, so a delivery repeated after a
worker died between the SMTP server's reply and the commit carries the same id, and a
receiving system can recognise it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from email.message import EmailMessage

from ..jobs import JobContext, JobFailed, RetryLater
from . import store
from .smtp import PermanentFailure, TransientFailure, send, smtp_config

JOB = "email"
# headers a run may add to its message (see as_email)
EXTRA_HEADERS = frozenset(
    {"Auto-Submitted", "X-Auto-Response-Suppress", "In-Reply-To", "References", "Reply-To"}
)


@dataclass(frozen=True)
class EmailJob:
    name: str = JOB

    def run(self, job: JobContext) -> None:
        step = str(job.payload.get("step") or "send_email")
        with job.write() as conn:
            message = store.get(conn, job.payload["mail_id"])
        if message is None:
            raise JobFailed("the message is no longer stored", step=step)
        if message.status in {store.SENT, store.KEPT}:
            return  # delivered by an attempt whose run was not marked done
        if problem := job.payload.get("error"):
            # it could not be composed (no recipient, no template): nothing to try again
            self._finish(job, message.id, store.FAILED, error=problem)
            raise JobFailed(problem, step=step)
        config = smtp_config(job.org.settings)
        if config is None:
            self._finish(job, message.id, store.KEPT)
            return
        sender = job.org.settings.mail_from
        try:
            email = as_email(message, sender, job.payload.get("headers"))
            refused = send(config, email, [*message.to, *message.cc])
        except TransientFailure as exc:
            with job.write() as conn:
                store.note_error(conn, message.id, str(exc))
            raise RetryLater(str(exc), step=step) from exc
        except PermanentFailure as exc:
            self._finish(job, message.id, store.FAILED, sender=sender, error=str(exc))
            raise JobFailed(str(exc), step=step) from exc
        error = None
        if refused:  # the server took it for the others
            error = "refused: " + "; ".join(f"{a}: {r}" for a, r in refused.items())
        self._finish(job, message.id, store.SENT, sender=sender, error=error)

    def _finish(
        self,
        job: JobContext,
        message_id: str,
        status: str,
        *,
        sender: str | None = None,
        error: str | None = None,
    ) -> None:
        with job.write() as conn:
            store.finish(conn, message_id, status, job.now, sender=sender, error=error)


def as_email(
    message: store.MailMessage, sender: str, headers: Mapping[str, str] | None = None
) -> EmailMessage:
    """The stored message as MIME: text, with an HTML alternative when it has one.

    ``headers``: extra headers its run asked for (an auto-reply's ``Auto-Submitted``,
    ``In-Reply-To``...), only those of :data:`EXTRA_HEADERS`."""
    email = EmailMessage()
    for name, value in (headers or {}).items():
        if name in EXTRA_HEADERS and isinstance(value, str):
            email[name] = " ".join(value.split())
    email["From"] = sender
    email["To"] = ", ".join(message.to)
    if message.cc:
        email["Cc"] = ", ".join(message.cc)
    email["Subject"] = message.subject
    email["Message-ID"] = message.message_id
    email.set_content(message.body_text)
    if message.body_html is not None:
        email.add_alternative(message.body_html, subtype="html")
    return email
