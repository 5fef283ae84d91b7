"""Automation's email: the ``email_template`` kind, the ``send_email`` action and the
``email`` job that delivers by SMTP — or keeps the message for an admin when no SMTP
server is configured (``sys_mail_message``, listed by ``crm mail list`` and
``GET /api/v1/automation/mail``). See ``docs/adr`` "automation email"."""

from .action import SendEmail, template_references
from .job import JOB, EmailJob
from .kind import KIND, PLURAL, EmailTemplateKind, mail_model
from .store import STATUSES, MailMessage, list_messages
from .templates import MergeError, render

__all__ = [
    "JOB",
    "KIND",
    "PLURAL",
    "STATUSES",
    "EmailJob",
    "EmailTemplateKind",
    "MailMessage",
    "MergeError",
    "SendEmail",
    "list_messages",
    "mail_model",
    "render",
    "template_references",
]
