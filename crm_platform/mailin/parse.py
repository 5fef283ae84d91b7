"""One RFC 822 message read into what the intake needs: who, to whom, the subject, the
text (HTML turned into text, sanitised), the threading headers and the attachments.

The standard library's ``email`` package parses (with its modern policy, which decodes
encoded words and charsets); a part in a charset it cannot decode is read by
charset-normalizer; HTML goes through nh3 (scripts and styles dropped) and then lxml,
which gives its text with a line per block.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage, Message
from email.utils import getaddresses, parseaddr
from typing import Any

MAX_SUBJECT = 255
MAX_TEXT = 100_000
MAX_IDS = 50  # message ids read from References
NO_SUBJECT = "(no subject)"
BLOCKS = frozenset(
    {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre"}
)
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
MESSAGE_ID = re.compile(r"<[^<>\s]{1,250}>")


class Unreadable(Exception):
    """Not a message that can be read (no headers, no sender)."""


@dataclass(frozen=True)
class Attachment:
    name: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class Incoming:
    """A received message, as the intake uses it."""

    sender: str  # the From address, lower case
    sender_name: str
    to: tuple[str, ...]
    cc: tuple[str, ...]
    delivered_to: tuple[str, ...]  # Delivered-To / X-Original-To, the envelope's
    subject: str
    text: str
    message_id: str | None
    in_reply_to: str | None
    references: tuple[str, ...]
    attachments: tuple[Attachment, ...]
    headers: Any = field(repr=False)  # the parsed message, for the loop checks


def parse_message(raw: bytes) -> Incoming:
    """Read a message (raises :class:`Unreadable` when it has no sender)."""
    message = message_from_bytes(raw, policy=policy.default)
    if not isinstance(message, EmailMessage) or not message.keys():
        raise Unreadable("not an email message: no headers")
    name, sender = parseaddr(_header(message, "From"))
    if "@" not in sender:
        sender = parseaddr(_header(message, "Sender") or _header(message, "Return-Path"))[1]
    if "@" not in sender:
        raise Unreadable("the message names no sender (From)")
    references = tuple(MESSAGE_ID.findall(_header(message, "References")))[-MAX_IDS:]
    reply_to = MESSAGE_ID.findall(_header(message, "In-Reply-To"))
    own_id = MESSAGE_ID.findall(_header(message, "Message-ID"))
    return Incoming(
        sender=sender.strip().lower(),
        sender_name=clean_text(name)[:120],
        to=_addresses(message, "To"),
        cc=_addresses(message, "Cc"),
        delivered_to=_addresses(message, "Delivered-To", "X-Original-To", "Envelope-To"),
        subject=clean_line(_header(message, "Subject"))[:MAX_SUBJECT] or NO_SUBJECT,
        text=body_text(message)[:MAX_TEXT],
        message_id=own_id[0] if own_id else None,
        in_reply_to=reply_to[0] if reply_to else None,
        references=references,
        attachments=tuple(attachments(message)),
        headers=message,
    )


def _header(message: Message, name: str) -> str:
    """A header as text ('' when absent or unreadable)."""
    try:
        value = message.get(name)
    except (ValueError, LookupError, IndexError):  # a malformed header the policy rejects
        value = message.get_all(name, failobj=[""])[0] if name in message else ""
    return str(value or "")


def header(message: Message, name: str) -> str:
    """A header of the message, for the loop checks."""
    return _header(message, name)


def _addresses(message: Message, *names: str) -> tuple[str, ...]:
    found: list[str] = []
    for name in names:
        for value in message.get_all(name, failobj=[]):
            for _display, address in getaddresses([str(value)]):
                address = address.strip().lower()
                if "@" in address and address not in found:
                    found.append(address)
    return tuple(found)


def clean_line(text: str) -> str:
    """One line: control characters dropped, white space collapsed."""
    return " ".join(CONTROL.sub("", text).split())


def clean_text(text: str) -> str:
    """Text with Unix line ends, no control characters, no trailing blank lines."""
    text = CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    lines = [line.rstrip() for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _content(part: Message) -> str:
    """A text part's content, decoded (charset-normalizer when its charset lies)."""
    try:
        return str(part.get_content())  # type: ignore[attr-defined]
    except (LookupError, UnicodeError, AssertionError, KeyError):
        payload = part.get_payload(decode=True) or b""
        from charset_normalizer import from_bytes

        best = from_bytes(payload).best()
        return str(best) if best is not None else payload.decode("utf-8", "replace")


def body_text(message: EmailMessage) -> str:
    """The message's text: its plain part, or its HTML part as text."""
    body = message.get_body(preferencelist=("plain", "html"))
    if body is None:
        return ""
    content = _content(body)
    if body.get_content_subtype() == "html":
        return html_to_text(content)
    return clean_text(content)


def html_to_text(html: str) -> str:
    """HTML as plain text: sanitised by nh3 (scripts, styles and their content go), then
    the text of the tree, a line per block."""
    import lxml.html
    import nh3

    cleaned = nh3.clean(html, tags=BLOCKS | {"span", "a", "b", "i", "strong", "em", "td"})
    if not cleaned.strip():
        return ""
    tree = lxml.html.fragment_fromstring(cleaned, create_parent="div")
    for element in tree.iter():
        if element.tag in BLOCKS:
            element.tail = "\n" + (element.tail or "")
    return clean_text(tree.text_content())


def attachments(message: EmailMessage) -> list[Attachment]:
    """The files the message carries (parts with a file name, or not text/multipart)."""
    found = []
    for part in message.iter_attachments():
        if part.is_multipart():
            continue
        data = part.get_payload(decode=True)
        if not data:
            continue
        name = part.get_filename() or f"attachment-{len(found) + 1}"
        found.append(Attachment(clean_line(name), part.get_content_type(), data))
    return found
