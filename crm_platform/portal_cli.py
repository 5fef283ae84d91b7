"""``crm portal invite`` and ``crm portal sharing``: the customer portal from the shell."""

from __future__ import annotations

import json

import click

from .core import CrmError


@click.group("portal")
def portal() -> None:
    """The customer portal at /portal (ADR 0046)."""


@portal.command("invite")
@click.argument("contact")
@click.option(
    "--base-url", default="http://127.0.0.1:5000", show_default=True, help="The site's address."
)
@click.option("--json", "as_json", is_flag=True, help="Print the invitation as JSON.")
def invite(contact: str, base_url: str, as_json: bool) -> None:
    """Invite CONTACT (its id or email) to the portal and print the one-time link where
    they set their password (valid for a week; inviting again replaces it)."""
    from .cli import _fail, _org, _require_org
    from .portal import invite_contact
    from .runtime import system_user

    org = _org()
    _require_org(org)
    with org.db.read() as conn:
        author = system_user(conn)
    try:
        invitation = invite_contact(org, author, contact)
    except CrmError as error:
        _fail(error)
    url = base_url.rstrip("/") + invitation.path
    if as_json:
        click.echo(json.dumps({**invitation.as_json(), "url": url}))
        return
    verb = "invited" if invitation.new_user else "invited again"
    click.echo(f"{invitation.email} {verb}: {url}")


@portal.command("sharing")
@click.argument("value", required=False, type=click.Choice(["contact", "account"]))
def sharing(value: str | None) -> None:
    """Show or set what portal users see: their own cases (contact) or their account's."""
    from .cli import _org, _require_org
    from .portal import portal_sharing, set_portal_sharing

    org = _org()
    _require_org(org)
    if value is None:
        with org.db.read() as conn:
            click.echo(portal_sharing(conn))
        return
    with org.db.write() as conn:
        click.echo(set_portal_sharing(conn, value))
