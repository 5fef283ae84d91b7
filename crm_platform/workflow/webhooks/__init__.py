"""Webhooks: the ``webhook`` action, its signed delivery, and the destination policy
(https, an admin's allow-list, no address inside the network unless allowed)."""

from .action import WebhookAction
from .delivery import WebhookJob
from .policy import Refused, Target, WebhookPolicy, address_kind
from .signing import SIGNATURE_HEADER, TIMESTAMP_HEADER, body_bytes, signature

__all__ = [
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "Refused",
    "Target",
    "WebhookAction",
    "WebhookJob",
    "WebhookPolicy",
    "address_kind",
    "body_bytes",
    "signature",
]
