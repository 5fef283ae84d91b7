"""Email-to-case (ADR 0045): the ``inbound_address`` kind, ``deliver`` (one RFC 822
message to a case, through the record service) and an SMTP listener (aiosmtpd) for
``crm mail-in --listen``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from crm_platform.metadata import KindRegistry
from crm_platform.runtime.model import ModelCompiler

from .intake import CREATED, DUPLICATE, THREADED, Delivered, UnknownAddress, deliver, token_of
from .kind import KIND, PLURAL, InboundAddress, mailin_model
from .parse import Unreadable

if TYPE_CHECKING:
    from crm_platform.runtime import Org

__all__ = [
    "CREATED",
    "DUPLICATE",
    "KIND",
    "PLURAL",
    "THREADED",
    "Delivered",
    "InboundAddress",
    "MailInExtension",
    "UnknownAddress",
    "Unreadable",
    "deliver",
    "mailin_model",
    "token_of",
]


@dataclass(frozen=True)
class MailInExtension:
    """Registers the ``inbound_address`` kind; mail arrives through the CLI or the
    listener, so nothing attaches to record events."""

    name: str = "mailin"

    def register(self, registry: KindRegistry, compiler: ModelCompiler) -> None:
        from .kind import register

        register(registry, compiler)

    def attach(self, org: Org) -> None:
        del org  # nothing runs in the background
