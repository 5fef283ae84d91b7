"""``crm export``: an object's records as CSV, XLSX or JSON Lines, as a user."""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path

import click

from .core import CrmError


@click.command("export")
@click.option("--object", "object_name", required=True, help="The object's API name.")
@click.option("--where", help="A boolean expression the records must meet.")
@click.option(
    "--format",
    "format_name",
    type=click.Choice(["csv", "xlsx", "jsonl"]),
    default="csv",
    show_default=True,
)
@click.option("--fields", help="Comma-separated field paths (default: every readable field).")
@click.option(
    "--output",
    "path",
    type=click.Path(dir_okay=False, writable=True),
    help="The file written (default: OBJECT-DATE.FORMAT in this folder); - writes to "
    "standard output.",
)
@click.option(
    "--as",
    "email",
    help="Export as this user (default: the system user, who sees all); the user "
    "needs the export_data permission.",
)
def export(
    object_name: str,
    where: str | None,
    format_name: str,
    fields: str | None,
    path: str | None,
    email: str | None,
) -> None:
    """Export the records of an object (every record the user may read, streamed)."""
    from .cli import _fail, _org, _require_org
    from .core import utc_now
    from .exports import write_record_export
    from .runtime import find_user
    from .runtime.users import system_user

    org = _org()
    _require_org(org)
    with org.db.read() as conn:
        user = find_user(conn, email) if email else system_user(conn)
    if user is None:
        click.secho(f"no user '{email}'", fg="red", err=True)
        sys.exit(1)
    wanted = fields.split(",") if fields else None
    piped = path == "-"  # the records alone on stdout, for a pipe; the count on stderr
    target = None if piped else Path(path or f"{object_name}-{utc_now():%Y-%m-%d}.{format_name}")
    output = contextlib.nullcontext(sys.stdout.buffer) if target is None else target.open("wb")
    try:
        with org.records.session(user, write=False) as session, output as file:
            count = write_record_export(
                session, object_name, format_name, file, where=where, fields=wanted
            )
    except CrmError as error:
        if target is not None:
            target.unlink(missing_ok=True)  # no half-written file
        _fail(error)
        return
    if target is None:
        sys.stdout.buffer.flush()
        click.echo(f"wrote {count} {object_name} records", err=True)
    else:
        click.echo(f"wrote {count} {object_name} records to {target}")
