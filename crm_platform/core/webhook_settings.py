"""Webhook settings: where webhooks may go and the secrets that sign them (DESIGN §7).

Read from the environment with the rest of the settings. Secrets are never metadata:
a webhook names its secret (``secret_ref: erp``) and the deployment provides it as
``CRM_WEBHOOK_SECRET_ERP``.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

SECRET_PREFIX = "CRM_WEBHOOK_SECRET_"
SECRET_REF = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
# a host pattern: a name (``erp.example.com``), its subdomains (``*.example.com``) or any (``*``)
HOST_PATTERN = re.compile(
    r"^(\*|(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*)$"
)

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class WebhookSettings:
    """Where webhooks may be sent, how long a delivery may take, and the signing secrets."""

    # host patterns a webhook URL's host must match (``CRM_WEBHOOK_ALLOWED_HOSTS``)
    hosts: tuple[str, ...] = ()
    # networks named on the allow-list: an address in one is allowed whatever its kind
    # (loopback, private, link-local), and a URL may name such an address as its host
    networks: tuple[Network, ...] = ()
    # private addresses (10/8, 172.16/12, 192.168/16, fc00::/7, 100.64/10) allowed for
    # allowed hosts; loopback and link-local still need a network entry
    allow_private: bool = False
    connect_timeout: float = 5.0
    read_timeout: float = 10.0
    # a PEM bundle trusted besides the system's CAs (an internal CA)
    ca_file: str | None = None
    # (secret_ref, secret) pairs; kept out of repr so that settings can be logged
    secrets: tuple[tuple[str, str], ...] = field(default=(), repr=False)

    def secret(self, ref: str) -> str | None:
        """The secret named ``ref``, or None when the deployment provides none."""
        return dict(self.secrets).get(ref)

    @staticmethod
    def secret_variable(ref: str) -> str:
        """The environment variable that holds the secret named ``ref``."""
        return SECRET_PREFIX + ref.upper()


def load_webhook_settings(environ: Mapping[str, str]) -> WebhookSettings:
    """Webhook settings from ``CRM_WEBHOOK_*`` variables (a ValueError names a bad one)."""
    hosts, networks = parse_allow_list(environ.get("CRM_WEBHOOK_ALLOWED_HOSTS", ""))
    secrets = sorted(
        (name.removeprefix(SECRET_PREFIX).lower(), value)
        for name, value in environ.items()
        if name.startswith(SECRET_PREFIX) and value
    )
    return WebhookSettings(
        hosts=hosts,
        networks=networks,
        allow_private=_flag("CRM_WEBHOOK_ALLOW_PRIVATE", environ.get("CRM_WEBHOOK_ALLOW_PRIVATE")),
        connect_timeout=_seconds("CRM_WEBHOOK_CONNECT_TIMEOUT", environ, 5.0),
        read_timeout=_seconds("CRM_WEBHOOK_READ_TIMEOUT", environ, 10.0),
        ca_file=_ca_file(environ.get("CRM_WEBHOOK_CA_FILE", "").strip()),
        secrets=tuple(secrets),
    )


def parse_allow_list(text: str) -> tuple[tuple[str, ...], tuple[Network, ...]]:
    """Comma-separated entries: host patterns, and IP addresses or networks (CIDR)."""
    hosts: list[str] = []
    networks: list[Network] = []
    for raw in text.split(","):
        entry = raw.strip().lower().rstrip(".")
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry.strip("[]"), strict=False))
            continue
        except ValueError:
            pass
        if not HOST_PATTERN.match(entry):
            raise ValueError(
                f"CRM_WEBHOOK_ALLOWED_HOSTS: {raw.strip()!r} is neither a host pattern "
                "(erp.example.com, *.example.com, *) nor an address or network (10.1.0.0/16)"
            )
        hosts.append(entry)
    return tuple(hosts), tuple(networks)


def _ca_file(path: str) -> str | None:
    if path and not Path(path).is_file():
        raise ValueError(f"CRM_WEBHOOK_CA_FILE: no file {path!r}")
    return path or None


def _flag(name: str, text: str | None) -> bool:
    text = (text or "").strip().lower()
    if text in {"", "0", "false", "no", "off"}:
        return False
    if text in {"1", "true", "yes", "on"}:
        return True
    raise ValueError(f"{name} must be true or false, not {text!r}")


def _seconds(name: str, environ: Mapping[str, str], default: float) -> float:
    text = environ.get(name, "").strip()
    if not text:
        return default
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{name} must be a number of seconds, not {text!r}") from None
    if not 0 < value <= 300:
        raise ValueError(f"{name} must be between 0 and 300 seconds, not {text!r}")
    return value
