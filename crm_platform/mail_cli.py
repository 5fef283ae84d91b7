"""``crm mail``: the email automation sent, kept or failed (see ``workflow.mail``)."""

from __future__ import annotations

import click

from .workflow.mail import STATUSES, list_messages
from .workflow.mail.store import DEFAULT_LIMIT, MAX_LIMIT


@click.group("mail")
def mail() -> None:
    """Email sent by automation (kept here when no SMTP server is configured)."""


@mail.command("list")
@click.option("--status", "statuses", multiple=True, type=click.Choice(STATUSES), help="Repeat.")
@click.option("--record", "record_id", help="Only the messages about this record id.")
@click.option(
    "--limit", default=DEFAULT_LIMIT, show_default=True, type=click.IntRange(1, MAX_LIMIT)
)
@click.option("--body", is_flag=True, help="Print each message's text too.")
def mail_list(statuses: tuple[str, ...], record_id: str | None, limit: int, body: bool) -> None:
    """Messages, newest first: when, status, recipients, subject (and why one failed)."""
    from .cli import _org, _require_org

    org = _org()
    _require_org(org)
    with org.db.read() as conn:
        found = list_messages(conn, statuses=statuses, record_id=record_id, limit=limit)
    if not found:
        click.echo("No mail.")
        return
    for message in found:
        to = ", ".join([*message.to, *(f"cc {a}" for a in message.cc)]) or "(no recipient)"
        when = message.created_at.isoformat(timespec="seconds")
        click.echo(f"{when}  {message.status:<6}  {message.id}  {to}  {message.subject}")
        if message.error:
            click.echo(f"    error: {message.error}")
        if body:
            for line in message.body_text.splitlines():
                click.echo(f"    | {line}")
