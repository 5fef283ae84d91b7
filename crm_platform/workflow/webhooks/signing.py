"""The signature a receiver checks: HMAC-SHA256 over ``<timestamp>.<body>``.

Headers: ``X-CRM-Timestamp`` (Unix seconds of the attempt) and ``X-CRM-Signature:
sha256=<hex>``. Signing the timestamp with the body lets a receiver refuse a replay of
an old delivery (older than a few minutes) without keeping every body it saw.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from typing import Any

import simplejson

SIGNATURE_HEADER = "X-CRM-Signature"
TIMESTAMP_HEADER = "X-CRM-Timestamp"
SCHEME = "sha256"


def body_bytes(body: Mapping[str, Any]) -> bytes:
    """The JSON a webhook sends: keys sorted, no spaces, decimals exact, UTF-8 — the same
    bytes on every attempt."""
    text = simplejson.dumps(
        body, use_decimal=True, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    return text.encode("utf-8")


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """The ``X-CRM-Signature`` value for a body sent at ``timestamp``."""
    mac = hmac.new(secret.encode("utf-8"), timestamp.encode("ascii") + b"." + body, hashlib.sha256)
    return f"{SCHEME}={mac.hexdigest()}"


def signed_headers(secret: str, timestamp: int, body: bytes) -> dict[str, str]:
    """The timestamp and signature headers of one attempt."""
    stamp = str(timestamp)
    return {TIMESTAMP_HEADER: stamp, SIGNATURE_HEADER: signature(secret, stamp, body)}
