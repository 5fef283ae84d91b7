"""Where a webhook may go: https only, a host on the admin's allow-list, and an address
that is not inside the network unless the allow-list says so.

The address is judged after DNS resolution, and the delivery connects to the address
that was judged (:class:`Target`), so a name that resolves to a public address when
checked and to ``127.0.0.1`` a moment later (DNS rebinding) cannot slip through.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from urllib.parse import SplitResult, urlsplit

from crm_platform.core.webhook_settings import WebhookSettings

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
# host, port -> the addresses the name resolves to (socket.getaddrinfo by default)
Resolver = Callable[[str, int], Sequence[str]]

# private ranges CRM_WEBHOOK_ALLOW_PRIVATE opens (an internal ERP); loopback, link-local
# (the cloud metadata service) and the rest stay closed unless a network entry names them
PRIVATE_NETWORKS = tuple(
    ipaddress.ip_network(n)
    for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "fc00::/7")
)


INSIDE = "webhooks cannot reach inside the network"


class Refused(Exception):
    """A destination the policy refuses (the reason names the URL's part at fault)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Unresolved(Exception):
    """The host name did not resolve (maybe for now: DNS outages pass)."""


@dataclass(frozen=True)
class Target:
    """Where a delivery connects: the URL, its host name (for the Host header, TLS SNI
    and the certificate check) and the address that was judged allowed."""

    url: str
    host: str
    port: int
    address: Address


def default_resolver(host: str, port: int) -> list[str]:
    """The addresses ``host`` resolves to (every family), as text."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise Unresolved(f"{host} does not resolve: {exc.strerror}") from None
    return [str(info[4][0]) for info in infos]


def address_kind(address: Address) -> str | None:
    """Why an address is inside the network (None for a public one)."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    for kind, inside in (
        ("unspecified", address.is_unspecified),
        ("loopback", address.is_loopback),
        ("link-local", address.is_link_local),
        ("multicast", address.is_multicast),
        ("private", any(address in n for n in PRIVATE_NETWORKS if n.version == address.version)),
    ):
        if inside:
            return kind
    return None if address.is_global else "reserved"


class WebhookPolicy:
    """The allow-list and address guard of one deployment's settings."""

    def __init__(self, settings: WebhookSettings) -> None:
        self.settings = settings

    def url_problems(self, url: str) -> Iterator[str]:
        """What is wrong with a webhook URL before any DNS lookup (at save time too)."""
        try:
            parts = urlsplit(url)
            parts.port  # noqa: B018 (reading it checks the port)
        except ValueError as exc:
            yield f"not a URL: {exc}"
            return
        if parts.scheme.lower() != "https":
            yield "webhooks are sent over https only: use an https:// URL"
            return
        if parts.username is not None or parts.password is not None:
            yield "a webhook URL cannot hold credentials: sign with secret_ref instead"
            return
        host = (parts.hostname or "").rstrip(".")
        if not host:
            yield "the URL names no host"
            return
        literal = _literal(host)
        if literal is not None:
            yield from self._literal_problems(literal)
        elif not self.host_allowed(host):
            yield (
                f"{host} is not on the webhook allow-list (CRM_WEBHOOK_ALLOWED_HOSTS): "
                "an admin adds it there"
            )

    def host_allowed(self, host: str) -> bool:
        """Whether a host name matches a pattern of the allow-list."""
        host = host.lower().rstrip(".")
        for pattern in self.settings.hosts:
            if pattern == "*" or pattern == host:
                return True
            if pattern.startswith("*.") and host.endswith(pattern[1:]):
                return True
        return False

    def address_problem(self, address: Address) -> str | None:
        """Why the guard refuses an address, as "a <kind> address" (None: allowed)."""
        if any(address in n for n in self.settings.networks if n.version == address.version):
            return None
        kind = address_kind(address)
        if kind is None or (kind == "private" and self.settings.allow_private):
            return None
        return f"a {kind} address"

    def target(self, url: str, resolve: Resolver = default_resolver) -> Target:
        """The address to connect to for ``url``: every address its host resolves to must
        pass the guard (raises :class:`Refused`, or :class:`Unresolved`)."""
        problems = list(self.url_problems(url))
        if problems:
            raise Refused(problems[0])
        parts = urlsplit(url)
        host = (parts.hostname or "").rstrip(".").lower()
        port = parts.port or 443
        literal = _literal(host)
        addresses = [literal] if literal is not None else _parsed(resolve(host, port))
        if not addresses:
            raise Unresolved(f"{host} resolves to no address")
        for address in addresses:
            problem = self.address_problem(address)
            if problem is not None:
                said = (
                    f"{address} is {problem}"
                    if literal is not None
                    else f"{host} resolves to {address}, {problem}"
                )
                raise Refused(f"{said}: {INSIDE}")
        return Target(url=_plain(parts), host=host, port=port, address=addresses[0])

    def _literal_problems(self, address: Address) -> Iterator[str]:
        in_network = any(
            address in n for n in self.settings.networks if n.version == address.version
        )
        if not in_network and "*" not in self.settings.hosts:
            yield (
                f"{address} is not on the webhook allow-list (CRM_WEBHOOK_ALLOWED_HOSTS): "
                "an admin adds it there"
            )
            return
        problem = self.address_problem(address)
        if problem is not None:
            yield f"{address} is {problem}: {INSIDE}"


def _literal(host: str) -> Address | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def _parsed(texts: Sequence[str]) -> list[Address]:
    # a scoped IPv6 address (fe80::1%eth0) keeps its zone out of the judgement
    return [ipaddress.ip_address(text.split("%", 1)[0]) for text in dict.fromkeys(texts)]


def _plain(parts: SplitResult) -> str:
    """The URL without a fragment (never sent)."""
    return parts._replace(fragment="").geturl()
