"""Whether a message may get an auto-reply: mail loops between two auto-responders are
broken by the headers RFC 3834 and common practice define, and by a cap per sender.

No reply to a message that says it was sent automatically (``Auto-Submitted`` other
than ``no``, ``X-Autoreply``, ``X-Autorespond``, ``X-Auto-Response-Suppress``), to bulk
or list mail (``Precedence: bulk|junk|list``, ``List-*`` headers), to a delivery report
(``Content-Type: multipart/report``, a mailer-daemon or postmaster, an empty
``Return-Path``), or to an address of our own. Ours carry ``Auto-Submitted:
auto-replied`` (and ``X-Auto-Response-Suppress: All``, which Exchange honours).
"""

from __future__ import annotations

from collections.abc import Iterable

from .parse import Incoming, header

AUTO_REPLY_HEADERS = {
    "Auto-Submitted": "auto-replied",
    "X-Auto-Response-Suppress": "All",
}
LIST_HEADERS = ("List-Id", "List-Unsubscribe", "List-Post", "List-Help", "List-Owner")
DAEMONS = ("mailer-daemon", "postmaster", "noreply", "no-reply", "donotreply", "do-not-reply")


def automatic_reason(message: Incoming) -> str | None:
    """Why the message was sent by a machine (so it gets no auto-reply), or None."""
    h = message.headers
    auto = header(h, "Auto-Submitted").strip().lower()
    if auto and not auto.startswith("no"):
        return f"Auto-Submitted: {auto}"
    for name in ("X-Autoreply", "X-Autorespond", "X-Auto-Response-Suppress"):
        if header(h, name).strip():
            return f"{name} header"
    precedence = header(h, "Precedence").strip().lower()
    if precedence in {"bulk", "junk", "list", "auto_reply"}:
        return f"Precedence: {precedence}"
    for name in LIST_HEADERS:
        if header(h, name).strip():
            return f"{name} header (list mail)"
    if h.get_content_type() == "multipart/report":
        return "a delivery or read report"
    if h.get("Return-Path") is not None and header(h, "Return-Path").strip() in {"", "<>"}:
        return "an empty Return-Path (a bounce)"
    local = message.sender.split("@", 1)[0]
    if any(local == daemon or local.startswith(daemon + "+") for daemon in DAEMONS):
        return f"sent by {local}"
    return None


def own_address(sender: str, ours: Iterable[str]) -> bool:
    """Whether the sender is one of our own addresses (never answer ourselves)."""
    return sender.lower() in {a.lower() for a in ours}
