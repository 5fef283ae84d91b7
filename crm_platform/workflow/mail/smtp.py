"""Delivery by SMTP, configured by ``CRM_SMTP_URL`` (see ``core.settings``).

``smtp://[user:password@]host[:port]`` speaks plain SMTP (port 25), upgraded with
STARTTLS when ``?starttls=true`` (port 587 by default then); ``smtps://`` speaks TLS
from the start (port 465). ``?timeout=<seconds>`` bounds each network wait (default 30).

A failure is sorted the way SMTP means it: a 4xx reply, a refused or dropped
connection or a timeout may pass (:class:`TransientFailure`: tried again later); a
5xx reply will not (:class:`PermanentFailure`).
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from urllib.parse import parse_qs, unquote, urlsplit

from crm_platform.core import Settings

DEFAULT_TIMEOUT = 30.0
TRUE = {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    ssl: bool = False
    starttls: bool = False
    username: str | None = None
    password: str | None = None
    timeout: float = DEFAULT_TIMEOUT


def smtp_config(settings: Settings) -> SmtpConfig | None:
    """The SMTP server of the deployment; None when none is configured (mail is kept)."""
    if not settings.smtp_url:
        return None
    return parse_smtp_url(settings.smtp_url)


def parse_smtp_url(url: str) -> SmtpConfig:
    """``smtp://user:pass@host:port?starttls=true&timeout=10`` as a config."""
    parts = urlsplit(url)
    options = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    secure = parts.scheme.lower() == "smtps"
    starttls = options.get("starttls", "").lower() in TRUE
    if not parts.hostname:
        raise ValueError("CRM_SMTP_URL names no host")
    default_port = 465 if secure else 587 if starttls else 25
    return SmtpConfig(
        host=parts.hostname,
        port=parts.port or default_port,
        ssl=secure,
        starttls=starttls and not secure,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        timeout=float(options.get("timeout", DEFAULT_TIMEOUT)),
    )


class TransientFailure(Exception):
    """Worth trying again: a 4xx reply, a connection refused or dropped, a timeout."""


class PermanentFailure(Exception):
    """Will not pass by trying again: a 5xx reply (refused sender or recipients,
    failed authentication, message rejected)."""


def send(config: SmtpConfig, message: EmailMessage, recipients: Sequence[str]) -> dict[str, str]:
    """Hand ``message`` to the server; the recipients it refused (address -> reply) when
    it took the message for the others."""
    try:
        with _connect(config) as client:
            if config.starttls:
                client.starttls(context=ssl.create_default_context())
            if config.username:
                client.login(config.username, config.password or "")
            refused = client.send_message(message, to_addrs=list(recipients))
    except smtplib.SMTPRecipientsRefused as exc:  # every recipient refused
        replies = {a: _reply(code, text) for a, (code, text) in exc.recipients.items()}
        failure = _failure(min(code for code, _ in exc.recipients.values()))
        raise failure(_join(replies)) from exc
    except smtplib.SMTPResponseException as exc:
        raise _failure(exc.smtp_code)(_reply(exc.smtp_code, exc.smtp_error)) from exc
    except smtplib.SMTPNotSupportedError as exc:
        raise PermanentFailure(f"the SMTP server does not support it: {exc}") from exc
    except (smtplib.SMTPException, OSError) as exc:  # refused, dropped, timed out, TLS
        raise TransientFailure(f"SMTP server unreachable: {exc or type(exc).__name__}") from exc
    return {a: _reply(code, text) for a, (code, text) in refused.items()}


def _connect(config: SmtpConfig) -> smtplib.SMTP:
    if config.ssl:
        return smtplib.SMTP_SSL(
            config.host,
            config.port,
            timeout=config.timeout,
            context=ssl.create_default_context(),
        )
    return smtplib.SMTP(config.host, config.port, timeout=config.timeout)


def _failure(code: int) -> type[Exception]:
    return PermanentFailure if code >= 500 else TransientFailure


def _reply(code: int, text: bytes | str) -> str:
    message = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
    return f"{code} {message}".strip()


def _join(replies: dict[str, str]) -> str:
    return "; ".join(f"{address}: {reply}" for address, reply in replies.items())
