"""Deployment settings, read once from the environment (DESIGN §10)."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from .webhook_settings import WebhookSettings, load_webhook_settings

DEFAULT_DATABASE_URL = "sqlite:///crm.db"
DEFAULT_MAIL_FROM = "crm@localhost"
SMTP_SCHEMES = ("smtp", "smtps")


@dataclass(frozen=True)
class Settings:
    """Everything a deployment configures. Built by :func:`load_settings`."""

    database_url: str
    instance_path: Path
    secret_key: str | None = None
    encryption_key: str | None = None
    broker_url: str | None = None
    # The broker queue this org's automation runs go through (orgs sharing a broker
    # each need their own).
    broker_queue: str = "crm"
    # How long a worker may hold an automation run before it is taken as dead and the run
    # is delivered again: longer than the slowest job (a webhook's timeout and retries).
    automation_lease_seconds: int = 300
    max_request_bytes: int = 8 * 1024 * 1024
    # How many reverse proxies in front set X-Forwarded-For/-Proto/-Host (0: none trusted).
    trust_proxy: int = 0
    # Secure cookies (and HSTS): "auto" on HTTPS requests, "always", or "never".
    secure_cookies: str = "auto"
    # Other origins (scheme://host[:port]) whose pages may send session-authenticated writes.
    trusted_origins: tuple[str, ...] = ()
    # where webhooks may go and the secrets that sign them (CRM_WEBHOOK_*)
    webhooks: WebhookSettings = field(default_factory=WebhookSettings)
    # Where automation's email goes: smtp://user:pass@host:port (``?starttls=true``) or
    # smtps://... (TLS from the start). None: mail is kept in the database for an admin.
    smtp_url: str | None = None
    mail_from: str = DEFAULT_MAIL_FROM

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def load_settings(
    database_url: str | None = None, instance_path: str | Path | None = None
) -> Settings:
    """Read settings from ``CRM_*`` environment variables; arguments win over the environment."""
    url = database_url or os.environ.get("CRM_DATABASE_URL") or DEFAULT_DATABASE_URL
    instance = Path(instance_path or os.environ.get("CRM_INSTANCE_PATH") or _default_instance(url))
    return Settings(
        database_url=url,
        instance_path=instance,
        secret_key=os.environ.get("CRM_SECRET_KEY"),
        encryption_key=os.environ.get("CRM_ENCRYPTION_KEY"),
        broker_url=os.environ.get("CRM_BROKER_URL") or None,
        broker_queue=_queue_name(os.environ.get("CRM_BROKER_QUEUE", "")),
        automation_lease_seconds=_seconds(
            "CRM_AUTOMATION_LEASE", os.environ.get("CRM_AUTOMATION_LEASE", ""), 300
        ),
        trust_proxy=_proxy_count(os.environ.get("CRM_TRUST_PROXY", "")),
        secure_cookies=_secure_cookies(os.environ.get("CRM_SECURE_COOKIES", "")),
        trusted_origins=tuple(
            o.strip().rstrip("/").lower()
            for o in os.environ.get("CRM_TRUSTED_ORIGINS", "").split(",")
            if o.strip()
        ),
        webhooks=load_webhook_settings(os.environ),
        smtp_url=_smtp_url(os.environ.get("CRM_SMTP_URL", "")),
        mail_from=os.environ.get("CRM_MAIL_FROM", "").strip() or DEFAULT_MAIL_FROM,
    )


def _proxy_count(text: str) -> int:
    """``CRM_TRUST_PROXY``: a number of proxies, or true/false (one / none)."""
    text = text.strip().lower()
    if text in {"", "0", "false", "no", "off"}:
        return 0
    if text in {"true", "yes", "on"}:
        return 1
    if text.isdigit():
        return int(text)
    raise ValueError(f"CRM_TRUST_PROXY must be a number of proxies or true/false, not {text!r}")


def _queue_name(text: str) -> str:
    text = text.strip() or "crm"
    if not re.fullmatch(r"[A-Za-z0-9_.:-]{1,100}", text):
        raise ValueError(f"CRM_BROKER_QUEUE must be letters, digits and _.:- only, not {text!r}")
    return text


def _seconds(name: str, text: str, default: int) -> int:
    text = text.strip()
    if not text:
        return default
    if not text.isdigit() or int(text) < 1:
        raise ValueError(f"{name} must be a whole number of seconds, not {text!r}")
    return int(text)


def _secure_cookies(text: str) -> str:
    text = text.strip().lower() or "auto"
    if text not in {"auto", "always", "never"}:
        raise ValueError(f"CRM_SECURE_COOKIES must be auto, always or never, not {text!r}")
    return text


def _smtp_url(text: str) -> str | None:
    """``CRM_SMTP_URL``: empty (no SMTP: mail is kept), or an smtp:// or smtps:// URL."""
    text = text.strip()
    if not text:
        return None
    parts = urlsplit(text)
    try:
        port_ok = parts.port is None or parts.port > 0
    except ValueError:
        port_ok = False
    if parts.scheme.lower() not in SMTP_SCHEMES or not parts.hostname or not port_ok:
        raise ValueError("CRM_SMTP_URL must be smtp://[user:password@]host[:port] or smtps://...")
    return text


def _default_instance(url: str) -> Path:
    """The instance folder sits beside a SQLite file, else in the working directory."""
    if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
        db_path = Path(url.removeprefix("sqlite:///"))
        return db_path.resolve().parent / "instance"
    return Path.cwd() / "instance"
