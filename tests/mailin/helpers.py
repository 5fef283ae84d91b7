"""Messages as a customer's mail program sends them, and what the org kept of them."""

from __future__ import annotations

from email.message import EmailMessage

from crm_platform.core.tables import SYSTEM_USER_ID
from crm_platform.runtime import get_user
from crm_platform.runtime.records import ListRequest

from .conftest import SUPPORT

CUSTOMER = "jane@customer.test"


def message(
    subject: str = "Printer on fire",
    body: str = "It is burning since this morning.",
    *,
    sender: str = f"Jane Doe <{CUSTOMER}>",
    to: str = SUPPORT,
    message_id: str | None = "<m1@customer.test>",
    html: str | None = None,
    attachment: tuple[str, bytes] | None = None,
    headers: dict[str, str] | None = None,
) -> bytes:
    """An RFC 822 message (text, or HTML only; optionally with one attachment)."""
    email = EmailMessage()
    email["From"] = sender
    email["To"] = to
    email["Subject"] = subject
    if message_id:
        email["Message-ID"] = message_id
    for name, value in (headers or {}).items():
        email[name] = value
    if html is not None:
        email.set_content(html, subtype="html")
    else:
        email.set_content(body)
    if attachment is not None:
        name, data = attachment
        email.add_attachment(data, maintype="application", subtype="pdf", filename=name)
    return email.as_bytes()


def records(org, object_name: str, where: str | None = None, order=("created_at",)) -> list[dict]:
    """Records as the system user reads them."""
    with org.db.read() as conn:
        user = get_user(conn, SYSTEM_USER_ID)
    with org.records.session(user, write=False) as session:
        return session.list(
            object_name, ListRequest(where=where, order_by=order, limit=200)
        ).records


def add_contact(org, email: str = CUSTOMER) -> tuple[str, str]:
    """An account and its contact with this email: (account id, contact id)."""
    from crm_platform.runtime import find_user

    from ..conftest import ADMIN_EMAIL

    with org.db.read() as conn:
        admin = find_user(conn, ADMIN_EMAIL)
    with org.records.session(admin) as session:
        account = session.create("account", {"name": "Customer Ltd"})["id"]
        contact = session.create(
            "contact",
            {"first_name": "Jane", "last_name": "Doe", "email": email, "account": account},
        )["id"]
    return account, contact
